"""Who reaches which cart through the API: guest carts by id, one open cart per shopper, frozen after checkout."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.shop import (
    CART_CREATE,
    CART_LINES_REMOVE,
    CART_LINES_UPDATE,
    CHECKOUT_START,
    add,
    add_refused,
    cart_not_found,
    cart_with,
    checkout_input,
    empty_cart,
    err,
    line,
    must_read_cart,
    ok,
    read_cart,
    refused,
    summary,
    viewer_cart,
    world,
)

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
USER_CART = "query($handle: String!) { user(handle: $handle) { handle cart { id } } }"
MONEY_FIELDS = "amount minorUnits currency"


# --- who reaches which cart ----------------------------------------------------------------------------


async def test_guest_cart_is_reached_again_by_its_id_anonymously(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    assert cart["status"] == "OPEN"
    assert cart["currency"] == "CNY"
    assert cart["totalQuantity"] == 2
    assert summary(cart) == [(w.variant_id, 2, w.note["id"])]

    again = await must_read_cart(client, cart["id"], anonymous=True)
    assert again["id"] == cart["id"]
    assert summary(again) == [(w.variant_id, 2, w.note["id"])]
    assert again["lines"][0]["id"] == cart["lines"][0]["id"]
    node = (await client.data(NODE, {"id": cart["id"]}, anonymous=True))["node"]
    assert node == {"__typename": "Cart", "id": cart["id"]}

    # Whoever holds a guest cart's id may keep filling it, anonymously.
    more = await add(client, cart["id"], [line(w.variant_id, 1)], anonymous=True)
    assert more["id"] == cart["id"]
    assert summary(more) == [(w.variant_id, 3, w.note["id"])]
    assert (await must_read_cart(client, cart["id"], anonymous=True))["totalQuantity"] == 3


async def test_signed_in_cart_is_invisible_to_other_people(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 1, token=w.shopper["token"])
    line_id = cart["lines"][0]["id"]

    assert await read_cart(client, cart["id"], anonymous=True) is None
    assert await read_cart(client, cart["id"], token=w.creator["token"]) is None
    assert (await client.data(NODE, {"id": cart["id"]}, token=w.creator["token"]))["node"] is None
    assert (await client.data(NODE, {"id": cart["id"]}, anonymous=True))["node"] is None
    assert (await must_read_cart(client, cart["id"], token=w.shopper["token"]))["id"] == cart["id"]

    for kw in ({"token": w.creator["token"]}, {"anonymous": True}):
        assert await add_refused(client, cart["id"], [line(w.variant_id, 5)], **kw) == cart_not_found()
        update = {"cartId": cart["id"], "lines": [{"lineId": line_id, "quantity": 7}]}
        assert await refused(client, CART_LINES_UPDATE, update, "cartLinesUpdate", **kw) == cart_not_found()
        remove = {"cartId": cart["id"], "lineIds": [line_id]}
        assert await refused(client, CART_LINES_REMOVE, remove, "cartLinesRemove", **kw) == cart_not_found()

    mine = await must_read_cart(client, cart["id"], token=w.shopper["token"])
    assert summary(mine) == [(w.variant_id, 1, w.note["id"])]
    # Someone else's profile never shows their cart.
    seen = (await client.data(USER_CART, {"handle": w.shopper["user"]["handle"]}, token=w.creator["token"]))[
        "user"
    ]
    assert seen == {"handle": w.shopper["user"]["handle"], "cart": None}


async def test_signed_in_cart_create_adds_to_the_open_cart(client: GraphQLClient) -> None:
    w = await world(client)
    token = w.shopper["token"]
    assert await viewer_cart(client, token) is None
    first = await cart_with(client, w, 1, token=token)

    second = (
        await ok(
            client, CART_CREATE, {"input": {"lines": [line(w.variant_id, 2)]}}, "cartCreate", token=token
        )
    )["cart"]
    assert second["id"] == first["id"]
    assert second["lines"][0]["id"] == first["lines"][0]["id"]
    assert summary(second) == [(w.variant_id, 3, w.note["id"])]

    empty = await empty_cart(client, token=token)
    assert empty["id"] == first["id"]
    assert empty["totalQuantity"] == 3

    mine = await viewer_cart(client, token)
    assert mine is not None
    assert mine["id"] == first["id"]
    assert mine["totalQuantity"] == 3
    assert summary(mine) == [(w.variant_id, 3, w.note["id"])]
    # Other people still have no cart of their own; guests always get a fresh one.
    assert await viewer_cart(client, w.creator["token"]) is None
    assert (await empty_cart(client, anonymous=True))["id"] != first["id"]


# --- frozen after checkout --------------------------------------------------------------------------------------


@pytest.mark.parametrize("guest", [False, True])
async def test_checkout_freezes_the_cart(shop: GraphQLClient, guest: bool) -> None:
    w = await world(shop)
    kw: dict[str, Any] = {"anonymous": True} if guest else {"token": w.shopper["token"]}
    cart = await cart_with(shop, w, 2, **kw)
    line_id = cart["lines"][0]["id"]
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", **kw)
    assert started["order"]["status"] == "PENDING_PAYMENT"

    closed = [
        err(
            "CART_CLOSED",
            ["cartId"],
            "This cart has been checked out and can no longer change; start a new cart.",
        )
    ]
    assert await add_refused(shop, cart["id"], [line(w.variant_id, 1)], **kw) == closed
    update = {"cartId": cart["id"], "lines": [{"lineId": line_id, "quantity": 5}]}
    assert await refused(shop, CART_LINES_UPDATE, update, "cartLinesUpdate", **kw) == closed
    remove = {"cartId": cart["id"], "lineIds": [line_id]}
    assert await refused(shop, CART_LINES_REMOVE, remove, "cartLinesRemove", **kw) == closed

    frozen = await must_read_cart(shop, cart["id"], **kw)
    assert frozen["status"] == "ORDERED"
    assert summary(frozen) == [(w.variant_id, 2, w.note["id"])]

    if not guest:
        assert await viewer_cart(shop, w.shopper["token"]) is None
        fresh = await cart_with(shop, w, 1, **kw)
        assert fresh["id"] != cart["id"]
        assert fresh["status"] == "OPEN"
        assert summary(fresh) == [(w.variant_id, 1, w.note["id"])]
