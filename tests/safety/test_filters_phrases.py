"""Phrase matching for keyword filters (search/phrases.py): Chinese as substrings across scripts and
spellings, English by whole words and stems, and input built to break it."""

from __future__ import annotations

import pytest

from search.phrases import compile_phrase, prepare


def matches(phrase: str, text: str) -> bool:
    return compile_phrase(phrase).matches(text)


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("護膚", "今天的护肤心得"),  # Traditional finds Simplified
        ("护肤", "護膚品推薦"),  # and the other way round
        ("口红", "这款口红色号太美了"),  # inside a longer run of Chinese
        ("口红", "YSL口红"),
        ("护肤 精华", "护肤精华液"),  # spaces between Chinese characters do not count
        ("护肤精华", "护肤 精华液"),
        ("口红，推荐", "口红推荐"),  # punctuation in the phrase: the text may have it or not
        ("口红，推荐", "口红。推荐"),
        ("lipstick", "My favourite Lipsticks!"),  # whole word by stem, any case
        ("lipsticks", "one lipstick"),
        ("LIPSTICK", "lipstick"),
        ("ＤＩＯＲ", "Dior Sauvage"),  # full-width letters
        ("and", "Tom and Jerry"),
        ("matte lipstick", "Matte, lipsticks."),  # adjacent words, punctuation between ignored
        ("anti-aging", "Anti Aging cream"),
        ("YSL 口红", "我的YSL口红很好"),  # mixed phrase
        ("YSL 口红", "ysl, 口红"),
        ("口红ysl", "最爱口红 YSL 了"),
        ("iPhone 15", "new iPhone 15 Pro"),  # digits are words
        ("15", "15 ml"),
        ("👍", "nice 👍🏽"),  # an emoji, with a skin tone
        ("💄", "口红💄推荐"),
        ("lipstick 💄", "lipstick💄"),
        ("립스틱", "이 립스틱을 추천해요"),  # Korean particles attach to words
        ("テスト", "ﾃｽﾄです"),  # half-width kana
    ],
)
def test_matches(phrase: str, text: str) -> None:
    assert matches(phrase, text)


@pytest.mark.parametrize(
    ("phrase", "text"),
    [
        ("and", "sand castle"),  # never a part of a word (Bluesky's mute words did this)
        ("cat", "category"),
        ("cat", "concatenate"),
        ("smart", "smartwatch"),
        ("lipstick", "lip stick"),
        ("matte lipstick", "lipstick matte"),  # words in order
        ("matte lipstick", "matte red lipstick"),  # and adjacent
        ("15", "150 ml"),
        ("iphone", "iphone15"),  # "iphone15" is one word
        ("口红", "出口，红酒"),  # Chinese does not run across punctuation
        ("口红推荐", "口红。推荐"),
        ("口红", "口 💄 红"),
        ("护肤", "护 skin 肤"),
        ("👍", "👎"),
    ],
)
def test_does_not_match(phrase: str, text: str) -> None:
    assert not matches(phrase, text)


def test_prepared_texts_match_each_alone() -> None:
    # A note's title, body and topics: a phrase matches inside one of them, never across two.
    text = prepare("今天试了口", "红色的裙子 matte", "lipstick")
    assert compile_phrase("红色").matches(text)
    assert compile_phrase("lipstick").matches(text)
    assert not compile_phrase("口红").matches(text)
    assert not compile_phrase("matte lipstick").matches(text)
    assert not compile_phrase("口红").matches(prepare())


@pytest.mark.parametrize("phrase", ["", "   ", "!!!", "……", "___", ".*", "\u200b", "\n\t"])
def test_nothing_searchable_is_empty(phrase: str) -> None:
    compiled = compile_phrase(phrase)
    assert compiled.empty
    assert not compiled.matches("anything at all ... !!! ___ .*")


@pytest.mark.parametrize(
    ("phrase", "text", "expected"),
    [
        (".*", "a.*b", False),  # only punctuation: empty
        ("a.*b", "a b", True),  # metacharacters are separators, never a pattern
        ("a.*b", "axxb", False),
        ("(口红)+", "口红口红", True),
        ("(口红)+", "口", False),
        ("[a-z]", "x", False),
        ("[a-z]", "a-z", True),
        ("\\d+", "d", True),
        ("\\d+", "123", False),
        ("口红|眼影", "口红眼影", True),  # the bar is punctuation between two Chinese runs
        ("口红|眼影", "眼影", False),
        ("^lipstick$", "my lipstick", True),
    ],
)
def test_regex_metacharacters_are_text(phrase: str, text: str, expected: bool) -> None:
    assert matches(phrase, text) is expected


def test_very_long_text() -> None:
    body = "这款口红色号很正 matte finish, 推荐给大家! " * 20_000  # 640,000 characters
    assert matches("lipstick", body + " Lipsticks") is True
    assert matches("口红", body) is True
    assert matches("sand", body) is False
    # Many near misses for the optional-space pattern: still a plain left-to-right scan.
    assert matches("口红，推荐给", "口红，推荐" * 50_000) is False


def test_very_long_phrase() -> None:
    phrase = "口红 " * 5_000
    assert compile_phrase(phrase).matches("口红" * 5_000)
    assert not compile_phrase(phrase).matches("口红" * 4_999)


def test_phrases_are_compiled_once() -> None:
    assert compile_phrase("lipstick 口红") is compile_phrase("lipstick 口红")
