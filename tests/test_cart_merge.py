"""A guest cart merged into the account's cart (or adopted by it) at sign-in and sign-up."""

from __future__ import annotations

import uuid

from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.shop import (
    CART_FIELDS,
    ERRORS,
    PASSWORD,
    add,
    add_refused,
    cart_not_found,
    cart_with,
    email_of,
    empty_cart,
    err,
    gid,
    line,
    must_read_cart,
    ok,
    other_variant,
    read_cart,
    second_note,
    sign_in,
    summary,
    viewer_cart,
    world,
)

MONEY_FIELDS = "amount minorUnits currency"
SIGN_UP = f"""
mutation($input: SignUpInput!) {{
  signUp(input: $input) {{ token user {{ id handle }} cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
NOTE_DELETE = f"mutation($id: ID!) {{ noteDelete(id: $id) {{ deletedNoteId {ERRORS} }} }}"


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
