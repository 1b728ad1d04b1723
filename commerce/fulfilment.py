"""Fulfilment per merchant: each merchant ships their own lines of an order, in one parcel or several.

A shipment holds whole lines (what was left of each to ship) and its tracking. A line's
`shipped_quantity` moves by one conditional update on the value read (`… WHERE shipped_quantity = 0`)
under the order's row lock (PostgreSQL), so two merchants, or one merchant twice at once, never ship a
line twice and always agree whether the order is complete: it becomes FULFILLED (commerce/states.py) with
the parcel that ships its last line. The buyer is told of each orderFulfill call's parcels and of each
delivery (SHIPMENT_UPDATED), and of the call that completes the order as before (ORDER_FULFILLED).

A parcel holds at most MAX_PARCEL_LINES lines and an order ships in at most MAX_PARCELS_PER_ORDER parcels:
they bound `Order.shipments` for the query-cost budget (schema/cost.py). The parcel limit never stops an
order from shipping in full: a parcel is refused (TOO_MANY) when the lines still to ship, packed
MAX_PARCEL_LINES to a parcel, would no longer fit in the parcels left (`parcels_needed`); the form that
ships all of a merchant's lines packs them that way, so it is never refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from tortoise.models import Model
from tortoise.transactions import in_transaction

from commerce.cart import MAX_CART_LINES, MAX_CART_MERCHANTS
from commerce.order_notifications import notify_fulfilled
from commerce.orders import order_for
from commerce.policy import can_view_order, is_merchant_of
from commerce.states import check_transition, move_order, move_shipment
from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.retry import retry_on_conflict
from core.validation import Checks
from models import NotificationKind, Order, OrderLine, OrderStatus, Shipment, ShipmentStatus
from social.notifications import notify

# A model with order_id and merchant_id columns (order_part).
M = TypeVar("M", bound=Model)

MAX_TRACKING_NUMBER = 100
MAX_CARRIER = 100
# Lines in one parcel: what a merchant names at once, and what the form that ships all of their lines puts
# in each parcel it sends.
MAX_PARCEL_LINES = 5
# Parcels of one order: enough for the worst order a cart can make (MAX_CART_LINES lines of
# MAX_CART_MERCHANTS shops) packed MAX_PARCEL_LINES to a parcel. A shop of l lines needs ⌈l / 5⌉ parcels,
# i.e. 1 + ⌊(l − 1) / 5⌋; over ten shops that is at most 10 + ⌊(100 − 10) / 5⌋ = 28.
MAX_PARCELS_PER_ORDER = MAX_CART_MERCHANTS + (MAX_CART_LINES - MAX_CART_MERCHANTS) // MAX_PARCEL_LINES


@dataclass(frozen=True)
class Fulfilment:
    """What orderFulfill did: the order as it is now, and the parcels it made (more than one only when all
    of the merchant's lines left were more than a parcel holds)."""

    order: Order
    shipments: list[Shipment]

    @property
    def shipment(self) -> Shipment:
        """The first parcel sent."""
        return self.shipments[0]


def shipped_lines(shipment: Shipment) -> dict[int, int]:
    """Order line id → quantity in the parcel."""
    return {int(line_id): int(quantity) for line_id, quantity in (shipment.lines or {}).items()}


async def fulfil(
    *,
    viewer_id: int,
    order_id: UUID,
    line_ids: Sequence[int] | None = None,
    tracking_number: str | None = None,
    carrier: str | None = None,
) -> Fulfilment:
    """Ship the viewer's lines `line_ids` of the order in one parcel, or (None) all of theirs not shipped
    yet, in parcels of at most MAX_PARCEL_LINES lines sharing the tracking.

    `tracking_number` None is the call without tracking (the first orderFulfill(orderId)); given, it is
    1–100 characters once trimmed. Only a merchant of the order ships, and only their own lines (FORBIDDEN
    for another's, ALREADY_SHIPPED for a line already in a parcel); a paid order only (INVALID_TRANSITION
    otherwise, FULFILLED included). TOO_MANY for more than MAX_PARCEL_LINES lines named, or a parcel after
    which the order's lines left would not fit in the parcels it has left (`_check_parcels_left`)."""
    if not await is_merchant_of(order_id, viewer_id):
        await order_for(order_id, viewer_id)  # NOT_FOUND for strangers, before FORBIDDEN for the buyer
        raise Forbidden("Only a merchant of this order can fulfil it.", "order_id")
    checks = Checks()
    tracking = ""
    if tracking_number is not None:
        tracking = checks.text("tracking_number", tracking_number, max_length=MAX_TRACKING_NUMBER) or ""
    shipper = checks.text("carrier", carrier, max_length=MAX_CARRIER, min_length=0, required=False) or ""
    wanted = _named_lines(checks, line_ids)
    checks.done()
    order = await Order.get(id=order_id)
    check_transition(order.status, OrderStatus.FULFILLED)
    return await _ship(viewer_id, order_id, wanted, tracking, shipper)


def _named_lines(checks: Checks, line_ids: Sequence[int] | None) -> list[int] | None:
    if line_ids is None:
        return None
    ids = list(line_ids)
    if not ids:
        checks.fail(
            "line_ids", ErrorCode.REQUIRED, "Name at least one line, or leave lineIds out to ship all."
        )
    elif len(ids) > MAX_PARCEL_LINES:
        checks.fail(
            "line_ids",
            ErrorCode.TOO_MANY,
            f"A parcel holds at most {MAX_PARCEL_LINES} lines: send the others in another parcel.",
        )
    else:
        for i, line_id in enumerate(ids):
            if line_id in ids[:i]:
                checks.fail(("line_ids", i), ErrorCode.INVALID, "This line is named twice.")
    return ids


@retry_on_conflict
async def _ship(
    merchant_id: int, order_id: UUID, wanted: list[int] | None, tracking: str, carrier: str
) -> Fulfilment:
    async with in_transaction():
        # The order's row lock (PostgreSQL) serialises the parcels of one order, so the last one sees every
        # other line shipped, and each sees every parcel sent before it; refunds take the same lock first.
        order = await Order.filter(id=order_id).select_for_update().get()
        check_transition(order.status, OrderStatus.FULFILLED)
        lines = {line.id: line for line in await OrderLine.filter(order_id=order_id)}
        to_ship = _lines_to_ship(merchant_id, lines, wanted)
        parcels = [to_ship[i : i + MAX_PARCEL_LINES] for i in range(0, len(to_ship), MAX_PARCEL_LINES)]
        shipping = {line.id for line in to_ship}
        await _check_parcels_left(order_id, lines.values(), shipping, len(parcels), wanted)
        for line in to_ship:
            # Conditional on what was read: a parcel racing this one for the line ships it, not both.
            if not await OrderLine.filter(id=line.id, shipped_quantity=line.shipped_quantity).update(
                shipped_quantity=line.quantity
            ):
                raise _already_shipped(
                    line, "order_id" if wanted is None else ("line_ids", wanted.index(line.id))
                )
        shipments = [
            await Shipment.create(
                order_id=order_id,
                merchant_id=merchant_id,
                lines={str(line.id): line.quantity - line.shipped_quantity for line in parcel},
                tracking_number=tracking,
                carrier=carrier,
            )
            for parcel in parcels
        ]
        # Read under the order's lock, which every parcel takes: no other line can ship meanwhile.
        complete = all(
            line.id in shipping or line.shipped_quantity >= line.quantity for line in lines.values()
        )
        if complete and await move_order(order_id, from_=order.status, to=OrderStatus.FULFILLED):
            await notify_fulfilled(order, merchant_id)
        else:
            # One message per call: the parcels of one call went out together.
            await _notify_buyer(order, merchant_id, shipments[0], ShipmentStatus.SHIPPED)
    return Fulfilment(order=await Order.get(id=order_id), shipments=shipments)


def parcels_needed(lines: Iterable[OrderLine], shipping: Collection[int] = ()) -> int:
    """The fewest parcels the order's lines not shipped yet (leaving out `shipping`) can still go in: each
    merchant's packed MAX_PARCEL_LINES to a parcel."""
    left = Counter(
        int(line.merchant_id)  # type: ignore[attr-defined]
        for line in lines
        if line.id not in shipping and line.shipped_quantity < line.quantity
    )
    return sum(-(-count // MAX_PARCEL_LINES) for count in left.values())


async def _check_parcels_left(
    order_id: UUID,
    lines: Iterable[OrderLine],
    shipping: Collection[int],
    parcels: int,
    wanted: list[int] | None,
) -> None:
    """TOO_MANY when, after these parcels, the lines still to ship would not fit in the parcels left.

    Every order a cart can make starts within MAX_PARCELS_PER_ORDER (see there), and no parcel that passes
    breaks that, so every order can always ship in full; packing a merchant's lines MAX_PARCEL_LINES to a
    parcel (the form that ships all of them) never needs more than it frees, so it always passes."""
    sent = await Shipment.filter(order_id=order_id).count()
    after = parcels_needed(lines, shipping)
    if sent + parcels + after <= MAX_PARCELS_PER_ORDER:
        return
    left = max(MAX_PARCELS_PER_ORDER - sent - parcels, 0)
    raise DomainError(
        ErrorCode.TOO_MANY,
        f"An order ships in at most {MAX_PARCELS_PER_ORDER} parcels and {sent} have been sent: after this "
        f"one the lines not shipped yet would need {after} of the {left} left. Put more of your lines in "
        f"this parcel (up to {MAX_PARCEL_LINES}).",
        "order_id" if wanted is None else "line_ids",
    )


def _lines_to_ship(
    merchant_id: int, lines: dict[int, OrderLine], wanted: list[int] | None
) -> list[OrderLine]:
    """The merchant's lines to put in the parcel; every line named at fault refused together."""
    if wanted is None:
        own = [
            line
            for line in sorted(lines.values(), key=lambda line: line.id)
            if line.merchant_id == merchant_id and line.shipped_quantity < line.quantity  # type: ignore[attr-defined]
        ]
        if not own:
            raise DomainError(
                ErrorCode.ALREADY_SHIPPED, "All your lines of this order have shipped.", "order_id"
            )
        return own
    checks = Checks()
    chosen: list[OrderLine] = []
    for i, line_id in enumerate(wanted):
        line = lines.get(line_id)
        if line is None:
            checks.fail(("line_ids", i), ErrorCode.NOT_FOUND, "This order has no such line.")
        elif line.merchant_id != merchant_id:  # type: ignore[attr-defined]
            checks.fail(("line_ids", i), ErrorCode.FORBIDDEN, "This line is another merchant's to ship.")
        elif line.shipped_quantity >= line.quantity:
            checks.errors.append(_already_shipped(line, ("line_ids", i)))
        else:
            chosen.append(line)
    checks.done()
    return chosen


def _already_shipped(line: OrderLine, field: Any) -> DomainError:
    return DomainError(
        ErrorCode.ALREADY_SHIPPED, f"{line.product_title} ({line.variant_name}) has already shipped.", field
    )


async def mark_delivered(*, viewer_id: int, shipment_id: int, now: datetime | None = None) -> Shipment:
    """The merchant who sent the parcel says it arrived; saying it again changes nothing."""
    shipment = await _own_shipment(viewer_id, shipment_id)
    if shipment.status == ShipmentStatus.DELIVERED:
        return shipment
    async with in_transaction():
        moved = await move_shipment(
            shipment.id,
            from_=ShipmentStatus.SHIPPED,
            to=ShipmentStatus.DELIVERED,
            delivered_at=now or datetime.now(UTC),
        )
        if moved:
            order = await Order.get(id=shipment.order_id)  # type: ignore[attr-defined]
            await _notify_buyer(order, viewer_id, shipment, ShipmentStatus.DELIVERED)
    return await Shipment.get(id=shipment.id)


async def _own_shipment(viewer_id: int, shipment_id: int) -> Shipment:
    """The viewer's parcel: NOT_FOUND for a parcel of an order they may not see, FORBIDDEN for another
    merchant's (or the buyer)."""
    shipment = await Shipment.get_or_none(id=shipment_id)
    if shipment is None:
        raise NotFound("Shipment", "shipment_id")
    if shipment.merchant_id != viewer_id:  # type: ignore[attr-defined]
        order = await Order.get(id=shipment.order_id)  # type: ignore[attr-defined]
        if not await can_view_order(order, viewer_id):
            raise NotFound("Shipment", "shipment_id")
        raise Forbidden("Only the merchant who sent this parcel can mark it delivered.", "shipment_id")
    return shipment


async def _notify_buyer(order: Order, merchant_id: int, shipment: Shipment, step: ShipmentStatus) -> None:
    """One entry per parcel and step (shipped, delivered), the merchant as its person."""
    buyer_id: int | None = order.buyer_id  # type: ignore[attr-defined]
    if buyer_id is None:
        return
    await notify(
        recipient_id=buyer_id,
        actor_id=merchant_id,
        kind=NotificationKind.SHIPMENT_UPDATED,
        order_id=order.id,
        detail=f"shipment:{shipment.id}:{step.value}",
    )


def seller_scope(order: Order, viewer_id: int | None, *, merchant: bool) -> int | None:
    """Whose part of the order a viewer sees: None for the buyer (all of it), else the merchant's own id.
    `merchant`: the viewer sells something in the order (asked only for a guest order, whose id is the
    buyer's capability)."""
    buyer_id = order.buyer_id  # type: ignore[attr-defined]
    if viewer_id is None or buyer_id == viewer_id or (buyer_id is None and not merchant):
        return None
    return viewer_id


async def viewer_scope(order: Order, viewer_id: int | None) -> int | None:
    """`seller_scope`, asking whether the viewer sells in the order only when it matters."""
    buyer_id = order.buyer_id  # type: ignore[attr-defined]
    merchant = buyer_id is None and viewer_id is not None and await is_merchant_of(order.id, viewer_id)
    return seller_scope(order, viewer_id, merchant=merchant)


async def order_part(model: type[M], order_id: UUID, merchant_id: int | None = None) -> list[M]:
    """An order's rows of `model` (lines, delivery groups, parcels, returns), oldest first: all of them,
    or only `merchant_id`'s when given (`viewer_scope`: a merchant sees their own part)."""
    query = model.filter(order_id=order_id)
    if merchant_id is not None:
        query = query.filter(merchant_id=merchant_id)
    return list(await query.order_by("id"))


async def order_shipments(order_id: UUID, merchant_id: int | None = None) -> list[Shipment]:
    """The order's parcels, oldest first (only `merchant_id`'s when given)."""
    return await order_part(Shipment, order_id, merchant_id)


async def shipment_state(order_id: UUID) -> list[tuple[int, str]]:
    """(id, status) of each parcel of the order: what `orderStatus` compares to tell a change."""
    rows = await Shipment.filter(order_id=order_id).order_by("id").values_list("id", "status")
    return [(int(i), str(s)) for i, s in rows]
