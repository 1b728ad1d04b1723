"""Publish/subscribe for GraphQL subscriptions: in-process, or Redis shared by every worker.

Each subscriber gets a bounded queue; when a slow subscriber's queue is full its oldest event is
dropped (clients refetch state after a gap, as they do after a reconnect). With Redis, one
connection per process listens to every channel that has local subscribers and fans events out.
Messages are published after the change has committed, and publishing is best effort: the change is
stored whatever happens to its event, so `publish` never raises — a lost event is logged, and
subscribers refetch state after a gap as they do after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from core.outages import REDIS_ERRORS, Outage, redis_client

log = logging.getLogger(__name__)
QUEUE_SIZE = 100


class Broker(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Best effort, after the change committed: never raises, and returns within about a second."""
        ...

    def subscribe(
        self, channel: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...

    async def close(self) -> None: ...


def _offer(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    if queue.full():
        queue.get_nowait()  # drop the oldest: a stalled client must not hold memory or block others
    queue.put_nowait(message)


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()


class LocalBroker:
    """Subscribers and publishers in this process only (the embedded default: one worker)."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        for queue in list(self._queues.get(channel, ())):
            _offer(queue, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    """Events cross workers and machines through Redis pub/sub."""

    def __init__(self, url: str, *, outage: Outage | None = None) -> None:
        self._redis = redis_client(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.outage = outage or Outage("Redis (events)")

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        # The change this event announces has committed: failing here would tell the client that it
        # had not (a like answered with an error, yet stored). While Redis is down, events are dropped.
        if self.outage.skip():
            log.debug("Redis down: event on %s dropped", channel)
            return
        try:
            await self._redis.publish(channel, orjson.dumps(message))
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            log.warning("event on %s lost: Redis did not take it", channel)
            return
        self.outage.succeeded()

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        async with self._lock:
            first = not self._queues[channel]
            self._queues[channel].add(queue)
            if first:
                await self._pubsub.subscribe(channel)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(), name="vermilion-redis-pubsub")
        try:
            yield _drain(queue)
        finally:
            async with self._lock:
                self._queues[channel].discard(queue)
                if not self._queues[channel]:
                    del self._queues[channel]
                    with contextlib.suppress(Exception):  # the connection may already be gone
                        await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        # Runs until close(): stopping when idle would race with a subscriber arriving at that moment.
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except Exception:  # a dropped connection: redis-py reconnects on the next call
                log.warning("redis pub/sub read failed; retrying", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = (
                message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            )
            try:
                payload = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                log.warning("ignored a malformed event on %s", channel)
                continue
            for queue in list(self._queues.get(channel, ())):
                _offer(queue, payload)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self._pubsub.aclose()
        await self._redis.aclose()


async def announce(broker: Broker, channel: str, message: dict[str, Any]) -> None:
    """Publish an event about a change that has committed. Best effort whatever the broker: a failure is
    logged, never raised, so the caller's answer says what was stored."""
    try:
        await broker.publish(channel, message)
    except Exception:
        log.exception("event on %s lost", channel)


def create_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else LocalBroker()
