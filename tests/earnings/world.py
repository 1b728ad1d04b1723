"""Creators, merchants who pay them a commission, and shoppers buying from their notes, through the API; and
the queries a creator and a merchant read their earnings with."""

from __future__ import annotations

import uuid
from typing import Any

from models import Product
from tests.conftest import GraphQLClient
from tests.factories import create_note
from tests.selling.orders import CODE_APPLY, CODE_CREATE, read
from tests.shop import CART_CREATE, CHECKOUT_START, World, checkout_input, complete, ok, pk, world
from tests.stripe_emulator import pay

RATE = 1000  # basis points: 10 %

MONEY = "{ minorUnits currency }"
EARNINGS = f"""{{ viewer {{
  earnings {{ pending {MONEY} available {MONEY} inPayout {MONEY} paidOut {MONEY}
    byCurrency {{ currency pending {MONEY} available {MONEY} inPayout {MONEY} paidOut {MONEY} }} }}
}} }}"""
ENTRIES = f"""query($first: Int, $after: String, $last: Int, $before: String) {{ viewer {{
  earningEntries(first: $first, after: $after, last: $last, before: $before) {{
    totalCount pageInfo {{ hasNextPage endCursor hasPreviousPage startCursor }}
    nodes {{ id kind currency pending {MONEY} available {MONEY} inPayout {MONEY} paidOut {MONEY}
      note {{ id }} createdAt }}
  }}
}} }}"""
OWED = f"""{{ viewer {{ commissionsOwed {{ byCurrency {{ currency pending {MONEY} released {MONEY}
  reversed {MONEY} }} }} }} }}"""
NOTE_SALES = f"""query($id: ID!) {{ note(id: $id) {{ sales {{ itemsSold orders revenue {MONEY}
  commission {MONEY} }} }} }}"""
OTHERS = """query($handle: String!) { user(handle: $handle) { earnings { pending { minorUnits } }
  earningEntries(first: 5) { totalCount } commissionsOwed { byCurrency { currency } } } }"""


async def paying_world(client: GraphQLClient, *, rate: int = RATE, stock: int = 20) -> World:
    """The shop world (tests/shop.py) whose product pays creators `rate` basis points (set in the
    catalogue directly: the commission terms' API is another piece of the issue)."""
    w = await world(client, stock=stock)
    await Product.filter(id=pk(w.product["id"])).update(creator_commission_basis_points=rate)
    return w


async def buy(
    client: GraphQLClient,
    base: str,
    w: World,
    *,
    quantity: int = 1,
    note_id: str | bool | None = True,
    token: str | None = None,
    discount: int = 0,
) -> dict[str, Any]:
    """A PAID order of `quantity` of the world's variant, bought from its note (or `note_id`, or from no
    note when None), by the shopper (or `token`), with the merchant's FIXED code of `discount` applied."""
    buyer = token or w.shopper["token"]
    line: dict[str, Any] = {"variantId": w.variant_id, "quantity": quantity}
    source = w.note["id"] if note_id is True else note_id
    if source:
        line["sourceNoteId"] = source
    cart = (await ok(client, CART_CREATE, {"input": {"lines": [line]}}, "cartCreate", token=buyer))["cart"]
    if discount:
        code = f"OFF{uuid.uuid4().hex[:6]}".upper()
        fixed = {"code": code, "kind": "FIXED", "value": discount, "currency": "CNY"}
        await ok(client, CODE_CREATE, {"input": fixed}, "discountCodeCreate", token=w.merchant["token"])
        await ok(
            client, CODE_APPLY, {"cartId": cart["id"], "code": code}, "cartDiscountCodeApply", token=buyer
        )
    started = await ok(client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=buyer)
    assert await pay(base, started["payment"]["paymentIntentId"]) == "succeeded"
    paid = await complete(client, started["order"]["id"], buyer)
    assert paid["status"] == "PAID"
    return await read(client, paid["id"], buyer)


async def note_by(client: GraphQLClient, token: str, w: World) -> str:
    """A note by the person signed in with `token` tagging the world's product: its id."""
    note = await create_note(client, token, productIds=[w.product["id"]], title="我家的新品")
    return str(note["id"])


async def earnings(client: GraphQLClient, token: str) -> dict[str, Any]:
    """viewer.earnings, as {balance: {currency: minor units}} for the four balances."""
    found = (await client.data(EARNINGS, token=token))["viewer"]["earnings"]
    per_currency = {
        b["currency"]: [b[k]["minorUnits"] for k in ("pending", "available", "inPayout", "paidOut")]
        for b in found["byCurrency"]
    }
    for n, key in enumerate(("pending", "available", "inPayout", "paidOut")):
        assert {m["currency"]: m["minorUnits"] for m in found[key]} == {
            c: v[n] for c, v in per_currency.items()
        }
    return per_currency


async def balance(client: GraphQLClient, token: str, currency: str = "CNY") -> list[int]:
    """[pending, available, in payout, paid out] of one currency (zeros when none)."""
    return (await earnings(client, token)).get(currency, [0, 0, 0, 0])


async def entries(client: GraphQLClient, token: str, **page: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await client.data(ENTRIES, page or {"first": 50}, token=token))["viewer"][
        "earningEntries"
    ]
    return found


def moves(connection: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(kind, pending, available) of each entry listed, newest first."""
    return [
        (n["kind"], n["pending"]["minorUnits"], n["available"]["minorUnits"]) for n in connection["nodes"]
    ]


async def owed(client: GraphQLClient, token: str) -> dict[str, list[int]]:
    rows = (await client.data(OWED, token=token))["viewer"]["commissionsOwed"]["byCurrency"]
    return {
        r["currency"]: [r["pending"]["minorUnits"], r["released"]["minorUnits"], r["reversed"]["minorUnits"]]
        for r in rows
    }


async def note_commission(client: GraphQLClient, token: str, note_id: str) -> list[int]:
    sales = (await client.data(NOTE_SALES, {"id": note_id}, token=token))["note"]["sales"]
    return [m["minorUnits"] for m in sales["commission"]]
