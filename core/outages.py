"""Optional dependencies that may be down: Redis clients that fail fast, and a memory of the outage.

Redis carries what Vermilion can do without for a while (live events, feed sessions), so a call to it
must fail in about a second rather than after redis-py's defaults (5 s socket timeouts, 3 retries with
backoff), and after one failure the next calls skip it for a few seconds instead of each paying that
second. Then one call tries again: when Redis is back, everything returns to it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg
from redis.exceptions import RedisError

from core.errors import RequestCode, RequestRefused

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)
REDIS_TIMEOUT_SECONDS = 1.0
RETRY_AFTER_SECONDS = 5.0
# What a Redis call raises when Redis is unreachable, restarting or not answering.
REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


def redis_client(url: str, *, timeout: float = REDIS_TIMEOUT_SECONDS) -> Redis:
    """A Redis client whose commands fail within about `timeout` seconds when Redis is down; one retry
    on a fresh connection (a pooled connection dies when Redis restarts)."""
    import redis.asyncio as redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
    )


class Outage:
    """Whether a dependency is taken to be down: after a failure, `skip()` is True for `retry_after`
    seconds; the first success after that ends the outage."""

    def __init__(
        self,
        name: str,
        *,
        retry_after: float = RETRY_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.retry_after = retry_after
        self._clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def skip(self) -> bool:
        """True while calls should not even try (the last failure is recent)."""
        return self.down and self._clock() < self._retry_at

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            log.warning("%s unreachable (%s: %s); carrying on without it", self.name, type(exc).__name__, exc)
            self._down_since = self._clock()
        self._retry_at = self._clock() + self.retry_after

    def succeeded(self) -> None:
        if self._down_since is not None:
            log.warning("%s is back after %.0f s", self.name, self._clock() - self._down_since)
            self._down_since = None


def database_connection_lost(exc: BaseException | None) -> bool:
    """True when the exception, or one it was raised from, means the connection to PostgreSQL went away
    while in use (the server stopped, restarted or the network dropped it): nothing the request did wrong,
    and whether a COMMIT in flight took effect cannot be known from this side."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, asyncpg.ConnectionDoesNotExistError | ConnectionError):
            return True
        if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def database_unreachable(exc: BaseException) -> bool:
    """`database_connection_lost`, or the pool's refusal to hand out a connection (the database is down
    or every connection is busy: `api.dbpool`)."""
    if isinstance(exc, RequestRefused) and exc.code is RequestCode.SERVICE_UNAVAILABLE:
        return True
    return database_connection_lost(exc)
