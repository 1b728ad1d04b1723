"""The search text pipeline and query compilation, without a database: normalisation, index tokens,
query terms, match expressions that no user input can turn into operators, and language detection."""

from __future__ import annotations

import re

import pytest

from search.language import detect_language
from search.service import match_expression
from search.text import MAX_QUERY_TERMS, Query, Term, Token, index_text, index_tokens, normalize, parse_query


def _terms(raw: str) -> list[str]:
    return [t.source for t in parse_query(raw).terms]


def _tokens(query: Query) -> list[Token]:
    return [token for term in query.terms for alternative in term.alternatives for token in alternative]


# --- normalisation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ｄｉｏｒ　９９９", "dior 999"),  # full-width letters, digits and space
        ("LIPSTICK Lipstick", "lipstick lipstick"),
        ("Straße", "strasse"),  # case folding, not just lower-casing
        ("護膚", "护肤"),
        ("這支口紅很滋潤", "这支口红很滋润"),
        ("ﬁne", "fine"),  # compatibility ligature
        ("已经是简体", "已经是简体"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


# --- index tokens ------------------------------------------------------------------------------------------


def test_index_tokens_of_chinese_are_characters_then_pairs_then_long_words() -> None:
    # (Not a topic name anywhere in the suite: topic names join jieba's dictionary as whole words.)
    assert index_tokens("口红真好") == ["口", "红", "真", "好", "口红", "红真", "真好"]
    # jieba's search-mode words longer than two characters are added after the pairs.
    pairs = ["化妆", "妆品", "品推", "推荐"]
    assert index_tokens("化妆品推荐") == [*"化妆品推荐", *pairs, "化妆品"]
    tokens = index_tokens("中华人民共和国")
    assert tokens[:7] == list("中华人民共和国")
    assert tokens[7:13] == ["中华", "华人", "人民", "民共", "共和", "和国"]
    assert set(tokens[13:]) == {"共和国", "中华人民共和国"}


def test_index_tokens_keep_duplicates_for_term_frequency() -> None:
    assert index_tokens("红红") == ["红", "红", "红红"]
    assert index_tokens("肌肤护肤").count("肤") == 2


def test_index_tokens_of_traditional_text_are_simplified() -> None:
    assert index_tokens("口紅") == index_tokens("口红") == ["口", "红", "口红"]


def test_index_tokens_of_english_are_word_and_stem() -> None:
    assert index_tokens("Lipsticks") == ["lipsticks", "lipstick"]
    assert index_tokens("running lipstick") == ["running", "run", "lipstick"]
    assert index_tokens("Dior 999") == ["dior", "999"]


def test_index_tokens_split_mixed_text_into_runs() -> None:
    assert index_text("Dior 口红") == "dior 口 红 口红"
    assert index_tokens("口红Dior") == ["口", "红", "口红", "dior"]


def test_index_tokens_split_latin_written_against_chinese() -> None:
    """Brand names are usually written against the Chinese word ("Dior口红", "999号"): still two runs."""
    assert index_tokens("Dior口红 #makeup_tips!") == ["dior", "口", "红", "口红", "makeup", "tips", "tip"]
    assert index_tokens("999号") == ["999", "号"]


# --- parsing queries ---------------------------------------------------------------------------------------


def test_one_chinese_character_is_one_exact_token() -> None:
    assert parse_query("红") == Query((Term("红", ((Token("红"),),)),))


def test_two_chinese_characters_are_one_pair() -> None:
    assert parse_query("口红") == Query((Term("口红", ((Token("口红"),),)),))
    assert parse_query("口紅") == parse_query("口红")


def test_four_chinese_characters_are_cut_into_words_of_pairs() -> None:
    query = parse_query("敏感肌肤")
    assert query == Query((Term("敏感", ((Token("敏感"),),)), Term("肌肤", ((Token("肌肤"),),))))
    # A word jieba keeps whole becomes every adjacent pair of it, all required; whole, it ranks higher.
    assert parse_query("化妆品") == Query((Term("化妆品", ((Token("化妆"), Token("妆品")),), "化妆品"),))


def test_latin_written_against_chinese_in_a_query_is_two_terms() -> None:
    assert _terms("Dior口红") == ["dior", "口红"]
    assert _terms("口红Dior") == ["口红", "dior"]


def test_traditional_query_is_simplified() -> None:
    assert _terms("護膚") == ["护肤"]
    assert parse_query("護膚") == parse_query("护肤")


def test_mixed_chinese_and_english_query() -> None:
    query = parse_query("Dior 口红")
    assert query == Query((Term("dior", ((Token("dior", prefix=True),),)), Term("口红", ((Token("口红"),),))))
    assert match_expression(query, "postgres") == "(('dior':*)) & (('口红'))"
    assert match_expression(query, "sqlite") == '(("dior"*)) AND (("口红"))'


def test_english_plural_matches_word_or_stem_by_prefix() -> None:
    query = parse_query("Lipsticks")
    assert query == Query((Term("lipsticks", ((Token("lipsticks", True),), (Token("lipstick", True),))),))
    assert match_expression(query, "postgres") == "(('lipsticks':*) | ('lipstick':*))"
    assert match_expression(query, "sqlite") == '(("lipsticks"*) OR ("lipstick"*))'
    assert match_expression(query, "postgres", head_only=True) == "(('lipsticks':*A) | ('lipstick':*A))"
    assert match_expression(query, "sqlite", head_only=True) == '{head} : ((("lipsticks"*) OR ("lipstick"*)))'


def test_single_letters_and_digits_match_exactly() -> None:
    assert parse_query("b 9") == Query((Term("b", ((Token("b"),),)), Term("9", ((Token("9"),),))))


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert _terms("the best lipstick for my dry lips") == ["best", "lipstick", "dry", "lips"]
    assert _terms("THE") == ["the"]
    assert _terms("the and of") == ["the", "and", "of"]
    assert _terms("我的口红也很好看") == ["口红", "好看"]
    assert _terms("不存在的东西") == ["存在", "东西"]
    assert _terms("的") == ["的"]


def test_relaxed_expression_joins_terms_with_or() -> None:
    query = parse_query("lipstick 火锅")
    assert match_expression(query, "postgres", every_term=False) == "(('lipstick':*)) | (('火锅'))"
    assert match_expression(query, "sqlite", every_term=False) == '(("lipstick"*)) OR (("火锅"))'


def test_duplicate_words_are_one_term_and_terms_are_capped() -> None:
    assert _terms("口红 口紅 lipstick LIPSTICK") == ["口红", "lipstick"]
    many = " ".join(f"word{i}" for i in range(30))
    assert _terms(many) == [f"word{i}" for i in range(MAX_QUERY_TERMS)]


def test_only_the_first_200_characters_are_read() -> None:
    assert _terms("口红" * 5000) == ["口红"]
    assert _terms("x" * 10_000) == ["x" * 200]
    assert _terms("a" * 250 + " lipstick") == ["a" * 200]


def test_empty_and_punctuation_only_queries_have_no_terms() -> None:
    for raw in ["", "   ", "%", "'", '"', ":*", "&", "|", "!!", "()", "\\", "\x00", "😀🔥", "——。，！", "_"]:
        assert parse_query(raw).empty, raw


# --- injection-like input -----------------------------------------------------------------------------------

HOSTILE = [
    "%",
    "'",
    '"',
    ":*",
    "&",
    "|",
    "!",
    "(",
    "\\",
    "a & b | c",
    "!!",
    "()",
    "lipstick:*",
    "lipstick' | '口红",
    'lip" OR "x',
    "'; DROP TABLE notes; --",
    "口红\x00lipstick",
    "\x00" * 50,
    "😀口红🔥lip😀",
    "NEAR(lip stick) AND NOT x OR y*",
    "{head} : lipstick",
    "head:lip body:口红",
    "^lip -stick +x ~y <-> z <2> w",
    "x" * 10_000,
    "口红'" * 3_000,
    "%' OR '1'='1",
    "\\'; SELECT 1; --",
]
LETTERS_AND_DIGITS = re.compile(r"^[^\W_]+$")


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_input_gives_only_letter_and_digit_tokens(raw: str) -> None:
    query = parse_query(raw)
    assert len(query.terms) <= MAX_QUERY_TERMS
    for token in _tokens(query):
        assert LETTERS_AND_DIGITS.match(token.text), token
        assert len(token.text) <= 200


@pytest.mark.parametrize("raw", HOSTILE)
@pytest.mark.parametrize("database", ["postgres", "sqlite"])
@pytest.mark.parametrize("every_term", [True, False])
@pytest.mark.parametrize("head_only", [True, False])
def test_match_expression_never_contains_user_punctuation(
    raw: str, database: str, every_term: bool, head_only: bool
) -> None:
    query = parse_query(raw)
    expression = match_expression(query, database, every_term=every_term, head_only=head_only)
    # Remove every token as quoted by the compiler; what is left must be the compiler's own syntax only.
    for token in sorted(_tokens(query), key=lambda t: -len(t.text)):
        quote = "'" if database == "postgres" else '"'
        expression = expression.replace(quote + token.text + quote, "T")
    expression = expression.replace("{head} : ", "")
    if database == "postgres":
        syntax = re.compile(r"^[T()&| :*A]*$")
        expression = expression.replace(":*A", "").replace(":*", "").replace(":A", "")
    else:
        syntax = re.compile(r"^[T()* ANDOR]*$")
    assert syntax.match(expression), (raw, expression)
    assert "\x00" not in expression and "--" not in expression and ";" not in expression


def test_hostile_input_keeps_its_words() -> None:
    assert _terms("'; DROP TABLE notes; --") == ["drop", "table", "notes"]
    assert _terms("a & b | c") == ["b", "c"]
    assert _terms("lipstick:*") == ["lipstick"]
    assert _terms("lipstick' | '口红") == ["lipstick", "口红"]
    assert _terms("口红\x00lipstick") == ["口红", "lipstick"]
    assert _terms("😀口红🔥lip😀") == ["口红", "lip"]
    assert match_expression(parse_query("%' OR '1'='1"), "postgres") == "(('1'))"  # "or" is a stop word
    assert match_expression(parse_query('lip" OR "x'), "sqlite") == '(("lip"*)) AND (("x"))'


def test_quote_characters_in_a_token_would_be_doubled() -> None:
    """Belt and braces: even a token that somehow held a quote could not close the quoted lexeme."""
    query = Query((Term("x", ((Token("it's\"", prefix=True),),)),))
    assert match_expression(query, "postgres") == "(('it''s\"':*))"
    assert match_expression(query, "sqlite") == '(("it\'s"""*))'


# --- language detection -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天的口红试色，显白又滋润", "zh"),
        ("今天的穿搭分享", "zh"),
        ("Dior 999 口红试色，真的绝了", "zh"),
        ("My skincare routine", "en"),
        ("Best sunscreen for oily skin in summer", "en"),
        ("yyds this lipstick", "en"),  # slang alone is not Chinese
        ("這支口紅很滋潤，顏色很溫柔", "zh"),
        ("My favourite lipstick for dry lips, creamy and long lasting", "en"),
        ("matte lipstick 试色", "zh"),  # mixed notes read as Chinese
        ("Dior Sauvage 香水", "zh"),
        ("yyds 这个口红绝了", "zh"),  # slang with Chinese present
        ("绝绝子 yyds awsl", "zh"),
        ("J'adore ce rouge à lèvres, il est vraiment magnifique et très doux", "fr"),
        ("これはとても良い口紅です", "ja"),  # kana decide, even among kanji
        ("私の好きなリップ", "ja"),
        ("", "und"),
        ("  12345 !!! ", "und"),
        ("ab", "und"),
        ("😀🔥", "und"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_a_few_chinese_characters_in_a_long_english_text_stay_english() -> None:
    text = (
        "I bought this lipstick in Shanghai and the shade is called 正红, it is a classic red for every day"
    )
    assert detect_language(text) == "en"


def test_a_long_chinese_word_held_whole_ranks_above_its_pairs_apart() -> None:
    from search.ranking import relevance

    query = parse_query("化妆品")
    whole = relevance(query, index_text("化妆品推荐"), "")
    apart = relevance(query, index_text("化妆 妆品"), "")
    assert whole.matched_terms == apart.matched_terms == 1
    assert whole.score > apart.score


@pytest.mark.parametrize(
    "text", ["", "口红", "这款口红色号很正 lipsticks 999", "  Ｄｉｏｒ　９９９  ", *HOSTILE]
)
def test_a_field_counts_the_tokens_it_was_indexed_with(text: str) -> None:
    # Ranking counts a field's tokens by its spaces (search.ranking.Field); that holds only while
    # index_text joins non-empty tokens that never contain a space.
    from search.ranking import Field

    assert Field(index_text(text)).length == len(index_tokens(text))
