"""OUT_OF_STOCK through GraphQL: besides its message, the refusal says which variant is short and how
many are left, so a client can offer to buy what remains."""

from __future__ import annotations

import pytest

from tests.conftest import GraphQLClient
from tests.shop import cart_with, checkout_input, refused, stock_of, world

CHECKOUT_START = """
mutation($input: CheckoutStartInput!) {
  checkoutStart(input: $input) {
    order { id }
    errors { field message code detail { variantId available orderStatus refundable { minorUnits } currency } }
  }
}"""


@pytest.mark.parametrize(
    ("stock", "wanted", "message"),
    [(2, 3, "Only 2 of 01 正红 left."), (0, 1, "01 正红 is sold out.")],
)
async def test_out_of_stock_says_how_many_are_left(
    fake_shop: GraphQLClient, stock: int, wanted: int, message: str
) -> None:
    w = await world(fake_shop, stock=stock)
    cart = await cart_with(fake_shop, w, wanted)

    errors = await refused(
        fake_shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )

    assert errors == [
        {
            "field": ["input", "cartId"],
            "message": message,
            "code": "OUT_OF_STOCK",
            "detail": {
                "variantId": w.variant_id,
                "available": stock,
                "orderStatus": None,
                "refundable": None,
                "currency": None,
            },
        }
    ]
    assert await stock_of(fake_shop, w) == stock  # nothing was taken


async def test_other_refusals_have_no_detail(fake_shop: GraphQLClient) -> None:
    w = await world(fake_shop)
    cart = await cart_with(fake_shop, w, 1)
    bad_address = checkout_input(cart["id"])
    bad_address["input"]["shippingAddress"] = {**bad_address["input"]["shippingAddress"], "postalCode": " "}

    errors = await refused(fake_shop, CHECKOUT_START, bad_address, "checkoutStart", token=w.shopper["token"])

    assert errors == [
        {
            "field": ["input", "shippingAddress", "postalCode"],
            "message": "Postal code must not be empty.",
            "code": "REQUIRED",
            "detail": None,
        }
    ]
