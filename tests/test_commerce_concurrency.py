"""Commerce stays exact when requests arrive at once: stock is never oversold, a cart is charged once,
a payment settles once, refunds never exceed the payment, concurrent cart adds all count.

Every test fires many API calls through the in-process client with `asyncio.gather`. On PostgreSQL the
requests really interleave on a connection pool; on SQLite they interleave between statements. Both must
give the same, right answer (COMMERCE.md: never oversold, never charged twice).
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import Counter
from typing import Any

import pytest
from argon2 import PasswordHasher

import social.accounts
from commerce.ledger import ledger_mismatches
from models import (
    Order,
    PaymentAttempt,
    PaymentEvent,
    PaymentEventKind,
    ProductVariant,
    Refund,
    StockState,
)
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.shop import (
    CART_CREATE,
    CART_LINES_ADD,
    CHECKOUT_COMPLETE,
    CHECKOUT_START,
    ORDER_REFUND,
    World,
    cart_with,
    checkout_input,
    ok,
    world,
)
from tests.stripe_emulator import DECLINED, event_payload, pay, sign_event, stripe_client

CART_STATUS = "query($id: ID!) { cart(id: $id) { status totalQuantity } }"


def payload_of(body: dict[str, Any], field: str) -> dict[str, Any]:
    """A mutation's payload; a top-level error (an unexpected exception, not a UserError) fails here."""
    assert "errors" not in body, f"{field} raised instead of answering with a UserError: {body['errors']}"
    result: dict[str, Any] = body["data"][field]
    return result


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def variant_stock(w: World) -> int:
    _, pk = base64.b64decode(w.variant_id).decode().split(":")  # a Relay global id
    variant = await ProductVariant.get(id=int(pk))
    return variant.stock


@pytest.fixture
def quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the cheapest parameters for crowds of buyers: sign-up stays the real mutation, but
    fifty hashes at the recommended cost would take most of the test's time (buyers never log in)."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(social.accounts, "hash_password", hasher.hash)


async def buyers(shop: GraphQLClient, count: int) -> list[dict[str, Any]]:
    """`count` shoppers, each signed up through the API."""
    tag = uuid.uuid4().hex[:6]
    return list(await asyncio.gather(*(sign_up(shop, f"b{tag}{i}") for i in range(count))))


