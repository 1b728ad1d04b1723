"""Opaque keyset cursors: a cursor names the last row seen, never an offset."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from core.errors import DomainError, ErrorCode
from core.ids import MAX_INT_KEY
from core.validation import is_unsafe_text

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Cursors this server makes are far shorter; a longer one is refused before it is decoded.
MAX_CURSOR_LENGTH = 500


def encode_cursor(*key: Any) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int = 1) -> list[Any]:
    """The key inside a cursor made by `encode_cursor`; a clear error for anything else."""
    key = None
    if len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            key = None
    if not isinstance(key, list) or len(key) != arity or not all(_storable(k) for k in key):
        raise DomainError(ErrorCode.INVALID, "The cursor is not valid for this list.", "after")
    return key


def _storable(part: object) -> bool:
    """An int (each list checks the range of its own columns) or text a database can hold."""
    if isinstance(part, bool):
        return False
    return isinstance(part, int) or (isinstance(part, str) and not is_unsafe_text(part))


def decode_id_cursor(cursor: str | None) -> int | None:
    """Cursor of an id-ordered list: the id of the last row seen."""
    if cursor is None:
        return None
    (key,) = decode_cursor(cursor)
    if not isinstance(key, int) or not 0 <= key <= MAX_INT_KEY:  # ids are int4 columns
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
