"""Buying from a note against a real server (uvicorn) and localstripe, whose signed webhooks arrive over
HTTP: the order is settled by the webhook alone, as in production, and watched live over WebSocket."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import GraphQLClient
from tests.live_clients import shop_server
from tests.live_server import next_message, open_socket, subscribe
from tests.shop import CHECKOUT_START, ORDER, cart_with, checkout_input, ok, world
from tests.stripe_emulator import (
    DECLINED,
    event_payload,
    pay,
    sign_event,
    stripe_client,
)

pytestmark = pytest.mark.timeout(120)

ORDER_STATUS = "subscription($o: ID!) { orderStatus(orderId: $o) { status stockState paid { minorUnits } } }"
STOCK = "query($p: ID!) { product(id: $p) { variants { stock } } }"
SALES = "query($n: ID!) { note(id: $n) { sales { itemsSold orders revenue { amount currency } } } }"


@pytest.fixture
async def live(db: str, stripe_base: str, tmp_path: Path) -> AsyncIterator[GraphQLClient]:
    """A client of a real server whose payments go to the emulator, which delivers webhooks to it.

    On PostgreSQL the server shares the test session's database; on SQLite it gets its own file."""
    with shop_server(tmp_path, stripe_base) as base:
        async with httpx.AsyncClient(base_url=base, timeout=15) as http:
            yield GraphQLClient(http)


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    """Poll until `check` returns something truthy (webhooks arrive about a second after payment)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.2)


async def test_buying_from_a_note_is_settled_by_the_webhook(live: GraphQLClient, stripe_base: str) -> None:
    w = await world(live, stock=5, price=12900)
    cart = await cart_with(live, w, 2)
    started = await ok(
        live, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    order_id = started["order"]["id"]
    assert (await live.data(STOCK, {"p": w.product["id"]}))["product"]["variants"][0]["stock"] == 3

    base = str(live.http.base_url)
    ws = await open_socket(base, {"Authorization": f"Bearer {w.shopper['token']}"})
    assert (await next_message(ws))["type"] == "connection_ack"
    await subscribe(ws, "order", ORDER_STATUS, {"o": order_id})
    first = await next_message(ws)
    assert first["payload"]["data"]["orderStatus"]["status"] == "PENDING_PAYMENT"

    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    # No checkoutComplete: the emulator's signed payment_intent.succeeded settles the order.
    update = await next_message(ws)
    assert update["payload"]["data"]["orderStatus"] == {
        "status": "PAID",
        "stockState": "SOLD",
        "paid": {"minorUnits": 25800},
    }
    await ws.close()

    order = (await live.data(ORDER, {"id": order_id}, token=w.shopper["token"]))["order"]
    assert [e["kind"] for e in order["paymentEvents"]] == ["PAYMENT_INTENT_CREATED", "PAYMENT_SUCCEEDED"]
    assert (await live.data(STOCK, {"p": w.product["id"]}))["product"]["variants"][0]["stock"] == 3
    sales = (await live.data(SALES, {"n": w.note["id"]}, token=w.creator["token"]))["note"]["sales"]
    assert sales == {"itemsSold": 2, "orders": 1, "revenue": [{"amount": "258.00", "currency": "CNY"}]}


async def test_a_declined_card_releases_the_stock_through_the_webhook(
    live: GraphQLClient, stripe_base: str
) -> None:
    w = await world(live, stock=1)
    cart = await cart_with(live, w, 1)
    started = await ok(
        live, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert (await live.data(STOCK, {"p": w.product["id"]}))["product"]["variants"][0]["stock"] == 0

    assert await pay(stripe_base, started["payment"]["paymentIntentId"], DECLINED) == (
        "requires_payment_method"
    )

    async def released() -> bool:
        order = (await live.data(ORDER, {"id": started["order"]["id"]}, token=w.shopper["token"]))["order"]
        return bool(order["stockState"] == "RELEASED")

    await eventually(released)
    order = (await live.data(ORDER, {"id": started["order"]["id"]}, token=w.shopper["token"]))["order"]
    assert order["status"] == "PENDING_PAYMENT"
    assert [e["kind"] for e in order["paymentEvents"]] == ["PAYMENT_INTENT_CREATED", "PAYMENT_FAILED"]
    assert (await live.data(STOCK, {"p": w.product["id"]}))["product"]["variants"][0]["stock"] == 1

    # The shopper tries again with another card: a new checkout key takes the stock again and makes a
    # fresh PaymentIntent; the declined one is cancelled so it can never also be charged.
    retried = await ok(
        live, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert retried["order"]["id"] == started["order"]["id"]
    assert retried["order"]["stockState"] == "RESERVED"
    new_intent = retried["payment"]["paymentIntentId"]
    assert new_intent != started["payment"]["paymentIntentId"]
    old = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(
        started["payment"]["paymentIntentId"]
    )
    assert old["status"] == "canceled"
    assert await pay(stripe_base, new_intent) == "succeeded"

    async def paid() -> dict[str, Any] | None:
        order = (await live.data(ORDER, {"id": started["order"]["id"]}, token=w.shopper["token"]))["order"]
        return order if order["status"] == "PAID" else None

    order = await eventually(paid)
    assert order["stockState"] == "SOLD"
    assert (await live.data(STOCK, {"p": w.product["id"]}))["product"]["variants"][0]["stock"] == 0


async def test_hostile_webhook_calls_change_nothing(live: GraphQLClient) -> None:
    w = await world(live)
    cart = await cart_with(live, w, 1)
    started = await ok(
        live, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    intent = {"id": started["payment"]["paymentIntentId"], "object": "payment_intent", "status": "succeeded"}
    payload = event_payload("payment_intent.succeeded", intent, event_id=f"evt_{uuid.uuid4().hex}")
    headers = {"Content-Type": "application/json"}
    attempts = [
        {},  # unsigned
        {"Stripe-Signature": sign_event(payload, secret="whsec_someone_else")},  # forged
        {"Stripe-Signature": sign_event(payload + b" ")},  # signed for other bytes
        {"Stripe-Signature": sign_event(payload, timestamp=1_600_000_000)},  # stale
        {"Stripe-Signature": "t=1,v1=deadbeef"},
    ]
    for extra in attempts:
        response = await live.http.post("/webhooks/stripe", content=payload, headers={**headers, **extra})
        assert response.status_code == 400, (extra, response.text)
    # A genuine signature on an event for an intent that was never paid: the re-read from Stripe wins.
    response = await live.http.post(
        "/webhooks/stripe", content=payload, headers={**headers, "Stripe-Signature": sign_event(payload)}
    )
    assert response.status_code == 200
    order = (await live.data(ORDER, {"id": started["order"]["id"]}, token=w.shopper["token"]))["order"]
    assert order["status"] == "PENDING_PAYMENT"
    assert order["stockState"] == "RESERVED"
    assert [e["kind"] for e in order["paymentEvents"]] == ["PAYMENT_INTENT_CREATED"]
