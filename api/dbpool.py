"""The server's PostgreSQL client: Tortoise's asyncpg client whose pool gives up waiting.

Tortoise takes a connection with `pool.acquire()` and no timeout, both for single statements and for
transactions, so when every connection is held (say, by writes queued on one row lock) each further
request waits in line for as long as that lasts. Here the pool's acquire has a bound: past it the
request is refused with SERVICE_UNAVAILABLE (HTTP 503, Retry-After) and its worker is free again.
`api.db.tortoise_config` names this module as the engine when it is given connection limits.

Two things asyncpg does on every use of a pooled connection cost the server a large share of a small
query's time (bench/results/overhead.md), and are skipped here:
- an acquire with a timeout runs under `asyncio.wait_for`, a task of its own per statement: a free
  connection is taken without one, and only a wait for a busy pool is bounded (`asyncio.timeout`);
- a release sends a reset statement (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`), a
  round trip per statement: the server's connections keep no session state — no session advisory lock,
  cursor, LISTEN or SET (timeouts are connection settings, given when it opens) — so `ServerConnection`
  sends none. An open transaction is still rolled back on release.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import TransactionContext, TransactionContextPooled

from api.commits import SettledTransaction
from core.errors import RequestCode, RequestRefused

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 1


class DatabaseBusy(RequestRefused):
    """No database connection became free within the pool timeout."""

    def __init__(self) -> None:
        super().__init__(
            RequestCode.SERVICE_UNAVAILABLE,
            "The service is busy; try again shortly.",
            http_status=503,
            retryAfterSeconds=RETRY_AFTER_SECONDS,
        )
        self.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)


class DatabaseUnavailable(RequestRefused):
    """The database server could not be reached (it is down or restarting)."""

    def __init__(self) -> None:
        super().__init__(
            RequestCode.SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable; try again shortly.",
            http_status=503,
            retryAfterSeconds=RETRY_AFTER_SECONDS,
        )
        self.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)


# What opening a connection raises when the server is down, restarting or refusing connections.
_UNREACHABLE = (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


class ServerConnection(asyncpg.Connection):  # type: ignore[misc]
    """A connection of the server's pool: released without a reset statement (see the module's note)."""

    def get_reset_query(self) -> str:
        return ""


class BoundedPool(asyncpg.Pool):
    """An asyncpg pool whose `acquire()` waits at most `acquire_timeout` seconds by default."""

    __slots__ = ("_acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 (asyncpg's signature)
        # Every acquire goes through here: `await pool.acquire()` and `async with pool.acquire()`.
        try:
            if timeout is not None:
                return await super()._acquire(timeout)  # type: ignore[misc]
            if self._queue is not None and not self._queue.empty():  # a free connection: no wait
                return await super()._acquire(None)  # type: ignore[misc]
            async with asyncio.timeout(self._acquire_timeout):
                return await super()._acquire(None)  # type: ignore[misc]
        except TimeoutError as exc:
            log.warning("no database connection free within %.1f s; request refused", self._acquire_timeout)
            raise DatabaseBusy() from exc
        except _UNREACHABLE as exc:  # a pooled connection is re-opened on acquire
            log.warning("database unreachable: %s", exc)
            raise DatabaseUnavailable() from exc


class BoundedAsyncpgClient(AsyncpgDBClient):
    """Tortoise's asyncpg client with a `BoundedPool` (`acquire_timeout` in the connection's credentials),
    whose transactions settle a COMMIT whose answer is lost (`api.commits`)."""

    connection_class = ServerConnection

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(SettledTransaction(self), self._pool_init_lock)

    async def create_connection(self, with_db: bool) -> None:
        # Tortoise opens the pool on first use; while the server is down every request says so plainly.
        try:
            await super().create_connection(with_db)
        except (*_UNREACHABLE, TimeoutError) as exc:
            log.warning("database unreachable: %s", exc)
            raise DatabaseUnavailable() from exc

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        kwargs.setdefault("max_queries", 50_000)  # asyncpg.create_pool's defaults
        kwargs.setdefault("max_inactive_connection_lifetime", 300.0)
        kwargs.setdefault("record_class", asyncpg.Record)
        return await BoundedPool(None, acquire_timeout=self.acquire_timeout, **kwargs)


client_class = BoundedAsyncpgClient
