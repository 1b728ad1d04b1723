"""Search as a bilingual reader uses it, through the GraphQL API: the other language, synonyms, emoji,
typos and pinyin, rare words over common ones, and the topic families admins keep."""

from __future__ import annotations

from typing import Any

import pytest

from search.families import remove_alias, set_alias
from search.terms import refresh_terms
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

SEARCH = """
query($q: String!, $first: Int, $after: String, $language: String) {
  search(query: $q, first: $first, after: $after, language: $language) {
    edges { cursor node { ... on Note { title language } } }
    pageInfo { hasNextPage endCursor }
    terms relaxed suggestion corrected notice totalCount
  }
}"""

LIPSTICK_ZH = "这支口红显白"
LIPSTICK_EN = "My everyday lipstick"
SUNSCREEN_ZH = "防晒霜真实测评"
SUNSCREEN_EN = "The sunscreen I reapply"
HOTPOT = "重庆火锅探店"
TRAVEL = "京都三日旅行"
HIKE = "周末露营装备"
# Notes with the common word 推荐 only: a search for 防晒霜推荐 that no note fully matches must rank the
# sunscreen note, whose word is rare, above them.
BOOKS = [f"书单推荐第{i}期" for i in range(6)]

NOTES: list[tuple[str, str, list[str]]] = [
    (LIPSTICK_ZH, "黄皮也能涂，滋润不拔干", ["彩妆"]),
    (LIPSTICK_EN, "Creamy and long lasting, I wear it every day to work.", ["makeup"]),
    (SUNSCREEN_ZH, "清爽不油腻，每天出门前涂", ["护肤"]),
    (SUNSCREEN_EN, "A light sunscreen that leaves no white cast, even on oily skin.", ["skincare"]),
    (HOTPOT, "牛油锅底很香，毛肚七上八下", ["美食"]),
    (TRAVEL, "清水寺和伏见稻荷，走了两万步", ["旅行"]),
    (HIKE, "帐篷和睡袋都是新买的", ["露营"]),
    *[(title, "这几本书都值得一读", ["读书"]) for title in BOOKS],
]


async def _search(client: GraphQLClient, q: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(SEARCH, {"q": q, **variables}, anonymous=True)
    result: dict[str, Any] = data["search"]
    return result


def _titles(result: dict[str, Any]) -> list[str]:
    return [e["node"]["title"] for e in result["edges"]]


@pytest.fixture
async def corpus(client: GraphQLClient) -> None:
    author = await sign_up(client, "writer")
    for title, body, topics in NOTES:
        await create_note(client, author["token"], title=title, body=body, topics=topics)
    await refresh_terms()  # the server's job: the words' document counts


async def test_english_finds_chinese_notes_after_english_ones(client: GraphQLClient, corpus: None) -> None:
    found = _titles(await _search(client, "sunscreen"))
    assert found == [SUNSCREEN_EN, SUNSCREEN_ZH]  # the word itself first, then what it means
    assert _titles(await _search(client, "hot pot")) == [HOTPOT]  # one name, not "hot" and "pot"
    assert _titles(await _search(client, "lipstick"))[:2] == [LIPSTICK_EN, LIPSTICK_ZH]


async def test_a_synonym_and_traditional_chinese_find_the_corpus_word(
    client: GraphQLClient, corpus: None
) -> None:
    result = await _search(client, "旅遊")  # Traditional for 旅游; the note says 旅行
    assert result["terms"] == ["旅游"] and _titles(result) == [TRAVEL]
    assert _titles(await _search(client, "travel")) == [TRAVEL]


async def test_the_language_filter_searches_the_meaning(client: GraphQLClient, corpus: None) -> None:
    english = await _search(client, "口红", language="en")
    assert _titles(english) == [LIPSTICK_EN]
    assert all(e["node"]["language"] == "en" for e in english["edges"])
    assert _titles(await _search(client, "sunscreen", language="zh")) == [SUNSCREEN_ZH]


async def test_an_emoji_finds_what_it_shows(client: GraphQLClient, corpus: None) -> None:
    result = await _search(client, "💄")
    assert set(_titles(result)) == {LIPSTICK_ZH, LIPSTICK_EN}
    assert result["terms"] == ["唇膏 lipstick"]


async def test_a_typo_is_suggested_and_answered_when_the_query_finds_nothing(
    client: GraphQLClient, corpus: None
) -> None:
    typo = await _search(client, "lipstik")
    assert typo["suggestion"] == "lipstick" and typo["corrected"] is True
    assert _titles(typo)[:2] == [LIPSTICK_EN, LIPSTICK_ZH]
    # Later pages continue the correction's results, one by one, without repeating.
    first = await _search(client, "lipstik", first=1)
    second = await _search(client, "lipstik", first=5, after=first["pageInfo"]["endCursor"])
    assert second["corrected"] is True
    assert _titles(first) + _titles(second) == _titles(typo)
    # A word the index knows is never corrected.
    known = await _search(client, "lipstick")
    assert known["suggestion"] is None and known["corrected"] is False


async def test_pinyin_is_answered_in_chinese(client: GraphQLClient, corpus: None) -> None:
    for typed in ["kouhong", "kou hong"]:
        result = await _search(client, typed)
        assert result["suggestion"] == "口红" and result["corrected"] is True, typed
        assert _titles(result)[0] == LIPSTICK_ZH
    fangshai = await _search(client, "fangshai")
    assert fangshai["suggestion"] == "防晒" and _titles(fangshai)[0] == SUNSCREEN_ZH


async def test_nonsense_finds_nothing_and_suggests_nothing(client: GraphQLClient, corpus: None) -> None:
    for q in ["zzzzqqq", "不存在的词语", "qxjvbwk"]:
        result = await _search(client, q)
        assert result["edges"] == [] and result["suggestion"] is None and result["corrected"] is False, q


async def test_kana_only_is_refused_clearly(client: GraphQLClient, corpus: None) -> None:
    result = await _search(client, "リップ")
    assert result["edges"] == [] and result["notice"] == "KANA_ONLY"
    kanji = await _search(client, "化粧水")  # kanji fold to Chinese instead
    assert kanji["terms"] == ["化妆水"] and kanji["notice"] is None


async def test_a_rare_word_outweighs_a_common_one(client: GraphQLClient, corpus: None) -> None:
    result = await _search(client, "防晒霜推荐")
    assert result["relaxed"] is True  # no note has both
    assert _titles(result)[0] == SUNSCREEN_ZH
    assert set(_titles(result)[1:]) >= set(BOOKS)


async def test_an_admin_alias_joins_a_family_and_search_follows(client: GraphQLClient, corpus: None) -> None:
    # A word of the community's own that no dictionary knows.
    assert _titles(await _search(client, "campcore")) == []
    name, key = await set_alias("CampCore", family="露营")
    try:
        assert (name, key) == ("campcore", "露营")
        assert _titles(await _search(client, "campcore")) == [HIKE]
    finally:
        assert await remove_alias("campcore")
    assert _titles(await _search(client, "campcore")) == []
