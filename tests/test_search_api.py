"""`search` through the public GraphQL API, over a bilingual corpus made with the app's own mutations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from core.cursors import encode_cursor
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up

SEARCH = """
query Search($q: String!, $type: SearchType! = NOTE, $sort: SearchSort! = RELEVANCE, $first: Int,
             $after: String, $language: String) {
  search(query: $q, type: $type, sort: $sort, first: $first, after: $after, language: $language) {
    edges {
      cursor score
      node {
        __typename
        ... on Note { id title language }
        ... on User { id handle displayName }
        ... on Product { id title }
        ... on Topic { id name noteCount }
      }
    }
    pageInfo { hasNextPage endCursor }
    terms relaxed
    nodes { __typename }
  }
}"""

NOTE_UPDATE = """
mutation($id: ID!, $input: NoteUpdateInput!) { noteUpdate(id: $id, input: $input) { errors { code } } }"""
NOTE_DELETE = "mutation($id: ID!) { noteDelete(id: $id) { errors { code } } }"
NOTE_LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }"
VIEWER_UPDATE = """
mutation($input: ViewerUpdateInput!) { viewerUpdate(input: $input) { errors { code } } }"""
PRODUCT_UPDATE = """
mutation($id: ID!, $input: ProductUpdateInput!) { productUpdate(id: $id, input: $input) { errors { code } } }"""


async def _search(
    client: GraphQLClient, q: str, *, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    data = await client.data(SEARCH, {"q": q, **variables}, token=token, anonymous=token is None)
    result: dict[str, Any] = data["search"]
    assert [n["__typename"] for n in result["nodes"]] == [e["node"]["__typename"] for e in result["edges"]]
    return result


def _titles(result: dict[str, Any]) -> list[str]:
    return [e["node"]["title"] for e in result["edges"]]


async def _found(client: GraphQLClient, q: str, **variables: Any) -> list[str]:
    return _titles(await _search(client, q, **variables))


# --- the corpus ----------------------------------------------------------------------------------------------

DIOR_999 = "Dior 999 口红试色"
FAVOURITE = "My favourite lipstick for dry lips"
SENSITIVE = "敏感肌肤护肤心得"
TRADITIONAL = "這支口紅很滋潤"
DIOR_REVIEW = "Dior lipstick review"
SUNSCREEN = "夏天的防晒推荐"
HIKING = "Weekend hiking trip"
PORK = "今天做了红烧肉"
SKINCARE = "Skincare routine for sensitive skin"
STORAGE = "口红收纳小技巧"
MATTE = "Matte lipsticks I love"
KYOTO = "旅行日记：京都"
COFFEE = "Coffee brewing notes"
SENSITIVE_TOPIC = "敏感话题讨论"
LIP_BALM = "Lip balm recommendations"
SAUVAGE = "Dior Sauvage 香水"

# (title, body, topics, author)
NOTES: list[tuple[str, str, list[str], str]] = [
    (DIOR_999, "经典正红色，显白又提气色", ["彩妆"], "mei"),
    (FAVOURITE, "Creamy, hydrating and long lasting. I reapply it twice a day.", ["makeup"], "emma"),
    (SENSITIVE, "换季的时候皮肤容易泛红，分享我的护肤步骤", ["护肤"], "mei"),
    (TRADITIONAL, "顏色很溫柔，秋冬必備", ["彩妆"], "lin"),
    (DIOR_REVIEW, "The Dior lipstick is my go-to for date night, it never dries out.", ["makeup"], "emma"),
    (SUNSCREEN, "防晒霜一定要每天涂，阴天也要", ["护肤"], "mei"),
    (HIKING, "We walked twenty kilometres along the coast and saw seals.", ["travel"], "emma"),
    (PORK, "家常菜谱分享，酱油和冰糖是关键", ["美食"], "lin"),
    (SKINCARE, "A gentle cleanser and a light moisturiser, nothing more.", ["skincare"], "emma"),
    (STORAGE, "用亚克力盒子整理所有的口红，一目了然", ["彩妆"], "mei"),
    (MATTE, "Five shades for autumn, all of them long wearing.", ["makeup"], "emma"),
    (KYOTO, "天气很好，吃了很多好吃的", ["旅行"], "lin"),
    (COFFEE, "Pour over at ninety two degrees, a slow and calm morning.", ["coffee"], "emma"),
    (SENSITIVE_TOPIC, "今天聊一聊大家都关心的问题", ["生活"], "lin"),
    (LIP_BALM, "For chapped lips in winter, a thick balm at night works wonders.", ["skincare"], "emma"),
    (SAUVAGE, "男士香水推荐，木质调很好闻", ["香水"], "lin"),
]


@dataclass
class Corpus:
    tokens: dict[str, str]  # handle → token
    users: dict[str, str]  # handle → global id
    notes: dict[str, str]  # title → global id
    languages: dict[str, str] = field(default_factory=dict)  # title → detected language


async def _corpus(client: GraphQLClient) -> Corpus:
    tokens: dict[str, str] = {}
    users: dict[str, str] = {}
    for handle, name in [("mei", "小美爱化妆"), ("emma", "Emma Beauty"), ("lin", "林林")]:
        account = await sign_up(client, handle, displayName=name)
        tokens[handle] = account["token"]
        users[handle] = account["user"]["id"]
    corpus = Corpus(tokens, users, {})
    for title, body, topics, author in NOTES:
        note = await create_note(client, tokens[author], title=title, body=body, topics=topics)
        corpus.notes[title] = note["id"]
        corpus.languages[title] = note["language"]
    return corpus


@pytest.fixture
async def corpus(client: GraphQLClient) -> Corpus:
    return await _corpus(client)


async def test_the_corpus_is_detected_in_the_right_languages(corpus: Corpus) -> None:
    english = {t for t, lang in corpus.languages.items() if lang == "en"}
    assert english == {FAVOURITE, DIOR_REVIEW, HIKING, SKINCARE, MATTE, COFFEE, LIP_BALM}
    assert {lang for t, lang in corpus.languages.items() if t not in english} == {"zh"}


# --- Chinese, English, mixed -------------------------------------------------------------------------------


async def test_chinese_queries_of_one_two_and_four_characters(client: GraphQLClient, corpus: Corpus) -> None:
    one = await _search(client, "红")
    assert one["terms"] == ["红"] and one["relaxed"] is False
    # 口红 and 正红, 口红 twice, 口紅 (Traditional), 红烧肉, 泛红 in the body only.
    assert _titles(one) == [DIOR_999, STORAGE, TRADITIONAL, PORK, SENSITIVE]

    two = await _search(client, "口红")
    assert two["terms"] == ["口红"]
    # In the title and the body, in a shorter title, in a longer one (written 口紅); then what 口红 means
    # in English (search/concepts.py), worth less than the word itself.
    assert _titles(two)[:3] == [STORAGE, DIOR_999, TRADITIONAL]
    assert set(_titles(two)[3:]) == {DIOR_REVIEW, FAVOURITE, MATTE}

    four = await _search(client, "敏感肌肤")
    assert four["terms"] == ["敏感", "肌肤"]
    # Not 敏感话题讨论, which has only one of the words; then the English note with both meanings
    # (sensitive, skin).
    assert _titles(four) == [SENSITIVE, SKINCARE]

    assert await _found(client, "红烧肉") == [PORK]
    assert await _found(client, "京都") == [KYOTO]


async def test_a_note_is_found_by_its_topics(client: GraphQLClient, corpus: Corpus) -> None:
    result = await _search(client, "护肤")
    # SENSITIVE: in its title, its topic and its body; SUNSCREEN only by its topic #护肤; then the notes of
    # the topic's English name, #skincare (topic families, search/data/topic_families.txt).
    assert _titles(result)[:2] == [SENSITIVE, SUNSCREEN]
    assert set(_titles(result)[2:]) == {SKINCARE, LIP_BALM}
    scores = [e["score"] for e in result["edges"]]
    assert scores[0] > scores[1] > scores[2] > 0
    assert await _found(client, "美食") == [PORK]


async def test_mixed_query_needs_both_words(client: GraphQLClient, corpus: Corpus) -> None:
    result = await _search(client, "Dior 口红")
    assert result["terms"] == ["dior", "口红"]
    # Both words, the second as written or as what it means (lipstick); never Dior alone.
    assert set(_titles(result)) == {DIOR_999, DIOR_REVIEW}
    assert result["relaxed"] is False
    assert await _found(client, "dior") == [DIOR_REVIEW, SAUVAGE, DIOR_999]  # title and body, shorter title
    assert await _found(client, "DIOR lipstick") == [DIOR_REVIEW, DIOR_999]  # lipstick, then 口红


async def test_traditional_and_simplified_find_each_other(client: GraphQLClient, corpus: Corpus) -> None:
    traditional = await _search(client, "護膚")
    assert traditional["terms"] == ["护肤"]
    assert set(_titles(traditional)[:2]) == {SENSITIVE, SUNSCREEN}
    assert await _found(client, "滋润") == [TRADITIONAL]  # written 滋潤
    assert await _found(client, "温柔") == [TRADITIONAL]
    assert TRADITIONAL in await _found(client, "口红")


async def test_english_plural_stem_and_prefix(client: GraphQLClient, corpus: Corpus) -> None:
    plural = await _search(client, "lipsticks")
    assert _titles(plural)[:3] == [DIOR_REVIEW, MATTE, FAVOURITE]
    assert set(_titles(plural)[3:]) == {DIOR_999, STORAGE, TRADITIONAL}  # 口红, what lipstick means
    assert set((await _found(client, "Lipstick"))[:3]) == {FAVOURITE, DIOR_REVIEW, MATTE}
    # The exact word ranks first; prefix matches count less.
    assert await _found(client, "lip") == [LIP_BALM, DIOR_REVIEW, FAVOURITE, MATTE]
    assert set(await _found(client, "sensitiv")) == {SKINCARE}
    assert set(await _found(client, "dried")) == {DIOR_REVIEW, FAVOURITE}  # dries / dry share "dri"


async def test_latin_written_against_chinese_is_found_by_either_word(
    client: GraphQLClient, corpus: Corpus
) -> None:
    """Latin written against Chinese with no space, as Chinese is usually typed, is found by either word."""
    await create_note(client, corpus.tokens["mei"], title="YSL小金条口红", body="", topics=[])
    assert "YSL小金条口红" in await _found(client, "口红")
    assert "YSL小金条口红" in await _found(client, "ysl")


async def test_no_match_is_an_empty_page(client: GraphQLClient, corpus: Corpus) -> None:
    for q in ["xyzzy", "火锅", "不存在的东西", "xyzzy lipstick 火锅 京都"]:
        result = await _search(client, q)
        assert result["edges"] == [] and result["nodes"] == []
        assert result["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert (await _search(client, "不存在的东西"))["terms"] == ["存在", "东西"]  # stop words 不, 的 dropped
    empty = await _search(client, "   ")
    assert empty == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}, "terms": [],
                     "relaxed": False, "nodes": []}  # fmt: skip


async def test_relaxed_when_only_some_words_match(client: GraphQLClient, corpus: Corpus) -> None:
    result = await _search(client, "lipstick 火锅")
    assert result["terms"] == ["lipstick", "火锅"]
    assert result["relaxed"] is True
    assert set(_titles(result)) == {FAVOURITE, DIOR_REVIEW, MATTE, DIOR_999, STORAGE, TRADITIONAL}
    # Relaxed results still have at least half of the words: two of three here.
    partial = await _search(client, "Dior lipstick 火锅")
    assert partial["relaxed"] is True
    assert _titles(partial) == [DIOR_REVIEW, DIOR_999]
    # Relaxing is for RELEVANCE only: POPULAR and LATEST keep to results with every word.
    for sort in ["POPULAR", "LATEST"]:
        strict = await _search(client, "lipstick 火锅", sort=sort)
        assert strict["edges"] == [] and strict["relaxed"] is False
    # Paging a relaxed search stays relaxed.
    first = await _search(client, "lipstick 火锅", first=1)
    second = await _search(client, "lipstick 火锅", first=5, after=first["pageInfo"]["endCursor"])
    assert second["relaxed"] is True
    assert _titles(first) + _titles(second) == _titles(result)


# --- hostile input -----------------------------------------------------------------------------------------

HOSTILE: list[tuple[str, list[str]]] = [
    ("%", []),
    ("'", []),
    ('"', []),
    (":*", []),
    ("&", []),
    ("|", []),
    ("!!", []),
    ("()", []),
    ("\\", []),
    ("a & b | c", ["b", "c"]),
    ("'; DROP TABLE notes; --", ["drop", "table", "notes"]),
    ("lipstick:*", ["lipstick"]),
    ("口红' | 'x", ["口红", "x"]),
    ("lip\x00stick", ["lip", "stick"]),
    ("😀口红🔥", ["口红"]),
    ("NEAR(lip stick) NOT x", ["near", "lip", "stick", "not", "x"]),
    ("{head} : 口红", ["head", "口红"]),
    ("x" * 10_000, ["x" * 200]),
]


async def test_hostile_queries_answer_with_data_and_no_errors(client: GraphQLClient, corpus: Corpus) -> None:
    for q, terms in HOSTILE:
        for kind, sort in [("NOTE", "RELEVANCE"), ("NOTE", "POPULAR"), ("NOTE", "LATEST"), ("USER", "RELEVANCE"),
                           ("PRODUCT", "POPULAR"), ("TOPIC", "LATEST")]:  # fmt: skip
            body = await client.execute(SEARCH, {"q": q, "type": kind, "sort": sort})
            assert "errors" not in body, (q, kind, sort, body["errors"])
            assert body["data"]["search"]["terms"] == terms, (q, kind, sort)
            if not terms:
                assert body["data"]["search"]["edges"] == [], q


async def test_hostile_queries_find_what_their_words_find(client: GraphQLClient, corpus: Corpus) -> None:
    assert set((await _found(client, "lipstick:*"))[:3]) == {FAVOURITE, DIOR_REVIEW, MATTE}
    assert set((await _found(client, "😀口红🔥"))[:3]) == {DIOR_999, TRADITIONAL, STORAGE}
    assert set((await _found(client, "口红" * 5000))[:3]) == {DIOR_999, TRADITIONAL, STORAGE}
    assert await _found(client, "'; DROP TABLE notes; --") == []
    assert await _found(client, "a & b | c") == []
    # Nothing was dropped or changed by any of it.
    assert len(await _found(client, "红")) == 5
    assert (await client.data('{ notes: search(query: "口红") { terms } }'))["notes"]["terms"] == ["口红"]


# --- people, products, topics ------------------------------------------------------------------------------


async def test_search_people_by_handle_and_display_name(client: GraphQLClient, corpus: Corpus) -> None:
    queen = await sign_up(client, "lip_queen", displayName="Makeup Artist Mia")

    def handles(result: dict[str, Any]) -> list[str]:
        assert all(e["node"]["__typename"] == "User" for e in result["edges"])
        return [e["node"]["handle"] for e in result["edges"]]

    assert handles(await _search(client, "lip_queen", type="USER")) == ["lip_queen"]
    assert handles(await _search(client, "mia", type="USER")) == ["lip_queen"]
    assert handles(await _search(client, "Makeup Artist", type="USER")) == ["lip_queen"]
    assert handles(await _search(client, "小美", type="USER")) == ["mei"]
    assert handles(await _search(client, "emma", type="USER")) == ["emma"]
    assert handles(await _search(client, "beauty", type="USER")) == ["emma"]
    assert handles(await _search(client, "林林", type="USER")) == ["lin"]
    assert handles(await _search(client, "口红", type="USER")) == []  # notes are not people
    assert (await _search(client, "mia", type="USER"))["edges"][0]["node"]["id"] == queen["user"]["id"]


async def test_search_products_by_title(client: GraphQLClient, corpus: Corpus) -> None:
    merchant = await sign_up(client, "shop")
    tint = await create_product(client, merchant["token"], title="Velvet Lip Tint 丝绒唇釉")
    rouge = await create_product(
        client, merchant["token"], title="Rouge Dior 999 口红",
        variants=[{"sku": "RD-999", "name": "999", "priceMinorUnits": 32000, "currency": "CNY", "stock": 3}],
    )  # fmt: skip

    def titles(result: dict[str, Any]) -> list[str]:
        assert all(e["node"]["__typename"] == "Product" for e in result["edges"])
        return [e["node"]["title"] for e in result["edges"]]

    assert titles(await _search(client, "唇釉", type="PRODUCT")) == ["Velvet Lip Tint 丝绒唇釉"]
    assert titles(await _search(client, "velvet", type="PRODUCT")) == ["Velvet Lip Tint 丝绒唇釉"]
    assert titles(await _search(client, "口紅", type="PRODUCT")) == ["Rouge Dior 999 口红"]
    assert titles(await _search(client, "Dior 口红", type="PRODUCT")) == ["Rouge Dior 999 口红"]
    assert titles(await _search(client, "lip", type="PRODUCT")) == ["Velvet Lip Tint 丝绒唇釉"]
    assert titles(await _search(client, "香水", type="PRODUCT")) == []
    ids = [e["node"]["id"] for e in (await _search(client, "dior", type="PRODUCT"))["edges"]]
    assert ids == [rouge["id"]] and tint["id"] not in ids

    await client.data(
        PRODUCT_UPDATE, {"id": tint["id"], "input": {"title": "Cloud Blush 腮红"}}, token=merchant["token"]
    )
    assert titles(await _search(client, "velvet", type="PRODUCT")) == []
    # 腮红 is rouge in English: the Dior Rouge follows, below the word itself.
    assert titles(await _search(client, "腮红", type="PRODUCT")) == [
        "Cloud Blush 腮红",
        "Rouge Dior 999 口红",
    ]


async def test_search_topics(client: GraphQLClient, corpus: Corpus) -> None:
    def names(result: dict[str, Any]) -> list[str]:
        assert all(e["node"]["__typename"] == "Topic" for e in result["edges"])
        return [e["node"]["name"] for e in result["edges"]]

    assert names(await _search(client, "护肤", type="TOPIC")) == ["护肤", "skincare"]  # one family
    assert names(await _search(client, "護膚", type="TOPIC")) == ["护肤", "skincare"]
    assert names(await _search(client, "make", type="TOPIC")) == ["makeup"]
    assert set(names(await _search(client, "skin", type="TOPIC"))) == {"skincare"}
    assert names(await _search(client, "lipstick", type="TOPIC")) == []
    topic = (await _search(client, "彩妆", type="TOPIC"))["edges"][0]["node"]
    assert topic["noteCount"] == 3


# --- sorts and paging --------------------------------------------------------------------------------------


async def test_sort_popular_and_latest(client: GraphQLClient, corpus: Corpus) -> None:
    fans = [await sign_up(client, f"fan{i}") for i in range(3)]
    for fan in fans:
        await client.data(NOTE_LIKE, {"n": corpus.notes[TRADITIONAL]}, token=fan["token"])
    for fan in fans[:2]:
        await client.data(NOTE_LIKE, {"n": corpus.notes[STORAGE]}, token=fan["token"])

    # The notes with 口红 or lipstick (what it means), most liked first, ties newest first.
    popular = await _search(client, "口红", sort="POPULAR")
    assert _titles(popular) == [TRADITIONAL, STORAGE, MATTE, DIOR_REVIEW, FAVOURITE, DIOR_999]
    assert [e["score"] for e in popular["edges"]] == [3.0, 2.0, 0.0, 0.0, 0.0, 0.0]

    latest = await _search(client, "口红", sort="LATEST")
    assert _titles(latest) == [MATTE, STORAGE, DIOR_REVIEW, TRADITIONAL, FAVOURITE, DIOR_999]  # newest first
    assert [e["score"] for e in latest["edges"]] == [0.0] * 6

    # Ties in popularity fall back to newest first.
    red = await _found(client, "红", sort="POPULAR")
    assert red == [TRADITIONAL, STORAGE, PORK, SENSITIVE, DIOR_999]


async def _all_pages(client: GraphQLClient, q: str, size: int, **variables: Any) -> list[str]:
    ids: list[str] = []
    after: str | None = None
    for _ in range(50):
        page = await _search(client, q, first=size, after=after, **variables)
        ids += [e["node"]["id"] for e in page["edges"]]
        assert len(page["edges"]) <= size
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        assert len(page["edges"]) == size
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("sort", ["RELEVANCE", "POPULAR", "LATEST"])
async def test_paging_yields_every_result_once_in_order(
    client: GraphQLClient, corpus: Corpus, sort: str
) -> None:
    # Same score for many notes: ties must be broken the same way on every page.
    for i in range(7):
        await create_note(client, corpus.tokens["lin"], title=f"同款口红 {i}", body="", topics=[])
    fan = await sign_up(client, "fan")
    await client.data(NOTE_LIKE, {"n": corpus.notes[STORAGE]}, token=fan["token"])

    whole = await _search(client, "口红", first=50, sort=sort)
    everything = [e["node"]["id"] for e in whole["edges"]]
    # 10 with 口红, 3 with lipstick (what it means)
    assert len(everything) == 13 and whole["pageInfo"]["hasNextPage"] is False
    assert len({e["score"] for e in whole["edges"]}) < 10  # ties, which the cursors must break
    for size in (1, 3, 4):
        paged = await _all_pages(client, "口红", size, sort=sort)
        assert paged == everything, size
    # first: 0 is an empty page.
    assert (await _search(client, "口红", first=0, sort=sort))["edges"] == []


async def test_bad_cursors_are_errors(client: GraphQLClient, corpus: Corpus) -> None:
    latest = await _search(client, "口红", first=1, sort="LATEST")
    cursor = latest["pageInfo"]["endCursor"]
    for after, sort in [
        ("not-a-cursor", "RELEVANCE"),
        ("!!!", "LATEST"),
        ("", "POPULAR"),
        (encode_cursor("RELEVANCE", 0, "high", 1), "RELEVANCE"),  # a score that is not a number
        (encode_cursor("LATEST", 4, 5, 5), "LATEST"),  # the phase is 0–3 (relaxed, corrected)
        (cursor, "POPULAR"),  # a LATEST cursor given to another sort
        (cursor, "RELEVANCE"),
    ]:
        body = await client.execute(SEARCH, {"q": "口红", "after": after, "sort": sort})
        assert body["data"] is None, body
        assert body["errors"][0]["path"] == ["search"]
        assert body["errors"][0]["message"].startswith("The cursor is not valid for this"), body["errors"]
    unknown = await client.execute(SEARCH, {"q": "口红", "language": "klingon"})
    assert unknown["errors"][0]["path"] == ["search"]
    assert unknown["errors"][0]["message"].startswith("Unknown language 'klingon'")
    too_many = await client.execute(SEARCH, {"q": "口红", "first": 101})
    assert too_many["errors"][0]["message"] == "`first` must be between 0 and 100."


@pytest.mark.parametrize("sort", ["LATEST", "POPULAR"])
async def test_forged_cursor_with_huge_numbers_is_a_clean_cursor_error(
    client: GraphQLClient, corpus: Corpus, sort: str
) -> None:
    """A cursor is client input: numbers the database cannot hold must be refused like any bad cursor,
    not reach the database and come back as an unexpected error carrying the driver's message."""
    forged = encode_cursor(sort, 0, 10**30, 10**30)
    body = await client.execute(SEARCH, {"q": "口红", "after": forged, "sort": sort})
    assert body["data"] is None
    assert body["errors"][0]["message"] == "The cursor is not valid for this search.", body["errors"]


