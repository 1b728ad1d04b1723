"""Feed sessions: the ranked ids of one session, kept so that paging never repeats or skips.

Redis holds them when configured (every worker and machine sees every session); otherwise a table.
Cursors are signed, so a client can neither forge a position nor read another person's session.

With Redis configured, `FallbackSnapshots` keeps the feed working through a Redis outage: sessions made
while Redis is unreachable go to the table, and reading a session asks Redis first, then the table. A
cursor names only a session and a position, never a store, so every cursor works whichever store now
answers — except one whose session sits in a Redis that cannot be reached: that session reads as
expired, and, as after any expiry, the next page starts a fresh session, which leaves out what the
viewer was recently served (impressions) rather than failing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson

from core.errors import DomainError, ErrorCode
from core.outages import REDIS_ERRORS, Outage, redis_client
from models import FeedSnapshot

log = logging.getLogger(__name__)

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
    """Sessions in Redis, expiring by themselves. Raises when Redis is unreachable (see
    `FallbackSnapshots`)."""

    def __init__(self, url: str) -> None:
        self._redis = redis_client(url)

    async def save(self, session: str, user_id: int, document: dict[str, Any]) -> None:
        await self._redis.set(f"vermilion:feed:{session}", orjson.dumps(document), ex=SNAPSHOT_TTL)

    async def load(self, session: str) -> dict[str, Any] | None:
        raw = await self._redis.get(f"vermilion:feed:{session}")
        return orjson.loads(raw) if raw else None

    async def close(self) -> None:
        await self._redis.aclose()


class FallbackSnapshots:
    """Redis while it answers, the table while it does not; back to Redis once it answers again."""

    def __init__(self, redis: RedisSnapshots, table: TableSnapshots, *, outage: Outage | None = None) -> None:
        self.redis = redis
        self.table = table
        self.outage = outage or Outage("Redis (feed sessions)")

    async def save(self, session: str, user_id: int, document: dict[str, Any]) -> None:
        if not self.outage.skip():
            try:
                await self.redis.save(session, user_id, document)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            else:
                self.outage.succeeded()
                return
        await self.table.save(session, user_id, document)

    async def load(self, session: str) -> dict[str, Any] | None:
        if not self.outage.skip():
            try:
                document = await self.redis.load(session)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            else:
                self.outage.succeeded()
                if document is not None:
                    return document
        # Made while Redis was down (or only there, now expired): one indexed read by primary key.
        return await self.table.load(session)

    async def close(self) -> None:
        await self.redis.close()


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


def decode_cursor(secret: str, cursor: str, *, viewer_id: int, argument: str = "after") -> tuple[str, int]:
    """(session, offset) of a cursor this server signed for this viewer; INVALID, naming `argument`,
    otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload, signature = raw[:-12], raw[-12:]
        session, offset, owner = payload.decode().split(":")
        valid = hmac.compare_digest(signature, _sign(secret, payload)) and int(owner) == viewer_id
        position = int(offset)
    except (ValueError, UnicodeDecodeError):
        valid, session, position = False, "", 0
    if not valid or position < 0:
        raise DomainError(ErrorCode.INVALID, "The cursor is not valid for this feed.", argument)
    return session, position
