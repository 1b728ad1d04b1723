"""A COMMIT whose answer is lost: settled by asking PostgreSQL what became of the transaction.

When the connection drops while a COMMIT is in flight, the client cannot tell whether the server
received it: the change may be stored although the request saw an error. PostgreSQL keeps the answer —
`txid_status(xid)` reports 'committed', 'aborted' or 'in progress' for a recent transaction, and was
made for exactly this case (PostgreSQL docs, "Transaction ID and Snapshot Information Functions"). So the
server's outermost transactions note their transaction id before they commit (one round trip, only for
a transaction that wrote something), and when the COMMIT's answer is lost they ask on a fresh
connection, for a few seconds, until the database answers:

- committed → the request goes on as if the COMMIT had answered: its response says what was stored;
- aborted → nothing was stored, and the request is refused saying so (SERVICE_UNAVAILABLE, 503);
- no answer in time (the database is still unreachable) → the lost connection's own error, worded as an
  unknown outcome (`schema.timeouts.refusal_for`).

Savepoints (nested `in_transaction()`) commit nothing on their own and are left as they are.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tortoise.backends.asyncpg.client import TransactionWrapper
from tortoise.exceptions import TransactionManagementError

from core.errors import RequestCode, RequestRefused
from core.outages import database_connection_lost, database_unreachable

log = logging.getLogger(__name__)
SETTLE_WITHIN_SECONDS = 5.0
_POLL_SECONDS = 0.2


class CommitRolledBack(RequestRefused):
    """The connection dropped during COMMIT and the database reports the transaction rolled back."""

    def __init__(self) -> None:
        super().__init__(
            RequestCode.SERVICE_UNAVAILABLE,
            "The connection to the database was lost before this change was saved; nothing was saved. "
            "Try again shortly.",
            http_status=503,
            retryAfterSeconds=1,
        )
        self.headers["Retry-After"] = "1"


class SettledTransaction(TransactionWrapper):
    """The outermost transaction of the server's PostgreSQL client (`api.dbpool`)."""

    async def commit(self) -> None:
        if not self.transaction:
            raise TransactionManagementError("Transaction is in invalid state")
        if self._finalized:
            raise TransactionManagementError("Transaction already finalised")
        # None when the transaction wrote nothing: then there is nothing to be in doubt about.
        xid = await self._connection.fetchval("SELECT txid_current_if_assigned()")
        try:
            await self.transaction.commit()
        except Exception as exc:
            if xid is None or not database_connection_lost(exc):
                raise
            status = await transaction_status(self._parent, xid)
            log.warning("connection lost during COMMIT of transaction %s; the database says %s", xid, status)
            if status == "committed":
                self._finalized = True
                return
            if status == "aborted":
                raise CommitRolledBack() from exc
            raise
        self._finalized = True


async def transaction_status(client: Any, xid: int, *, within: float = SETTLE_WITHIN_SECONDS) -> str | None:
    """'committed' or 'aborted' once the database can tell (a fresh connection from `client`'s pool);
    None when it cannot within `within` seconds (unreachable, or the transaction still in progress
    because the server has not yet noticed its connection is gone)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            async with client._pool.acquire() as connection:
                status: str | None = await connection.fetchval("SELECT txid_status($1)", xid)
            if status in ("committed", "aborted"):
                return status
        except Exception as exc:
            if not database_unreachable(exc):
                raise
        if loop.time() + _POLL_SECONDS > deadline:
            return None
        await asyncio.sleep(_POLL_SECONDS)