# --- languages ---------------------------------------------------------------------------------------------


async def test_language_filter_keeps_one_language(client: GraphQLClient, corpus: Corpus) -> None:
    assert set(await _found(client, "dior")) == {DIOR_999, DIOR_REVIEW, SAUVAGE}
    english = await _search(client, "dior", language="en")
    assert _titles(english) == [DIOR_REVIEW]
    assert all(e["node"]["language"] == "en" for e in english["edges"])
    assert set(await _found(client, "dior", language="ZH")) == {DIOR_999, SAUVAGE}
    assert await _found(client, "dior", language="fr") == []
    assert set(await _found(client, "dior", language="zh", sort="LATEST")) == {DIOR_999, SAUVAGE}
    # A language keeps notes in it, found by what the words mean too: lipstick in Chinese is 口红.
    assert set(await _found(client, "lipstick", language="zh", sort="POPULAR")) == {
        DIOR_999,
        STORAGE,
        TRADITIONAL,
    }
    assert set(await _found(client, "口红", language="en")) == {DIOR_REVIEW, FAVOURITE, MATTE}
    assert await _found(client, "香水", language="en") == []


async def test_viewer_languages_lift_notes_in_them(client: GraphQLClient) -> None:
    """A fair pair: both titles are two tokens with 'chanel' once, bodies do not match, no likes.
    Without a preference the tie goes to the newer (Chinese) note; an English reader sees English first."""
    writer = await sign_up(client, "writer")
    english = await create_note(
        client, writer["token"], title="Chanel glow", body="A soft glow for every day of the week.", topics=[]
    )
    chinese = await create_note(
        client, writer["token"], title="Chanel 美", body="日常妆容很自然，很喜欢", topics=[]
    )
    assert (english["language"], chinese["language"]) == ("en", "zh")

    anonymous = await _search(client, "chanel")
    assert [e["node"]["id"] for e in anonymous["edges"]] == [chinese["id"], english["id"]]
    assert anonymous["edges"][0]["score"] == anonymous["edges"][1]["score"]

    reader = await sign_up(client, "reader", languages=["en"])
    for_reader = await _search(client, "chanel", token=reader["token"])
    assert [e["node"]["id"] for e in for_reader["edges"]] == [english["id"], chinese["id"]]
    assert for_reader["edges"][0]["score"] > for_reader["edges"][1]["score"]

    zh_reader = await sign_up(client, "zhreader", languages=["zh"])
    for_zh = await _search(client, "chanel", token=zh_reader["token"])
    assert [e["node"]["id"] for e in for_zh["edges"]] == [chinese["id"], english["id"]]

    # Without a profile language, the Accept-Language header decides.
    response = await client.http.post(
        "/graphql",
        json={"query": SEARCH, "variables": {"q": "chanel"}},
        headers={"Accept-Language": "en-GB,en;q=0.9"},
    )
    edges = response.json()["data"]["search"]["edges"]
    assert [e["node"]["id"] for e in edges] == [english["id"], chinese["id"]]