async def race_checkouts(
    shop: GraphQLClient, w: World, people: list[dict[str, Any]], quantity: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every buyer fills a cart, then all of them check out at the same moment: (carts, payloads)."""
    carts = list(await asyncio.gather(*(cart_with(shop, w, quantity, token=p["token"]) for p in people)))
    bodies = await asyncio.gather(
        *(
            shop.execute(CHECKOUT_START, checkout_input(cart["id"]), token=p["token"])
            for cart, p in zip(carts, people, strict=True)
        )
    )
    return carts, [payload_of(body, "checkoutStart") for body in bodies]


@pytest.mark.usefixtures("quick_passwords")
async def test_fifty_buyers_for_ten_items_exactly_ten_orders(shop: GraphQLClient) -> None:
    w = await world(shop, stock=10)
    people = await buyers(shop, 50)

    carts, results = await race_checkouts(shop, w, people, 1)

    won = [r for r in results if r["errors"] == []]
    lost = [r for r in results if r["errors"] != []]
    assert len(won) == 10, f"{len(won)} of 50 buyers got an order for 10 items"
    assert all(codes(r) == ["OUT_OF_STOCK"] for r in lost), Counter(tuple(codes(r)) for r in lost)
    assert all(r["order"]["stockState"] == "RESERVED" for r in won)
    assert len({r["order"]["id"] for r in won}) == 10
    assert all(r["payment"]["paymentIntentId"].startswith("pi_") for r in won)
    assert await variant_stock(w) == 0
    assert await Order.all().count() == 10
    assert await Order.filter(stock_state=StockState.RESERVED).count() == 10
    assert await PaymentAttempt.filter(payment_intent_id__isnull=False).count() == 10

    # the losers' carts are untouched: still open, to try again or change
    losers = [(cart, p) for cart, p, r in zip(carts, people, results, strict=True) if r["errors"]]
    states = await asyncio.gather(
        *(shop.data(CART_STATUS, {"id": cart["id"]}, token=p["token"]) for cart, p in losers)
    )
    assert [s["cart"] for s in states] == [{"status": "OPEN", "totalQuantity": 1}] * 40


@pytest.mark.usefixtures("quick_passwords")
async def test_buyers_of_three_each_never_take_more_than_the_stock(shop: GraphQLClient) -> None:
    w = await world(shop, stock=10)
    people = await buyers(shop, 12)

    _, results = await race_checkouts(shop, w, people, 3)

    won = [r for r in results if r["errors"] == []]
    assert all(codes(r) == ["OUT_OF_STOCK"] for r in results if r["errors"])
    stock = await variant_stock(w)
    reserved = sum(line["quantity"] for r in won for line in r["order"]["lines"])
    assert stock >= 0
    assert reserved <= 10
    assert stock + reserved == 10, "stock was lost or invented"
    # three orders of 3 fit; a fourth does not
    assert len(won) == 3
    assert stock == 1
    assert await Order.all().count() == 3


async def test_same_key_twenty_times_at_once_one_order_one_payment_intent(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w, 2)
    variables = checkout_input(cart["id"], key=f"retry-{uuid.uuid4()}")

    bodies = await asyncio.gather(
        *(shop.execute(CHECKOUT_START, variables, token=w.shopper["token"]) for _ in range(20))
    )
    results = [payload_of(body, "checkoutStart") for body in bodies]

    assert [r["errors"] for r in results] == [[]] * 20
    assert len({r["order"]["id"] for r in results}) == 1
    intents = {r["payment"]["paymentIntentId"] for r in results}
    assert len(intents) == 1 and intents.pop().startswith("pi_")
    assert len({r["payment"]["clientSecret"] for r in results}) == 1
    await _one_order_one_intent(w, quantity=2)


async def test_twenty_keys_at_once_for_one_cart_one_order_one_payment_intent(shop: GraphQLClient) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w, 2)

    bodies = await asyncio.gather(
        *(
            shop.execute(
                CHECKOUT_START,
                checkout_input(cart["id"], key=f"k{i}-{uuid.uuid4()}"),
                token=w.shopper["token"],
            )
            for i in range(20)
        )
    )
    results = [payload_of(body, "checkoutStart") for body in bodies]

    assert [r["errors"] for r in results] == [[]] * 20
    assert len({r["order"]["id"] for r in results}) == 1
    intents = {r["payment"]["paymentIntentId"] for r in results}
    assert len(intents) == 1 and intents.pop().startswith("pi_")
    await _one_order_one_intent(w, quantity=2)


async def test_ten_retries_at_once_after_a_decline_make_one_fresh_intent(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=10)
    cart = await cart_with(shop, w, 2)
    started = await ok(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    order_id, declined = started["order"]["id"], started["payment"]["paymentIntentId"]
    assert await pay(stripe_base, declined, DECLINED) == "requires_payment_method"
    done = await ok(
        shop, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", token=w.shopper["token"]
    )
    assert done["order"]["stockState"] == "RELEASED"
    assert await variant_stock(w) == 10

    # the shopper's retry arrives ten times at once, each with a new key
    bodies = await asyncio.gather(
        *(
            shop.execute(CHECKOUT_START, checkout_input(cart["id"]), token=w.shopper["token"])
            for _ in range(10)
        )
    )
    results = [payload_of(body, "checkoutStart") for body in bodies]

    assert [r["errors"] for r in results] == [[]] * 10
    assert {r["order"]["id"] for r in results} == {order_id}
    fresh = {r["payment"]["paymentIntentId"] for r in results}
    assert len(fresh) == 1, f"{len(fresh)} PaymentIntents for one retried order: {fresh}"
    intent = fresh.pop()
    assert intent.startswith("pi_") and intent != declined
    assert await variant_stock(w) == 8, "the released stock was taken again more than once"
    assert await PaymentAttempt.filter(payment_intent_id__isnull=False).count() == 2
    assert await PaymentEvent.filter(kind=PaymentEventKind.PAYMENT_INTENT_CREATED).count() == 2
    old = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(declined)
    assert old["status"] == "canceled"

    assert await pay(stripe_base, intent) == "succeeded"
    paid = await ok(
        shop, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", token=w.shopper["token"]
    )
    assert (paid["order"]["status"], paid["order"]["stockState"]) == ("PAID", "SOLD")
    assert await variant_stock(w) == 8
    assert await ledger_mismatches() == []


async def _one_order_one_intent(w: World, *, quantity: int) -> None:
    assert await Order.all().count() == 1
    assert await PaymentAttempt.all().count() == 1
    assert await PaymentAttempt.filter(payment_intent_id__isnull=False).count() == 1
    assert await PaymentEvent.filter(kind=PaymentEventKind.PAYMENT_INTENT_CREATED).count() == 1
    assert await variant_stock(w) == 10 - quantity, "the stock was reserved more than once"


async def _paid_order(shop: GraphQLClient, stripe_base: str, w: World, quantity: int) -> dict[str, Any]:
    """An order of `quantity` items, paid at the emulator and settled through checkoutComplete."""
    cart = await cart_with(shop, w, quantity)
    started = await ok(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    done = await ok(
        shop,
        CHECKOUT_COMPLETE,
        {"orderId": started["order"]["id"]},
        "checkoutComplete",
        token=w.shopper["token"],
    )
    assert done["order"]["status"] == "PAID"
    return {**done["order"], "paymentIntentId": started["payment"]["paymentIntentId"]}


async def test_ten_checkout_completes_at_once_settle_once(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    cart = await cart_with(shop, w, 3)
    started = await ok(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    order_id = started["order"]["id"]
    intent = started["payment"]["paymentIntentId"]
    assert await pay(stripe_base, intent) == "succeeded"

    bodies = await asyncio.gather(
        *(shop.execute(CHECKOUT_COMPLETE, {"orderId": order_id}, token=w.shopper["token"]) for _ in range(10))
    )
    results = [payload_of(body, "checkoutComplete") for body in bodies]

    assert [r["errors"] for r in results] == [[]] * 10
    assert {r["order"]["status"] for r in results} == {"PAID"}
    assert {r["order"]["paid"]["minorUnits"] for r in results} == {3 * 12900}
    order = await Order.get(id=(await Order.first().values_list("id", flat=True)))
    assert order.status == "PAID"
    assert order.stock_state == StockState.SOLD
    assert order.paid_minor_units == 3 * 12900
    paid_events = await PaymentEvent.filter(kind=PaymentEventKind.PAYMENT_SUCCEEDED).values_list(
        "reference", "amount_minor_units"
    )
    assert paid_events == [(intent, 3 * 12900)]
    assert await variant_stock(w) == 10 - 3, "settling moved stock again"
    state = await shop.data(CART_STATUS, {"id": cart["id"]}, token=w.shopper["token"])
    assert state["cart"]["status"] == "CLOSED"
    assert await ledger_mismatches() == []


async def test_concurrent_refunds_never_exceed_the_payment(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, price=10000)
    order = await _paid_order(shop, stripe_base, w, 1)
    assert order["paid"]["minorUnits"] == 10000

    bodies = await asyncio.gather(
        *(
            shop.execute(
                ORDER_REFUND,
                {"orderId": order["id"], "amount": 3000, "key": f"refund-{i}-{uuid.uuid4()}"},
                token=w.merchant["token"],
            )
            for i in range(10)
        )
    )
    results = [payload_of(body, "orderRefund") for body in bodies]

    won = [r for r in results if r["errors"] == []]
    lost = [r for r in results if r["errors"] != []]
    assert all(codes(r) == ["REFUND_EXCEEDS_PAID"] for r in lost), [r["errors"] for r in lost]
    assert len(won) <= 3, f"{len(won)} refunds of 3000 on a payment of 10000"
    refunded = sum(r["refund"]["amount"]["minorUnits"] for r in won)
    assert refunded <= 10000
    # three fit, so a refusal while 4000 was still refundable would be wrong too
    assert len(won) == 3, [r["errors"] for r in lost]

    row = await Order.get(id=(await Order.first().values_list("id", flat=True)))
    assert row.refunded_minor_units == refunded
    assert row.status == "PARTIALLY_REFUNDED"
    at_stripe = await stripe_client(stripe_base).v1.refunds.list_async(
        {"payment_intent": order["paymentIntentId"]}
    )
    assert sum(int(r["amount"]) for r in at_stripe.data) == refunded
    assert len(at_stripe.data) == len(won)
    assert await Refund.all().count() == len(won)
    assert await ledger_mismatches() == []


async def _same_key_refunds(shop: GraphQLClient, stripe_base: str, *, price: int, amount: int) -> None:
    w = await world(shop, price=price)
    order = await _paid_order(shop, stripe_base, w, 1)
    variables = {"orderId": order["id"], "amount": amount, "key": f"once-{uuid.uuid4()}"}

    bodies = await asyncio.gather(
        *(shop.execute(ORDER_REFUND, variables, token=w.merchant["token"]) for _ in range(10))
    )
    results = [payload_of(body, "orderRefund") for body in bodies]

    # a retried key is the same refund, never a refusal and never a second refund
    assert [r["errors"] for r in results] == [[]] * 10
    assert {r["refund"]["amount"]["minorUnits"] for r in results} == {amount}
    assert await Refund.all().count() == 1
    row = await Order.get(id=(await Order.first().values_list("id", flat=True)))
    assert row.refunded_minor_units == amount
    at_stripe = await stripe_client(stripe_base).v1.refunds.list_async(
        {"payment_intent": order["paymentIntentId"]}
    )
    at_stripe_amounts = [int(r["amount"]) for r in at_stripe.data]
    assert at_stripe_amounts == [amount], f"Stripe was asked to refund {at_stripe_amounts} for one key"
    assert await PaymentEvent.filter(kind=PaymentEventKind.REFUND_SUCCEEDED).count() == 1
    assert await ledger_mismatches() == []


async def test_same_refund_key_ten_times_at_once_refunds_once(shop: GraphQLClient, stripe_base: str) -> None:
    await _same_key_refunds(shop, stripe_base, price=10000, amount=3000)


async def test_same_full_refund_key_ten_times_at_once_refunds_once(
    shop: GraphQLClient, stripe_base: str
) -> None:
    await _same_key_refunds(shop, stripe_base, price=10000, amount=10000)


async def test_checkout_completes_and_webhooks_at_once_settle_once(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=10)
    cart = await cart_with(shop, w, 2)
    started = await ok(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    order_id = started["order"]["id"]
    intent_id = started["payment"]["paymentIntentId"]
    assert await pay(stripe_base, intent_id) == "succeeded"
    intent = (await stripe_client(stripe_base).v1.payment_intents.retrieve_async(intent_id)).to_dict()
    # Stripe delivers at least once: the same event twice, and two distinct events for the same intent
    events = [
        event_payload("payment_intent.succeeded", intent, event_id=f"evt_{uuid.uuid4().hex[:24]}")
        for _ in range(2)
    ]
    events += events

    async def deliver(payload: bytes) -> int:
        response = await shop.http.post(
            "/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": sign_event(payload), "Content-Type": "application/json"},
        )
        return response.status_code

    completes = [
        shop.execute(CHECKOUT_COMPLETE, {"orderId": order_id}, token=w.shopper["token"]) for _ in range(6)
    ]
    outcome = await asyncio.gather(*completes, *(deliver(e) for e in events))

    results = [payload_of(body, "checkoutComplete") for body in outcome[:6]]
    assert [r["errors"] for r in results] == [[]] * 6
    assert outcome[6:] == [200] * len(events)
    order = await Order.get(id=(await Order.first().values_list("id", flat=True)))
    assert (order.status, order.stock_state, order.paid_minor_units) == ("PAID", StockState.SOLD, 2 * 12900)
    assert await PaymentEvent.filter(kind=PaymentEventKind.PAYMENT_SUCCEEDED).count() == 1
    assert await variant_stock(w) == 10 - 2
    assert await ledger_mismatches() == []


async def test_adds_racing_checkout_are_in_the_order_or_refused(shop: GraphQLClient) -> None:
    """An add the API accepted must be in the order; once the cart is frozen, adds are refused."""
    w = await world(shop, stock=999)
    cart = await cart_with(shop, w, 1)
    lines = [{"variantId": w.variant_id, "quantity": 1}]

    async def keep_adding() -> int:
        """Add one at a time until the cart is closed; how many adds were accepted."""
        for accepted in range(100):
            body = await shop.execute(
                CART_LINES_ADD, {"cartId": cart["id"], "lines": lines}, token=w.shopper["token"]
            )
            result = payload_of(body, "cartLinesAdd")
            if result["errors"]:
                assert codes(result) == ["CART_CLOSED"], result["errors"]
                return accepted
        raise AssertionError("the cart never closed")

    async def check_out() -> dict[str, Any]:
        await asyncio.sleep(0.05)  # the adders are in full flow when the checkout starts
        body = await shop.execute(CHECKOUT_START, checkout_input(cart["id"]), token=w.shopper["token"])
        return payload_of(body, "checkoutStart")

    started, *adders = await asyncio.gather(check_out(), *(keep_adding() for _ in range(4)))

    assert started["errors"] == []
    accepted = sum(adders)
    ordered = sum(line["quantity"] for line in started["order"]["lines"])
    state = await shop.data(CART_STATUS, {"id": cart["id"]}, token=w.shopper["token"])
    assert state["cart"] == {"status": "ORDERED", "totalQuantity": 1 + accepted}
    assert ordered == 1 + accepted, (
        f"the cart holds {1 + accepted} (all accepted) but the order has {ordered}"
    )
    assert started["order"]["total"]["minorUnits"] == ordered * 12900
    assert await variant_stock(w) == 999 - ordered


async def test_twenty_adds_of_one_variant_at_once_all_count(shop: GraphQLClient) -> None:
    w = await world(shop, stock=100)
    created = await ok(shop, CART_CREATE, {"input": {"lines": []}}, "cartCreate", token=w.shopper["token"])
    cart_id = created["cart"]["id"]
    lines = [{"variantId": w.variant_id, "quantity": 1, "sourceNoteId": w.note["id"]}]

    bodies = await asyncio.gather(
        *(
            shop.execute(CART_LINES_ADD, {"cartId": cart_id, "lines": lines}, token=w.shopper["token"])
            for _ in range(20)
        )
    )
    results = [payload_of(body, "cartLinesAdd") for body in bodies]

    assert [r["errors"] for r in results] == [[]] * 20
    state = await shop.data(
        "query($id: ID!) { cart(id: $id) { totalQuantity lines { quantity } } }",
        {"id": cart_id},
        token=w.shopper["token"],
    )
    assert state["cart"] == {"totalQuantity": 20, "lines": [{"quantity": 20}]}
