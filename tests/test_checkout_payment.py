"""From checkoutStart to a paid order through the API and the Stripe emulator: payment, declines and retries."""

from __future__ import annotations

import pytest

from tests.conftest import GraphQLClient
from tests.shop import (
    CHECKOUT_START,
    PRICE,
    cart_state,
    checkout_input,
    complete,
    emulator_refunds,
    kinds,
    ok,
    read_order,
    refund,
    start,
    stock_of,
    world,
)
from tests.stripe_emulator import DECLINED, pay, stripe_client

pytestmark = pytest.mark.usefixtures("ledger_agrees")  # every order agrees with its ledger afterwards

SHORT_ATTENTION = "Paid after its reservation was released and the stock is gone: refund or restock."


# ---------------------------------------------------------------------------------- full path


async def test_paid_order_sells_stock_and_closes_cart(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    token = w.shopper["token"]
    started = await start(shop, w, 2)
    intent_id = started["payment"]["paymentIntentId"]
    assert await pay(stripe_base, intent_id) == "succeeded"

    order = await complete(shop, started["order"]["id"], token)
    assert order["status"] == "PAID"
    assert order["stockState"] == "SOLD"
    assert order["paid"] == {"minorUnits": 2 * PRICE}
    assert order["paid"]["minorUnits"] == order["total"]["minorUnits"]
    assert order["refundable"] == {"minorUnits": 2 * PRICE}
    assert order["attention"] is None
    assert kinds(order) == ["PAYMENT_INTENT_CREATED", "PAYMENT_SUCCEEDED"]
    succeeded = order["paymentEvents"][1]
    assert succeeded["amount"] == {"minorUnits": 2 * PRICE}
    assert succeeded["reference"] == intent_id
    assert await stock_of(shop, w) == 8
    assert (await cart_state(shop, started["cart"]["id"], token))["status"] == "CLOSED"

    # Settling again changes nothing.
    again = await complete(shop, started["order"]["id"], token)
    assert again["status"] == "PAID"
    assert again["stockState"] == "SOLD"
    assert again["paid"] == {"minorUnits": 2 * PRICE}
    assert again["paymentEvents"] == order["paymentEvents"]
    assert await stock_of(shop, w) == 8


async def test_checkout_complete_before_payment_changes_nothing(shop: GraphQLClient) -> None:
    w = await world(shop, stock=10)
    started = await start(shop, w, 1)
    order = await complete(shop, started["order"]["id"], w.shopper["token"])
    assert order["status"] == "PENDING_PAYMENT"
    assert order["stockState"] == "RESERVED"
    assert kinds(order) == ["PAYMENT_INTENT_CREATED"]
    assert await stock_of(shop, w) == 9


# ------------------------------------------------------------------------------------ declines


async def test_declined_card_releases_stock_and_a_second_card_takes_it_again(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=10)
    token = w.shopper["token"]
    started = await start(shop, w, 3)
    order_id, intent_id = started["order"]["id"], started["payment"]["paymentIntentId"]
    assert await stock_of(shop, w) == 7

    assert await pay(stripe_base, intent_id, DECLINED) == "requires_payment_method"
    failed = await complete(shop, order_id, token)
    assert failed["status"] == "PENDING_PAYMENT"
    assert failed["stockState"] == "RELEASED"
    assert failed["paid"] == {"minorUnits": 0}
    assert kinds(failed) == ["PAYMENT_INTENT_CREATED", "PAYMENT_FAILED"]
    assert await stock_of(shop, w) == 10

    # Settling the decline again neither restocks twice nor records it twice.
    again = await complete(shop, order_id, token)
    assert again["stockState"] == "RELEASED"
    assert kinds(again) == ["PAYMENT_INTENT_CREATED", "PAYMENT_FAILED"]
    assert await stock_of(shop, w) == 10

    assert await pay(stripe_base, intent_id) == "succeeded"
    paid = await complete(shop, order_id, token)
    assert paid["status"] == "PAID"
    assert paid["stockState"] == "SOLD"
    assert paid["attention"] is None
    assert paid["paid"] == {"minorUnits": 3 * PRICE}
    assert paid["payment"]["paymentIntentId"] == intent_id
    assert kinds(paid) == ["PAYMENT_INTENT_CREATED", "PAYMENT_FAILED", "PAYMENT_SUCCEEDED"]
    assert await stock_of(shop, w) == 7
    assert (await cart_state(shop, started["cart"]["id"], token))["status"] == "CLOSED"


async def test_retried_checkout_after_a_decline_reserves_again(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    token = w.shopper["token"]
    started = await start(shop, w, 2)
    order_id, intent_id = started["order"]["id"], started["payment"]["paymentIntentId"]
    assert await pay(stripe_base, intent_id, DECLINED) == "requires_payment_method"
    assert (await complete(shop, order_id, token))["stockState"] == "RELEASED"
    assert await stock_of(shop, w) == 10

    retried = await ok(
        shop, CHECKOUT_START, checkout_input(started["cart"]["id"]), "checkoutStart", token=token
    )
    assert retried["order"]["id"] == order_id
    assert retried["order"]["stockState"] == "RESERVED"
    assert await stock_of(shop, w) == 8
    # The declined PaymentIntent is cancelled, so it can never also succeed; a fresh one replaces it.
    fresh = retried["payment"]["paymentIntentId"]
    assert fresh.startswith("pi_")
    assert fresh != intent_id
    assert retried["payment"]["clientSecret"]
    assert retried["order"]["payment"] == retried["payment"]
    old = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(intent_id)
    assert old["status"] == "canceled"
    assert kinds(retried["order"]) == ["PAYMENT_INTENT_CREATED", "PAYMENT_FAILED", "PAYMENT_INTENT_CREATED"]
    assert [e["reference"] for e in retried["order"]["paymentEvents"]][::2] == [intent_id, fresh]

    # Retrying again with yet another key keeps the fresh intent and takes no more stock.
    again = await ok(
        shop, CHECKOUT_START, checkout_input(started["cart"]["id"]), "checkoutStart", token=token
    )
    assert again["order"]["id"] == order_id
    assert again["payment"]["paymentIntentId"] == fresh
    assert await stock_of(shop, w) == 8

    assert await pay(stripe_base, fresh) == "succeeded"
    paid = await complete(shop, order_id, token)
    assert (paid["status"], paid["stockState"]) == ("PAID", "SOLD")
    assert paid["paid"] == {"minorUnits": 2 * PRICE}
    assert kinds(paid) == [
        "PAYMENT_INTENT_CREATED",
        "PAYMENT_FAILED",
        "PAYMENT_INTENT_CREATED",
        "PAYMENT_SUCCEEDED",
    ]
    assert paid["paymentEvents"][-1]["reference"] == fresh
    assert await stock_of(shop, w) == 8


async def test_paid_after_the_stock_went_elsewhere_is_kept_and_flagged(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=2)
    token = w.shopper["token"]
    started = await start(shop, w, 2)
    order_id, intent_id = started["order"]["id"], started["payment"]["paymentIntentId"]
    assert await pay(stripe_base, intent_id, DECLINED) == "requires_payment_method"
    assert (await complete(shop, order_id, token))["stockState"] == "RELEASED"
    assert await stock_of(shop, w) == 2

    # Meanwhile someone else takes the released stock.
    rival = await start(shop, w, 2, token=w.creator["token"])
    assert rival["order"]["stockState"] == "RESERVED"
    assert await stock_of(shop, w) == 0

    assert await pay(stripe_base, intent_id) == "succeeded"
    paid = await complete(shop, order_id, token)
    assert paid["status"] == "PAID"
    assert paid["stockState"] == "SHORT"
    assert paid["attention"] == SHORT_ATTENTION
    assert paid["paid"] == {"minorUnits": 2 * PRICE}
    assert kinds(paid) == ["PAYMENT_INTENT_CREATED", "PAYMENT_FAILED", "PAYMENT_SUCCEEDED"]
    # Never below zero, and the rival keeps their reservation.
    assert await stock_of(shop, w) == 0
    rival_now = await read_order(shop, rival["order"]["id"], token=w.creator["token"])
    assert rival_now is not None
    assert (rival_now["status"], rival_now["stockState"]) == ("PENDING_PAYMENT", "RESERVED")

    # The merchant can give the money back in full.
    refunded = await refund(shop, order_id, 2 * PRICE, w.merchant["token"])
    assert refunded["order"]["status"] == "REFUNDED"
    assert await emulator_refunds(stripe_base, intent_id) == [2 * PRICE]
