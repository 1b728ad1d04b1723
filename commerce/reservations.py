"""The reservation sweeper: unpaid orders whose reservation expired give their stock back.

The PaymentIntent is cancelled at Stripe first, so it can no longer succeed; only then is the order
cancelled. An intent that succeeded in the meantime settles the order as paid instead, and one still
processing is left for the next sweep. Safe to run on every worker at once: each step is conditional.

Two states would otherwise hold stock forever, so the sweeper resolves them:
- an attempt left in CREATING by a request that died (its claim older than `CLAIM_TIMEOUT`): the
  sweeper takes the claim over and asks Stripe for the intent under the attempt's idempotency key — the
  one the dead request may have made, or a new one nobody can pay — records it, and cancels it as usual;
- an order whose payment cannot be settled because Stripe cannot be reached or no longer knows its
  PaymentIntent: it is retried on every sweep until `give_up_after` past its reservation, then its stock
  is released, the order cancelled and flagged in `Order.attention`. Should that payment succeed after
  all, settlement takes the stock again or marks the order SHORT for a refund (commerce/orders.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from commerce import inventory
from commerce.checkout import CLAIM_TIMEOUT, create_attempt_intent
from commerce.orders import cancel_pending, latest_attempt, settle, stop_payment
from commerce.payments import IntentStatus, PaymentProviderError, Payments
from commerce.states import move_attempt, move_order
from models import AttemptStatus, Order, OrderStatus, PaymentAttempt

log = logging.getLogger(__name__)
BATCH = 100
# How long past its reservation an order whose payment cannot be settled is retried (about 60 sweeps
# at the default interval) before its stock is released anyway.
GIVE_UP_AFTER = timedelta(hours=1)
ATTENTION_LIMIT = 300  # Order.attention's column


@dataclass
class SweepReport:
    expired: int = 0  # cancelled, stock given back
    paid: int = 0  # the payment had succeeded: settled instead
    skipped: int = 0  # payment in flight or Stripe unreachable: next time
    flagged: int = 0  # retried until the bound, then cancelled and flagged for attention

    @property
    def changed(self) -> int:
        return self.expired + self.paid + self.flagged


async def sweep_expired(
    payments: Payments | None, *, now: datetime | None = None, give_up_after: timedelta = GIVE_UP_AFTER
) -> SweepReport:
    """Settle every unpaid order whose reservation ended before `now`, in batches."""
    report = SweepReport()
    cutoff = now or datetime.now(UTC)
    passed_over: list[object] = []  # skipped this sweep: not fetched again
    while True:
        orders = (
            await Order.filter(status=OrderStatus.PENDING_PAYMENT, reserved_until__lt=cutoff)
            .exclude(id__in=passed_over)
            .order_by("reserved_until")
            .limit(BATCH)
        )
        for order in orders:
            give_up = order.reserved_until < cutoff - give_up_after
            if not await _sweep_one(payments, order, report, give_up=give_up):
                passed_over.append(order.id)
        if len(orders) < BATCH:
            break
    if report.changed or report.skipped:
        log.info("reservation sweep: %s", report)
    return report


async def _sweep_one(payments: Payments | None, order: Order, report: SweepReport, *, give_up: bool) -> bool:
    """False when the order was left for a later sweep."""
    attempt = await latest_attempt(order.id)
    try:
        if attempt is not None and attempt.status == AttemptStatus.CREATING:
            if attempt.claimed_at > datetime.now(UTC) - CLAIM_TIMEOUT:
                report.skipped += 1  # a request is creating its PaymentIntent right now
                return False
            await _take_over_creation(payments, order, attempt)
        intent = await stop_payment(payments, order.id)
    except PaymentProviderError as exc:
        if not give_up:
            report.skipped += 1
            return False
        return await _release_unsettled(order, attempt, exc, report)
    if intent is not None and intent.status == IntentStatus.SUCCEEDED:
        await settle(intent)
        report.paid += 1
    elif intent is not None and intent.status != IntentStatus.CANCELED:
        report.skipped += 1  # processing: the outcome is not known yet
        return False
    elif await cancel_pending(order.id, "RESERVATION_EXPIRED"):
        report.expired += 1
    return True


async def _take_over_creation(payments: Payments | None, order: Order, attempt: PaymentAttempt) -> None:
    """Finish the creation a dead request left in CREATING, so that `stop_payment` can cancel its intent.

    Stripe answers a create with the same idempotency key with the intent it made before, if the dead
    request got that far; otherwise a fresh intent, whose client secret no one ever received."""
    claimed_at = datetime.now(UTC)
    if not await move_attempt(
        attempt.id,
        from_=AttemptStatus.CREATING,
        to=AttemptStatus.CREATING,
        claim_of=attempt.claimed_at,
        claimed_at=claimed_at,
    ):
        return  # the claim moved on meanwhile: whoever holds it now finishes it
    if payments is None:  # payments switched off since: no intent can exist to be paid
        await move_attempt(attempt.id, from_=AttemptStatus.CREATING, to=AttemptStatus.FAILED)
        return
    log.warning("order %s: payment attempt %s was left in CREATING; taking it over", order.id, attempt.id)
    await create_attempt_intent(payments, order, attempt, claim_of=claimed_at)


async def _release_unsettled(
    order: Order, attempt: PaymentAttempt | None, error: PaymentProviderError, report: SweepReport
) -> bool:
    """Past the bound: give the stock back and leave the order CANCELLED with a note for the merchant."""
    intent_id = attempt.payment_intent_id if attempt is not None else None
    note = (
        f"Reservation released unpaid: the payment could not be checked at Stripe ({error.message}). "
        f"Check PaymentIntent {intent_id or '(none recorded)'} before shipping."
    )[:ATTENTION_LIMIT]
    async with in_transaction():
        if not await move_order(
            order.id,
            from_=OrderStatus.PENDING_PAYMENT,
            to=OrderStatus.CANCELLED,
            cancel_reason="RESERVATION_EXPIRED",
            attention=note,
        ):
            return True  # settled or cancelled meanwhile
        await inventory.release_order(order.id)
        if attempt is not None and attempt.status == AttemptStatus.CREATING:
            await move_attempt(attempt.id, from_=AttemptStatus.CREATING, to=AttemptStatus.FAILED)
    log.warning("order %s: stock released after %s; flagged for attention", order.id, error.message)
    report.flagged += 1
    return True
