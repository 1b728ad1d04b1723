"""Cart lines through the API: adding, limits, one currency per cart, changing and removing, and the SQL
cost of adding."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up
from tests.shop import (
    CART_CREATE,
    CART_LINES_ADD,
    CART_LINES_REMOVE,
    CART_LINES_UPDATE,
    ERRORS,
    add,
    add_refused,
    cart_with,
    empty_cart,
    err,
    gid,
    line,
    must_read_cart,
    ok,
    other_variant,
    read_cart,
    refused,
    second_note,
    summary,
    viewer_cart,
    world,
)

MONEY_FIELDS = "amount minorUnits currency"
NOTE_DELETE = f"mutation($id: ID!) {{ noteDelete(id: $id) {{ deletedNoteId {ERRORS} }} }}"


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
    assert len(set(counts.values())) == 1, counts
    assert counts["1 new line"] <= 6, counts  # the token's session check, then at most 5
