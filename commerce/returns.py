"""Returns: the buyer sends back delivered goods within the return window and is refunded what they paid.

REQUESTED (the buyer) → APPROVED or REJECTED (the merchant) → RECEIVED (the merchant has the goods back,
may restock them) → REFUNDED (the refund of what the returned units were paid went through the refund
path, commerce/refunds.py). Every step is a conditional update on the state it expects
(commerce/states.py), recorded in the payment ledger (RETURN_*, amount 0: the money moves only in the
refund, REFUND_SUCCEEDED) and told to the other party (RETURN_UPDATED; the refund tells the buyer
ORDER_REFUNDED, as every refund does).

A return holds one merchant's lines (the merchant approves, receives and refunds it): a request naming
two merchants' lines is refused (INVALID) — the buyer asks each merchant separately. A return holds at
most MAX_RETURN_LINES lines and an order has at most MAX_RETURNS_PER_ORDER returns (TOO_MANY).

What k units of a line were paid (`paid_for`) is exact to the minor unit and cumulative, so returning a
line in several parts refunds, in all, exactly what the whole line was paid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from commerce import earnings, inventory, ledger
from commerce.amounts import line_paid
from commerce.cart import MAX_CART_MERCHANTS
from commerce.errors import (
    CheckoutInProgress,
    InvalidTransition,
    PaymentsNotConfigured,
    RefundExceedsPaid,
)
from commerce.fulfilment import order_part
from commerce.orders import order_for
from commerce.payments import Payments
from commerce.policy import can_view_order, is_buyer, is_merchant_of
from commerce.refunds import refund_order
from commerce.states import REFUNDABLE, move_return
from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.retry import retry_on_conflict
from core.validation import Checks
from models import (
    NotificationKind,
    Order,
    OrderLine,
    PaymentEventKind,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    ShipmentStatus,
)
from social.notifications import notify

# How long after delivery goods can be returned.
RETURN_WINDOW = timedelta(days=30)
# Lines in one return, and returns of one order (whatever became of them): they bound `Order.returns` for the
# query-cost budget (schema/cost.py). Ten returns let a buyer ask each shop of the largest order a cart can
# make (MAX_CART_MERCHANTS) once; a return of more lines is asked in parts.
MAX_RETURN_LINES = 5
MAX_RETURNS_PER_ORDER = MAX_CART_MERCHANTS
MAX_REASON = 1000
MAX_NOTE = 1000
# Returns not yet received: their units are spoken for.
OPEN = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)

R = ReturnStatus


def paid_between(line: OrderLine, before: int, more: int) -> int:
    """What `more` units of the line were paid once `before` units have been returned."""

    return line_paid(line, before + more) - line_paid(line, before)


def returned_lines(ret: ReturnRequest) -> dict[int, int]:
    """Order line id → quantity returned."""
    return {int(line_id): int(quantity) for line_id, quantity in (ret.lines or {}).items()}


@dataclass(frozen=True)
class ReturnLineSpec:
    line_id: int
    quantity: int


# --- the buyer asks ----------------------------------------------------------------------------------------


async def request_return(
    *,
    viewer_id: int | None,
    order_id: UUID,
    lines: Sequence[ReturnLineSpec],
    reason: str,
    now: datetime | None = None,
) -> ReturnRequest:
    """The buyer asks to return some delivered units of one merchant's lines."""
    order = await order_for(order_id, viewer_id)
    guest_order = order.buyer_id is None  # type: ignore[attr-defined]
    # A guest order's id is its buyer's capability, but its merchants hold it too: they may not return.
    if not is_buyer(order, viewer_id) or (guest_order and await is_merchant_of(order.id, viewer_id)):
        raise Forbidden("Only the buyer of this order can return its goods.", "order_id")
    checks = Checks()
    cleaned = checks.text("reason", reason, max_length=MAX_REASON)
    if len(lines) > MAX_RETURN_LINES:
        checks.fail(
            "lines",
            ErrorCode.TOO_MANY,
            f"A return holds at most {MAX_RETURN_LINES} lines: return the others in another return.",
        )
    elif checks.count("lines", list(lines), maximum=MAX_RETURN_LINES, minimum=1):
        for i, spec in enumerate(lines):
            if spec.quantity <= 0:
                checks.fail(("lines", i, "quantity"), ErrorCode.OUT_OF_RANGE, "Return at least 1.")
            if any(other.line_id == spec.line_id for other in lines[:i]):
                checks.fail(("lines", i, "line_id"), ErrorCode.INVALID, "This line is named twice.")
    checks.done()
    return await _create(order.id, list(lines), cleaned or "", now or datetime.now(UTC))


