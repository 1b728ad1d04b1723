"""The append-only payment ledger, and the check that orders agree with it."""

from __future__ import annotations

from uuid import UUID

from core.sql import fetch_all
from models import Order, OrderStatus, PaymentEvent, PaymentEventKind, Refund, RefundStatus

REFUND_KINDS = (PaymentEventKind.REFUND_SUCCEEDED, PaymentEventKind.EXTERNAL_REFUND)


async def record(
    order_id: UUID,
    kind: PaymentEventKind,
    *,
    amount: int,
    currency: str,
    reference: str,
    stripe_event_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Append a fact; the same (kind, reference) recorded again is ignored, so replays add nothing.

    `ON CONFLICT DO NOTHING` rather than catching the error: inside a PostgreSQL transaction a failed
    insert would abort everything else the caller did."""
    await PaymentEvent.bulk_create(
        [
            PaymentEvent(
                order_id=order_id,
                kind=kind,
                amount_minor_units=amount,
                currency=currency,
                reference=reference,
                stripe_event_id=stripe_event_id,
                detail=detail[:300] if detail else None,
            )
        ],
        ignore_conflicts=True,
    )


async def ledger_mismatches() -> list[str]:
    """Orders whose paid or refunded amounts disagree with the ledger (empty when all agree).

    Orders with a refund still in flight are skipped: their reserved amount is not yet a fact."""
    sums: dict[str, dict[str, int]] = {}
    for row in await fetch_all(
        "SELECT order_id, kind, SUM(amount_minor_units) AS total FROM payment_events GROUP BY order_id, kind"
    ):
        sums.setdefault(str(row["order_id"]), {})[str(row["kind"])] = int(row["total"])
    pending = {
        str(o) for o in await Refund.filter(status=RefundStatus.PENDING).values_list("order_id", flat=True)
    }
    problems = []
    for order in await Order.all():
        key = str(order.id)
        if key in pending:
            continue
        facts = sums.get(key, {})
        paid = facts.get(PaymentEventKind.PAYMENT_SUCCEEDED.value, 0)
        refunded = sum(facts.get(k.value, 0) for k in REFUND_KINDS)
        if order.paid_minor_units != paid:
            problems.append(f"order {key}: paid {order.paid_minor_units}, ledger {paid}")
        if order.refunded_minor_units != refunded:
            problems.append(f"order {key}: refunded {order.refunded_minor_units}, ledger {refunded}")
        if refunded > paid:
            problems.append(f"order {key}: refunded {refunded} exceeds paid {paid}")
        if order.status == OrderStatus.REFUNDED and refunded != paid:
            problems.append(f"order {key}: REFUNDED but {refunded} of {paid} refunded")
    return problems
