"""Unit tests for rules where the details matter: ids, cursors, money, topic names, validation, tokens, passwords
(language detection: tests/search/test_text.py)."""

from __future__ import annotations

import pytest

from commerce.money import format_amount, normalize_currency
from core.cursors import decode_cursor, decode_id_cursor, encode_cursor, page_size
from core.errors import DomainError, ErrorCode
from core.ids import decode_global_id, parse_global_id, to_global_id
from core.validation import Checks, clean_text
from social.passwords import hash_password, verify_password
from social.tokens import issue_token, read_token
from social.topics import normalize_topic_name


def test_global_ids_round_trip_and_reject_junk() -> None:
    gid = to_global_id("Note", 42)
    assert parse_global_id(gid) == ("Note", 42)
    assert decode_global_id(gid, "Note", "id") == 42
    for junk in ("", "Tm90ZQ==", "Tm90ZTphYmM=", "Tm90ZTowIA==", "Tm90ZTotNQ==", "****"):
        assert parse_global_id(junk) is None, junk
    with pytest.raises(DomainError) as refused:
        decode_global_id(to_global_id("User", 1), "Note", ["input", "noteId"])
    assert refused.value.code is ErrorCode.INVALID and refused.value.field == ["input", "noteId"]


def test_cursors_round_trip_and_refuse_tampering() -> None:
    assert decode_id_cursor(encode_cursor(17)) == 17
    assert decode_cursor(encode_cursor(3, "x"), arity=2) == [3, "x"]
    assert decode_id_cursor(None) is None
    for bad in ("", "abc", encode_cursor("17"), encode_cursor(1, 2), encode_cursor(True), "e30"):
        with pytest.raises(DomainError):
            decode_id_cursor(bad)


def test_page_size_bounds() -> None:
    assert page_size(None) == 20
    assert page_size(0) == 0 and page_size(100) == 100
    for bad in (-1, 101, 10**9):
        with pytest.raises(DomainError) as refused:
            page_size(bad)
        assert refused.value.field == ["first"]


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [(1250, "USD", "12.50"), (5, "CNY", "0.05"), (0, "EUR", "0.00"), (1980, "JPY", "1980"), (-250, "USD", "-2.50"),
     (123456789012, "KRW", "123456789012")],
)  # fmt: skip
def test_money_formatting_is_exact(minor: int, currency: str, amount: str) -> None:
    assert format_amount(minor, currency) == amount


def test_currency_codes() -> None:
    assert normalize_currency(" cny ") == "CNY"
    assert normalize_currency("XBT") is None


@pytest.mark.parametrize("raw", ["#护肤", "护肤", " 护肤 ", "＃护肤", "##护肤"])
def test_topic_spellings_are_one_topic(raw: str) -> None:
    assert normalize_topic_name(raw) == "护肤"


def test_topic_names_fold_case_and_space() -> None:
    assert normalize_topic_name("  Skin   Care ") == "skin care"
    assert normalize_topic_name("ＯＯＴＤ") == "ootd"
    assert normalize_topic_name("#") == ""


def test_clean_text_drops_control_characters_but_keeps_lines() -> None:
    assert clean_text("  a\u0000b\nc\u200b ") == "ab\nc"


def test_checks_collect_every_error() -> None:
    checks = Checks()
    checks.text("title", "", max_length=5)
    checks.text("body", "toolong", max_length=3)
    with pytest.raises(DomainError) as refused:
        checks.done()
    # Domain paths: the schema layer adds the GraphQL input path (tests/test_errors_mapping.py).
    errors = refused.value.errors  # type: ignore[attr-defined]
    assert [(e.field, e.code) for e in errors] == [
        (["title"], ErrorCode.REQUIRED),
        (["body"], ErrorCode.TOO_LONG),
    ]


def test_tokens_expire_and_are_bound_to_the_key() -> None:
    token = issue_token(user_id=7, secret_key="k" * 40, ttl_seconds=60)
    assert read_token(token, secret_key="k" * 40) == 7
    assert read_token(token, secret_key="x" * 40) is None
    assert (
        read_token(issue_token(user_id=7, secret_key="k" * 40, ttl_seconds=60, now=0), secret_key="k" * 40)
        is None
    )


def test_passwords_verify_only_the_right_one() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong horse")
    assert not verify_password(None, "correct horse")
