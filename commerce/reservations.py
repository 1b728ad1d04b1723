"""The reservation sweeper: unpaid orders whose reservation expired give their stock back.

The PaymentIntent is cancelled at Stripe first, so it can no longer succeed; only then is the order
cancelled. An intent that succeeded in the meantime settles the order as paid instead, and one still
processing is left for the next sweep. Safe to run on every worker at once: each step is conditional.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from commerce.orders import cancel_pending, latest_attempt, settle, stop_payment
from commerce.payments import IntentStatus, PaymentProviderError, Payments
from models import AttemptStatus, Order, OrderStatus

log = logging.getLogger(__name__)
BATCH = 100


@dataclass
class SweepReport:
    expired: int = 0  # cancelled, stock given back
    paid: int = 0  # the payment had succeeded: settled instead
    skipped: int = 0  # payment in flight or Stripe unreachable: next time

    @property
    def changed(self) -> int:
        return self.expired + self.paid


async def sweep_expired(payments: Payments | None, *, now: datetime | None = None) -> SweepReport:
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
            if not await _sweep_one(payments, order.id, report):
                passed_over.append(order.id)
        if len(orders) < BATCH:
            break
    if report.changed or report.skipped:
        log.info("reservation sweep: %s", report)
    return report


async def _sweep_one(payments: Payments | None, order_id: UUID, report: SweepReport) -> bool:
    """False when the order was left for a later sweep."""
    attempt = await latest_attempt(order_id)
    if attempt is not None and attempt.status == AttemptStatus.CREATING:
        report.skipped += 1  # a request is creating its PaymentIntent right now
        return False
    try:
        intent = await stop_payment(payments, order_id)
    except PaymentProviderError:
        report.skipped += 1
        return False
    if intent is not None and intent.status == IntentStatus.SUCCEEDED:
        await settle(intent)
        report.paid += 1
    elif intent is not None and intent.status != IntentStatus.CANCELED:
        report.skipped += 1  # processing: the outcome is not known yet
        return False
    elif await cancel_pending(order_id, "RESERVATION_EXPIRED"):
        report.expired += 1
    return True
