"""`commerce.webhooks.handle_event` with verified events built by the fake door (no signature, no HTTP)."""

from __future__ import annotations

import pytest

from commerce.payments import PaymentProviderError
from commerce.refunds import refund_order
from commerce.webhooks import handle_event
from models import (
    Order,
    OrderStatus,
    PaymentEvent,
    PaymentEventKind,
    ProductVariant,
    StockState,
    StripeEvent,
)
from tests.commerce.factories import (
    create_paid_order,
    create_pending_order,
    create_user,
    create_variant,
    current_intent_of,
    intent_of,
)
from tests.commerce.fake_payments import FakePayments


async def test_payment_succeeded_settles_the_order(db: str, payments: FakePayments) -> None:
    started = await create_pending_order(payments=payments)
    payments.succeed(intent_of(started))

    touched = await handle_event(payments, payments.event("payment_intent.succeeded", intent_of(started)))

    assert touched == started.order.id
    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state) == (OrderStatus.PAID, StockState.SOLD)


async def test_a_redelivered_event_changes_nothing(db: str, payments: FakePayments) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    payments.decline(intent_of(started))
    event = payments.event("payment_intent.payment_failed", intent_of(started))
    assert await handle_event(payments, event) == started.order.id
    # The shopper retried the card on the same intent, which took the stock again at settle…
    payments.succeed(intent_of(started))
    await handle_event(payments, payments.event("payment_intent.succeeded", intent_of(started)))

    # …so replaying the old failure must not release it.
    assert await handle_event(payments, event) is None
    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state) == (OrderStatus.PAID, StockState.SOLD)
    assert (await ProductVariant.get(id=variant.id)).stock == 4
    assert await PaymentEvent.filter(order_id=order.id, kind=PaymentEventKind.PAYMENT_FAILED).count() == 1


async def test_a_late_failure_is_read_against_the_intent_as_it_is_now(
    db: str, payments: FakePayments
) -> None:
    started = await create_pending_order(payments=payments)
    payments.decline(intent_of(started))
    stale = payments.event("payment_intent.payment_failed", intent_of(started))
    payments.succeed(intent_of(started))  # Stripe delivers out of order

    await handle_event(payments, stale)

    assert (await Order.get(id=started.order.id)).status == OrderStatus.PAID


async def test_the_decline_reason_of_the_event_is_kept(db: str, payments: FakePayments) -> None:
    started = await create_pending_order(payments=payments)
    payments.decline(intent_of(started), "Your card was declined.")
    event = payments.event("payment_intent.payment_failed", intent_of(started))
    payments.intents[intent_of(started)]["last_payment_error"] = None  # the re-read carries no reason

    await handle_event(payments, event)

    failed = await PaymentEvent.get(order_id=started.order.id, kind=PaymentEventKind.PAYMENT_FAILED)
    assert failed.detail == "Your card was declined."
    assert (await Order.get(id=started.order.id)).stock_state == StockState.RELEASED


async def test_events_about_other_objects_are_stored_and_ignored(db: str, payments: FakePayments) -> None:
    foreign = await payments.create_intent(amount=100, currency="CNY", metadata={}, idempotency_key="other")
    payments.succeed(foreign.id)

    assert await handle_event(payments, payments.event("payment_intent.succeeded", foreign.id)) is None
    assert await handle_event(payments, {"id": "evt_x", "type": "customer.created", "data": {}}) is None

    assert await StripeEvent.filter(id="evt_x").exists()
    assert payments.calls.count("get_intent") == 0  # not ours: Stripe is not even asked


async def test_a_refund_made_in_the_dashboard_is_recorded(db: str, payments: FakePayments) -> None:
    order = await create_paid_order(payments=payments, variant=await create_variant(price_minor_units=1000))
    intent_id = await current_intent_of(order)
    payments.refund_outside(intent_id, 400)

    touched = await handle_event(payments, payments.event("charge.refunded", intent_id))
    await handle_event(payments, payments.event("charge.refunded", intent_id))  # a second delivery

    assert touched == order.id
    after = await Order.get(id=order.id)
    assert (after.status, after.refunded_minor_units) == (OrderStatus.PARTIALLY_REFUNDED, 400)
    assert await PaymentEvent.filter(order_id=order.id, kind=PaymentEventKind.EXTERNAL_REFUND).count() == 1


async def test_our_own_refund_is_confirmed_once(db: str, payments: FakePayments) -> None:
    merchant = await create_user()
    order = await create_paid_order(
        payments=payments, variant=await create_variant(merchant=merchant, price_minor_units=1000)
    )
    await refund_order(payments=payments, viewer_id=merchant.id, order_id=order.id, amount=1000)
    intent_id = await current_intent_of(order)

    await handle_event(payments, payments.event("charge.refunded", intent_id))

    kinds = [str(k) for k in await PaymentEvent.filter(order_id=order.id).values_list("kind", flat=True)]
    assert kinds.count(PaymentEventKind.REFUND_SUCCEEDED) == 1
    assert PaymentEventKind.EXTERNAL_REFUND not in kinds
    assert (await Order.get(id=order.id)).status == OrderStatus.REFUNDED


async def test_an_unreachable_provider_leaves_the_event_for_redelivery(
    db: str, payments: FakePayments
) -> None:
    started = await create_pending_order(payments=payments)
    payments.succeed(intent_of(started))
    event = payments.event("payment_intent.succeeded", intent_of(started))
    payments.unreachable = True

    with pytest.raises(PaymentProviderError):
        await handle_event(payments, event)

    assert not await StripeEvent.filter(id=event["id"]).exists()
    payments.unreachable = False
    assert await handle_event(payments, event) == started.order.id
    assert (await Order.get(id=started.order.id)).status == OrderStatus.PAID