@retry_on_conflict
async def _create(order_id: UUID, specs: list[ReturnLineSpec], reason: str, now: datetime) -> ReturnRequest:
    async with in_transaction():
        # The order's lock serialises returns of its lines, so two requests cannot both claim a unit.
        order = await Order.filter(id=order_id).select_for_update().get()
        if order.status not in REFUNDABLE:
            raise InvalidTransition(
                order.status,
                message=f"An order that is {order.status.value} has nothing to return.",
                field="order_id",
            )
        if await ReturnRequest.filter(order_id=order_id).count() >= MAX_RETURNS_PER_ORDER:
            raise DomainError(
                ErrorCode.TOO_MANY,
                f"An order can have at most {MAX_RETURNS_PER_ORDER} returns, rejected ones included.",
                "order_id",
            )
        lines = {line.id: line for line in await OrderLine.filter(order_id=order_id)}
        delivered = await _delivered(order_id)
        spoken_for = await _open_quantities(order_id)
        checks = Checks()
        merchant_id: int | None = None
        amount = 0
        for i, spec in enumerate(specs):
            field = ("lines", i, "line_id")
            line = lines.get(spec.line_id)
            if line is None:
                checks.fail(field, ErrorCode.NOT_FOUND, "This order has no such line.")
                continue
            seller = int(line.merchant_id)  # type: ignore[attr-defined]
            if merchant_id is None:
                merchant_id = seller
            elif seller != merchant_id:
                checks.fail(
                    field,
                    ErrorCode.INVALID,
                    "A return holds one merchant's lines: return this merchant's goods separately.",
                )
                continue
            units, delivered_at = delivered.get(line.id, (0, None))
            if delivered_at is None:
                checks.fail(field, ErrorCode.NOT_DELIVERED, f"{_name(line)} has not been delivered yet.")
                continue
            if delivered_at + RETURN_WINDOW < now:
                checks.fail(
                    field,
                    ErrorCode.RETURN_WINDOW_CLOSED,
                    f"{_name(line)} was delivered more than {RETURN_WINDOW.days} days ago.",
                )
                continue
            before = line.returned_quantity + spoken_for[line.id]
            left = max(min(units, line.quantity) - before, 0)
            if spec.quantity > left:
                checks.fail(
                    ("lines", i, "quantity"),
                    ErrorCode.OUT_OF_RANGE,
                    f"At most {left} of {_name(line)} can be returned.",
                )
                continue
            # What these units were paid if the returns before them are received first; fixed on receipt.
            amount += paid_between(line, before, spec.quantity)
        checks.done()
        assert merchant_id is not None
        ret = await ReturnRequest.create(
            order_id=order_id,
            merchant_id=merchant_id,
            reason=reason,
            lines={str(spec.line_id): spec.quantity for spec in specs},
            amount_minor_units=amount,
        )
        await _record(ret, order, PaymentEventKind.RETURN_REQUESTED, reason)
        buyer_id: int | None = order.buyer_id  # type: ignore[attr-defined]
        await _notify(recipient_id=merchant_id, actor_id=buyer_id, ret=ret, step=R.REQUESTED)
    return ret


async def _delivered(order_id: UUID) -> dict[int, tuple[int, datetime | None]]:
    """Order line id → (units delivered, the latest delivery of them)."""
    found: dict[int, tuple[int, datetime | None]] = {}
    for shipment in await Shipment.filter(order_id=order_id, status=ShipmentStatus.DELIVERED):
        for line_id, quantity in (shipment.lines or {}).items():
            units, last = found.get(int(line_id), (0, None))
            moment = shipment.delivered_at
            latest = moment if last is None or (moment is not None and moment > last) else last
            found[int(line_id)] = (units + int(quantity), latest)
    return found


async def _open_quantities(order_id: UUID) -> Counter[int]:
    """Units of each line in returns not yet received."""
    spoken: Counter[int] = Counter()
    for ret in await ReturnRequest.filter(order_id=order_id, status__in=OPEN):
        spoken.update(returned_lines(ret))
    return spoken


def _name(line: OrderLine) -> str:
    return f"{line.product_title} ({line.variant_name})"


# --- the merchant decides -------------------------------------------------------------------------------


async def approve_return(*, viewer_id: int, return_id: int, note: str | None = None) -> ReturnRequest:
    """The merchant agrees to take the goods back; approving again changes nothing."""
    return await _decide(viewer_id, return_id, note, R.APPROVED, PaymentEventKind.RETURN_APPROVED)


