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
    problems = await amount_mismatches()
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


async def _sums(sql: str) -> dict[str, dict[str, int]]:
    return {
        str(r["order_id"]): {k: int(v) for k, v in r.items() if k != "order_id"} for r in await fetch_all(sql)
    }


async def amount_mismatches() -> list[str]:
    """Orders whose amounts disagree with their parts: total = subtotal + shipping - discount; the subtotal
    is the lines at their prices; shipping is the delivery groups'; the discount is the lines' shares plus
    the groups' shipping discounts, and what the codes' redemptions took; a paid order without an
    `attention` note was paid its total; and each code's `uses` is its reserved and spent redemptions.
    Empty when all agree."""
    lines = await _sums(
        "SELECT order_id, SUM(quantity * unit_price_minor_units) AS goods, SUM(discount_minor_units) AS off "
        "FROM order_lines GROUP BY order_id"
    )
    groups = await _sums(
        "SELECT order_id, SUM(shipping_minor_units) AS shipping, SUM(shipping_discount_minor_units) AS off, "
        "SUM(discount_minor_units) AS lines_off FROM order_delivery_groups GROUP BY order_id"
    )
    codes = await _sums(
        "SELECT order_id, SUM(amount_minor_units) AS taken FROM discount_redemptions GROUP BY order_id"
    )
    # A code's `uses` counts its reserved and spent uses: exactly its RESERVED and USED redemptions.
    problems = [
        f"discount code {r['code']}: uses {r['uses']}, redemptions {r['held']}"
        for r in await fetch_all(
            "SELECT c.code, c.uses, (SELECT COUNT(*) FROM discount_redemptions d WHERE d.code_id = c.id "
            "AND d.status IN ('RESERVED', 'USED')) AS held FROM discount_codes c"
        )
        if int(r["uses"]) != int(r["held"])
    ]
    for order in await Order.all():
        key = str(order.id)
        own = lines.get(key, {"goods": 0, "off": 0})
        group = groups.get(key, {"shipping": 0, "off": 0, "lines_off": 0})
        if (
            order.total_minor_units
            != order.subtotal_minor_units + order.shipping_minor_units - order.discount_minor_units
        ):
            problems.append(
                f"order {key}: total {order.total_minor_units} is not subtotal + shipping - discount"
            )
        if order.subtotal_minor_units != own["goods"]:
            problems.append(f"order {key}: subtotal {order.subtotal_minor_units}, lines {own['goods']}")
        if order.shipping_minor_units != group["shipping"]:
            problems.append(f"order {key}: shipping {order.shipping_minor_units}, groups {group['shipping']}")
        if order.discount_minor_units != own["off"] + group["off"] or own["off"] != group["lines_off"]:
            problems.append(
                f"order {key}: discount {order.discount_minor_units}, lines {own['off']} + shipping "
                f"{group['off']} (groups' line discounts {group['lines_off']})"
            )
        if key in codes and codes[key]["taken"] != order.discount_minor_units:
            problems.append(
                f"order {key}: codes took {codes[key]['taken']}, discount {order.discount_minor_units}"
            )
        if (
            order.paid_at is not None
            and not order.attention
            and order.paid_minor_units != order.total_minor_units
        ):
            problems.append(
                f"order {key}: paid {order.paid_minor_units} of a total of {order.total_minor_units}"
            )
    return problems
