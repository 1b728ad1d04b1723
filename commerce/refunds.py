"""Refunds by merchants, full or partial, never more than was paid, each one idempotent.

The amount is added to the order's `refunded_minor_units` by a conditional update *before* Stripe is
called (`… WHERE refunded + amount <= paid`), so two refunds at once can never together exceed the
payment; a refund Stripe refuses gives its amount back.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from commerce import earnings, ledger
from commerce.amounts import merchant_parts
from commerce.errors import InvalidTransition, PaymentsNotConfigured, RefundExceedsPaid
from commerce.order_notifications import notify_refunded
from commerce.orders import latest_attempt, order_for, settle
from commerce.payments import PaymentProviderError, Payments, StripeRefundStatus
from commerce.states import REFUNDABLE, move_order, move_refund
from core.errors import DomainError, ErrorCode, Forbidden
from core.retry import retry_on_conflict
from core.sql import fetch_all, uuid_param
from models import (
    Order,
    OrderDeliveryGroup,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
    PaymentEvent,
    PaymentEventKind,
    Refund,
    RefundStatus,
)


async def refund_order(
    *,
    payments: Payments | None,
    viewer_id: int,
    order_id: UUID,
    amount: int,
    idempotency_key: str | None = None,
) -> Refund:
    """Refund part or all of a paid order. A merchant refunds at most the value of their own lines;
    the same key on the same order returns the same refund instead of refunding twice."""
    if payments is None:
        raise PaymentsNotConfigured()
    order = await order_for(order_id, viewer_id)
    own_total = await _merchant_total(order_id, viewer_id)
    if own_total == 0:
        raise Forbidden("Only a merchant of this order can refund it.", "order_id")
    key = (idempotency_key or "").strip() or f"auto-{uuid.uuid4()}"
    if len(key) > 200:
        raise DomainError(
            ErrorCode.INVALID, "Idempotency keys are at most 200 characters.", "idempotency_key"
        )
    existing = await Refund.get_or_none(order_id=order_id, idempotency_key=key)
    if existing is not None:
        return _same_refund(existing, amount)
    if amount <= 0:
        raise DomainError(
            ErrorCode.OUT_OF_RANGE, "Refund a positive amount, in minor units.", "amount_minor_units"
        )
    if order.status not in REFUNDABLE:
        raise InvalidTransition(
            order.status,
            message=f"An order that is {order.status.value} cannot be refunded.",
            field="order_id",
        )
    attempt = await latest_attempt(order_id)
    if attempt is None or attempt.payment_intent_id is None:
        raise InvalidTransition(
            order.status, message="This order has no payment to refund.", field="order_id"
        )
    refund, created = await _reserve_refund(order, viewer_id, own_total, amount, key)
    if not created:
        # The same key arrived twice at once: the other request refunds; this one reports it.
        return _same_refund(refund, amount)
    try:
        result = await payments.refund(
            intent_id=attempt.payment_intent_id,
            amount=amount,
            metadata={"order_id": str(order_id), "refund_id": str(refund.id)},
            idempotency_key=str(refund.stripe_idempotency_key),
        )
    except PaymentProviderError as exc:
        await _refund_failed(refund, order.currency, exc.message)
        raise
    await confirm_refund(refund.id, result.id)
    return await Refund.get(id=refund.id)


def _same_refund(refund: Refund, amount: int) -> Refund:
    """A repeated key is the same refund, provided it asks for the same amount."""
    if refund.amount_minor_units != amount:
        raise DomainError(
            ErrorCode.INVALID, "This idempotency key was used for a different amount.", "idempotency_key"
        )
    return refund


async def _merchant_total(order_id: UUID, merchant_id: int) -> int:
    """What the buyer paid for `merchant_id`'s part of the order: their lines less their discount shares,
    plus their group's shipping less what a code took off it. The most that merchant may refund."""
    lines = await OrderLine.filter(order_id=order_id, merchant_id=merchant_id)
    groups = await OrderDeliveryGroup.filter(order_id=order_id, merchant_id=merchant_id)
    return merchant_parts(lines, groups).get(merchant_id, 0)


@retry_on_conflict
async def _reserve_refund(
    order: Order, merchant_id: int, own_total: int, amount: int, key: str
) -> tuple[Refund, bool]:
    """The refund row for this key, and whether this call created it (and so must call Stripe)."""
    try:
        async with in_transaction():
            # The order's row lock (PostgreSQL) serialises refunds of one order: the key check and the
            # merchant's running total below are exact. Every refund path locks the order first.
            await Order.filter(id=order.id).select_for_update().get()
            existing = await Refund.get_or_none(order_id=order.id, idempotency_key=key)
            if existing is not None:
                return existing, False
            given = sum(
                int(a)  # type: ignore[call-overload]
                for a in await Refund.filter(order_id=order.id, merchant_id=merchant_id)
                .exclude(status=RefundStatus.FAILED)
                .values_list("amount_minor_units", flat=True)
            )
            if amount > own_total - given:
                raise _too_much(amount, own_total - given, order.currency)
            rows = await fetch_all(
                "UPDATE orders SET refunded_minor_units = refunded_minor_units + $1 "
                "WHERE id = $2 AND refunded_minor_units + $1 <= paid_minor_units "
                f"AND status IN ({', '.join(repr(s.value) for s in REFUNDABLE)}) RETURNING id",
                [amount, uuid_param(order.id)],
            )
            if not rows:
                current = await Order.get(id=order.id)
                raise _too_much(
                    amount, current.paid_minor_units - current.refunded_minor_units, order.currency
                )
            refund = await Refund.create(
                order_id=order.id, merchant_id=merchant_id, amount_minor_units=amount, idempotency_key=key
            )
            return refund, True
    except IntegrityError:
        return await Refund.get(order_id=order.id, idempotency_key=key), False


