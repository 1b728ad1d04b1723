"""Feed sessions: the ranked ids of one session, kept so that paging never repeats or skips.

Redis holds them when configured (every worker and machine sees every session); otherwise a table.
Cursors are signed, so a client can neither forge a position nor read another person's session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from core.errors import DomainError, ErrorCode
from models import FeedSnapshot

SNAPSHOT_TTL = timedelta(hours=24)


class SnapshotStore(Protocol):
    async def save(self, session: str, user_id: int, document: dict[str, Any]) -> None: ...

    async def load(self, session: str) -> dict[str, Any] | None: ...


class TableSnapshots:
    """The embedded default: a row per session; the app's housekeeping deletes expired rows."""

    async def save(self, session: str, user_id: int, document: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        await FeedSnapshot.create(
            id=session, user_id=user_id or None, document=document, expires_at=now + SNAPSHOT_TTL
        )

    async def load(self, session: str) -> dict[str, Any] | None:
        row = await FeedSnapshot.get_or_none(id=session)
        if row is None or row.expires_at < datetime.now(UTC):
            return None
        return dict(row.document)


class RedisSnapshots:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)

    async def save(self, session: str, user_id: int, document: dict[str, Any]) -> None:
        await self._redis.set(f"vermilion:feed:{session}", orjson.dumps(document), ex=SNAPSHOT_TTL)

    async def load(self, session: str) -> dict[str, Any] | None:
        raw = await self._redis.get(f"vermilion:feed:{session}")
        return orjson.loads(raw) if raw else None

    async def close(self) -> None:
        await self._redis.aclose()


async def sweep_expired_snapshots() -> int:
    """Delete expired sessions from the table; how many."""
    return await FeedSnapshot.filter(expires_at__lt=datetime.now(UTC)).delete()


# --- signed cursors --------------------------------------------------------------------------------


def _sign(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]


def encode_cursor(secret: str, *, session: str, offset: int, viewer_id: int) -> str:
    payload = f"{session}:{offset}:{viewer_id}".encode()
    raw = payload + _sign(secret, payload)  # the signature is the last 12 bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(secret: str, cursor: str, *, viewer_id: int) -> tuple[str, int]:
    """(session, offset) of a cursor this server signed for this viewer; INVALID otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload, signature = raw[:-12], raw[-12:]
        session, offset, owner = payload.decode().split(":")
        valid = hmac.compare_digest(signature, _sign(secret, payload)) and int(owner) == viewer_id
        position = int(offset)
    except (ValueError, UnicodeDecodeError):
        valid, session, position = False, "", 0
    if not valid or position < 0:
        raise DomainError(ErrorCode.INVALID, "The cursor is not valid for this feed.", "after")
    return session, position
