"""checkout_start and checkout_complete, called directly with the in-memory payments door."""

from __future__ import annotations

import pytest

from commerce.checkout import checkout_complete
from commerce.orders import settle
from commerce.payments import IntentStatus, PaymentProviderError
from core.errors import DomainError, ErrorCode
from models import (
    AttemptStatus,
    Cart,
    CartStatus,
    Order,
    OrderStatus,
    PaymentAttempt,
    PaymentEvent,
    PaymentEventKind,
    ProductVariant,
    StockState,
)
from tests.commerce.factories import (
    create_cart,
    create_pending_order,
    create_user,
    create_variant,
    intent_of,
    start_checkout,
)
from tests.commerce.fake_payments import FakePayments


async def stock_of(variant: ProductVariant) -> int:
    return (await ProductVariant.get(id=variant.id)).stock


async def test_checkout_reserves_stock_and_creates_one_payment_intent(
    db: str, payments: FakePayments
) -> None:
    buyer = await create_user()
    variant = await create_variant(price_minor_units=1250, stock=5)
    cart = await create_cart(buyer=buyer, lines=[(variant, 2)])

    result = await start_checkout(payments=payments, cart=cart, buyer=buyer)

    order = result.order
    assert (order.status, order.stock_state) == (OrderStatus.PENDING_PAYMENT, StockState.RESERVED)
    assert (order.total_minor_units, order.currency) == (2500, "CNY")
    assert await stock_of(variant) == 3
    assert (await Cart.get(id=cart.id)).status == CartStatus.ORDERED
    intent = await payments.get_intent(intent_of(result))
    assert (intent.amount, intent.currency) == (2500, "CNY")
    assert intent.metadata == {"order_id": str(order.id), "attempt_id": str(result.attempt.id)}
    assert result.attempt.status == AttemptStatus.CREATED


async def test_the_same_key_returns_the_same_order_and_payment_intent(
    db: str, payments: FakePayments
) -> None:
    buyer = await create_user()
    variant = await create_variant(stock=5)
    cart = await create_cart(buyer=buyer, lines=[(variant, 1)])

    first = await start_checkout(payments=payments, cart=cart, buyer=buyer, key="key-1")
    again = await start_checkout(payments=payments, cart=cart, buyer=buyer, key="key-1")

    assert again.order.id == first.order.id
    assert intent_of(again) == intent_of(first)
    assert payments.calls.count("create_intent") == 1
    assert await Order.filter(cart_id=cart.id).count() == 1
    assert await stock_of(variant) == 4  # reserved once


async def test_out_of_stock_reserves_nothing(db: str, payments: FakePayments) -> None:
    buyer = await create_user()
    plenty = await create_variant(stock=5)
    scarce = await create_variant(stock=1)
    cart = await create_cart(buyer=buyer, lines=[(plenty, 2), (scarce, 1)])
    await ProductVariant.filter(id=scarce.id).update(stock=0)  # sold elsewhere after it was added

    with pytest.raises(DomainError) as refused:
        await start_checkout(payments=payments, cart=cart, buyer=buyer)

    assert refused.value.code == ErrorCode.OUT_OF_STOCK
    assert (await stock_of(plenty), await stock_of(scarce)) == (5, 0)
    assert await Order.filter(cart_id=cart.id).count() == 0
    assert (await Cart.get(id=cart.id)).status == CartStatus.OPEN
    assert payments.calls == []


async def test_without_a_payments_door_nothing_is_reserved(db: str) -> None:
    variant = await create_variant(stock=5)
    cart = await create_cart(lines=[(variant, 1)])

    with pytest.raises(DomainError) as refused:
        await start_checkout(payments=None, cart=cart)

    assert refused.value.code == ErrorCode.PAYMENTS_NOT_CONFIGURED
    assert await stock_of(variant) == 5


async def test_a_retry_after_a_decline_re_reserves_and_replaces_the_payment_intent(
    db: str, payments: FakePayments
) -> None:
    buyer = await create_user()
    variant = await create_variant(stock=3)
    cart = await create_cart(buyer=buyer, lines=[(variant, 2)])
    first = await start_checkout(payments=payments, cart=cart, buyer=buyer, key="first")
    payments.decline(intent_of(first))
    await settle(await payments.get_intent(intent_of(first)))
    assert await stock_of(variant) == 3  # released

    retry = await start_checkout(payments=payments, cart=cart, buyer=buyer, key="second")

    assert retry.order.id == first.order.id
    assert intent_of(retry) != intent_of(first)
    assert (await payments.get_intent(intent_of(first))).status == IntentStatus.CANCELED
    assert (await PaymentAttempt.get(id=first.attempt.id)).status == AttemptStatus.REPLACED
    assert retry.order.stock_state == StockState.RESERVED
    assert await stock_of(variant) == 1


async def test_a_retry_when_the_stock_went_meanwhile_is_out_of_stock(db: str, payments: FakePayments) -> None:
    buyer = await create_user()
    variant = await create_variant(stock=1)
    started = await create_pending_order(payments=payments, buyer=buyer, variant=variant)
    payments.decline(intent_of(started))
    await settle(await payments.get_intent(intent_of(started)))
    await ProductVariant.filter(id=variant.id).update(stock=0)  # someone else bought it

    cart = await Cart.get(id=started.order.cart_id)  # type: ignore[attr-defined]
    with pytest.raises(DomainError) as refused:
        await start_checkout(payments=payments, cart=cart, buyer=buyer, key="retry")

    assert refused.value.code == ErrorCode.OUT_OF_STOCK
    assert (await Order.get(id=started.order.id)).stock_state == StockState.RELEASED
    assert await stock_of(variant) == 0


async def test_a_provider_outage_leaves_a_failed_attempt_the_next_call_claims(
    db: str, payments: FakePayments
) -> None:
    buyer = await create_user()
    cart = await create_cart(buyer=buyer, lines=[(await create_variant(), 1)])
    payments.unreachable = True

    with pytest.raises(PaymentProviderError):
        await start_checkout(payments=payments, cart=cart, buyer=buyer, key="k")
    attempt = await PaymentAttempt.get(order__cart_id=cart.id)
    assert attempt.status == AttemptStatus.FAILED

    payments.unreachable = False
    result = await start_checkout(payments=payments, cart=cart, buyer=buyer, key="k")

    assert result.attempt.id == attempt.id
    assert result.attempt.status == AttemptStatus.CREATED
    assert result.attempt.payment_intent_id in payments.intents


async def test_checkout_complete_settles_from_the_intent_when_the_webhook_is_late(
    db: str, payments: FakePayments
) -> None:
    buyer = await create_user()
    started = await create_pending_order(payments=payments, buyer=buyer)
    payments.succeed(intent_of(started))

    order = await checkout_complete(payments=payments, viewer_id=buyer.id, order_id=started.order.id)
    again = await checkout_complete(payments=payments, viewer_id=buyer.id, order_id=started.order.id)

    assert (order.status, again.status) == (OrderStatus.PAID, OrderStatus.PAID)
    kinds = await PaymentEvent.filter(order_id=order.id).values_list("kind", flat=True)
    assert sorted(kinds) == [PaymentEventKind.PAYMENT_INTENT_CREATED, PaymentEventKind.PAYMENT_SUCCEEDED]
