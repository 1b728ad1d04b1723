"""The app bootstrapped with another payments door (`create_app(settings, payments=…)`): checkoutStart and
the Stripe webhook route go through it, with no Stripe key and no emulator."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest

from core.ids import to_global_id
from models import Order, OrderStatus, ProductVariant
from tests.commerce.factories import create_cart, create_variant
from tests.commerce.fake_payments import FakePayments
from tests.conftest import GraphQLClient

CHECKOUT_START = """
mutation($input: CheckoutStartInput!) {
  checkoutStart(input: $input) {
    order { id status stockState total { minorUnits currency } }
    payment { clientSecret paymentIntentId }
    errors { field message code }
  }
}"""
ADDRESS = {
    "name": "林小红",
    "line1": "南京西路 1266 号",
    "city": "上海",
    "postalCode": "200040",
    "country": "CN",
}


@pytest.fixture
def http(fake_shop: GraphQLClient) -> httpx.AsyncClient:
    return fake_shop.http


async def checkout_start(http: httpx.AsyncClient, cart_id: UUID, key: str) -> dict[str, Any]:
    variables = {
        "input": {
            "cartId": to_global_id("Cart", cart_id),
            "email": "guest@example.com",
            "shippingAddress": ADDRESS,
            "idempotencyKey": key,
        }
    }
    response = await http.post("/graphql", json={"query": CHECKOUT_START, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["checkoutStart"]


async def test_checkout_start_pays_through_the_door_given_to_the_app(
    http: httpx.AsyncClient, payments: FakePayments
) -> None:
    variant = await create_variant(price_minor_units=1250, stock=3)
    cart = await create_cart(lines=[(variant, 2)])

    first = await checkout_start(http, cart.id, "key-1")
    again = await checkout_start(http, cart.id, "key-1")

    assert first["errors"] == []
    assert first["order"]["status"] == "PENDING_PAYMENT"
    assert first["order"]["stockState"] == "RESERVED"
    assert first["order"]["total"] == {"minorUnits": 2500, "currency": "CNY"}
    intent_id = first["payment"]["paymentIntentId"]
    assert intent_id in payments.intents
    assert first["payment"]["clientSecret"] == payments.intents[intent_id]["client_secret"]
    assert again["payment"]["paymentIntentId"] == intent_id
    assert payments.calls.count("create_intent") == 1
    assert (await ProductVariant.get(id=variant.id)).stock == 1


async def test_the_webhook_route_verifies_and_settles_through_the_door(
    http: httpx.AsyncClient, payments: FakePayments
) -> None:
    cart = await create_cart(lines=[(await create_variant(), 1)])
    started = await checkout_start(http, cart.id, "key-1")
    intent_id = started["payment"]["paymentIntentId"]
    payments.succeed(intent_id)
    payload = orjson.dumps(payments.event("payment_intent.succeeded", intent_id))

    forged = await http.post("/webhooks/stripe", content=payload, headers={"stripe-signature": "nope"})
    assert forged.status_code == 400
    assert (await Order.get(cart_id=cart.id)).status == OrderStatus.PENDING_PAYMENT

    signed = await http.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": payments.sign(payload)}
    )
    assert signed.status_code == 200
    assert (await Order.get(cart_id=cart.id)).status == OrderStatus.PAID
