"""Checkout, orders, payments and refunds through the public GraphQL API, against the Stripe emulator.

Every scenario ends by checking that each order's paid and refunded amounts agree with its payment ledger.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from commerce.ledger import ledger_mismatches
from tests.conftest import GraphQLClient
from tests.shop import (
    ADDRESS,
    CART_CREATE,
    CHECKOUT_COMPLETE,
    CHECKOUT_START,
    ORDER,
    ORDER_CANCEL,
    ORDER_FULFILL,
    ORDER_REFUND,
    World,
    cart_with,
    checkout_input,
    ok,
    refused,
    world,
)
from tests.stripe_emulator import pay, stripe_client

PRICE = 12900
DECLINED = "pm_card_chargeCustomerFail"
SHORT_ATTENTION = "Paid after its reservation was released and the stock is gone: refund or restock."

PRODUCT_STOCK = "query($id: ID!) { product(id: $id) { variants { id stock } } }"
CART = "query($id: ID!) { cart(id: $id) { id status order { id } } }"
SHIPPING = """query($id: ID!) { order(id: $id) {
  shippingAddress { name line1 line2 city region postalCode country phone } } }"""


# ---------------------------------------------------------------------------------------------- helpers


def problems(errors: list[dict[str, Any]]) -> list[tuple[list[str] | None, str]]:
    """(field path, code) of each error, in order."""
    return [(e["field"], e["code"]) for e in errors]


def kinds(order: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in order["paymentEvents"]]


async def stock_of(client: GraphQLClient, w: World) -> int:
    product = (await client.data(PRODUCT_STOCK, {"id": w.product["id"]}, anonymous=True))["product"]
    (variant,) = [v for v in product["variants"] if v["id"] == w.variant_id]
    return int(variant["stock"])


async def cart_state(client: GraphQLClient, cart_id: str, token: str) -> dict[str, Any]:
    cart = (await client.data(CART, {"id": cart_id}, token=token))["cart"]
    assert cart is not None
    return dict(cart)


async def read_order(client: GraphQLClient, order_id: str, **kw: Any) -> dict[str, Any] | None:
    order: dict[str, Any] | None = (await client.data(ORDER, {"id": order_id}, **kw))["order"]
    return order


async def start(
    client: GraphQLClient, w: World, quantity: int = 1, *, token: str | None = None
) -> dict[str, Any]:
    """A fresh cart of `quantity` items checked out by `token` (the shopper by default): the payload."""
    bearer = token or w.shopper["token"]
    cart = await cart_with(client, w, quantity, token=bearer)
    payload = await ok(client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=bearer)
    payload["cart"] = cart
    return dict(payload)


async def complete(client: GraphQLClient, order_id: str, token: str) -> dict[str, Any]:
    payload = await ok(client, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", token=token)
    return dict(payload["order"])


async def paid_order(client: GraphQLClient, base: str, w: World, quantity: int = 1) -> dict[str, Any]:
    """A PAID order of the shopper's."""
    started = await start(client, w, quantity)
    assert await pay(base, started["payment"]["paymentIntentId"]) == "succeeded"
    order = await complete(client, started["order"]["id"], w.shopper["token"])
    assert order["status"] == "PAID"
    return order


async def refund(
    client: GraphQLClient, order_id: str, amount: int, token: str, key: str | None = None
) -> dict[str, Any]:
    variables = {"orderId": order_id, "amount": amount, "key": key}
    return dict(await ok(client, ORDER_REFUND, variables, "orderRefund", token=token))


async def emulator_refunds(base: str, intent_id: str) -> list[int]:
    refunds = await stripe_client(base).v1.refunds.list_async({"payment_intent": intent_id})
    return sorted(int(r["amount"]) for r in refunds.data)


@pytest.fixture(autouse=True)
async def _ledger_agrees(db: str) -> Any:
    """After every scenario, each order's paid and refunded amounts agree with its ledger."""
    yield
    assert await ledger_mismatches() == []


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


# ------------------------------------------------------------------------------------- refunds


