"""Opaque keyset cursors: a cursor names a row's position, never an offset; and the page a client asks for."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from core.errors import DomainError, ErrorCode
from core.ids import MAX_INT_KEY
from core.validation import is_unsafe_text

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# Cursors this server makes are far shorter; a longer one is refused before it is decoded.
MAX_CURSOR_LENGTH = 500


def encode_cursor(*key: Any) -> str:
    if all(type(part) is int for part in key):
        # The commonest key, ids alone, written as json.dumps writes it: a page makes one cursor per
        # item, and the JSON encoder was a tenth of a feed page's CPU.
        raw = f"[{','.join(map(str, key))}]".encode()
    else:
        raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor(argument: str = "after", what: str = "list") -> DomainError:
    return DomainError(ErrorCode.INVALID, f"The cursor is not valid for this {what}.", argument)


def decode_cursor(cursor: str, arity: int = 1, *, argument: str = "after") -> list[Any]:
    """The key inside a cursor made by `encode_cursor`; a clear error naming `argument` for anything else."""
    key = None
    if len(cursor) <= MAX_CURSOR_LENGTH:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            key = None
    if not isinstance(key, list) or len(key) != arity or not all(_storable(k) for k in key):
        raise bad_cursor(argument)
    return key


def _storable(part: object) -> bool:
    """An int (each list checks the range of its own columns) or text a database can hold."""
    if isinstance(part, bool):
        return False
    return isinstance(part, int) or (isinstance(part, str) and not is_unsafe_text(part))


def decode_id_cursor(cursor: str | None, argument: str = "after") -> int | None:
    """Cursor of an id-ordered list: the id of a row seen."""
    if cursor is None:
        return None
    (key,) = decode_cursor(cursor, argument=argument)
    if not isinstance(key, int) or not 0 <= key <= MAX_INT_KEY:  # ids are int4 columns
        raise bad_cursor(argument)
    return key


def page_size(first: int | None, argument: str = "first") -> int:
    """Validated `first` (or `last`): 0 … MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when omitted."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0 or first > MAX_PAGE_SIZE:
        raise DomainError(
            ErrorCode.OUT_OF_RANGE,
            f"`{argument}` must be between 0 and {MAX_PAGE_SIZE}.",
            argument,
        )
    return first


@dataclass(frozen=True)
class PageRequest:
    """One page of a list: `size` items after `cursor` (forwards) or before it (`backward`).

    Forwards without a cursor is the list's start; backwards without one, its end.
    """

    size: int
    cursor: str | None = None
    backward: bool = False

    @property
    def cursor_argument(self) -> str:
        """The argument the cursor came in, for errors about it."""
        return "before" if self.backward else "after"

    @property
    def size_argument(self) -> str:
        return "last" if self.backward else "first"

    def id_cursor(self) -> int | None:
        """The cursor of an id-ordered list, decoded (INVALID, naming its argument, when forged)."""
        return decode_id_cursor(self.cursor, self.cursor_argument)


def page_request(
    first: int | None, after: str | None, last: int | None = None, before: str | None = None
) -> PageRequest:
    """The page the Relay arguments ask for, or a coded refusal naming the argument at fault.

    A page goes one way from one cursor: `first`/`after` forwards, `last`/`before` backwards. Mixing them
    (`first` with `last`, `after` with `before`, `first` with `before`, `last` with `after`) is refused with
    INVALID rather than given the spec's rarely-used meaning (items between two cursors): no standard client
    sends it, and a refusal is clearer than a page nobody expected. `first` and `last` share one range.
    """
    if first is not None and last is not None:
        raise DomainError(ErrorCode.INVALID, "Pass `first` or `last`, not both.", "last")
    if after is not None and before is not None:
        raise DomainError(ErrorCode.INVALID, "Pass `after` or `before`, not both.", "before")
    if first is not None and before is not None:
        raise DomainError(
            ErrorCode.INVALID, "`before` pages backwards: pass it with `last`, not `first`.", "before"
        )
    if last is not None and after is not None:
        raise DomainError(
            ErrorCode.INVALID, "`after` pages forwards: pass it with `first`, not `last`.", "after"
        )
    if last is not None or before is not None:
        return PageRequest(page_size(last, "last"), before, backward=True)
    return PageRequest(page_size(first), after)
