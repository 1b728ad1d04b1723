"""The email outbox: a message is a row written in the transaction that decides to send it, so it leaves
if and only if that transaction commits; a background sender delivers it afterwards, with retries.

Delivery is at least once: a worker that dies between the SMTP server's "250 OK" and marking the row sent
sends the message again after the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from core.mail import Email, Mailer
from models import OutboxEmail

log = logging.getLogger("vermilion.mail")

MAX_ATTEMPTS = 8
# A claimed message is not tried by anyone else for this long (longer than one SMTP conversation may take).
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
BATCH = 20
POLL_SECONDS = 10.0

# Wake-up calls of the senders running in this process (set by `notify_outbox` after a commit).
_wakers: set[asyncio.Event] = set()


async def enqueue_email(message: Email, *, connection: BaseDBAsyncClient | None = None) -> OutboxEmail:
    """Queue `message`; pass the caller's transaction as `connection` so it leaves only if that commits."""
    return await OutboxEmail.create(
        to_address=message.to,
        subject=message.subject,
        body=message.body,
        next_attempt_at=datetime.now(UTC),
        using_db=connection,
    )


def notify_outbox() -> None:
    """Tell this process's senders that a message is waiting (call after the commit): it leaves now rather
    than at the next poll. Harmless when no sender runs here."""
    for wake in list(_wakers):
        wake.set()


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LAST_RETRY)


async def deliver_due(mailer: Mailer, *, limit: int = BATCH, now: datetime | None = None) -> int:
    """Send up to `limit` messages that are due; returns how many were sent. Each is claimed first by a
    conditional update (its attempt count is the version), so concurrent senders never send one twice."""
    now = now or datetime.now(UTC)
    due = (
        await OutboxEmail.filter(sent_at=None, failed_at=None, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(limit)
    )
    sent = 0
    for row in due:
        claimed = await OutboxEmail.filter(
            id=row.id, attempts=row.attempts, sent_at=None, failed_at=None
        ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
        if not claimed:
            continue  # another sender has it
        attempts = row.attempts + 1
        try:
            await mailer.send(Email(to=row.to_address, subject=row.subject, body=row.body))
        except Exception as exc:  # any failure of the door: retried later, never lost
            error = f"{type(exc).__name__}: {exc}"[:500]
            if attempts >= MAX_ATTEMPTS:
                log.error(
                    "email %s to %s failed %d times, giving up: %s", row.id, row.to_address, attempts, error
                )
                await OutboxEmail.filter(id=row.id).update(failed_at=now, last_error=error)
            else:
                log.warning(
                    "email %s to %s failed (attempt %d), will retry: %s",
                    row.id,
                    row.to_address,
                    attempts,
                    error,
                )
                await OutboxEmail.filter(id=row.id).update(
                    next_attempt_at=now + retry_delay(attempts), last_error=error
                )
            continue
        await OutboxEmail.filter(id=row.id).update(sent_at=datetime.now(UTC), last_error="")
        sent += 1
    return sent


async def run_sender(mailer: Mailer, *, poll_seconds: float = POLL_SECONDS) -> None:
    """Deliver due messages forever: right after `notify_outbox`, and every `poll_seconds` (retries, and
    messages queued by other workers)."""
    wake = asyncio.Event()
    _wakers.add(wake)
    try:
        while True:
            wake.clear()
            try:
                if await deliver_due(mailer) == BATCH:
                    continue  # more may be waiting
            except Exception:
                log.exception("the email sender failed; trying again at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll_seconds)
    finally:
        _wakers.discard(wake)


@asynccontextmanager
async def sending(mailer: Mailer | None, *, poll_seconds: float = POLL_SECONDS) -> AsyncIterator[None]:
    """Run the sender for the duration of the block (not at all without a mailer)."""
    if mailer is None:
        yield
        return
    task = asyncio.create_task(run_sender(mailer, poll_seconds=poll_seconds), name="vermilion-mail-sender")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
