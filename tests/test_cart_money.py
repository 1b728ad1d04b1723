"""Cart money and warnings through the API: subtotals at today's prices, zero-decimal currencies, price and
stock warnings."""

from __future__ import annotations

from tests.conftest import GraphQLClient
from tests.shop import (
    cart_with,
    edit_variant,
    must_read_cart,
    world,
)

MONEY_FIELDS = "amount minorUnits currency"
CART_MONEY = f"""
query($id: ID!) {{
  cart(id: $id) {{
    currency subtotal {{ {MONEY_FIELDS} }}
    lines {{ quantity unitPrice {{ {MONEY_FIELDS} }} addedAtPrice {{ {MONEY_FIELDS} }} lineTotal {{ {MONEY_FIELDS} }} }}
  }}
}}"""


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
