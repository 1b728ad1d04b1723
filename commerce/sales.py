"""What notes sold, for their creators, and which reviewers bought what they reviewed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from commerce.states import SOLD
from core.sql import fetch_all, placeholders

_SOLD_SQL = ", ".join(f"'{s.value}'" for s in SOLD)


@dataclass
class NoteSales:
    items_sold: int = 0
    orders: int = 0
    # Revenue per currency, in minor units: a note can sell products priced in different currencies.
    revenue: dict[str, int] = field(default_factory=dict)


async def sales_by_note(note_ids: Sequence[int]) -> dict[int, NoteSales]:
    """Items and revenue of paid orders (not cancelled, not fully refunded) per source note; one statement."""
    found: dict[int, NoteSales] = {n: NoteSales() for n in note_ids}
    if not note_ids:
        return found
    rows = await fetch_all(
        "SELECT l.source_note_id AS note_id, o.currency AS currency, SUM(l.quantity) AS items, "
        "SUM(l.quantity * l.unit_price_minor_units) AS revenue, COUNT(DISTINCT o.id) AS orders "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id "
        f"WHERE l.source_note_id IN ({placeholders(len(note_ids))}) AND o.status IN ({_SOLD_SQL}) "
        "GROUP BY l.source_note_id, o.currency",
        list(note_ids),
    )
    for row in rows:
        sales = found[int(row["note_id"])]
        sales.items_sold += int(row["items"])
        sales.orders += int(row["orders"])
        sales.revenue[str(row["currency"])] = int(row["revenue"])
    return found


async def verified_purchases(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (buyer, product) pairs have a paid order containing that product; one statement."""
    if not pairs:
        return set()
    buyers = sorted({b for b, _ in pairs})
    products = sorted({p for _, p in pairs})
    rows = await fetch_all(
        "SELECT DISTINCT o.buyer_id AS buyer_id, l.product_id AS product_id "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id "
        f"WHERE o.buyer_id IN ({placeholders(len(buyers))}) "
        f"AND l.product_id IN ({placeholders(len(products), len(buyers) + 1)}) AND o.status IN ({_SOLD_SQL})",
        [*buyers, *products],
    )
    return {(int(r["buyer_id"]), int(r["product_id"])) for r in rows} & set(pairs)
