"""core.cursors: a cursor is the URL-safe base64 of its key as compact JSON, however it is written."""

from __future__ import annotations

import base64
import json

import pytest

from core.cursors import decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "key", [(1,), (0,), (2**31 - 1,), (-7,), (3, 9), ("LATEST", 2, 5, 5), (True,), (1.5,)]
)
def test_a_cursor_is_its_key_as_compact_json(key: tuple[object, ...]) -> None:
    expected = base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode()
    assert encode_cursor(*key) == expected.rstrip("=")


def test_an_id_cursor_reads_back() -> None:
    assert decode_cursor(encode_cursor(42)) == [42]
