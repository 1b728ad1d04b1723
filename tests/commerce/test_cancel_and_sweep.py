"""Calling off unpaid orders: `cancel_order` by a person, `sweep_expired` when the reservation ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce.fulfilment import fulfil
from commerce.orders import cancel_order
from commerce.payments import IntentStatus
from commerce.reservations import sweep_expired
from core.errors import DomainError, ErrorCode
from models import AttemptStatus, Order, OrderStatus, PaymentAttempt, ProductVariant, StockState
from tests.commerce.factories import (
    create_paid_order,
    create_pending_order,
    create_user,
    create_variant,
    intent_of,
)
from tests.commerce.fake_payments import FakePayments


async def stock_of(variant: ProductVariant) -> int:
    return (await ProductVariant.get(id=variant.id)).stock


async def test_the_buyer_cancels_an_unpaid_order(db: str, payments: FakePayments) -> None:
    buyer = await create_user()
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, buyer=buyer, variant=variant, quantity=2)

    order = await cancel_order(payments=payments, viewer_id=buyer.id, order_id=started.order.id)

    assert (order.status, order.stock_state, order.cancel_reason) == (
        OrderStatus.CANCELLED,
        StockState.RELEASED,
        "BY_BUYER",
    )
    assert await stock_of(variant) == 5
    assert (await payments.get_intent(intent_of(started))).status == IntentStatus.CANCELED


async def test_a_merchant_of_the_order_cancels_it_too(db: str, payments: FakePayments) -> None:
    merchant = await create_user()
    started = await create_pending_order(payments=payments, variant=await create_variant(merchant=merchant))

    order = await cancel_order(payments=payments, viewer_id=merchant.id, order_id=started.order.id)

    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELLED, "BY_MERCHANT")


async def test_a_paid_order_cannot_be_cancelled(db: str, payments: FakePayments) -> None:
    buyer = await create_user()
    variant = await create_variant(stock=5)
    paid = await create_paid_order(payments=payments, buyer=buyer, variant=variant)

    with pytest.raises(DomainError) as refused:
        await cancel_order(payments=payments, viewer_id=buyer.id, order_id=paid.id)

    assert refused.value.code == ErrorCode.INVALID_TRANSITION
    assert (await Order.get(id=paid.id)).status == OrderStatus.PAID
    assert await stock_of(variant) == 4


async def test_a_payment_that_just_succeeded_wins_over_the_cancel(db: str, payments: FakePayments) -> None:
    buyer = await create_user()
    started = await create_pending_order(payments=payments, buyer=buyer)
    payments.succeed(intent_of(started))  # the webhook has not arrived yet

    with pytest.raises(DomainError) as refused:
        await cancel_order(payments=payments, viewer_id=buyer.id, order_id=started.order.id)

    assert refused.value.code == ErrorCode.INVALID_TRANSITION
    assert (await Order.get(id=started.order.id)).status == OrderStatus.PAID


async def test_a_payment_in_flight_holds_the_cancel(db: str, payments: FakePayments) -> None:
    buyer = await create_user()
    started = await create_pending_order(payments=payments, buyer=buyer)
    payments.process(intent_of(started))

    with pytest.raises(DomainError) as refused:
        await cancel_order(payments=payments, viewer_id=buyer.id, order_id=started.order.id)

    assert refused.value.code == ErrorCode.CHECKOUT_IN_PROGRESS
    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state) == (OrderStatus.PENDING_PAYMENT, StockState.RESERVED)


async def test_only_a_merchant_fulfils_and_only_a_paid_order(db: str, payments: FakePayments) -> None:
    merchant, buyer = await create_user(), await create_user()
    variant = await create_variant(merchant=merchant)
    pending = await create_pending_order(payments=payments, buyer=buyer, variant=variant)

    with pytest.raises(DomainError) as unpaid:
        await fulfil(viewer_id=merchant.id, order_id=pending.order.id)
    with pytest.raises(DomainError) as not_theirs:
        await fulfil(viewer_id=buyer.id, order_id=pending.order.id)

    assert unpaid.value.code == ErrorCode.INVALID_TRANSITION
    assert not_theirs.value.code == ErrorCode.FORBIDDEN
    paid = await create_paid_order(payments=payments, variant=variant)
    assert (await fulfil(viewer_id=merchant.id, order_id=paid.id)).order.status == OrderStatus.FULFILLED


async def test_the_sweep_cancels_expired_reservations_only(db: str, payments: FakePayments) -> None:
    variant = await create_variant(stock=5)
    expiring = await create_pending_order(
        payments=payments, variant=variant, reservation=timedelta(minutes=5)
    )
    lasting = await create_pending_order(payments=payments, variant=variant, reservation=timedelta(hours=1))
    later = expiring.order.reserved_until + timedelta(seconds=1)

    report = await sweep_expired(payments, now=later)

    assert (report.expired, report.paid, report.skipped) == (1, 0, 0)
    gone = await Order.get(id=expiring.order.id)
    assert (gone.status, gone.stock_state, gone.cancel_reason) == (
        OrderStatus.CANCELLED,
        StockState.RELEASED,
        "RESERVATION_EXPIRED",
    )
    assert (await Order.get(id=lasting.order.id)).status == OrderStatus.PENDING_PAYMENT
    assert await stock_of(variant) == 4  # only the lasting order's item is still held
    assert (await payments.get_intent(intent_of(expiring))).status == IntentStatus.CANCELED


async def test_the_sweep_settles_a_payment_that_succeeded_meanwhile(db: str, payments: FakePayments) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    payments.succeed(intent_of(started))

    report = await sweep_expired(payments, now=started.order.reserved_until + timedelta(seconds=1))

    assert (report.expired, report.paid) == (0, 1)
    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state) == (OrderStatus.PAID, StockState.SOLD)
    assert await stock_of(variant) == 4


async def test_the_sweep_leaves_payments_in_flight_and_unreachable_providers_for_later(
    db: str, payments: FakePayments
) -> None:
    processing = await create_pending_order(payments=payments)
    creating = await create_pending_order(payments=payments)
    payments.process(intent_of(processing))
    await PaymentAttempt.filter(id=creating.attempt.id).update(status=AttemptStatus.CREATING)
    later = max(processing.order.reserved_until, creating.order.reserved_until) + timedelta(seconds=1)

    assert (await sweep_expired(payments, now=later)).skipped == 2
    payments.unreachable = True
    await PaymentAttempt.filter(id=creating.attempt.id).update(status=AttemptStatus.CREATED)
    assert (await sweep_expired(payments, now=later)).skipped == 2

    statuses = await Order.filter(id__in=[processing.order.id, creating.order.id]).values_list(
        "status", flat=True
    )
    assert set(statuses) == {OrderStatus.PENDING_PAYMENT}
