"""Opaque keyset cursors: a cursor names the last row seen, never an offset."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from core.errors import DomainError, ErrorCode

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


def encode_cursor(*key: Any) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int = 1) -> list[Any]:
    """The key inside a cursor made by `encode_cursor`; a clear error for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, list)
        or len(key) != arity
        or not all(isinstance(k, int | str) and not isinstance(k, bool) for k in key)
    ):
        raise DomainError(ErrorCode.INVALID, "The cursor is not valid for this list.", "after")
    return key


def decode_id_cursor(cursor: str | None) -> int | None:
    """Cursor of an id-ordered list: the id of the last row seen."""
    if cursor is None:
        return None
    (key,) = decode_cursor(cursor)
    if not isinstance(key, int):
        raise DomainError(ErrorCode.INVALID, "The cursor is not valid for this list.", "after")
    return key


def page_size(first: int | None) -> int:
    """Validated `first`: 1 … MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when omitted."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise DomainError(
            ErrorCode.OUT_OF_RANGE,
            f"`first` must be between 0 and {MAX_PAGE_SIZE}.",
            "first",
        )
    return first
