"""Orders through the API: who may read them, cancelling and fulfilling."""

from __future__ import annotations

import pytest

from tests.conftest import GraphQLClient
from tests.shop import (
    CHECKOUT_COMPLETE,
    CHECKOUT_START,
    ORDER_CANCEL,
    ORDER_FULFILL,
    PRICE,
    cart_with,
    checkout_input,
    ok,
    paid_order,
    problems,
    read_order,
    refused,
    start,
    stock_of,
    world,
)
from tests.stripe_emulator import stripe_client

pytestmark = pytest.mark.usefixtures("ledger_agrees")  # every order agrees with its ledger afterwards


# ------------------------------------------------------------------------------ guests and visibility


async def test_guest_checkout_needs_an_email_and_its_order_is_readable_by_id(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w, 2, anonymous=True)
    variables = checkout_input(cart["id"])
    del variables["input"]["email"]
    errors = await refused(shop, CHECKOUT_START, variables, "checkoutStart", anonymous=True)
    assert problems(errors) == [(["input", "email"], "INVALID")]
    assert await stock_of(shop, w) == 10

    variables = checkout_input(cart["id"], email="guest@example.com")
    started = await ok(shop, CHECKOUT_START, variables, "checkoutStart", anonymous=True)
    order = started["order"]
    assert order["status"] == "PENDING_PAYMENT"
    assert order["email"] == "guest@example.com"
    assert order["total"] == {"minorUnits": 2 * PRICE, "currency": "CNY"}
    assert started["payment"]["clientSecret"]
    assert await stock_of(shop, w) == 8

    seen = await read_order(shop, order["id"], anonymous=True)
    assert seen is not None
    assert seen["id"] == order["id"]
    assert seen["email"] == "guest@example.com"
    assert seen["payment"] == started["payment"]


async def test_a_buyers_order_is_hidden_from_others_but_shown_to_its_merchant(shop: GraphQLClient) -> None:
    w = await world(shop)
    started = await start(shop, w, 1)
    order_id = started["order"]["id"]

    assert await read_order(shop, order_id, token=w.creator["token"]) is None
    assert await read_order(shop, order_id, anonymous=True) is None
    for mutation, field in ((CHECKOUT_COMPLETE, "checkoutComplete"), (ORDER_CANCEL, "orderCancel")):
        for kw in ({"token": w.creator["token"]}, {"anonymous": True}):
            errors = await refused(shop, mutation, {"orderId": order_id}, field, **kw)
            assert problems(errors) == [(["orderId"], "NOT_FOUND")]

    mine = await read_order(shop, order_id, token=w.shopper["token"])
    assert mine is not None
    assert (mine["status"], mine["stockState"]) == ("PENDING_PAYMENT", "RESERVED")
    assert mine["payment"]["clientSecret"] == started["payment"]["clientSecret"]

    theirs = await read_order(shop, order_id, token=w.merchant["token"])
    assert theirs is not None
    assert theirs["id"] == order_id
    assert theirs["lines"][0]["merchant"]["handle"] == w.merchant["user"]["handle"]
    # The client secret is for the buyer alone.
    assert theirs["payment"] == {
        "paymentIntentId": started["payment"]["paymentIntentId"],
        "clientSecret": None,
    }


# -------------------------------------------------------------------------- cancel and fulfil


async def test_cancel_unpaid_order_releases_stock_and_cancels_the_intent(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=10)
    token = w.shopper["token"]
    started = await start(shop, w, 4)
    intent_id = started["payment"]["paymentIntentId"]
    assert await stock_of(shop, w) == 6

    cancelled = (
        await ok(shop, ORDER_CANCEL, {"orderId": started["order"]["id"]}, "orderCancel", token=token)
    )["order"]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["stockState"] == "RELEASED"
    assert cancelled["cancelReason"] == "BY_BUYER"
    assert cancelled["paid"] == {"minorUnits": 0}
    assert await stock_of(shop, w) == 10

    intent = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(intent_id)
    assert intent["status"] == "canceled"

    # Cancelling again is an illegal transition and gives no stock back twice.
    errors = await refused(
        shop, ORDER_CANCEL, {"orderId": started["order"]["id"]}, "orderCancel", token=token
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
    assert await stock_of(shop, w) == 10

    # The cart's order is over: a new key cannot revive it.
    errors = await refused(
        shop, CHECKOUT_START, checkout_input(started["cart"]["id"]), "checkoutStart", token=token
    )
    assert problems(errors) == [(["input", "cartId"], "CART_CLOSED")]
    assert await stock_of(shop, w) == 10


async def test_cancel_paid_order_is_an_invalid_transition(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    errors = await refused(
        shop, ORDER_CANCEL, {"orderId": order["id"]}, "orderCancel", token=w.shopper["token"]
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
    after = await read_order(shop, order["id"], token=w.shopper["token"])
    assert after is not None
    assert (after["status"], after["stockState"]) == ("PAID", "SOLD")
    assert await stock_of(shop, w) == 9
    intent = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(
        order["payment"]["paymentIntentId"]
    )
    assert intent["status"] == "succeeded"


async def test_fulfil_by_merchant_only_and_only_when_paid(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    unpaid = await start(shop, w, 1)
    errors = await refused(
        shop, ORDER_FULFILL, {"orderId": unpaid["order"]["id"]}, "orderFulfill", token=w.merchant["token"]
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]

    order = await paid_order(shop, stripe_base, w, 1)
    errors = await refused(
        shop, ORDER_FULFILL, {"orderId": order["id"]}, "orderFulfill", token=w.shopper["token"]
    )
    assert problems(errors) == [(["orderId"], "FORBIDDEN")]
    errors = await refused(
        shop, ORDER_FULFILL, {"orderId": order["id"]}, "orderFulfill", token=w.creator["token"]
    )
    assert problems(errors) == [(["orderId"], "NOT_FOUND")]
    still = await read_order(shop, order["id"], token=w.shopper["token"])
    assert still is not None
    assert still["status"] == "PAID"

    done = (
        await ok(shop, ORDER_FULFILL, {"orderId": order["id"]}, "orderFulfill", token=w.merchant["token"])
    )["order"]
    assert done["status"] == "FULFILLED"
    assert done["stockState"] == "SOLD"
    assert done["paid"] == {"minorUnits": PRICE}

    errors = await refused(
        shop, ORDER_FULFILL, {"orderId": order["id"]}, "orderFulfill", token=w.merchant["token"]
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
