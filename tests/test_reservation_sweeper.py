"""The reservation sweeper: expired unpaid orders are cancelled and restocked once; paid intents are settled."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from commerce.ledger import ledger_mismatches
from commerce.reservations import sweep_expired
from core.settings import Settings
from models import Order, PaymentEvent
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.shop import (
    PRICE,
    stock_of,
    world,
)
from tests.stripe_emulator import DECLINED, pay
from tests.webhooks import (
    buy,
    deliver_intent,
    intent_at_stripe,
    ledger,
    order_of,
    reserved_until,
    shop_payments,
)

pytestmark = pytest.mark.timeout(120)


# --- the reservation sweeper ---------------------------------------------------------------------


async def test_sweeper_cancels_expired_orders(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await stock_of(shop, w) == 8
    until = await reserved_until(p)

    report = await sweep_expired(shop_payments(shop_settings), now=until + timedelta(seconds=1))

    assert (report.expired, report.paid, report.skipped) == (1, 0, 0)
    order = await order_of(shop, p)
    assert (order["status"], order["cancelReason"], order["stockState"]) == (
        "CANCELLED",
        "RESERVATION_EXPIRED",
        "RELEASED",
    )
    assert await stock_of(shop, w) == 10
    assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "canceled"
    # Stripe tells us about the cancellation afterwards: nothing more happens.
    await deliver_intent(shop, stripe_base, "payment_intent.canceled", p)
    again = await order_of(shop, p)
    assert (again["status"], again["stockState"], ledger(again)) == ("CANCELLED", "RELEASED", ledger(order))
    assert await stock_of(shop, w) == 10
    # A second sweep finds nothing.
    report = await sweep_expired(shop_payments(shop_settings), now=until + timedelta(hours=1))
    assert (report.expired, report.paid, report.skipped) == (0, 0, 0)
    assert await ledger_mismatches() == []


async def test_sweeper_does_not_restock_twice_after_a_decline(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    await deliver_intent(shop, stripe_base, "payment_intent.payment_failed", p)
    assert await stock_of(shop, w) == 10

    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(p) + timedelta(seconds=1)
    )

    assert report.expired == 1
    order = await order_of(shop, p)
    assert (order["status"], order["cancelReason"], order["stockState"]) == (
        "CANCELLED",
        "RESERVATION_EXPIRED",
        "RELEASED",
    )
    assert await stock_of(shop, w) == 10
    assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "canceled"
    assert await ledger_mismatches() == []


async def test_sweeper_settles_an_intent_that_already_succeeded(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id) == "succeeded"  # the webhook has not come yet

    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(p) + timedelta(seconds=1)
    )

    assert (report.expired, report.paid, report.skipped) == (0, 1, 0)
    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["cancelReason"]) == ("PAID", "SOLD", None)
    assert order["paid"]["minorUnits"] == 2 * PRICE
    assert await stock_of(shop, w) == 8
    assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "succeeded"
    # The webhook, when it comes, adds nothing.
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert ledger(await order_of(shop, p)) == ledger(order)
    assert await PaymentEvent.filter(order_id=p.pk, kind="PAYMENT_SUCCEEDED").count() == 1
    assert await ledger_mismatches() == []


async def test_sweeper_leaves_unexpired_orders_alone(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    early = await buy(shop, w, 1)
    late = await buy(shop, w, 2, buyer=await sign_up(shop, f"late{uuid.uuid4().hex[:6]}"))
    await Order.filter(id=late.pk).update(reserved_until=(await reserved_until(early)) + timedelta(hours=1))
    assert await stock_of(shop, w) == 7

    # Just before anything expires: nothing happens, not even at Stripe.
    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(early) - timedelta(seconds=1)
    )
    assert (report.expired, report.paid, report.skipped) == (0, 0, 0)
    for p in (early, late):
        order = await order_of(shop, p)
        assert (order["status"], order["stockState"], order["cancelReason"]) == (
            "PENDING_PAYMENT",
            "RESERVED",
            None,
        )
        assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "requires_payment_method"
    assert await stock_of(shop, w) == 7

    # Once the first has expired: only it goes.
    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(early) + timedelta(seconds=1)
    )
    assert (report.expired, report.paid, report.skipped) == (1, 0, 0)
    assert (await order_of(shop, early))["status"] == "CANCELLED"
    kept = await order_of(shop, late)
    assert (kept["status"], kept["stockState"]) == ("PENDING_PAYMENT", "RESERVED")
    assert (await intent_at_stripe(stripe_base, late.intent_id))["status"] == "requires_payment_method"
    assert await stock_of(shop, w) == 8
    # The one left can still be paid.
    assert await pay(stripe_base, late.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", late)
    assert (await order_of(shop, late))["status"] == "PAID"
    assert await stock_of(shop, w) == 8
    assert await ledger_mismatches() == []
