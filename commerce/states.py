"""Every state an order, its stock, its payment attempts, its refunds, shipments and returns can be in, and
the moves between.

The tables below are the only moves Vermilion makes. The `move_*` helpers perform one as a single
conditional UPDATE on the state it expects (`… SET stock_state = 'RELEASED' WHERE stock_state =
'RESERVED'`): of requests racing for the same move exactly one performs it, and only the one told True
may do what follows (give the stock back, record the payment). A move missing from its table is a
programming error and raises `IllegalMove` before the database is touched.

How many items are left on the shelf, and why that can never go below zero, is commerce/inventory.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from commerce.errors import InvalidTransition
from models import (
    AttemptStatus,
    Order,
    OrderStatus,
    PaymentAttempt,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    ShipmentStatus,
    StockState,
)

S = OrderStatus
# The transitions people may ask for. CANCELLED → PAID is not here: only a payment that succeeded
# after its order was cancelled takes it (see `settle_paid`), because money taken must never be lost.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.FULFILLED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.FULFILLED, S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.FULFILLED: frozenset({S.REFUNDED, S.PARTIALLY_REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}
# Moves only a succeeded payment makes (a reservation that expired while the shopper paid).
PAYMENT_ONLY_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {S.CANCELLED: frozenset({S.PAID})}
ORDER_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    status: targets | PAYMENT_ONLY_TRANSITIONS.get(status, frozenset())
    for status, targets in TRANSITIONS.items()
}
# Orders that money can still be refunded from: those that may still become REFUNDED.
REFUNDABLE = tuple(status for status, targets in TRANSITIONS.items() if S.REFUNDED in targets)
# Orders that count as sales (for creators' figures and verified reviews).
SOLD = (S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED)

# An order's stock: taken at checkout (RESERVED), given back until the shopper tries again (RELEASED),
# or turned into a sale. A payment that succeeds after the release takes the stock again (SOLD) or,
# when it is gone, leaves the order paid without it (SHORT) for the merchant to refund or restock.
STOCK_TRANSITIONS: dict[StockState, frozenset[StockState]] = {
    StockState.RESERVED: frozenset({StockState.RELEASED, StockState.SOLD}),
    StockState.RELEASED: frozenset({StockState.RESERVED, StockState.SOLD, StockState.SHORT}),
    StockState.SOLD: frozenset(),
    StockState.SHORT: frozenset(),
}

A = AttemptStatus
# One PaymentIntent per attempt. CREATING → CREATING is a claim taken over from a request that went
# silent; a FAILED creation may be claimed again; a CREATED intent that was declined is REPLACED by a
# new attempt (the old intent cancelled first, so it can never also succeed).
ATTEMPT_TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    A.CREATING: frozenset({A.CREATED, A.FAILED, A.CREATING}),
    A.FAILED: frozenset({A.CREATING}),
    A.CREATED: frozenset({A.REPLACED}),
    A.REPLACED: frozenset(),
}

# A refund is PENDING from the moment its amount is set aside until Stripe answers.
REFUND_TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}

# A parcel is SHIPPED when a merchant fulfils lines with it, then DELIVERED (commerce/fulfilment.py).
SHIPMENT_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    ShipmentStatus.SHIPPED: frozenset({ShipmentStatus.DELIVERED}),
    ShipmentStatus.DELIVERED: frozenset(),
}

R = ReturnStatus
# A return (commerce/returns.py): the buyer asks, the merchant approves or rejects it, receives the goods,
# and the refund of what they were paid makes it REFUNDED.
RETURN_TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    R.REQUESTED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.REFUNDED}),
    R.REJECTED: frozenset(),
    R.REFUNDED: frozenset(),
}

_State = TypeVar("_State", bound=StrEnum)


class IllegalMove(Exception):
    """Code asked for a move its table does not allow: a bug, never a shopper's mistake."""


def _allowed(table: Mapping[_State, frozenset[_State]], what: str, from_: _State, to: _State) -> None:
    if to not in table[from_]:
        raise IllegalMove(f"{what} cannot move from {from_.value} to {to.value}")


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Refuse a status change people may not ask for (INVALID_TRANSITION)."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target, field="order_id")


async def move_order(
    order_id: UUID,
    *,
    from_: OrderStatus,
    to: OrderStatus,
    stock: tuple[StockState, StockState] | None = None,
    **changes: Any,
) -> bool:
    """`from_` → `to` (and the stock `(from, to)` with it, when given) if the order is still there."""
    _allowed(ORDER_MOVES, "An order", from_, to)
    where: dict[str, Any] = {"id": order_id, "status": from_}
    if stock is not None:
        _allowed(STOCK_TRANSITIONS, "An order's stock", *stock)
        where["stock_state"], changes["stock_state"] = stock
    return bool(await Order.filter(**where).update(status=to, **changes))


async def move_stock(
    order_id: UUID,
    *,
    from_: StockState,
    to: StockState,
    status: OrderStatus | None = None,
    **changes: Any,
) -> bool:
    """The order's stock `from_` → `to`, if it is still `from_` (and the order still `status`)."""
    _allowed(STOCK_TRANSITIONS, "An order's stock", from_, to)
    where: dict[str, Any] = {"id": order_id, "stock_state": from_}
    if status is not None:
        where["status"] = status
    return bool(await Order.filter(**where).update(stock_state=to, **changes))


async def move_attempt(
    attempt_id: int,
    *,
    from_: AttemptStatus,
    to: AttemptStatus,
    claim_of: datetime | None = None,
    **changes: Any,
) -> bool:
    """The attempt `from_` → `to`, if it is still `from_` (and, given `claim_of`, still that claim)."""
    _allowed(ATTEMPT_TRANSITIONS, "A payment attempt", from_, to)
    where: dict[str, Any] = {"id": attempt_id, "status": from_}
    if claim_of is not None:
        where["claimed_at"] = claim_of
    return bool(await PaymentAttempt.filter(**where).update(status=to, **changes))


async def move_refund(refund_id: int, *, from_: RefundStatus, to: RefundStatus, **changes: Any) -> bool:
    """The refund `from_` → `to`, if it is still `from_`."""
    _allowed(REFUND_TRANSITIONS, "A refund", from_, to)
    return bool(await Refund.filter(id=refund_id, status=from_).update(status=to, **changes))


async def move_shipment(
    shipment_id: int, *, from_: ShipmentStatus, to: ShipmentStatus, **changes: Any
) -> bool:
    """The shipment `from_` → `to`, if it is still `from_`."""
    _allowed(SHIPMENT_TRANSITIONS, "A shipment", from_, to)
    return bool(await Shipment.filter(id=shipment_id, status=from_).update(status=to, **changes))


async def move_return(return_id: int, *, from_: ReturnStatus, to: ReturnStatus, **changes: Any) -> bool:
    """The return `from_` → `to`, if it is still `from_`."""
    _allowed(RETURN_TRANSITIONS, "A return", from_, to)
    return bool(await ReturnRequest.filter(id=return_id, status=from_).update(status=to, **changes))
