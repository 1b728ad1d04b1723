"""Orders: how a payment, a decline or a cancellation moves them (who may see them: commerce/policy.py).

The states and the moves between them are commerce/states.py: every move is a conditional update on
the state it expects (`… WHERE status = 'PAID'`), so of two requests racing for the same transition
exactly one performs it and only that one moves stock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from commerce import earnings, inventory, ledger, redemptions
from commerce.errors import CheckoutInProgress, InvalidTransition
from commerce.order_notifications import notify_paid
from commerce.payments import IntentState, IntentStatus, Payments
from commerce.policy import can_view_order, is_merchant_of
from commerce.states import check_transition, move_order
from core.errors import NotFound
from models import (
    Cart,
    CartStatus,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentEventKind,
    StockState,
)

log = logging.getLogger(__name__)

S = OrderStatus


async def order_for(order_id: UUID, viewer_id: int | None, *, field: str = "order_id") -> Order:
    """The order if this viewer may see it: its buyer, a merchant of one of its lines, or — for an
    order placed from a guest cart — whoever holds its id."""
    order = await Order.get_or_none(id=order_id)
    if order is None or not await can_view_order(order, viewer_id):
        raise NotFound("Order", field)
    return order


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
    if intent.status == IntentStatus.SUCCEEDED:
        await settle_paid(order_id, intent, stripe_event_id=stripe_event_id)
    elif intent.declined:
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
                await inventory.order_quantities(order_id)
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
            moved = await move_order(
                order_id,
                from_=order.status,
                to=S.PAID,
                stock=(order.stock_state, stock_state),
                paid_minor_units=intent.amount_received,
                paid_at=datetime.now(UTC),
                attention=attention,
            )
            if moved:
                await Cart.filter(id=order.cart_id).update(status=CartStatus.CLOSED)  # type: ignore[attr-defined]
                await redemptions.spend(order_id)
                await earnings.credit_order(order)
                await ledger.record(
                    order_id,
                    PaymentEventKind.PAYMENT_SUCCEEDED,
                    amount=intent.amount_received,
                    currency=intent.currency,
                    reference=intent.id,
                    stripe_event_id=stripe_event_id,
                )
                await notify_paid(order)


async def settle_failed(
    order_id: UUID, intent: IntentState, *, stripe_event_id: str | None = None, release: bool = True
) -> None:
    """The shopper's card was declined: give the stock back until they try again. The order stays
    PENDING_PAYMENT — another card on the same PaymentIntent, or a retried checkoutStart, re-reserves."""
    async with in_transaction():
        if release:
            await inventory.release_order(order_id, status=S.PENDING_PAYMENT)
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
        if not await move_order(order_id, from_=S.PENDING_PAYMENT, to=S.CANCELLED, cancel_reason=reason):
            return False
        await inventory.release_order(order_id)
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
    if intent is not None and intent.status == IntentStatus.SUCCEEDED:
        await settle_paid(order_id, intent)
        # settle_paid has just made the order PAID: that is the status it is refused from.
        raise InvalidTransition(
            S.PAID,
            S.CANCELLED,
            message="The payment has just succeeded; refund the order instead.",
            field="order_id",
        )
    if intent is not None and intent.status != IntentStatus.CANCELED:
        raise CheckoutInProgress("The payment is being processed; try again in a moment.", "order_id")
    reason = "BY_MERCHANT" if await is_merchant_of(order_id, viewer_id) else "BY_BUYER"
    if not await cancel_pending(order_id, reason):
        current = await Order.get(id=order_id)
        check_transition(current.status, S.CANCELLED)
    return await Order.get(id=order_id)
