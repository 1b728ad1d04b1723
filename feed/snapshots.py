"""Feed sessions: the ranked ids of one session, kept so that paging never repeats or skips; and what each
person was just served or opened, so that their next session leaves it out at once.

Redis holds them when configured (every worker and machine sees every session); otherwise a table.
Cursors are signed, so a client can neither forge a position nor read another person's session.

What was served reaches `feed_impressions` a moment after the response (feed/recorder.py batches the
writes), and an open reaches `feed_events` likewise: a session opened in between, on any worker, would
serve the same notes again. So the store also remembers them as soon as they are served or opened: in
Redis a sorted set per person (note id → when), in the table a row per (person, note) whose key the
candidate statement looks up for each candidate (feed/store.py). Either is kept for SERVED_TTL, long
after the batched write has landed.

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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

import orjson

from core.errors import DomainError, ErrorCode
from core.outages import REDIS_ERRORS, Outage, redis_client
from core.sql import dialect, fetch_rows
from models import FeedSnapshot

log = logging.getLogger(__name__)

SNAPSHOT_TTL = timedelta(hours=24)
SERVED_TTL = timedelta(hours=24)  # how long a served or opened note is remembered here (see the module)
SERVED_KEEP = 2000  # at most this many remembered per person in Redis (the newest)


def served_key(user_id: int) -> str:
    """The prefix of a table row remembering a note served to `user_id`; the note id completes it (the
    candidate statement builds the same key in SQL)."""
    return f"served:{user_id}:"


class SnapshotStore(Protocol):
    async def save(
        self, session: str, user_id: int, document: dict[str, Any], served: Sequence[int] = ()
    ) -> None:
        """Keep a session, and remember `served` (the notes of it this request serves) for `user_id`."""
        ...

    async def load(self, session: str) -> dict[str, Any] | None: ...

    async def remember_served(self, user_id: int, note_ids: Sequence[int]) -> None:
        """Remember notes just served to or opened by `user_id` (0: an anonymous visitor, nothing kept)."""
        ...

    async def recently_served(self, user_id: int) -> set[int]:
        """The notes remembered for `user_id` that the candidate statement does not read itself."""
        ...


class TableSnapshots:
    """The embedded default: a row per session, and a row per (person, note) served or opened; the app's
    housekeeping deletes expired rows."""

    async def save(
        self, session: str, user_id: int, document: dict[str, Any], served: Sequence[int] = ()
    ) -> None:
        # One statement for the session and what it serves now: the first page costs no more than before.
        await self._insert([(session, user_id or None, document, SNAPSHOT_TTL)], user_id, served)

    async def load(self, session: str) -> dict[str, Any] | None:
        row = await FeedSnapshot.get_or_none(id=session)
        if row is None or row.expires_at < datetime.now(UTC):
            return None
        return dict(row.document)

    async def remember_served(self, user_id: int, note_ids: Sequence[int]) -> None:
        await self._insert([], user_id, note_ids)

    async def recently_served(self, user_id: int) -> set[int]:
        return set()  # the candidate statement looks each candidate's row up itself

    async def _insert(
        self,
        sessions: list[tuple[str, int | None, dict[str, Any], timedelta]],
        user_id: int,
        served: Sequence[int],
    ) -> None:
        now = datetime.now(UTC)
        rows = [(i, u, d, now + ttl) for i, u, d, ttl in sessions]
        if user_id:
            prefix = served_key(user_id)
            rows += [(f"{prefix}{n}", user_id, {}, now + SERVED_TTL) for n in dict.fromkeys(served)]
        if not rows:
            return
        if dialect() != "postgres":
            # Opened twice, or opened after being served: the row is kept a while longer.
            await FeedSnapshot.bulk_create(
                [FeedSnapshot(id=i, user_id=u, document=d, expires_at=t) for i, u, d, t in rows],
                on_conflict=["id"],
                update_fields=["expires_at"],
            )
            return
        # The rows as arrays: the ORM's bulk insert runs its statement once per row on PostgreSQL.
        ids, users, documents, expiries = (list(column) for column in zip(*rows, strict=True))
        await fetch_rows(
            "INSERT INTO feed_snapshots (id, user_id, document, expires_at) "
            "SELECT s.id, s.user_id, CAST(s.document AS JSONB), s.expires_at FROM unnest("
            "CAST($1 AS TEXT[]), CAST($2 AS INTEGER[]), CAST($3 AS TEXT[]), CAST($4 AS TIMESTAMPTZ[])"
            ") AS s(id, user_id, document, expires_at) "
            "ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at",
            [ids, users, [orjson.dumps(d).decode() for d in documents], expiries],
        )


class RedisSnapshots:
    """Sessions in Redis, expiring by themselves. Raises when Redis is unreachable (see
    `FallbackSnapshots`)."""

    def __init__(self, url: str) -> None:
        self._redis = redis_client(url)

    async def save(
        self, session: str, user_id: int, document: dict[str, Any], served: Sequence[int] = ()
    ) -> None:
        pipe = self._redis.pipeline(transaction=False)  # one round trip
        pipe.set(f"vermilion:feed:{session}", orjson.dumps(document), ex=SNAPSHOT_TTL)
        self._remember(pipe, user_id, served)
        await pipe.execute()

    async def load(self, session: str) -> dict[str, Any] | None:
        raw = await self._redis.get(f"vermilion:feed:{session}")
        return orjson.loads(raw) if raw else None

    async def remember_served(self, user_id: int, note_ids: Sequence[int]) -> None:
        if user_id and note_ids:
            pipe = self._redis.pipeline(transaction=False)
            self._remember(pipe, user_id, note_ids)
            await pipe.execute()

    async def recently_served(self, user_id: int) -> set[int]:
        if not user_id:
            return set()
        since = datetime.now(UTC).timestamp() - SERVED_TTL.total_seconds()
        found = await self._redis.zrangebyscore(f"vermilion:feed:served:{user_id}", since, "+inf")
        return {int(n) for n in cast(list[bytes], found)}

    @staticmethod
    def _remember(pipe: Any, user_id: int, note_ids: Sequence[int]) -> None:
        """Add the notes to the person's sorted set (scored by when), drop what is older than SERVED_TTL or
        beyond the newest SERVED_KEEP, and let the set expire SERVED_TTL after its last change."""
        if not user_id or not note_ids:
            return
        key = f"vermilion:feed:served:{user_id}"
        now = datetime.now(UTC).timestamp()
        pipe.zadd(key, {str(n): now for n in note_ids})
        pipe.zremrangebyscore(key, "-inf", now - SERVED_TTL.total_seconds())
        pipe.zremrangebyrank(key, 0, -SERVED_KEEP - 1)
        pipe.expire(key, SERVED_TTL)

    async def close(self) -> None:
        await self._redis.aclose()


class FallbackSnapshots:
    """Redis while it answers, the table while it does not; back to Redis once it answers again."""

    def __init__(self, redis: RedisSnapshots, table: TableSnapshots, *, outage: Outage | None = None) -> None:
        self.redis = redis
        self.table = table
        self.outage = outage or Outage("Redis (feed sessions)")

    async def save(
        self, session: str, user_id: int, document: dict[str, Any], served: Sequence[int] = ()
    ) -> None:
        if not self.outage.skip():
            try:
                await self.redis.save(session, user_id, document, served)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            else:
                self.outage.succeeded()
                return
        await self.table.save(session, user_id, document, served)

    async def remember_served(self, user_id: int, note_ids: Sequence[int]) -> None:
        if not self.outage.skip():
            try:
                await self.redis.remember_served(user_id, note_ids)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            else:
                self.outage.succeeded()
                return
        await self.table.remember_served(user_id, note_ids)

    async def recently_served(self, user_id: int) -> set[int]:
        """Redis's; while it is down, none here: what the table remembers, the candidate statement reads."""
        if not self.outage.skip():
            try:
                found = await self.redis.recently_served(user_id)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            else:
                self.outage.succeeded()
                return found
        return set()

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
    """Delete expired sessions and served notes from the table; how many."""
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
