"""The cart through the public GraphQL API: who reaches which cart, lines and their limits, one currency
per cart, money, warnings, merging a guest cart at sign-in, frozen carts and the SQL cost of adding."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up
from tests.shop import (
    CART_CREATE,
    CART_FIELDS,
    CART_LINES_ADD,
    CART_LINES_REMOVE,
    CART_LINES_UPDATE,
    CHECKOUT_START,
    ERRORS,
    World,
    cart_with,
    checkout_input,
    ok,
    refused,
    world,
)

PASSWORD = "correct horse"  # what tests.factories.sign_up gives every account

CART = f"query($id: ID!) {{ cart(id: $id) {{ {CART_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
VIEWER_CART = f"{{ viewer {{ id cart {{ {CART_FIELDS} }} }} }}"
USER_CART = "query($handle: String!) { user(handle: $handle) { handle cart { id } } }"
MONEY_FIELDS = "amount minorUnits currency"
CART_MONEY = f"""
query($id: ID!) {{
  cart(id: $id) {{
    currency subtotal {{ {MONEY_FIELDS} }}
    lines {{ quantity unitPrice {{ {MONEY_FIELDS} }} addedAtPrice {{ {MONEY_FIELDS} }} lineTotal {{ {MONEY_FIELDS} }} }}
  }}
}}"""
SIGN_IN = f"""
mutation($input: SignInInput!) {{
  signIn(input: $input) {{ token user {{ id }} cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
SIGN_UP = f"""
mutation($input: SignUpInput!) {{
  signUp(input: $input) {{ token user {{ id handle }} cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
PRODUCT_UPDATE = f"""
mutation($id: ID!, $input: ProductUpdateInput!) {{
  productUpdate(id: $id, input: $input) {{ product {{ id }} {ERRORS} }}
}}"""
NOTE_DELETE = f"mutation($id: ID!) {{ noteDelete(id: $id) {{ deletedNoteId {ERRORS} }} }}"


# --- helpers -------------------------------------------------------------------------------------------


def gid(type_name: str, pk: int | uuid.UUID | str) -> str:
    """A Relay global id, made the way clients never should (to name objects that do not exist)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def err(code: str, field: list[str] | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def cart_not_found() -> list[dict[str, Any]]:
    return [err("NOT_FOUND", ["cartId"], "Cart not found.")]


def line(variant_id: str, quantity: int, note_id: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"variantId": variant_id, "quantity": quantity}
    if note_id is not None:
        spec["sourceNoteId"] = note_id
    return spec


def summary(cart: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    """(variant id, quantity, source note id) of each line, in cart order."""
    return [
        (ln["variant"]["id"], ln["quantity"], ln["sourceNote"]["id"] if ln["sourceNote"] else None)
        for ln in cart["lines"]
    ]


async def read_cart(client: GraphQLClient, cart_id: str, **kw: Any) -> dict[str, Any] | None:
    result: dict[str, Any] | None = (await client.data(CART, {"id": cart_id}, **kw))["cart"]
    return result


async def must_read_cart(client: GraphQLClient, cart_id: str, **kw: Any) -> dict[str, Any]:
    cart = await read_cart(client, cart_id, **kw)
    assert cart is not None, f"cart {cart_id} is not visible"
    return cart


async def viewer_cart(client: GraphQLClient, token: str) -> dict[str, Any] | None:
    viewer = (await client.data(VIEWER_CART, token=token))["viewer"]
    assert viewer is not None
    result: dict[str, Any] | None = viewer["cart"]
    return result


async def empty_cart(client: GraphQLClient, **kw: Any) -> dict[str, Any]:
    cart: dict[str, Any] = (await ok(client, CART_CREATE, {"input": {"lines": []}}, "cartCreate", **kw))[
        "cart"
    ]
    return cart


async def add(client: GraphQLClient, cart_id: str, lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    cart: dict[str, Any] = (
        await ok(client, CART_LINES_ADD, {"cartId": cart_id, "lines": lines}, "cartLinesAdd", **kw)
    )["cart"]
    return cart


async def add_refused(
    client: GraphQLClient, cart_id: str, lines: list[dict[str, Any]], **kw: Any
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = await refused(
        client, CART_LINES_ADD, {"cartId": cart_id, "lines": lines}, "cartLinesAdd", **kw
    )
    return errors


async def other_variant(
    client: GraphQLClient, w: World, *, price: int, currency: str, stock: int = 10, sku: str = "OTHER-1"
) -> str:
    """A variant of a second product by the same merchant."""
    product = await create_product(
        client,
        w.merchant["token"],
        title=f"Product {sku}",
        variants=[
            {
                "sku": sku,
                "name": f"Variant {sku}",
                "priceMinorUnits": price,
                "currency": currency,
                "stock": stock,
            }
        ],
    )
    return str(product["variants"][0]["id"])


async def edit_variant(
    client: GraphQLClient, w: World, *, price: int = 12900, stock: int = 10, currency: str = "CNY"
) -> None:
    """The merchant edits the world's variant (productUpdate takes every field of the variant)."""
    variant = {
        "id": w.variant_id,
        "sku": "VLT-01",
        "name": "01 正红",
        "priceMinorUnits": price,
        "currency": currency,
        "stock": stock,
    }
    await ok(
        client,
        PRODUCT_UPDATE,
        {"id": w.product["id"], "input": {"variants": [variant]}},
        "productUpdate",
        token=w.merchant["token"],
    )


async def second_note(client: GraphQLClient, w: World, title: str = "第二篇种草") -> str:
    note = await create_note(client, w.creator["token"], productIds=[w.product["id"]], title=title)
    return str(note["id"])


async def sign_in(
    client: GraphQLClient, email: str, guest_cart_id: str | None, **extra: Any
) -> dict[str, Any]:
    variables = {"input": {"email": email, "password": PASSWORD, "guestCartId": guest_cart_id, **extra}}
    payload: dict[str, Any] = (await client.data(SIGN_IN, variables, anonymous=True))["signIn"]
    return payload


def email_of(account: dict[str, Any]) -> str:
    return f"{account['user']['handle']}@example.com"


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


# --- adding lines ----------------------------------------------------------------------------------------


async def test_same_variant_twice_is_one_line_keeping_the_first_source_note(client: GraphQLClient) -> None:
    w = await world(client)
    note2 = await second_note(client, w)
    cart = await cart_with(client, w, 1, anonymous=True)
    assert cart["lines"][0]["sourceNote"] == {"id": w.note["id"]}

    again = await add(client, cart["id"], [line(w.variant_id, 2, note2)], anonymous=True)
    assert summary(again) == [(w.variant_id, 3, w.note["id"])]
    assert again["lines"][0]["id"] == cart["lines"][0]["id"]
    assert again["totalQuantity"] == 3

    # Twice in one request: one line, the quantities summed, the first line's note kept.
    fresh = await empty_cart(client, anonymous=True)
    both = await add(
        client,
        fresh["id"],
        [line(w.variant_id, 1, note2), line(w.variant_id, 4, w.note["id"])],
        anonymous=True,
    )
    assert summary(both) == [(w.variant_id, 5, note2)]
    assert summary(await must_read_cart(client, fresh["id"], anonymous=True)) == [(w.variant_id, 5, note2)]


async def test_unknown_or_deleted_source_note_is_not_found(client: GraphQLClient) -> None:
    w = await world(client)
    other = await other_variant(client, w, price=500, currency="CNY")
    cart = await empty_cart(client, anonymous=True)

    errors = await add_refused(
        client, cart["id"], [line(w.variant_id, 1, gid("Note", 987654))], anonymous=True
    )
    assert errors == [err("NOT_FOUND", ["lines", "0", "sourceNoteId"], "Note not found.")]

    doomed = await second_note(client, w, "要删的笔记")
    deleted = await ok(client, NOTE_DELETE, {"id": doomed}, "noteDelete", token=w.creator["token"])
    assert deleted["deletedNoteId"] == doomed
    errors = await add_refused(
        client, cart["id"], [line(w.variant_id, 1, w.note["id"]), line(other, 1, doomed)], anonymous=True
    )
    assert errors == [err("NOT_FOUND", ["lines", "1", "sourceNoteId"], "Note not found.")]

    # Nothing changed: still empty, still no currency.
    after = await must_read_cart(client, cart["id"], anonymous=True)
    assert after["lines"] == []
    assert after["currency"] is None
    assert after["subtotal"] is None
    assert after["totalQuantity"] == 0


async def test_unknown_variant_is_not_found_with_its_path(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    missing = gid("ProductVariant", 987654)

    errors = await add_refused(client, cart["id"], [line(w.variant_id, 1), line(missing, 1)], anonymous=True)
    assert errors == [err("NOT_FOUND", ["lines", "1", "variantId"], "Product variant not found.")]
    create = {"input": {"lines": [line(missing, 1)]}}
    errors = await refused(client, CART_CREATE, create, "cartCreate", anonymous=True)
    assert errors == [err("NOT_FOUND", ["input", "lines", "0", "variantId"], "Product variant not found.")]

    after = await must_read_cart(client, cart["id"], anonymous=True)
    assert summary(after) == [(w.variant_id, 2, w.note["id"])]
    assert after["totalQuantity"] == 2


async def test_malformed_ids_are_invalid(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    line_id = cart["lines"][0]["id"]
    cid = cart["id"]

    bad_variant = err("INVALID", ["lines", "0", "variantId"], "Not a valid ProductVariant id.")
    assert await add_refused(client, cid, [line("not-an-id", 1)], anonymous=True) == [bad_variant]
    assert await add_refused(client, cid, [line(w.note["id"], 1)], anonymous=True) == [bad_variant]
    bad_note = err("INVALID", ["lines", "0", "sourceNoteId"], "Not a valid Note id.")
    assert await add_refused(client, cid, [line(w.variant_id, 1, w.product["id"])], anonymous=True) == [
        bad_note
    ]
    bad_cart = [err("INVALID", ["cartId"], "Not a valid Cart id.")]
    assert await add_refused(client, "nope", [line(w.variant_id, 1)], anonymous=True) == bad_cart
    assert (
        await add_refused(client, gid("Order", uuid.uuid4()), [line(w.variant_id, 1)], anonymous=True)
        == bad_cart
    )
    assert await add_refused(client, gid("Cart", 12), [line(w.variant_id, 1)], anonymous=True) == bad_cart

    update = {"cartId": cid, "lines": [{"lineId": "x", "quantity": 1}]}
    assert await refused(client, CART_LINES_UPDATE, update, "cartLinesUpdate", anonymous=True) == [
        err("INVALID", ["lines", "0", "lineId"], "Not a valid CartLine id.")
    ]
    remove = {"cartId": cid, "lineIds": [line_id, w.variant_id]}
    assert await refused(client, CART_LINES_REMOVE, remove, "cartLinesRemove", anonymous=True) == [
        err("INVALID", ["lineIds", "1"], "Not a valid CartLine id.")
    ]
    create = {"input": {"lines": [line("%%%", 1)]}}
    assert await refused(client, CART_CREATE, create, "cartCreate", anonymous=True) == [
        err("INVALID", ["input", "lines", "0", "variantId"], "Not a valid ProductVariant id.")
    ]
    assert await read_cart(client, "nope", anonymous=True) is None
    assert await read_cart(client, gid("Cart", uuid.uuid4()), anonymous=True) is None

    after = await must_read_cart(client, cid, anonymous=True)
    assert summary(after) == [(w.variant_id, 2, w.note["id"])]
    assert after["lines"][0]["id"] == line_id


@pytest.mark.parametrize("quantity", [0, -1, 1000])
async def test_add_quantity_out_of_range_changes_nothing(client: GraphQLClient, quantity: int) -> None:
    w = await world(client)
    other = await other_variant(client, w, price=500, currency="CNY")
    cart = await cart_with(client, w, 2, anonymous=True)

    errors = await add_refused(
        client, cart["id"], [line(other, 1), line(w.variant_id, quantity)], anonymous=True
    )
    assert errors == [err("OUT_OF_RANGE", ["lines", "1", "quantity"], "Quantity is between 1 and 999.")]

    after = await must_read_cart(client, cart["id"], anonymous=True)
    assert summary(after) == [(w.variant_id, 2, w.note["id"])]
    assert after["totalQuantity"] == 2
    assert after["subtotal"] == {"amount": "258.00", "minorUnits": 25800, "currency": "CNY"}


@pytest.mark.parametrize("quantity", [-1, 1000])
async def test_update_quantity_out_of_range_changes_nothing(client: GraphQLClient, quantity: int) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    update = {"cartId": cart["id"], "lines": [{"lineId": cart["lines"][0]["id"], "quantity": quantity}]}
    errors = await refused(client, CART_LINES_UPDATE, update, "cartLinesUpdate", anonymous=True)
    assert errors == [
        err("OUT_OF_RANGE", ["lines", "0", "quantity"], "Quantity is between 0 (remove) and 999.")
    ]
    after = await must_read_cart(client, cart["id"], anonymous=True)
    assert summary(after) == [(w.variant_id, 2, w.note["id"])]


@pytest.mark.parametrize("quantity", [0, -1, 1000])
async def test_cart_create_quantity_out_of_range_names_the_input_path(
    client: GraphQLClient, quantity: int
) -> None:
    w = await world(client)
    create = {"input": {"lines": [line(w.variant_id, quantity)]}}
    errors = await refused(client, CART_CREATE, create, "cartCreate", token=w.shopper["token"])
    assert errors == [
        err("OUT_OF_RANGE", ["input", "lines", "0", "quantity"], "Quantity is between 1 and 999.")
    ]
    assert await viewer_cart(client, w.shopper["token"]) is None


async def test_refused_cart_create_leaves_the_shopper_without_a_cart(client: GraphQLClient) -> None:
    """ "Nothing changes when errors is non-empty": a refused cartCreate must not leave an empty cart."""
    w = await world(client)
    create = {"input": {"lines": [line(gid("ProductVariant", 987654), 1)]}}
    errors = await refused(client, CART_CREATE, create, "cartCreate", token=w.shopper["token"])
    assert errors == [err("NOT_FOUND", ["input", "lines", "0", "variantId"], "Product variant not found.")]
    assert await viewer_cart(client, w.shopper["token"]) is None


async def test_more_than_999_of_one_item_is_refused(client: GraphQLClient) -> None:
    w = await world(client, stock=2000)
    cart = await cart_with(client, w, 998, anonymous=True)

    errors = await add_refused(client, cart["id"], [line(w.variant_id, 2)], anonymous=True)
    assert errors == [err("OUT_OF_RANGE", ["lines", "0", "quantity"], "At most 999 of one item per cart.")]
    assert summary(await must_read_cart(client, cart["id"], anonymous=True)) == [
        (w.variant_id, 998, w.note["id"])
    ]

    # The same variant twice in one request counts together.
    fresh = await empty_cart(client, anonymous=True)
    errors = await add_refused(
        client, fresh["id"], [line(w.variant_id, 500), line(w.variant_id, 500)], anonymous=True
    )
    assert [e["code"] for e in errors] == ["OUT_OF_RANGE"]
    assert (await must_read_cart(client, fresh["id"], anonymous=True))["lines"] == []

    full = await add(client, cart["id"], [line(w.variant_id, 1)], anonymous=True)
    assert summary(full) == [(w.variant_id, 999, w.note["id"])]


async def test_over_999_error_names_the_line_given_in_the_request(client: GraphQLClient) -> None:
    w = await world(client, stock=2000)
    other = await other_variant(client, w, price=500, currency="CNY")
    cart = await cart_with(client, w, 999, anonymous=True)
    # Request lines: 0 = other, 1 = other again, 2 = the variant already at 999.
    errors = await add_refused(
        client, cart["id"], [line(other, 1), line(other, 1), line(w.variant_id, 1)], anonymous=True
    )
    assert errors == [err("OUT_OF_RANGE", ["lines", "2", "quantity"], "At most 999 of one item per cart.")]
    assert summary(await must_read_cart(client, cart["id"], anonymous=True)) == [
        (w.variant_id, 999, w.note["id"])
    ]


async def test_line_count_limits(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await empty_cart(client, anonymous=True)
    assert await add_refused(client, cart["id"], [], anonymous=True) == [
        err("REQUIRED", ["lines"], "Give at least one line.")
    ]
    errors = await add_refused(client, cart["id"], [line(w.variant_id, 1)] * 101, anonymous=True)
    assert errors == [err("TOO_MANY", ["lines"], "At most 100 lines at once.")]
    assert (await must_read_cart(client, cart["id"], anonymous=True))["lines"] == []


# --- one currency per cart --------------------------------------------------------------------------------


async def test_currency_mismatch_changes_nothing_and_an_emptied_cart_forgets_its_currency(
    client: GraphQLClient,
) -> None:
    w = await world(client)
    usd = await other_variant(client, w, price=1999, currency="USD", sku="USD-1")
    cart = await cart_with(client, w, 2, anonymous=True)

    errors = await add_refused(client, cart["id"], [line(usd, 1)], anonymous=True)
    assert errors == [
        err(
            "CURRENCY_MISMATCH",
            ["lines"],
            "This cart is in CNY; these items are sold in USD. Use a separate cart.",
        )
    ]
    errors = await add_refused(client, cart["id"], [line(w.variant_id, 1), line(usd, 1)], anonymous=True)
    assert errors == [err("CURRENCY_MISMATCH", ["lines"], "These items are sold in different currencies.")]

    after = await must_read_cart(client, cart["id"], anonymous=True)
    assert after["currency"] == "CNY"
    assert summary(after) == [(w.variant_id, 2, w.note["id"])]
    assert after["subtotal"] == {"amount": "258.00", "minorUnits": 25800, "currency": "CNY"}

    removed = (
        await ok(
            client,
            CART_LINES_REMOVE,
            {"cartId": cart["id"], "lineIds": [after["lines"][0]["id"]]},
            "cartLinesRemove",
            anonymous=True,
        )
    )["cart"]
    assert removed["lines"] == []
    assert removed["currency"] is None
    assert removed["subtotal"] is None
    assert (await must_read_cart(client, cart["id"], anonymous=True))["currency"] is None

    dollars = await add(client, cart["id"], [line(usd, 3)], anonymous=True)
    assert dollars["currency"] == "USD"
    assert dollars["subtotal"] == {"amount": "59.97", "minorUnits": 5997, "currency": "USD"}
    assert summary(dollars) == [(usd, 3, None)]


async def test_currency_mismatch_in_cart_create_names_the_input_path(client: GraphQLClient) -> None:
    w = await world(client)
    usd = await other_variant(client, w, price=1999, currency="USD", sku="USD-1")
    mine = await cart_with(client, w, 1, token=w.shopper["token"])
    create = {"input": {"lines": [line(usd, 1)]}}
    errors = await refused(client, CART_CREATE, create, "cartCreate", token=w.shopper["token"])
    assert errors == [
        err(
            "CURRENCY_MISMATCH",
            ["input", "lines"],
            "This cart is in CNY; these items are sold in USD. Use a separate cart.",
        )
    ]
    after = await viewer_cart(client, w.shopper["token"])
    assert after is not None and after["id"] == mine["id"]
    assert summary(after) == [(w.variant_id, 1, w.note["id"])]


# --- changing and removing lines ----------------------------------------------------------------------------


async def test_lines_update_sets_quantities_and_zero_removes(client: GraphQLClient) -> None:
    w = await world(client)
    other = await other_variant(client, w, price=500, currency="CNY")
    cart = await add(
        client,
        (await empty_cart(client, anonymous=True))["id"],
        [line(w.variant_id, 1), line(other, 1)],
        anonymous=True,
    )
    first, second = (ln["id"] for ln in cart["lines"])

    updated = (
        await ok(
            client,
            CART_LINES_UPDATE,
            {"cartId": cart["id"], "lines": [{"lineId": first, "quantity": 5}]},
            "cartLinesUpdate",
            anonymous=True,
        )
    )["cart"]
    assert summary(updated) == [(w.variant_id, 5, None), (other, 1, None)]
    assert updated["totalQuantity"] == 6
    assert updated["subtotal"] == {"amount": "650.00", "minorUnits": 65000, "currency": "CNY"}

    dropped = (
        await ok(
            client,
            CART_LINES_UPDATE,
            {"cartId": cart["id"], "lines": [{"lineId": second, "quantity": 0}]},
            "cartLinesUpdate",
            anonymous=True,
        )
    )["cart"]
    assert [ln["id"] for ln in dropped["lines"]] == [first]
    assert summary(dropped) == [(w.variant_id, 5, None)]
    assert dropped["currency"] == "CNY"
    assert summary(await must_read_cart(client, cart["id"], anonymous=True)) == [(w.variant_id, 5, None)]

    emptied = (
        await ok(
            client,
            CART_LINES_UPDATE,
            {"cartId": cart["id"], "lines": [{"lineId": first, "quantity": 0}]},
            "cartLinesUpdate",
            anonymous=True,
        )
    )["cart"]
    assert emptied["lines"] == []
    assert emptied["currency"] is None
    assert emptied["subtotal"] is None
    assert emptied["totalQuantity"] == 0


async def test_unknown_lines_are_not_found_and_remove_removes(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    elsewhere = await cart_with(client, w, 1, anonymous=True)
    mine = cart["lines"][0]["id"]
    theirs = elsewhere["lines"][0]["id"]

    for unknown in (gid("CartLine", 987654), theirs):
        update = {
            "cartId": cart["id"],
            "lines": [{"lineId": mine, "quantity": 4}, {"lineId": unknown, "quantity": 1}],
        }
        assert await refused(client, CART_LINES_UPDATE, update, "cartLinesUpdate", anonymous=True) == [
            err("NOT_FOUND", ["lines", "1", "lineId"], "Cart line not found.")
        ]
        remove = {"cartId": cart["id"], "lineIds": [unknown]}
        assert await refused(client, CART_LINES_REMOVE, remove, "cartLinesRemove", anonymous=True) == [
            err("NOT_FOUND", ["lineIds", "0"], "Cart line not found.")
        ]
    assert summary(await must_read_cart(client, cart["id"], anonymous=True)) == [
        (w.variant_id, 2, w.note["id"])
    ]
    assert summary(await must_read_cart(client, elsewhere["id"], anonymous=True)) == [
        (w.variant_id, 1, w.note["id"])
    ]

    removed = (
        await ok(
            client,
            CART_LINES_REMOVE,
            {"cartId": cart["id"], "lineIds": [mine]},
            "cartLinesRemove",
            anonymous=True,
        )
    )["cart"]
    assert removed["lines"] == []
    assert removed["totalQuantity"] == 0
    assert removed["subtotal"] is None
    assert (await must_read_cart(client, cart["id"], anonymous=True))["lines"] == []
    # The other cart is untouched.
    assert summary(await must_read_cart(client, elsewhere["id"], anonymous=True)) == [
        (w.variant_id, 1, w.note["id"])
    ]


# --- money ----------------------------------------------------------------------------------------------------


async def test_subtotal_is_money(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    assert cart["subtotal"] == {"amount": "258.00", "minorUnits": 25800, "currency": "CNY"}
    money = (await client.data(CART_MONEY, {"id": cart["id"]}, anonymous=True))["cart"]
    assert money == {
        "currency": "CNY",
        "subtotal": {"amount": "258.00", "minorUnits": 25800, "currency": "CNY"},
        "lines": [
            {
                "quantity": 2,
                "unitPrice": {"amount": "129.00", "minorUnits": 12900, "currency": "CNY"},
                "addedAtPrice": {"amount": "129.00", "minorUnits": 12900, "currency": "CNY"},
                "lineTotal": {"amount": "258.00", "minorUnits": 25800, "currency": "CNY"},
            }
        ],
    }


async def test_zero_decimal_currency_has_no_fraction(client: GraphQLClient) -> None:
    w = await world(client, price=1500, currency="JPY")
    cart = await cart_with(client, w, 3, anonymous=True)
    assert cart["currency"] == "JPY"
    assert cart["subtotal"] == {"amount": "4500", "minorUnits": 4500, "currency": "JPY"}
    money = (await client.data(CART_MONEY, {"id": cart["id"]}, anonymous=True))["cart"]
    assert money["lines"] == [
        {
            "quantity": 3,
            "unitPrice": {"amount": "1500", "minorUnits": 1500, "currency": "JPY"},
            "addedAtPrice": {"amount": "1500", "minorUnits": 1500, "currency": "JPY"},
            "lineTotal": {"amount": "4500", "minorUnits": 4500, "currency": "JPY"},
        }
    ]


# --- warnings ----------------------------------------------------------------------------------------------------


async def test_price_change_warns_and_the_subtotal_uses_the_new_price(client: GraphQLClient) -> None:
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    assert cart["warnings"] == []
    line_id = cart["lines"][0]["id"]

    await edit_variant(client, w, price=13900)
    after = await must_read_cart(client, cart["id"], anonymous=True)
    assert after["warnings"] == [
        {
            "code": "PRICE_CHANGED",
            "message": "01 正红: the price changed from 129.00 to 139.00 CNY.",
            "lineId": line_id,
        }
    ]
    assert after["subtotal"] == {"amount": "278.00", "minorUnits": 27800, "currency": "CNY"}
    assert after["lines"][0]["unitPrice"] == {"minorUnits": 13900}
    assert after["lines"][0]["addedAtPrice"] == {"minorUnits": 12900}

    # Back to the price it was added at: no warning.
    await edit_variant(client, w, price=12900)
    back = await must_read_cart(client, cart["id"], anonymous=True)
    assert back["warnings"] == []
    assert back["subtotal"] == {"amount": "258.00", "minorUnits": 25800, "currency": "CNY"}


async def test_stock_warnings(client: GraphQLClient) -> None:
    w = await world(client, stock=10)
    cart = await cart_with(client, w, 3, anonymous=True)
    line_id = cart["lines"][0]["id"]

    await edit_variant(client, w, stock=3)
    assert (await must_read_cart(client, cart["id"], anonymous=True))["warnings"] == []

    await edit_variant(client, w, stock=2)
    low = await must_read_cart(client, cart["id"], anonymous=True)
    assert low["warnings"] == [
        {"code": "INSUFFICIENT_STOCK", "message": "01 正红: only 2 left, you have 3.", "lineId": line_id}
    ]
    assert low["lines"][0]["variant"]["stock"] == 2

    await edit_variant(client, w, stock=0)
    gone = await must_read_cart(client, cart["id"], anonymous=True)
    assert gone["warnings"] == [
        {"code": "OUT_OF_STOCK", "message": "01 正红 is sold out.", "lineId": line_id}
    ]
    # Warnings never block: the cart still has its line and subtotal.
    assert gone["subtotal"] == {"amount": "387.00", "minorUnits": 38700, "currency": "CNY"}

    await edit_variant(client, w, stock=1, price=13900)
    both = await must_read_cart(client, cart["id"], anonymous=True)
    assert [(x["code"], x["lineId"]) for x in both["warnings"]] == [
        ("PRICE_CHANGED", line_id),
        ("INSUFFICIENT_STOCK", line_id),
    ]


async def test_currency_changed_by_the_merchant_never_mislabels_money(client: GraphQLClient) -> None:
    """The merchant re-prices a variant in another currency while it sits in a CNY cart: every amount
    shown must still carry the currency it is in."""
    w = await world(client)
    cart = await cart_with(client, w, 2, anonymous=True)
    await edit_variant(client, w, price=1999, currency="USD")

    money = (await client.data(CART_MONEY, {"id": cart["id"]}, anonymous=True))["cart"]
    (only,) = money["lines"]
    assert only["unitPrice"] == {"amount": "19.99", "minorUnits": 1999, "currency": "USD"}
    assert only["lineTotal"] == {"amount": "39.98", "minorUnits": 3998, "currency": "USD"}
    # It was added at 129.00 CNY, not 129.00 USD.
    assert only["addedAtPrice"] == {"amount": "129.00", "minorUnits": 12900, "currency": "CNY"}
    # 3998 minor units of USD are not 39.98 CNY.
    assert money["subtotal"] is None or money["subtotal"]["currency"] == "USD", money["subtotal"]


# --- merging at sign-in ----------------------------------------------------------------------------------------


async def test_sign_in_merges_the_guest_cart_into_the_open_cart(client: GraphQLClient) -> None:
    w = await world(client)
    other = await other_variant(client, w, price=500, currency="CNY")
    note2 = await second_note(client, w)
    mine = await cart_with(client, w, 1, token=w.shopper["token"])
    guest = await empty_cart(client, anonymous=True)
    await add(client, guest["id"], [line(w.variant_id, 2, note2), line(other, 1)], anonymous=True)

    payload = await sign_in(client, email_of(w.shopper), guest["id"])
    assert payload["errors"] == []
    assert payload["token"]
    merged = payload["cart"]
    assert merged["id"] == mine["id"]
    assert merged["status"] == "OPEN"
    assert summary(merged) == [(w.variant_id, 3, w.note["id"]), (other, 1, None)]
    assert merged["totalQuantity"] == 4
    assert merged["subtotal"] == {"amount": "392.00", "minorUnits": 39200, "currency": "CNY"}

    folded = await must_read_cart(client, guest["id"], anonymous=True)
    assert folded["status"] == "MERGED"
    assert await add_refused(client, guest["id"], [line(w.variant_id, 1)], anonymous=True) == [
        err(
            "CART_CLOSED",
            ["cartId"],
            "This cart has been checked out and can no longer change; start a new cart.",
        )
    ]
    current = await viewer_cart(client, payload["token"])
    assert current is not None
    assert current["id"] == mine["id"]
    assert summary(current) == summary(merged)

    # Signing in again with the same guest cart does not count it twice.
    again = await sign_in(client, email_of(w.shopper), guest["id"])
    assert again["errors"] == []
    assert again["cart"]["id"] == mine["id"]
    assert again["cart"]["totalQuantity"] == 4


async def test_sign_in_merges_lines_whose_source_note_was_deleted_since(client: GraphQLClient) -> None:
    """The guest's line came from a note its creator deleted later: the item still moves to the
    shopper's cart (a note that is gone is no reason to lose what the shopper picked)."""
    w = await world(client)
    doomed = await second_note(client, w, "后来删掉的笔记")
    mine = await cart_with(client, w, 1, token=w.shopper["token"])
    guest = await empty_cart(client, anonymous=True)
    await add(client, guest["id"], [line(w.variant_id, 2, doomed)], anonymous=True)
    await ok(client, NOTE_DELETE, {"id": doomed}, "noteDelete", token=w.creator["token"])

    payload = await sign_in(client, email_of(w.shopper), guest["id"])
    assert payload["errors"] == []
    assert payload["cart"]["id"] == mine["id"]
    assert summary(payload["cart"]) == [(w.variant_id, 3, w.note["id"])]
    assert (await must_read_cart(client, guest["id"], anonymous=True))["status"] == "MERGED"


async def test_sign_in_keeps_both_carts_when_merging_would_pass_the_limits(client: GraphQLClient) -> None:
    w = await world(client, stock=2000)
    mine = await cart_with(client, w, 500, token=w.shopper["token"])
    guest = await cart_with(client, w, 500, anonymous=True)

    payload = await sign_in(client, email_of(w.shopper), guest["id"])
    assert payload["errors"] == []
    assert payload["cart"]["id"] == mine["id"]
    assert summary(payload["cart"]) == [(w.variant_id, 500, w.note["id"])]
    kept = await must_read_cart(client, guest["id"], anonymous=True)
    assert kept["status"] == "OPEN"
    assert summary(kept) == [(w.variant_id, 500, w.note["id"])]


async def test_sign_in_adopts_the_guest_cart_when_the_shopper_has_none(client: GraphQLClient) -> None:
    w = await world(client)
    guest = await cart_with(client, w, 2, anonymous=True)

    payload = await sign_in(client, email_of(w.shopper), guest["id"])
    assert payload["errors"] == []
    assert payload["cart"]["id"] == guest["id"]
    assert payload["cart"]["status"] == "OPEN"
    assert summary(payload["cart"]) == [(w.variant_id, 2, w.note["id"])]

    token = payload["token"]
    current = await viewer_cart(client, token)
    assert current is not None and current["id"] == guest["id"]
    # Now the shopper's: no longer reachable by its id alone.
    assert await read_cart(client, guest["id"], anonymous=True) is None
    assert await read_cart(client, guest["id"], token=w.creator["token"]) is None
    assert await add_refused(client, guest["id"], [line(w.variant_id, 1)], anonymous=True) == cart_not_found()
    assert summary(await add(client, guest["id"], [line(w.variant_id, 1)], token=token)) == [
        (w.variant_id, 3, w.note["id"])
    ]


async def test_sign_up_adopts_the_guest_cart(client: GraphQLClient) -> None:
    w = await world(client)
    guest = await cart_with(client, w, 2, anonymous=True)
    handle = f"newbie{uuid.uuid4().hex[:6]}"
    variables = {
        "input": {
            "email": f"{handle}@example.com",
            "password": PASSWORD,
            "handle": handle,
            "guestCartId": guest["id"],
        }
    }
    payload = (await client.data(SIGN_UP, variables, anonymous=True))["signUp"]
    assert payload["errors"] == []
    assert payload["user"]["handle"] == handle
    assert payload["cart"]["id"] == guest["id"]
    assert summary(payload["cart"]) == [(w.variant_id, 2, w.note["id"])]

    current = await viewer_cart(client, payload["token"])
    assert current is not None and current["id"] == guest["id"]
    assert await read_cart(client, guest["id"], anonymous=True) is None

    # Someone else's cart id is ignored: the account is made, with no cart.
    other = f"other{uuid.uuid4().hex[:6]}"
    variables = {
        "input": {
            "email": f"{other}@example.com",
            "password": PASSWORD,
            "handle": other,
            "guestCartId": guest["id"],
        }
    }
    second = (await client.data(SIGN_UP, variables, anonymous=True))["signUp"]
    assert second["errors"] == []
    assert second["token"]
    assert second["cart"] is None
    assert await viewer_cart(client, second["token"]) is None
    still = await viewer_cart(client, payload["token"])
    assert still is not None and still["id"] == guest["id"]


async def test_bogus_or_foreign_guest_cart_never_fails_sign_in(client: GraphQLClient) -> None:
    w = await world(client)
    usd = await other_variant(client, w, price=1999, currency="USD", sku="USD-1")
    mine = await cart_with(client, w, 1, token=w.shopper["token"])
    theirs = await cart_with(client, w, 4, token=w.creator["token"])
    dollars = await empty_cart(client, anonymous=True)
    await add(client, dollars["id"], [line(usd, 2)], anonymous=True)

    bogus = [
        "garbage",
        "",
        gid("Cart", uuid.uuid4()),  # no such cart
        gid("Cart", "not-a-uuid"),
        gid("Note", 1),
        w.note["id"],
        theirs["id"],  # someone else's cart
        dollars["id"],  # a guest cart in another currency than the shopper's
    ]
    for guest_cart_id in bogus:
        payload = await sign_in(client, email_of(w.shopper), guest_cart_id)
        assert payload["errors"] == [], guest_cart_id
        assert payload["token"], guest_cart_id
        assert payload["cart"]["id"] == mine["id"], guest_cart_id
        assert summary(payload["cart"]) == [(w.variant_id, 1, w.note["id"])], guest_cart_id

    # The other carts are as they were.
    creators = await must_read_cart(client, theirs["id"], token=w.creator["token"])
    assert summary(creators) == [(w.variant_id, 4, w.note["id"])]
    assert creators["status"] == "OPEN"
    kept = await must_read_cart(client, dollars["id"], anonymous=True)
    assert kept["status"] == "OPEN"
    assert summary(kept) == [(usd, 2, None)]

    # A failed sign-in does not touch the guest cart.
    guest = await cart_with(client, w, 1, anonymous=True)
    wrong = await sign_in(client, email_of(w.shopper), guest["id"], password="wrong password")
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]
    assert wrong["token"] is None and wrong["cart"] is None
    untouched = await must_read_cart(client, guest["id"], anonymous=True)
    assert untouched["status"] == "OPEN"
    assert (await viewer_cart(client, w.shopper["token"]) or {}).get("totalQuantity") == 1

    # A shopper without a cart and a bogus id: signed in, no cart.
    loner = await sign_up(client, f"loner{uuid.uuid4().hex[:6]}")
    payload = await sign_in(client, email_of(loner), gid("Cart", uuid.uuid4()))
    assert payload["errors"] == []
    assert payload["token"]
    assert payload["cart"] is None


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


# --- SQL budget ------------------------------------------------------------------------------------------------------


async def test_cart_lines_add_sql_is_constant_and_within_budget(client: GraphQLClient) -> None:
    """cartLinesAdd with source notes, signed in, answering with the full cart: at most five statements,
    whether it adds one line or five, new lines or existing ones."""
    w = await world(client)
    product = await create_product(
        client,
        w.merchant["token"],
        title="Palette 眼影盘",
        variants=[
            {
                "sku": f"PAL-{i}",
                "name": f"色号 {i}",
                "priceMinorUnits": 9900 + i,
                "currency": "CNY",
                "stock": 50,
            }
            for i in range(5)
        ],
    )
    variants = [str(v["id"]) for v in product["variants"]]
    notes = [
        str(
            (await create_note(client, w.creator["token"], productIds=[product["id"]], title=f"试色 {i}"))[
                "id"
            ]
        )
        for i in range(5)
    ]
    other = await sign_up(client, f"buyer{uuid.uuid4().hex[:6]}")

    async def statements(token: str, cart_id: str, lines: list[dict[str, Any]]) -> int:
        body = await client.execute(CART_LINES_ADD, {"cartId": cart_id, "lines": lines}, token=token)
        assert "errors" not in body, body
        payload = body["data"]["cartLinesAdd"]
        assert payload["errors"] == [], payload["errors"]
        assert len(payload["cart"]["lines"]) == len(lines)
        assert [ln["sourceNote"]["id"] for ln in payload["cart"]["lines"]] == [
            ln["sourceNoteId"] for ln in lines
        ]
        return int(body["extensions"]["sqlStatements"])

    one_cart = (await empty_cart(client, token=w.shopper["token"]))["id"]
    five_cart = (await empty_cart(client, token=other["token"]))["id"]
    one = [line(variants[0], 1, notes[0])]
    five = [line(v, 1, n) for v, n in zip(variants, notes, strict=True)]
    counts = {
        "1 new line": await statements(w.shopper["token"], one_cart, one),
        "5 new lines": await statements(other["token"], five_cart, five),
        "1 existing line": await statements(w.shopper["token"], one_cart, one),
        "5 existing lines": await statements(other["token"], five_cart, five),
    }
    print("statements per cartLinesAdd:", counts)
    assert len(set(counts.values())) == 1, counts
    assert counts["1 new line"] <= 5, counts
