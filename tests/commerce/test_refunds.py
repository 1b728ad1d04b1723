"""Refunds by merchants: never more than their own lines or than was paid, each key refunding once."""

from __future__ import annotations

import pytest

from commerce.orders import settle
from commerce.payments import PaymentProviderError
from commerce.refunds import refund_order
from core.errors import DomainError, ErrorCode
from models import Order, OrderStatus, Refund, RefundStatus
from tests.commerce.factories import (
    create_cart,
    create_paid_order,
    create_pending_order,
    create_user,
    create_variant,
    current_intent_of,
    intent_of,
    start_checkout,
)
from tests.commerce.fake_payments import FakePayments


async def test_partial_then_full_refund(db: str, payments: FakePayments) -> None:
    merchant = await create_user()
    variant = await create_variant(merchant=merchant, price_minor_units=1000)
    order = await create_paid_order(payments=payments, variant=variant, quantity=3)

    await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=1000)
    assert (await Order.get(id=order.id)).status == OrderStatus.PARTIALLY_REFUNDED
    last = await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=2000)

    after = await Order.get(id=order.id)
    assert (after.status, after.refunded_minor_units) == (OrderStatus.REFUNDED, 3000)
    assert last.status == RefundStatus.SUCCEEDED
    assert payments.refunded(await current_intent_of(order)) == 3000


async def test_never_more_than_was_paid(db: str, payments: FakePayments) -> None:
    merchant = await create_user()
    order = await create_paid_order(
        payments=payments, variant=await create_variant(merchant=merchant, price_minor_units=1000)
    )
    await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=600)

    with pytest.raises(DomainError) as refused:
        await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=401)

    assert refused.value.code == ErrorCode.REFUND_EXCEEDS_PAID
    assert "4.00 CNY" in refused.value.message
    assert (await Order.get(id=order.id)).refunded_minor_units == 600
    assert payments.calls.count("refund") == 1


async def test_a_merchant_refunds_only_up_to_their_own_lines(db: str, payments: FakePayments) -> None:
    ours, theirs = await create_user(), await create_user()
    buyer = await create_user()
    cart = await create_cart(
        buyer=buyer,
        lines=[
            (await create_variant(merchant=ours, price_minor_units=1000), 1),
            (await create_variant(merchant=theirs, price_minor_units=5000), 1),
        ],
    )
    started = await start_checkout(payments=payments, cart=cart, buyer=buyer)
    payments.succeed(intent_of(started))
    await settle(await payments.get_intent(intent_of(started)))

    with pytest.raises(DomainError) as refused:
        await refund_order(payments=payments, viewer_id=ours.id, order_id=started.order.id, amount=1001)
    await refund_order(payments=payments, viewer_id=theirs.id, order_id=started.order.id, amount=5000)

    assert refused.value.code == ErrorCode.REFUND_EXCEEDS_PAID
    order = await Order.get(id=started.order.id)
    assert (order.status, order.refunded_minor_units) == (OrderStatus.PARTIALLY_REFUNDED, 5000)


async def test_the_same_key_is_the_same_refund(db: str, payments: FakePayments) -> None:
    merchant = await create_user()
    order = await create_paid_order(
        payments=payments, variant=await create_variant(merchant=merchant, price_minor_units=1000)
    )

    first = await refund_order(
        payments=payments, viewer_id=merchant.id, order_id=order.id, amount=300, idempotency_key="r1"
    )
    again = await refund_order(
        payments=payments, viewer_id=merchant.id, order_id=order.id, amount=300, idempotency_key="r1"
    )
    with pytest.raises(DomainError) as other_amount:
        await refund_order(
            payments=payments, viewer_id=merchant.id, order_id=order.id, amount=400, idempotency_key="r1"
        )

    assert again.id == first.id
    assert other_amount.value.code == ErrorCode.INVALID
    assert (await Order.get(id=order.id)).refunded_minor_units == 300
    assert payments.calls.count("refund") == 1


async def test_who_and_what_may_be_refunded(db: str, payments: FakePayments) -> None:
    merchant, buyer = await create_user(), await create_user()
    variant = await create_variant(merchant=merchant)
    paid = await create_paid_order(payments=payments, buyer=buyer, variant=variant)
    pending = await create_pending_order(payments=payments, variant=variant)

    with pytest.raises(DomainError) as by_buyer:
        await refund_order(payments=payments, viewer_id=buyer.id, order_id=paid.id, amount=100)
    with pytest.raises(DomainError) as unpaid:
        await refund_order(payments=payments, viewer_id=merchant.id, order_id=pending.order.id, amount=100)
    with pytest.raises(DomainError) as nothing:
        await refund_order(payments=payments, viewer_id=merchant.id, order_id=paid.id, amount=0)

    assert by_buyer.value.code == ErrorCode.FORBIDDEN
    assert unpaid.value.code == ErrorCode.INVALID_TRANSITION
    assert nothing.value.code == ErrorCode.OUT_OF_RANGE
    assert await Refund.all().count() == 0


async def test_a_refund_the_provider_refuses_gives_its_amount_back(db: str, payments: FakePayments) -> None:
    merchant = await create_user()
    order = await create_paid_order(
        payments=payments, variant=await create_variant(merchant=merchant, price_minor_units=1000)
    )
    payments.unreachable = True

    with pytest.raises(PaymentProviderError):
        await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=1000)

    after = await Order.get(id=order.id)
    assert (after.status, after.refunded_minor_units) == (OrderStatus.PAID, 0)
    assert (await Refund.get(order_id=order.id)).status == RefundStatus.FAILED
    payments.unreachable = False
    await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=1000)
    assert (await Order.get(id=order.id)).status == OrderStatus.REFUNDED