async def reject_return(*, viewer_id: int, return_id: int, note: str | None = None) -> ReturnRequest:
    """The merchant refuses the return (the note says why); rejecting again changes nothing."""
    return await _decide(viewer_id, return_id, note, R.REJECTED, PaymentEventKind.RETURN_REJECTED)


async def _decide(
    viewer_id: int, return_id: int, note: str | None, to: ReturnStatus, kind: PaymentEventKind
) -> ReturnRequest:
    ret = await _own_return(viewer_id, return_id)
    checks = Checks()
    cleaned = checks.text("note", note, max_length=MAX_NOTE, min_length=0, required=False) or ""
    checks.done()
    if ret.status == to:
        return ret
    async with in_transaction():
        moved = await move_return(
            ret.id, from_=R.REQUESTED, to=to, merchant_note=cleaned, decided_at=datetime.now(UTC)
        )
        if moved:
            order = await Order.get(id=ret.order_id)  # type: ignore[attr-defined]
            await _record(ret, order, kind, cleaned)
            await _notify_buyer(order, ret, to)
    current = await ReturnRequest.get(id=ret.id)
    if not moved and current.status != to:
        raise _cannot(current, "approved" if to == R.APPROVED else "rejected")
    return current


# --- the goods come back, and are refunded --------------------------------------------------------------


async def receive_return(
    *, payments: Payments | None, viewer_id: int, return_id: int, restock: bool = False
) -> ReturnRequest:
    """The merchant has the goods back: the lines count them returned, the variants get them back when
    `restock`, and the buyer is refunded what they paid for them. Idempotent: a retry after a refund that
    failed at Stripe refunds (once); a retry after success changes nothing."""
    if payments is None:
        raise PaymentsNotConfigured()
    ret = await _own_return(viewer_id, return_id)
    if ret.status == R.APPROVED:
        await _receive(ret.id, ret.order_id, restock)  # type: ignore[attr-defined]
        ret = await ReturnRequest.get(id=ret.id)
    if ret.status == R.RECEIVED:
        await _refund(payments, ret)
        ret = await ReturnRequest.get(id=ret.id)
        if ret.status == R.RECEIVED:
            raise CheckoutInProgress("The refund is being processed; try again in a moment.", "return_id")
    if ret.status != R.REFUNDED:
        raise _cannot(ret, "received")
    return ret


@retry_on_conflict
async def _receive(return_id: int, order_id: UUID, restock: bool) -> None:
    async with in_transaction():
        # The order's lock first (as every refund path), then the return as it is now.
        order = await Order.filter(id=order_id).select_for_update().get()
        ret = await ReturnRequest.get(id=return_id)
        if ret.status != R.APPROVED:
            return  # a concurrent receipt won; the caller refunds what it recorded
        lines = {line.id: line for line in await OrderLine.filter(order_id=order.id)}
        amount = 0
        taken: list[tuple[int, int]] = []
        for line_id, quantity in returned_lines(ret).items():
            line = lines[line_id]
            before = line.returned_quantity
            if before + quantity > line.shipped_quantity:
                raise DomainError(
                    ErrorCode.OUT_OF_RANGE,
                    f"Only {line.shipped_quantity - before} of {_name(line)} can still be returned.",
                    "return_id",
                )
            # Exact, whatever order the returns of this line are received in (see paid_for).
            amount += paid_between(line, before, quantity)
            if not await OrderLine.filter(id=line.id, returned_quantity=before).update(
                returned_quantity=before + quantity
            ):
                raise DomainError(ErrorCode.INVALID, "The line changed meanwhile; try again.", "return_id")
            taken.append((int(line.variant_id), quantity))  # type: ignore[attr-defined]
        if order.status not in REFUNDABLE:
            raise InvalidTransition(
                order.status,
                message=f"An order that is {order.status.value} cannot be refunded.",
                field="return_id",
            )
        if amount > order.paid_minor_units - order.refunded_minor_units:
            raise RefundExceedsPaid(
                amount, order.paid_minor_units - order.refunded_minor_units, order.currency, "return_id"
            )
        if not await move_return(
            ret.id,
            from_=R.APPROVED,
            to=R.RECEIVED,
            amount_minor_units=amount,
            restock=restock,
            received_at=datetime.now(UTC),
        ):
            raise DomainError(ErrorCode.INVALID, "The return changed meanwhile; try again.", "return_id")
        if restock:
            await inventory.restock(taken)
        ret.amount_minor_units = amount
        await _record(
            ret, order, PaymentEventKind.RETURN_RECEIVED, f"restocked: {'yes' if restock else 'no'}"
        )
        await _notify_buyer(order, ret, R.RECEIVED)


