"""The concept layer's rules (search/concepts.py), the vocabulary's weights (search/terms.py) and
corrections (search/suggest.py), without a database."""

from __future__ import annotations

from search.concepts import literal_tokens, prune, tokens_of, understand
from search.families import Families, normalize_name, read_seed_file
from search.suggest import Vocabulary, suggestion
from search.terms import TOTAL, idf, term_weights
from search.text import Query, parse_query

FAMILIES = Families.of((name, names[0]) for names in read_seed_file() for name in names)


def _related(text: str) -> list[str]:
    """Each meaning of the first term, written as its tokens joined."""
    term = understand(text, FAMILIES).query.terms[0]
    return ["".join(t.text for t in alternative) for alternative in term.related]


def test_a_family_gives_each_name_the_others() -> None:
    assert FAMILIES.family("fitness") == "健身" and FAMILIES.family("gym") == "健身"
    assert FAMILIES.family("露营") == "露营"  # no family: itself
    assert "旅行" in FAMILIES.names("旅游") and "travel" in FAMILIES.names("旅游")
    assert FAMILIES.names("露营") == ("露营",)


def test_family_names_are_normalised_like_topics() -> None:
    assert normalize_name(" #Skin  Care ") == "skin care"
    assert normalize_name("＃护\u200b肤") == "护肤"


def test_a_chinese_synonym_and_the_other_language_are_related_not_literal() -> None:
    understood = understand("旅遊", FAMILIES)  # Traditional, and the corpus says 旅行
    term = understood.query.terms[0]
    assert term.source == "旅游"
    assert [[t.text for t in a] for a in term.alternatives] == [["旅游"]]
    related = _related("旅遊")
    assert "旅行" in related and "travel" in related


def test_english_finds_the_chinese_it_translates() -> None:
    assert "防晒" in _related("sunscreen")  # the family (sunscreen is a name of 防晒)
    assert "口红" in _related("lipstick")
    assert "lipstick" in _related("口红")  # the dictionary, the other way


def test_a_multi_word_name_is_one_term() -> None:
    query = understand("hot pot", FAMILIES).query
    assert [t.source for t in query.terms] == ["hot pot"]
    assert [t.text for t in query.terms[0].alternatives[0]] == ["hot", "pot"]  # both words, as typed
    assert "火锅" in _related("hot pot")
    assert [t.source for t in understand("b c", FAMILIES).query.terms] == ["b", "c"]  # letters, not a name


def test_an_emoji_query_is_its_names_and_beside_words_it_decorates() -> None:
    query = understand("💄", FAMILIES).query
    assert [t.source for t in query.terms] == ["唇膏 lipstick"]
    assert "口红" in _related("💄")
    assert [t.source for t in understand("😀口红🔥", FAMILIES).query.terms] == ["口红"]
    assert "咖啡" in _related("☕")  # hot beverage, in the family of 咖啡


def test_a_single_character_is_never_a_meaning() -> None:
    related = _related("猫咪")  # its family holds 猫, which is also in 熊猫 and 猫眼
    assert "猫" not in related and "cat" in related
    assert [t.source for t in understand("猫", FAMILIES).query.terms] == ["猫"]  # typed, it is the word


def test_spelling_variants_are_the_word_itself() -> None:
    term = understand("moisturiser", FAMILIES).query.terms[0]
    words = {t.text for alternative in term.alternatives for t in alternative}
    assert {"moisturiser", "moisturizer"} <= words
    assert set(understand("moisturizer", FAMILIES).query.terms[0].related) == set(term.related)


def test_japanese_kanji_are_folded_and_kana_only_is_noticed() -> None:
    assert [t.source for t in understand("化粧水", FAMILIES).query.terms] == ["化妆水"]
    assert understand("リップ", FAMILIES).kana_only
    assert not understand("口红", FAMILIES).kana_only


def test_prune_keeps_meanings_the_index_holds_most_held_first() -> None:
    query = understand("旅遊", FAMILIES).query
    # 旅行 and travel are held; an English word the vocabulary does not list is held by no document.
    counts = {TOTAL: 100, "旅行": 40, "travel": 5, "trip": 0, "journey": 0, "tourism": 0, "tour": 0}
    counts |= {t: 0 for t in tokens_of(query) if t.isascii() and t not in counts}
    kept = prune(query, counts, counted=True)
    kept_names = ["".join(t.text for t in a) for a in kept.terms[0].related]
    assert kept_names[:2] == ["旅行", "travel"] and all(not n.isascii() for n in kept_names[2:])
    # Never counted (a new index): nothing can be judged, the first meanings stay.
    assert len(prune(query, {TOTAL: 0}, counted=False).terms[0].related) == min(
        8, len(query.terms[0].related)
    )
    assert "旅行" in tokens_of(query) and literal_tokens(query.terms[0]) == ["旅游"]


def test_rare_words_weigh_more_and_weights_average_one() -> None:
    counts = {TOTAL: 1000, "防晒": 30, "晒霜": 25, "推荐": 400}
    weights = term_weights(counts, [["防晒", "晒霜"], ["推荐"]])
    assert weights[0] > 2 * weights[1]
    assert abs(sum(weights) / 2 - 1.0) < 1e-9
    assert term_weights({TOTAL: 0}, [["a"], ["b"]]) == [1.0, 1.0]  # never counted: all alike
    assert idf(1, 1000) > idf(500, 1000) > 0


def _vocabulary() -> Vocabulary:
    counts = {
        "lipstick": 40,
        "lipsticks": 3,
        "sunscreen": 30,
        "pilates": 2,
        "口红": 44,
        "防晒": 50,
        "穿搭": 80,
    }
    return Vocabulary.of(counts, lambda word: word in {"口红", "防晒", "穿搭"}, names=["coffee", "咖啡"])


def test_typos_are_corrected_from_the_vocabulary() -> None:
    vocabulary = _vocabulary()
    assert vocabulary.correct("lipstik") == "lipstick"
    assert vocabulary.correct("sunscren") == "sunscreen"
    assert vocabulary.correct("pilatis") == "pilates"
    assert vocabulary.correct("cofee") == "coffee"  # a family's name, though no document has the word
    assert vocabulary.correct("lipstick") is None  # known: what the reader meant
    assert vocabulary.correct("zzzzqqq") is None  # nothing near
    assert vocabulary.correct("lpz") is None  # three letters allow one edit: nothing is that near


def test_pinyin_is_written_in_chinese() -> None:
    vocabulary = _vocabulary()
    assert vocabulary.correct("kouhong") == "口红"
    assert vocabulary.correct("chuanda") == "穿搭"

    def suggest(text: str) -> str | None:
        return suggestion(text, parse_query(text), vocabulary)

    assert suggest("fang shai") == "防晒"  # syllables typed apart
    assert suggest("kouhong lipstik") == "口红 lipstick"
    assert suggest("lipstick") is None


def test_an_empty_query_understands_nothing() -> None:
    assert understand("   ", FAMILIES).query == Query(())
    assert understand("!!!", FAMILIES).query.empty
