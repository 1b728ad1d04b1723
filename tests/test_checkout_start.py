"""checkoutStart through the API: refusals and their input paths, stock reservation and idempotency."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import GraphQLClient
from tests.shop import (
    ADDRESS,
    CART_CREATE,
    CHECKOUT_START,
    PRICE,
    cart_state,
    cart_with,
    checkout_input,
    complete,
    kinds,
    ok,
    problems,
    refused,
    start,
    stock_of,
    world,
)
from tests.stripe_emulator import pay, stripe_client

pytestmark = pytest.mark.usefixtures("ledger_agrees")  # every order agrees with its ledger afterwards


SHIPPING = """query($id: ID!) { order(id: $id) {
  shippingAddress { name line1 line2 city region postalCode country phone } } }"""


# ------------------------------------------------------------------------------ no Stripe configured


async def test_checkout_without_stripe_is_refused_and_creates_nothing(client: GraphQLClient) -> None:
    w = await world(client, stock=5)
    cart = await cart_with(client, w, 2)
    errors = await refused(
        client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert problems(errors) == [(None, "PAYMENTS_NOT_CONFIGURED")]
    assert await stock_of(client, w) == 5
    state = await cart_state(client, cart["id"], w.shopper["token"])
    assert state["status"] == "OPEN"
    assert state["order"] is None


async def test_checkout_input_is_checked_before_the_payment_provider(client: GraphQLClient) -> None:
    w = await world(client, stock=5)
    cart = await cart_with(client, w, 1)
    bad = checkout_input(cart["id"], shippingAddress={**ADDRESS, "country": "China"}, email="not-an-email")

    errors = await refused(client, CHECKOUT_START, bad, "checkoutStart", token=w.shopper["token"])

    # What is wrong with the input comes first, even where no payment provider is configured.
    assert sorted(problems(errors)) == [
        (["input", "email"], "INVALID"),
        (["input", "shippingAddress", "country"], "INVALID"),
    ]
    assert await stock_of(client, w) == 5


# ---------------------------------------------------------------------------------- input validation


async def test_bad_email_is_refused(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w)
    variables = checkout_input(cart["id"], email="not-an-email")
    errors = await refused(shop, CHECKOUT_START, variables, "checkoutStart", token=w.shopper["token"])
    assert problems(errors) == [(["input", "email"], "INVALID")]
    assert await stock_of(shop, w) == 10
    assert (await cart_state(shop, cart["id"], w.shopper["token"]))["status"] == "OPEN"


async def test_every_address_problem_is_reported_at_its_path(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w)
    address = {**ADDRESS, "name": "  ", "line1": "", "city": "", "postalCode": "", "country": "China"}
    variables = checkout_input(cart["id"], shippingAddress=address)
    errors = await refused(shop, CHECKOUT_START, variables, "checkoutStart", token=w.shopper["token"])
    at = ["input", "shippingAddress"]
    assert problems(errors) == [
        ([*at, "name"], "REQUIRED"),
        ([*at, "line1"], "REQUIRED"),
        ([*at, "city"], "REQUIRED"),
        ([*at, "postalCode"], "REQUIRED"),
        ([*at, "country"], "INVALID"),
    ]
    assert await stock_of(shop, w) == 10


@pytest.mark.parametrize("country", ["China", "C", "C1", "", "CHN"])
async def test_bad_country_is_refused(shop: GraphQLClient, country: str) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w)
    variables = checkout_input(cart["id"], shippingAddress={**ADDRESS, "country": country})
    errors = await refused(shop, CHECKOUT_START, variables, "checkoutStart", token=w.shopper["token"])
    assert problems(errors) == [(["input", "shippingAddress", "country"], "INVALID")]


@pytest.mark.parametrize("key", ["", "   ", "k" * 201])
async def test_bad_idempotency_key_is_refused(shop: GraphQLClient, key: str) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w)
    variables = checkout_input(cart["id"])
    variables["input"]["idempotencyKey"] = key
    errors = await refused(shop, CHECKOUT_START, variables, "checkoutStart", token=w.shopper["token"])
    assert problems(errors) == [(["input", "idempotencyKey"], "INVALID")]
    assert (await cart_state(shop, cart["id"], w.shopper["token"]))["order"] is None


async def test_several_input_problems_come_together(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w)
    variables = checkout_input(
        cart["id"], key=" ", email="a@b", shippingAddress={**ADDRESS, "city": " ", "country": "zz1"}
    )
    errors = await refused(shop, CHECKOUT_START, variables, "checkoutStart", token=w.shopper["token"])
    assert problems(errors) == [
        (["input", "idempotencyKey"], "INVALID"),
        (["input", "email"], "INVALID"),
        (["input", "shippingAddress", "city"], "REQUIRED"),
        (["input", "shippingAddress", "country"], "INVALID"),
    ]


async def test_empty_cart_is_refused(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = (await ok(shop, CART_CREATE, {"input": {"lines": []}}, "cartCreate", token=w.shopper["token"]))[
        "cart"
    ]
    errors = await refused(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert problems(errors) == [(["input", "cartId"], "CART_EMPTY")]
    state = await cart_state(shop, cart["id"], w.shopper["token"])
    assert state["status"] == "OPEN"
    assert state["order"] is None


async def test_someone_elses_cart_is_not_found(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w, 2)
    for kw in ({"token": w.creator["token"]}, {"anonymous": True}):
        errors = await refused(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", **kw)
        assert problems(errors) == [(["input", "cartId"], "NOT_FOUND")]
    assert await stock_of(shop, w) == 10
    state = await cart_state(shop, cart["id"], w.shopper["token"])
    assert state["status"] == "OPEN"
    assert state["order"] is None


async def test_signed_in_checkout_defaults_to_the_account_email(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w)
    variables = checkout_input(cart["id"])
    del variables["input"]["email"]
    started = await ok(shop, CHECKOUT_START, variables, "checkoutStart", token=w.shopper["token"])
    assert started["order"]["email"] == f"{w.shopper['user']['handle']}@example.com"


# --------------------------------------------------------------------------------- reservation


async def test_checkout_start_reserves_stock(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    started = await start(shop, w, 3)
    order = started["order"]
    assert order["status"] == "PENDING_PAYMENT"
    assert order["stockState"] == "RESERVED"
    assert order["total"] == {"minorUnits": 3 * PRICE, "currency": "CNY"}
    assert order["paid"] == {"minorUnits": 0}
    assert order["refunded"] == {"minorUnits": 0}
    assert order["email"] == "buyer@example.com"
    assert [(ln["quantity"], ln["sku"], ln["unitPrice"]["minorUnits"]) for ln in order["lines"]] == [
        (3, "VLT-01", PRICE)
    ]
    assert order["lines"][0]["sourceNote"] == {"id": w.note["id"]}
    assert started["payment"]["clientSecret"]
    assert started["payment"]["paymentIntentId"].startswith("pi_")
    assert order["payment"] == started["payment"]
    assert kinds(order) == ["PAYMENT_INTENT_CREATED"]
    assert order["paymentEvents"][0]["reference"] == started["payment"]["paymentIntentId"]
    assert await stock_of(shop, w) == 7
    assert (await cart_state(shop, started["cart"]["id"], w.shopper["token"]))["status"] == "ORDERED"
    shipping = (await shop.data(SHIPPING, {"id": order["id"]}, token=w.shopper["token"]))["order"]
    assert shipping["shippingAddress"] == {
        "name": "林小红",
        "line1": "南京西路 1266 号",
        "line2": None,
        "city": "上海",
        "region": None,
        "postalCode": "200040",
        "country": "CN",
        "phone": None,
    }

    intent = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(
        started["payment"]["paymentIntentId"]
    )
    assert intent["amount"] == 3 * PRICE
    assert intent["currency"] == "cny"
    assert intent["metadata"]["order_id"]


async def test_out_of_stock_changes_nothing(shop: GraphQLClient) -> None:
    w = await world(shop, stock=2)
    cart = await cart_with(shop, w, 3)
    errors = await refused(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert problems(errors) == [(["input", "cartId"], "OUT_OF_STOCK")]
    assert await stock_of(shop, w) == 2
    state = await cart_state(shop, cart["id"], w.shopper["token"])
    assert state["status"] == "OPEN"
    assert state["order"] is None


# --------------------------------------------------------------------------------- idempotency


async def test_checkout_start_is_idempotent_per_cart(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    token = w.shopper["token"]
    cart = await cart_with(shop, w, 2)
    key = str(uuid.uuid4())
    first = await ok(shop, CHECKOUT_START, checkout_input(cart["id"], key), "checkoutStart", token=token)
    again = await ok(shop, CHECKOUT_START, checkout_input(cart["id"], key), "checkoutStart", token=token)
    assert again["order"]["id"] == first["order"]["id"]
    assert again["payment"]["paymentIntentId"] == first["payment"]["paymentIntentId"]
    assert again["payment"]["clientSecret"] == first["payment"]["clientSecret"]

    # A new key on the same unpaid cart carries on with the same order and PaymentIntent.
    other = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=token)
    assert other["order"]["id"] == first["order"]["id"]
    assert other["payment"]["paymentIntentId"] == first["payment"]["paymentIntentId"]
    assert other["order"]["stockState"] == "RESERVED"
    assert kinds(other["order"]) == ["PAYMENT_INTENT_CREATED"]
    # Reserved once, not once per request.
    assert await stock_of(shop, w) == 8

    assert await pay(stripe_base, first["payment"]["paymentIntentId"]) == "succeeded"
    assert (await complete(shop, first["order"]["id"], token))["status"] == "PAID"

    errors = await refused(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=token)
    assert problems(errors) == [(["input", "cartId"], "CART_CLOSED")]
    assert await stock_of(shop, w) == 8