# --- the index stays current ---------------------------------------------------------------------------------


async def test_edited_and_deleted_notes_are_reindexed(client: GraphQLClient, corpus: Corpus) -> None:
    note_id = corpus.notes[HIKING]
    assert await _found(client, "hiking") == [HIKING]
    edit = await client.data(
        NOTE_UPDATE, {"id": note_id, "input": {"title": "海边徒步"}}, token=corpus.tokens["emma"]
    )
    assert edit["noteUpdate"]["errors"] == []
    assert await _found(client, "hiking") == []
    assert await _found(client, "徒步") == ["海边徒步"]
    assert await _found(client, "seals") == ["海边徒步"]  # the body is still indexed

    await client.data(
        NOTE_UPDATE, {"id": note_id, "input": {"topics": ["户外运动"]}}, token=corpus.tokens["emma"]
    )
    assert await _found(client, "户外") == ["海边徒步"]
    # Not this note any more; 旅行日记 by its topic 旅行, which travel means (one topic family).
    assert await _found(client, "travel") == [KYOTO]

    deleted = await client.data(NOTE_DELETE, {"id": note_id}, token=corpus.tokens["emma"])
    assert deleted["noteDelete"]["errors"] == []
    for q in ["徒步", "seals", "户外"]:
        for sort in ["RELEVANCE", "POPULAR", "LATEST"]:
            assert await _found(client, q, sort=sort) == []


async def test_new_topics_and_profiles_are_searchable(client: GraphQLClient, corpus: Corpus) -> None:
    assert (await _search(client, "露营", type="TOPIC"))["edges"] == []
    await create_note(client, corpus.tokens["lin"], title="周末去山里", body="", topics=["露营装备"])
    topics = await _search(client, "露营", type="TOPIC")
    assert [e["node"]["name"] for e in topics["edges"]] == ["露营装备"]
    assert await _found(client, "露营装备") == ["周末去山里"]  # a note is found by its topics

    assert (await _search(client, "咖啡", type="USER"))["edges"] == []
    update = await client.data(
        VIEWER_UPDATE,
        {"input": {"displayName": "咖啡师小林", "bio": "Barista in Hangzhou"}},
        token=corpus.tokens["lin"],
    )
    assert update["viewerUpdate"]["errors"] == []
    assert [e["node"]["handle"] for e in (await _search(client, "咖啡", type="USER"))["edges"]] == ["lin"]
    assert [e["node"]["handle"] for e in (await _search(client, "barista", type="USER"))["edges"]] == ["lin"]
    assert (await _search(client, "林林", type="USER"))["edges"] == []


# --- SQL per request -------------------------------------------------------------------------------------------

SQL_SEARCH = """
query($q: String!, $first: Int!, $sort: SearchSort!, $type: SearchType!) {
  search(query: $q, first: $first, sort: $sort, type: $type) {
    edges { cursor score node {
      ... on Note { id title author { handle } topics { name } }
      ... on User { id handle }
      ... on Topic { id name }
    } }
    pageInfo { hasNextPage endCursor }
    terms relaxed
  }
}"""


