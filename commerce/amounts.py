"""What a buyer paid, for a line, for part of a line and for a merchant's part of an order: the one
arithmetic that returns refund, refunds are capped by, commissions are earned on and orders show."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from models import OrderLine
from models.fulfilment import OrderDeliveryGroup


def paid_for(*, quantity: int, unit_price: int, discount: int, units: int) -> int:
    """What `units` of a line of `quantity` at `unit_price`, with `discount` taken off the whole line, were
    paid, in minor units: units × price − ⌊discount × units / quantity⌋. Cumulative: paid(n) is the line's
    whole price less its discount, and returns of k units after r are paid(r + k) − paid(r), so the parts
    of a line returned in several returns add up to the line exactly."""
    if not 0 <= units <= quantity or quantity <= 0:
        raise ValueError(f"{units} units of a line of {quantity}")
    if not 0 <= discount <= quantity * unit_price:
        raise ValueError(f"a discount of {discount} on a line of {quantity} × {unit_price}")
    return units * unit_price - (discount * units) // quantity


def line_paid(line: OrderLine, units: int | None = None) -> int:
    """What the buyer paid for `units` of the line (all of it by default)."""
    return paid_for(
        quantity=line.quantity,
        unit_price=line.unit_price_minor_units,
        discount=line.discount_minor_units,
        units=line.quantity if units is None else units,
    )


def group_paid(*, subtotal: int, shipping: int, discount: int, shipping_discount: int) -> int:
    """What a merchant's delivery group comes to: its goods and shipping less what its code took off."""
    return subtotal + shipping - discount - shipping_discount


def merchant_parts(lines: Iterable[OrderLine], groups: Iterable[OrderDeliveryGroup]) -> dict[int, int]:
    """What the buyer paid each merchant of an order: their lines less discount shares, plus their group's
    shipping less its discount. The most a merchant may refund."""
    parts: dict[int, int] = defaultdict(int)
    for line in lines:
        parts[line.merchant_id] += line_paid(line)  # type: ignore[attr-defined]
    for group in groups:
        parts[group.merchant_id] += (  # type: ignore[attr-defined]
            group.shipping_minor_units - group.shipping_discount_minor_units
        )
    return dict(parts)