def _too_much(amount: int, left: int, currency: str) -> RefundExceedsPaid:
    return RefundExceedsPaid(amount, left, currency, "amount_minor_units")


@retry_on_conflict
async def _refund_failed(refund: Refund, currency: str, reason: str) -> None:
    async with in_transaction():
        await Order.filter(id=refund.order_id).select_for_update().get()  # type: ignore[attr-defined]
        if await move_refund(
            refund.id, from_=RefundStatus.PENDING, to=RefundStatus.FAILED, failure=reason[:300]
        ):
            await Order.filter(id=refund.order_id).update(  # type: ignore[attr-defined]
                refunded_minor_units=F("refunded_minor_units") - refund.amount_minor_units
            )
            await ledger.record(
                refund.order_id,  # type: ignore[attr-defined]
                PaymentEventKind.REFUND_FAILED,
                amount=refund.amount_minor_units,
                currency=currency,
                reference=f"refund-{refund.id}",
                detail=reason,
            )


@retry_on_conflict
async def confirm_refund(
    refund_id: int, stripe_refund_id: str, *, stripe_event_id: str | None = None
) -> None:
    """Stripe made the refund: record it once and move the order to (PARTIALLY_)REFUNDED."""
    refund = await Refund.get(id=refund_id)
    async with in_transaction():
        await Order.filter(id=refund.order_id).select_for_update().get()  # type: ignore[attr-defined]
        if not await move_refund(
            refund_id,
            from_=RefundStatus.PENDING,
            to=RefundStatus.SUCCEEDED,
            stripe_refund_id=stripe_refund_id,
        ):
            return
        order = await Order.get(id=refund.order_id)  # type: ignore[attr-defined]
        await ledger.record(
            order.id,
            PaymentEventKind.REFUND_SUCCEEDED,
            amount=refund.amount_minor_units,
            currency=order.currency,
            reference=stripe_refund_id,
            stripe_event_id=stripe_event_id,
        )
        await _update_refund_status(order.id)
        await earnings.reverse_order(order.id, reference=f"refund-{refund_id}")
        await notify_refunded(order, merchant_id=refund.merchant_id, reference=stripe_refund_id)  # type: ignore[attr-defined]


async def _update_refund_status(order_id: UUID) -> None:
    order = await Order.get(id=order_id)
    if order.status not in REFUNDABLE:
        return
    target = (
        OrderStatus.REFUNDED
        if order.refunded_minor_units >= order.paid_minor_units
        else OrderStatus.PARTIALLY_REFUNDED
    )
    await move_order(order_id, from_=order.status, to=target)


async def reflect_charge_refunds(
    payments: Payments, charge: dict[str, Any], *, stripe_event_id: str | None
) -> UUID | None:
    """`charge.refunded`: confirm our own refunds and record refunds made outside Vermilion (the Stripe
    dashboard). The refunds are listed from Stripe — newer API versions leave them out of the charge —
    and the payment is settled first, so a refund event that overtakes the success event is not lost.
    Returns the order touched, or None for charges that are not ours."""
    intent_id = charge.get("payment_intent")
    attempt = await PaymentAttempt.get_or_none(payment_intent_id=str(intent_id)) if intent_id else None
    if attempt is None:
        return None
    order_id: UUID = attempt.order_id  # type: ignore[attr-defined]
    await settle(await payments.get_intent(str(intent_id)))
    order = await Order.get(id=order_id)
    if order.status == OrderStatus.PENDING_PAYMENT:
        raise PaymentProviderError("The payment has not settled yet; the refund event will be retried.")
    for item in await payments.list_refunds(str(intent_id)):
        if item.status not in (StripeRefundStatus.SUCCEEDED, StripeRefundStatus.PENDING):
            continue
        ours = (item.metadata or {}).get("refund_id", "")
        if ours.isdigit() and await Refund.filter(id=int(ours), order_id=order_id).exists():
            await confirm_refund(int(ours), item.id, stripe_event_id=stripe_event_id)
        elif not await Refund.filter(stripe_refund_id=item.id).exists():
            await _record_external_refund(order_id, item.id, item.amount, stripe_event_id)
    return order_id


@retry_on_conflict
async def _record_external_refund(
    order_id: UUID, stripe_refund_id: str, amount: int, event_id: str | None
) -> None:
    async with in_transaction():
        order = await Order.filter(id=order_id).select_for_update().get()
        if order.status not in REFUNDABLE:
            return
        if await _ledger_has(PaymentEventKind.EXTERNAL_REFUND, stripe_refund_id):
            return
        amount = min(amount, order.paid_minor_units - order.refunded_minor_units)
        if amount <= 0:
            return
        await Order.filter(id=order_id).update(refunded_minor_units=F("refunded_minor_units") + amount)
        await ledger.record(
            order_id,
            PaymentEventKind.EXTERNAL_REFUND,
            amount=amount,
            currency=order.currency,
            reference=stripe_refund_id,
            stripe_event_id=event_id,
            detail="Refunded outside Vermilion",
        )
        await _update_refund_status(order_id)
        await earnings.reverse_order(order_id, reference=f"external-{stripe_refund_id}")
        await notify_refunded(order, merchant_id=None, reference=stripe_refund_id)


async def _ledger_has(kind: PaymentEventKind, reference: str) -> bool:
    return await PaymentEvent.filter(kind=kind, reference=reference).exists()
