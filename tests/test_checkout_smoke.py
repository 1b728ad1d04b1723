"""Smoke: the full path from a note to a PAID order, in-process, with the emulator."""

from __future__ import annotations

from tests.conftest import GraphQLClient
from tests.shop import CHECKOUT_COMPLETE, CHECKOUT_START, cart_with, checkout_input, ok, world
from tests.stripe_emulator import pay


async def test_note_to_paid_order(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w, 2)
    assert cart["subtotal"]["minorUnits"] == 25800
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"])
    order = started["order"]
    assert order["status"] == "PENDING_PAYMENT"
    assert started["payment"]["clientSecret"]
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    done = await ok(shop, CHECKOUT_COMPLETE, {"orderId": order["id"]}, "checkoutComplete", token=w.shopper["token"])
    print(done)
    assert done["order"]["status"] == "PAID"