async def _refund(payments: Payments, ret: ReturnRequest) -> None:
    """Refund a received return once: the refund's idempotency key is the return's, so a retry gets the
    same refund back instead of a second one (a refund Stripe refused frees the next key)."""
    refund: Refund | None = None
    if ret.amount_minor_units > 0:
        refund = await refund_order(
            payments=payments,
            viewer_id=ret.merchant_id,  # type: ignore[attr-defined]
            order_id=ret.order_id,  # type: ignore[attr-defined]
            amount=ret.amount_minor_units,
            idempotency_key=await _refund_key(ret),
        )
        if refund.status != RefundStatus.SUCCEEDED:
            return  # still PENDING at Stripe or FAILED: a retry settles it
    async with in_transaction():
        # The refund's confirmation already reversed the creators' commission on these units (its key
        # names the return); a return that needed no refund reverses it here. Under the order's lock, as
        # every reversal.
        await Order.filter(id=ret.order_id).select_for_update().get()  # type: ignore[attr-defined]
        if await move_return(
            ret.id, from_=R.RECEIVED, to=R.REFUNDED, refund_id=refund.id if refund else None
        ):
            await earnings.reverse_order(ret.order_id, reference=f"return-{ret.id}")  # type: ignore[attr-defined]


async def _refund_key(ret: ReturnRequest) -> str:
    """`return-<id>`, or, once refunds of it have failed, `return-<id>-retry-<n>`."""
    base = f"return-{ret.id}"
    failed = await Refund.filter(
        Q(idempotency_key=base) | Q(idempotency_key__startswith=f"{base}-retry-"),
        order_id=ret.order_id,  # type: ignore[attr-defined]
        status=RefundStatus.FAILED,
    ).count()
    return base if failed == 0 else f"{base}-retry-{failed}"


# --- shared ---------------------------------------------------------------------------------------------


async def _own_return(viewer_id: int, return_id: int) -> ReturnRequest:
    """The merchant's return: NOT_FOUND for one of an order the viewer may not see, FORBIDDEN for the
    buyer or another merchant of the order."""
    ret = await ReturnRequest.get_or_none(id=return_id)
    if ret is None:
        raise NotFound("Return", "return_id")
    if ret.merchant_id != viewer_id:  # type: ignore[attr-defined]
        order = await Order.get(id=ret.order_id)  # type: ignore[attr-defined]
        if not await can_view_order(order, viewer_id):
            raise NotFound("Return", "return_id")
        raise Forbidden("Only the merchant whose goods are returned can do this.", "return_id")
    return ret


def _cannot(ret: ReturnRequest, step: str) -> DomainError:
    hint = " Approve it first." if ret.status == R.REQUESTED and step == "received" else ""
    return DomainError(
        ErrorCode.INVALID_TRANSITION,
        f"A return that is {ret.status.value} cannot be {step}.{hint}",
        "return_id",
    )


async def _record(ret: ReturnRequest, order: Order, kind: PaymentEventKind, detail: str) -> None:
    """The step in the payment ledger, once per return (amount 0: money moves only in its refund)."""
    await ledger.record(
        order.id,
        kind,
        amount=0,
        currency=order.currency,
        reference=f"return-{ret.id}",
        detail=f"{ret.amount_minor_units} {order.currency} of returned goods"
        + (f"; {detail}" if detail else ""),
    )


async def _notify_buyer(order: Order, ret: ReturnRequest, step: ReturnStatus) -> None:
    await _notify(
        recipient_id=order.buyer_id,  # type: ignore[attr-defined]
        actor_id=ret.merchant_id,  # type: ignore[attr-defined]
        ret=ret,
        step=step,
    )


async def _notify(
    *, recipient_id: int | None, actor_id: int | None, ret: ReturnRequest, step: ReturnStatus
) -> None:
    """One entry per return and step: asked (to the merchant), then approved, rejected, received."""
    if recipient_id is None:
        return
    await notify(
        recipient_id=recipient_id,
        actor_id=actor_id,
        kind=NotificationKind.RETURN_UPDATED,
        order_id=ret.order_id,  # type: ignore[attr-defined]
        detail=f"return:{ret.id}:{step.value}",
    )


async def order_returns(order_id: UUID, merchant_id: int | None = None) -> list[ReturnRequest]:
    """The order's returns, oldest first (only `merchant_id`'s when given)."""
    return await order_part(ReturnRequest, order_id, merchant_id)


async def return_state(order_id: UUID) -> list[tuple[int, str]]:
    """(id, status) of each return of the order: what `orderStatus` compares to tell a change."""
    rows = await ReturnRequest.filter(order_id=order_id).order_by("id").values_list("id", "status")
    return [(int(i), str(s)) for i, s in rows]