async def test_sql_statements_per_search_are_constant_in_page_size(client: GraphQLClient) -> None:
    from models import NoteKind
    from social.accounts import sign_up as sign_up_account
    from social.notes import create_note as create_note_row

    authors = [
        await sign_up_account(
            email=f"a{i}@example.com", password="password1", handle=f"author{i}", display_name=f"口红达人{i}"
        )
        for i in range(5)
    ]
    for n in range(55):
        await create_note_row(
            author_id=authors[n % 5].id,
            kind=NoteKind.TEXT,
            title=f"口红试色 {n}",
            body="lipstick swatches",
            topics=["口红", f"口红{n % 7}号"],
        )

    async def statements(first: int, sort: str, kind: str, q: str = "口红") -> int:
        body = await client.execute(SQL_SEARCH, {"q": q, "first": first, "sort": sort, "type": kind})
        assert "errors" not in body, body
        assert len(body["data"]["search"]["edges"]) == min(first, 55 if kind == "NOTE" else 5)
        return int(body["extensions"]["sqlStatements"])

    # What a process keeps of search's data (topic families, the words' document counts) is read by the
    # first searches that need it and kept (search/families.py, search/terms.py): not per request.
    for q in ["口红", "口红 火锅"]:
        await statements(5, "RELEVANCE", "NOTE", q)
    for sort in ["RELEVANCE", "POPULAR", "LATEST"]:
        counts = {first: await statements(first, sort, "NOTE") for first in (5, 20, 50)}
        assert set(counts.values()) == {3}, (sort, counts)  # search, notes with their authors, topics
    # Relaxed: one more, the search with every word that found nothing.
    relaxed = {first: await statements(first, "RELEVANCE", "NOTE", "口红 火锅") for first in (5, 20, 50)}
    assert set(relaxed.values()) == {4}, relaxed
    users = {first: await statements(first, "RELEVANCE", "USER") for first in (2, 5)}
    assert set(users.values()) == {2}, users
