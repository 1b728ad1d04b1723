"""Stripe events delivered to the in-process app's `POST /webhooks/stripe`, signed exactly as Stripe signs
them, and the purchases they are about.

localstripe never sends charge.refunded, duplicates or out-of-order deliveries, so tests sign events
themselves and post them to the real endpoint; the handler re-reads each PaymentIntent from the emulator.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from commerce.payments import Payments, payments_from_settings
from core.ids import decode_uuid_global_id
from core.settings import Settings
from models import Order, StripeEvent
from tests.conftest import GraphQLClient
from tests.shop import CHECKOUT_START, ORDER, World, cart_with, checkout_input, ok
from tests.stripe_emulator import event_payload, pay, sign_event, stripe_client


class Purchase:
    """One checkout: the order as first returned, its PaymentIntent, and who bought it."""

    def __init__(self, order: dict[str, Any], intent_id: str, token: str, cart_id: str):
        self.order = order
        self.intent_id = intent_id
        self.token = token
        self.cart_id = cart_id

    @property
    def gid(self) -> str:
        return str(self.order["id"])

    @property
    def pk(self) -> UUID:
        return decode_uuid_global_id(self.gid, "Order", "id")


async def buy(
    shop: GraphQLClient, w: World, quantity: int = 1, *, buyer: dict[str, Any] | None = None
) -> Purchase:
    token = (buyer or w.shopper)["token"]
    cart = await cart_with(shop, w, quantity, token=token)
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=token)
    assert started["order"]["status"] == "PENDING_PAYMENT"
    assert started["order"]["stockState"] == "RESERVED"
    return Purchase(started["order"], started["payment"]["paymentIntentId"], token, cart["id"])


async def order_of(shop: GraphQLClient, p: Purchase) -> dict[str, Any]:
    order: dict[str, Any] = (await shop.data(ORDER, {"id": p.gid}, token=p.token))["order"]
    return order


def ledger(order: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(e["kind"], e["amount"]["minorUnits"], e["reference"]) for e in order["paymentEvents"]]


async def intent_at_stripe(base: str, intent_id: str) -> dict[str, Any]:
    """The PaymentIntent as Stripe has it now: what an event about it carries."""
    intent = await stripe_client(base).v1.payment_intents.retrieve_async(intent_id)
    return intent.to_dict()


def charge_id(intent: dict[str, Any]) -> str:
    charge = intent["latest_charge"]
    return str(charge["id"] if isinstance(charge, dict) else charge)


async def post(shop: GraphQLClient, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await shop.http.post("/webhooks/stripe", content=payload, headers=headers)


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex[:24]}"


async def deliver(shop: GraphQLClient, kind: str, obj: dict[str, Any], event_id: str | None = None) -> str:
    """Post a genuine, freshly signed event; it must be accepted with 200. Returns its id."""
    event_id = event_id or new_event_id()
    payload = event_payload(kind, obj, event_id=event_id)
    response = await post(shop, payload, sign_event(payload))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True}
    return event_id


async def deliver_intent(
    shop: GraphQLClient, base: str, kind: str, p: Purchase, event_id: str | None = None
) -> str:
    return await deliver(shop, kind, await intent_at_stripe(base, p.intent_id), event_id)


async def stripe_event_count(event_id: str | None = None) -> int:
    query = StripeEvent.all() if event_id is None else StripeEvent.filter(id=event_id)
    return await query.count()


def shop_payments(shop_settings: Settings) -> Payments:
    payments = payments_from_settings(
        shop_settings.stripe_api_key, shop_settings.stripe_webhook_secret, shop_settings.stripe_api_base
    )
    assert payments is not None
    return payments


async def reserved_until(p: Purchase) -> datetime:
    return (await Order.get(id=p.pk)).reserved_until


async def paid_purchase(shop: GraphQLClient, stripe_base: str, w: World, quantity: int = 1) -> Purchase:
    """A purchase paid at Stripe and settled by its payment_intent.succeeded event."""
    p = await buy(shop, w, quantity)
    assert await pay(stripe_base, p.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert (await order_of(shop, p))["status"] == "PAID"
    return p
