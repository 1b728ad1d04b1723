"""Orders: who may see them, their status machine, and how a payment settles them.

Every status change is a conditional update on the status it expects (`… WHERE status = 'PAID'`), so of
two requests racing for the same transition exactly one performs it and only that one moves stock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from commerce import inventory, ledger
from commerce.payments import IntentState, Payments
from core.errors import DomainError, ErrorCode, forbidden, not_found
from models import (
    Cart,
    CartStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
    PaymentEventKind,
    StockState,
)

log = logging.getLogger(__name__)

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
REFUNDABLE = (S.PAID, S.PARTIALLY_REFUNDED, S.FULFILLED)
# Orders that count as sales (for creators' figures and verified reviews).
SOLD = (S.PAID, S.FULFILLED, S.PARTIALLY_REFUNDED)


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"An order that is {current.value} cannot become {target.value}.",
            "orderId",
        )


async def merchant_ids_of(order_id: UUID) -> set[int]:
    rows = await OrderLine.filter(order_id=order_id).values_list("merchant_id", flat=True)
    return {int(m) for m in rows}  # type: ignore[call-overload]


async def order_for(order_id: UUID, viewer_id: int | None, *, field: str = "orderId") -> Order:
    """The order if this viewer may see it: its buyer, a merchant of one of its lines, or — for an
    order placed from a guest cart — whoever holds its id."""
    order = await Order.get_or_none(id=order_id)
    if order is None or not await can_see(order, viewer_id):
        raise not_found("Order", field)
    return order


async def can_see(order: Order, viewer_id: int | None) -> bool:
    buyer_id = order.buyer_id  # type: ignore[attr-defined]
    if buyer_id is None or buyer_id == viewer_id:
        return True
    return viewer_id is not None and viewer_id in await merchant_ids_of(order.id)


async def line_quantities(order_id: UUID) -> list[tuple[int, int]]:
    return [
        (int(v), int(q))
        for v, q in await OrderLine.filter(order_id=order_id).values_list("variant_id", "quantity")
    ]


async def latest_attempt(order_id: UUID) -> PaymentAttempt | None:
    return await PaymentAttempt.filter(order_id=order_id).order_by("-id").first()


async def attempt_for_intent(intent: IntentState) -> PaymentAttempt | None:
    """Our attempt behind a PaymentIntent: by its id, or by the attempt id in its metadata when the
    webhook outran the request that created it."""
    attempt = await PaymentAttempt.get_or_none(payment_intent_id=intent.id)
    if attempt is None and intent.metadata.get("attempt_id", "").isdigit():
        attempt = await PaymentAttempt.get_or_none(id=int(intent.metadata["attempt_id"]))
        if attempt is not None and attempt.payment_intent_id not in (None, intent.id):
            return None
    return attempt


async def settle(intent: IntentState, *, stripe_event_id: str | None = None) -> Order | None:
    """Bring our order in line with what Stripe says about its PaymentIntent; None for intents that are
    not ours. Safe to call any number of times, in any order, from webhooks and checkoutComplete."""
    attempt = await attempt_for_intent(intent)
    if attempt is None:
        return None
    order_id = attempt.order_id  # type: ignore[attr-defined]
    if intent.status == "succeeded":
        await settle_paid(order_id, intent, stripe_event_id=stripe_event_id)
    elif intent.status in ("requires_payment_method", "canceled") and intent.failure_message:
        # A decline on a PaymentIntent that a retry has since replaced must not release the stock
        # the retry reserved.
        latest = await latest_attempt(order_id)
        current = latest is not None and latest.id == attempt.id
        await settle_failed(order_id, intent, stripe_event_id=stripe_event_id, release=current)
    return await Order.get(id=order_id)


async def settle_paid(order_id: UUID, intent: IntentState, *, stripe_event_id: str | None = None) -> None:
    """The payment succeeded: the order is PAID, its reservation a sale, its cart closed.

    If the reservation had been released (payment failed first, or it expired while the shopper paid),
    the stock is taken again; when it is gone, the order is still PAID — the money is real — and is
    flagged for the merchant to refund or restock."""
    async with in_transaction():
        order = await Order.filter(id=order_id).select_for_update().get()
        if order.status in (S.PENDING_PAYMENT, S.CANCELLED):
            stock_state, attention = StockState.SOLD, None
            if order.stock_state != StockState.RESERVED and not await inventory.try_reserve(
                await line_quantities(order_id)
            ):
                stock_state = StockState.SHORT
                attention = (
                    "Paid after its reservation was released and the stock is gone: refund or restock."
                )
                log.warning("order %s paid without stock; flagged for refund", order_id)
            if intent.amount_received != order.total_minor_units or intent.currency != order.currency:
                attention = (
                    f"Stripe received {intent.amount_received} {intent.currency}; "
                    f"the order is {order.total_minor_units} {order.currency}."
                )
            moved = await Order.filter(id=order_id, status=order.status).update(
                status=S.PAID,
                stock_state=stock_state,
                paid_minor_units=intent.amount_received,
                paid_at=datetime.now(UTC),
                attention=attention,
            )
            if moved:
                await Cart.filter(id=order.cart_id).update(status=CartStatus.CLOSED)  # type: ignore[attr-defined]
                await ledger.record(
                    order_id,
                    PaymentEventKind.PAYMENT_SUCCEEDED,
                    amount=intent.amount_received,
                    currency=intent.currency,
                    reference=intent.id,
                    stripe_event_id=stripe_event_id,
                )


async def settle_failed(
    order_id: UUID, intent: IntentState, *, stripe_event_id: str | None = None, release: bool = True
) -> None:
    """The shopper's card was declined: give the stock back until they try again. The order stays
    PENDING_PAYMENT — another card on the same PaymentIntent, or a retried checkoutStart, re-reserves."""
    async with in_transaction():
        if release and await Order.filter(
            id=order_id, status=S.PENDING_PAYMENT, stock_state=StockState.RESERVED
        ).update(stock_state=StockState.RELEASED):
            await inventory.restock(await line_quantities(order_id))
        order = await Order.get(id=order_id)
        await ledger.record(
            order_id,
            PaymentEventKind.PAYMENT_FAILED,
            amount=0,
            currency=order.currency,
            reference=intent.latest_charge or stripe_event_id or intent.id,
            stripe_event_id=stripe_event_id,
            detail=intent.failure_message,
        )


async def cancel_pending(order_id: UUID, reason: str) -> bool:
    """PENDING_PAYMENT → CANCELLED, giving back reserved stock; False when the order had moved on."""
    async with in_transaction():
        if not await Order.filter(id=order_id, status=S.PENDING_PAYMENT).update(
            status=S.CANCELLED, cancel_reason=reason
        ):
            return False
        if await Order.filter(id=order_id, stock_state=StockState.RESERVED).update(
            stock_state=StockState.RELEASED
        ):
            await inventory.restock(await line_quantities(order_id))
    return True


async def stop_payment(payments: Payments | None, order_id: UUID) -> IntentState | None:
    """Cancel the order's PaymentIntent at Stripe so it can no longer succeed (call before cancelling
    the order). Returns the intent's final state; None when there is none to stop."""
    attempt = await latest_attempt(order_id)
    if attempt is None or attempt.payment_intent_id is None:
        return None
    if payments is None:
        return None
    return await payments.cancel_intent(attempt.payment_intent_id)


