"""What notes sold, for their creators, and which reviewers bought what they reviewed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from commerce.states import SOLD
from core.sql import fetch_all, placeholders
from models import RefundStatus

_SOLD_SQL = ", ".join(f"'{s.value}'" for s in SOLD)
_FAILED = RefundStatus.FAILED.value


@dataclass
class NoteSales:
    items_sold: int = 0
    orders: int = 0
    # Revenue per currency, in minor units: a note can sell products priced in different currencies.
    revenue: dict[str, int] = field(default_factory=dict)
    # What its author earned on those sales per currency: commissions less what refunds and returns took
    # back (commerce/earnings.py), pending or not.
    commission: dict[str, int] = field(default_factory=dict)


async def sales_by_note(note_ids: Sequence[int]) -> dict[int, NoteSales]:
    """Items and revenue of paid orders (not cancelled, not fully refunded) per source note; one statement."""
    found: dict[int, NoteSales] = {n: NoteSales() for n in note_ids}
    if not note_ids:
        return found
    notes = placeholders(len(note_ids))
    rows = await fetch_all(
        "SELECT l.source_note_id AS note_id, o.currency AS currency, SUM(l.quantity) AS items, "
        "SUM(l.quantity * l.unit_price_minor_units) AS revenue, COUNT(DISTINCT o.id) AS orders, "
        "COALESCE(SUM(c.earned), 0) AS commission "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id "
        # Each line's commission less its reversals (a release moves it, a payout is no line's).
        "LEFT JOIN (SELECT e.order_line_id AS line_id, SUM(e.pending + e.available) AS earned "
        "  FROM earning_entries e JOIN order_lines m ON m.id = e.order_line_id "
        f"  WHERE m.source_note_id IN ({notes}) GROUP BY e.order_line_id) c ON c.line_id = l.id "
        f"WHERE l.source_note_id IN ({notes}) AND o.status IN ({_SOLD_SQL}) "
        "GROUP BY l.source_note_id, o.currency",
        list(note_ids),
    )
    for row in rows:
        sales = found[int(row["note_id"])]
        sales.items_sold += int(row["items"])
        sales.orders += int(row["orders"])
        sales.revenue[str(row["currency"])] = int(row["revenue"])
        if int(row["commission"]):
            sales.commission[str(row["currency"])] = int(row["commission"])
    return found


async def verified_purchases(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (buyer, product) pairs are verified purchases; one statement.

    The rule: the buyer has at least one order counting as a sale (PAID, FULFILLED or PARTIALLY_REFUNDED;
    a fully REFUNDED order never counts) with a line of that product that was not refunded in full. A
    refund is an amount a merchant gives back on an order, not a line: a line counts as refunded in full
    when its merchant's refunds on that order (succeeded or pending; failed ones gave nothing back) reach
    what the buyer paid for that merchant's lines in it (their prices less their discount shares). A
    partial refund by that merchant keeps the mark, as does another merchant's refund of their own lines.
    Refunds made outside Vermilion (the Stripe dashboard) belong to no merchant: they take the mark away
    only once they refund the whole order."""
    if not pairs:
        return set()
    buyers = sorted({b for b, _ in pairs})
    products = sorted({p for _, p in pairs})
    rows = await fetch_all(
        "SELECT DISTINCT o.buyer_id AS buyer_id, l.product_id AS product_id "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id "
        f"WHERE o.buyer_id IN ({placeholders(len(buyers))}) "
        f"AND l.product_id IN ({placeholders(len(products), len(buyers) + 1)}) AND o.status IN ({_SOLD_SQL}) "
        "AND (SELECT COALESCE(SUM(r.amount_minor_units), 0) FROM refunds r "
        f"     WHERE r.order_id = o.id AND r.merchant_id = l.merchant_id AND r.status <> '{_FAILED}') "
        "  < (SELECT SUM(m.quantity * m.unit_price_minor_units - m.discount_minor_units) FROM order_lines m "
        "     WHERE m.order_id = o.id AND m.merchant_id = l.merchant_id)",
        [*buyers, *products],
    )
    return {(int(r["buyer_id"]), int(r["product_id"])) for r in rows} & set(pairs)