async def test_partial_then_full_refund_reconciles_with_stripe(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 2)
    order_id, intent_id = order["id"], order["payment"]["paymentIntentId"]
    total = 2 * PRICE
    merchant = w.merchant["token"]

    first = await refund(shop, order_id, 1000, merchant)
    assert first["refund"] == {"amount": {"minorUnits": 1000}, "status": "SUCCEEDED"}
    assert first["order"]["status"] == "PARTIALLY_REFUNDED"
    assert first["order"]["refunded"] == {"minorUnits": 1000}
    assert first["order"]["refundable"] == {"minorUnits": total - 1000}
    assert first["order"]["paid"] == {"minorUnits": total}
    assert await emulator_refunds(stripe_base, intent_id) == [1000]
    assert await ledger_mismatches() == []

    # More than remains: refused, nothing changed here or at Stripe.
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order_id, "amount": total - 999, "key": None},
        "orderRefund",
        token=merchant,
    )
    assert problems(errors) == [(["amountMinorUnits"], "REFUND_EXCEEDS_PAID")]
    unchanged = await read_order(shop, order_id, token=merchant)
    assert unchanged is not None
    assert unchanged["status"] == "PARTIALLY_REFUNDED"
    assert unchanged["refunded"] == {"minorUnits": 1000}
    assert len(unchanged["refunds"]) == 1
    assert await emulator_refunds(stripe_base, intent_id) == [1000]

    rest = await refund(shop, order_id, total - 1000, merchant)
    assert rest["order"]["status"] == "REFUNDED"
    assert rest["order"]["refunded"] == {"minorUnits": total}
    assert rest["order"]["refundable"] == {"minorUnits": 0}
    assert [r["amount"]["minorUnits"] for r in rest["order"]["refunds"]] == [1000, total - 1000]
    assert [r["status"] for r in rest["order"]["refunds"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert kinds(rest["order"]) == [
        "PAYMENT_INTENT_CREATED",
        "PAYMENT_SUCCEEDED",
        "REFUND_SUCCEEDED",
        "REFUND_SUCCEEDED",
    ]
    at_stripe = await emulator_refunds(stripe_base, intent_id)
    assert at_stripe == sorted([1000, total - 1000])
    assert sum(at_stripe) == rest["order"]["refunded"]["minorUnits"]

    # Nothing is left to refund.
    errors = await refused(
        shop, ORDER_REFUND, {"orderId": order_id, "amount": 1, "key": None}, "orderRefund", token=merchant
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
    assert await emulator_refunds(stripe_base, intent_id) == at_stripe


async def test_refund_more_than_paid_changes_nothing(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order["id"], "amount": PRICE + 1, "key": None},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["amountMinorUnits"], "REFUND_EXCEEDS_PAID")]
    after = await read_order(shop, order["id"], token=w.merchant["token"])
    assert after is not None
    assert after["status"] == "PAID"
    assert after["refunded"] == {"minorUnits": 0}
    assert after["refunds"] == []
    assert kinds(after) == ["PAYMENT_INTENT_CREATED", "PAYMENT_SUCCEEDED"]
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == []


async def test_refund_with_the_same_key_refunds_once(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    key = f"refund-{uuid.uuid4()}"
    first = await refund(shop, order["id"], 2500, w.merchant["token"], key)
    second = await refund(shop, order["id"], 2500, w.merchant["token"], key)
    assert first["refund"] == second["refund"] == {"amount": {"minorUnits": 2500}, "status": "SUCCEEDED"}
    assert len(second["order"]["refunds"]) == 1
    assert second["order"]["refunded"] == {"minorUnits": 2500}
    assert second["order"]["status"] == "PARTIALLY_REFUNDED"
    assert kinds(second["order"]).count("REFUND_SUCCEEDED") == 1

    at_stripe = await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"])
    assert at_stripe == [2500]
    assert sum(at_stripe) == second["order"]["refunded"]["minorUnits"]

    # The same key for another amount is refused, and refunds nothing.
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order["id"], "amount": 3000, "key": key},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["idempotencyKey"], "INVALID")]
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == [2500]


async def test_only_the_merchant_may_refund(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    variables = {"orderId": order["id"], "amount": 1000, "key": None}
    errors = await refused(shop, ORDER_REFUND, variables, "orderRefund", token=w.shopper["token"])
    assert problems(errors) == [(["orderId"], "FORBIDDEN")]
    errors = await refused(shop, ORDER_REFUND, variables, "orderRefund", token=w.creator["token"])
    assert problems(errors) == [(["orderId"], "NOT_FOUND")]
    errors = await refused(shop, ORDER_REFUND, variables, "orderRefund", anonymous=True)
    assert problems(errors) == [(None, "UNAUTHENTICATED")]

    after = await read_order(shop, order["id"], token=w.shopper["token"])
    assert after is not None
    assert after["status"] == "PAID"
    assert after["refunded"] == {"minorUnits": 0}
    assert after["refunds"] == []
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == []


async def test_refund_of_an_unpaid_order_is_an_invalid_transition(shop: GraphQLClient) -> None:
    w = await world(shop, stock=10)
    started = await start(shop, w, 1)
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": started["order"]["id"], "amount": 1000, "key": None},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
    after = await read_order(shop, started["order"]["id"], token=w.merchant["token"])
    assert after is not None
    assert (after["status"], after["refunded"], after["refunds"]) == (
        "PENDING_PAYMENT",
        {"minorUnits": 0},
        [],
    )


@pytest.mark.parametrize("amount", [0, -1, -PRICE])
async def test_refund_amount_must_be_positive(shop: GraphQLClient, stripe_base: str, amount: int) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order["id"], "amount": amount, "key": None},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["amountMinorUnits"], "OUT_OF_RANGE")]
    after = await read_order(shop, order["id"], token=w.merchant["token"])
    assert after is not None
    assert (after["status"], after["refunded"], after["refunds"]) == ("PAID", {"minorUnits": 0}, [])
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == []
