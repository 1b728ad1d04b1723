"""Relay global object ids: base64("Type:pk"), opaque to clients and unique across types."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from core.errors import DomainError, ErrorCode, FieldLike

# Integer primary keys are PostgreSQL `integer` (int4) columns: a larger key names nothing, and sent to
# the database it would fail there instead of simply finding no row.
MAX_INT_KEY = 2**31 - 1
# The longest id worth decoding: "ProductVariant:" and a UUID in base64 are 72 characters.
MAX_GLOBAL_ID_LENGTH = 100


def to_global_id(type_name: str, pk: int | UUID) -> str:
    # base64.b64encode's own step, without its wrapper: a page makes hundreds of ids.
    return binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode()


def _split(global_id: str) -> tuple[str, str]:
    """("Type", "key") inside an id; raises ValueError (or binascii.Error) for malformed ones."""
    if len(global_id) > MAX_GLOBAL_ID_LENGTH:
        raise ValueError("too long to be an id")
    type_name, _, raw_pk = base64.b64decode(global_id, validate=True).decode().partition(":")
    return type_name, raw_pk


def parse_global_id(global_id: str) -> tuple[str, int] | None:
    """(type, pk) of a well-formed id whose key fits its int4 column, else None."""
    try:
        type_name, raw_pk = _split(global_id)
        pk = int(raw_pk)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not type_name or not 0 < pk <= MAX_INT_KEY:
        return None
    return type_name, pk


def decode_global_id(global_id: str, expected_type: str, field: FieldLike) -> int:
    """The primary key inside an id of `expected_type`, or a clear INVALID error naming `field`."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] != expected_type:
        raise DomainError(ErrorCode.INVALID, f"Not a valid {expected_type} id.", field)
    return parsed[1]


def parse_uuid_global_id(global_id: str) -> tuple[str, UUID] | None:
    """(type, key) of a well-formed id of a type keyed by UUID (carts, orders), else None."""
    try:
        type_name, raw_pk = _split(global_id)
        pk = UUID(raw_pk)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return (type_name, pk) if type_name else None


def decode_uuid_global_id(global_id: str, expected_type: str, field: FieldLike) -> UUID:
    parsed = parse_uuid_global_id(global_id)
    if parsed is None or parsed[0] != expected_type:
        raise DomainError(ErrorCode.INVALID, f"Not a valid {expected_type} id.", field)
    return parsed[1]