async def cancel_order(*, payments: Payments | None, viewer_id: int | None, order_id: UUID) -> Order:
    """The buyer (or a merchant of the order) calls off an unpaid order."""
    order = await order_for(order_id, viewer_id)
    check_transition(order.status, S.CANCELLED)
    intent = await stop_payment(payments, order_id)
    if intent is not None and intent.status == "succeeded":
        await settle_paid(order_id, intent)
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            "The payment has just succeeded; refund the order instead.",
            "orderId",
        )
    if intent is not None and intent.status not in ("canceled",):
        raise DomainError(
            ErrorCode.CHECKOUT_IN_PROGRESS,
            "The payment is being processed; try again in a moment.",
            "orderId",
        )
    reason = (
        "BY_MERCHANT"
        if viewer_id is not None and viewer_id in await merchant_ids_of(order_id)
        else "BY_BUYER"
    )
    if not await cancel_pending(order_id, reason):
        current = await Order.get(id=order_id)
        check_transition(current.status, S.CANCELLED)
    return await Order.get(id=order_id)


async def fulfill_order(*, viewer_id: int, order_id: UUID) -> Order:
    """A merchant of the order marks it shipped."""
    if viewer_id not in await merchant_ids_of(order_id):
        await order_for(order_id, viewer_id)  # NOT_FOUND for strangers, before FORBIDDEN for the buyer
        raise forbidden("Only a merchant of this order can fulfil it.", "orderId")
    order = await Order.get(id=order_id)
    check_transition(order.status, S.FULFILLED)
    if not await Order.filter(id=order_id, status=order.status).update(status=S.FULFILLED):
        current = await Order.get(id=order_id)
        check_transition(current.status, S.FULFILLED)
    return await Order.get(id=order_id)
