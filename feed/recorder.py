"""Impressions and opens, written in batches after the response so the feed request never waits.

The feed serves a page and hands the ids here; a flush a moment later writes every buffered signal in
a few statements (one insert per table and one counter update per distinct increment). A crash loses
at most that moment's impressions: they only feed quality estimates and the "already served" filter,
and a feed session's own snapshot never repeats a note either way. Until the batch lands, the session
store remembers what was served and opened (feed/snapshots.py), so a new session leaves it out at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.sql import dialect, fetch_rows
from models import FeedEvent, FeedEventKind, FeedImpression, Note, NoteTopic, Topic

log = logging.getLogger(__name__)
FLUSH_DELAY_SECONDS = 0.25


class SignalRecorder:
    def __init__(self, *, context: Callable[[], contextvars.Context] = contextvars.copy_context) -> None:
        # `context` gives the flush task its context: the app passes one without the request's SQL counter.
        self._context = context
        self._impressions: list[tuple[int, int, datetime]] = []
        self._opens: list[tuple[int | None, int, datetime]] = []
        self._task: asyncio.Task[None] | None = None
        self._waiting = False  # the task is still sleeping: nothing written yet, safe to cancel

    def impressions(self, user_id: int | None, note_ids: list[int]) -> None:
        if user_id is None or not note_ids:
            return  # anonymous visitors: their session snapshot is their only memory
        now = datetime.now(UTC)
        self._impressions.extend((user_id, n, now) for n in note_ids)
        self._schedule()

    def open(self, user_id: int | None, note_id: int) -> None:
        self._opens.append((user_id, note_id, datetime.now(UTC)))
        self._schedule()

    def _schedule(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_later(), context=self._context())

    async def _flush_later(self) -> None:
        self._waiting = True
        try:
            await asyncio.sleep(FLUSH_DELAY_SECONDS)
        except asyncio.CancelledError:
            return  # drain() writes the batch instead
        finally:
            self._waiting = False
        try:
            await self.flush()
        except Exception:
            log.exception("could not record feed signals")

    async def drain(self) -> None:
        """Write everything buffered now (tests, shutdown): without waiting out the delay, but after a
        write already under way."""
        task = self._task
        if task is not None and not task.done():
            if self._waiting:
                task.cancel()
            await task
        await self.flush()

    async def flush(self) -> None:
        impressions, self._impressions = self._impressions, []
        opens, self._opens = self._opens, []
        if not impressions and not opens:
            return
        async with in_transaction() as connection:
            if impressions:
                await _insert_impressions(impressions, connection)
                await _add_counts(Note, "impression_count", Counter(n for _, n, _ in impressions))
            if opens:
                await FeedEvent.bulk_create(
                    [
                        FeedEvent(user_id=u, note_id=n, kind=FeedEventKind.OPEN, created_at=t)
                        for u, n, t in opens
                        if u is not None
                    ]
                )
                viewed = Counter(n for _, n, _ in opens)
                await _add_counts(Note, "view_count", viewed)
                topic_views: Counter[int] = Counter()
                for note_id, topic_id in await NoteTopic.filter(note_id__in=list(viewed)).values_list(
                    "note_id", "topic_id"
                ):
                    topic_views[int(topic_id)] += viewed[int(note_id)]
                await _add_counts(Topic, "view_count", topic_views)


async def _insert_impressions(
    impressions: list[tuple[int, int, datetime]], connection: BaseDBAsyncClient
) -> None:
    """One statement for the whole batch. On PostgreSQL the rows go as three arrays: the ORM's bulk
    insert runs the statement once per row (20 per feed page), a third of the writes' database time."""
    if dialect(connection) != "postgres":
        await FeedImpression.bulk_create(
            [FeedImpression(user_id=u, note_id=n, served_at=t) for u, n, t in impressions],
            using_db=connection,
        )
        return
    users, notes, times = (list(column) for column in zip(*impressions, strict=True))
    await fetch_rows(
        "INSERT INTO feed_impressions (user_id, note_id, served_at) SELECT * FROM unnest("
        "CAST($1 AS INTEGER[]), CAST($2 AS INTEGER[]), CAST($3 AS TIMESTAMPTZ[]))",
        [users, notes, times],
        connection,
    )


async def _add_counts(model: type[Note] | type[Topic], column: str, counts: Counter[int]) -> None:
    """One UPDATE per distinct increment (usually one or two), in id order."""
    by_amount: dict[int, list[int]] = {}
    for key, amount in sorted(counts.items()):
        by_amount.setdefault(amount, []).append(key)
    for amount, keys in sorted(by_amount.items()):
        await model.filter(id__in=keys).update(**{column: F(column) + amount})
