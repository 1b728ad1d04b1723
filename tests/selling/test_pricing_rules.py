"""commerce.pricing.price_cart, the rules of a cart's price, on rows built in memory (no statement): groups
per merchant, options and the chosen one, codes and their allocation, totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce.cart import CartContents
from commerce.pricing import MAX_OPTIONS, price_cart
from core.errors import ErrorCode
from models import Cart, CartLine, ProductVariant
from models.fulfilment import DiscountCode, DiscountKind, ShippingRate

NOW = datetime(2026, 6, 1, tzinfo=UTC)
pytestmark = pytest.mark.usefixtures("db")  # models are usable once Tortoise knows them


def contents(lines: list[tuple[int, int, int, int, int]], **cart: Any) -> CartContents:
    """A cart of one of each (line id, variant id, product id, merchant id, price)."""
    made = Cart(**({"currency": "CNY", "delivery_rate_ids": {}, "discount_code_ids": {}} | cart))
    rows = []
    merchant_of = {}
    for line_id, variant_id, product_id, merchant_id, price in lines:
        variant = ProductVariant(
            id=variant_id, product_id=product_id, price_minor_units=price, currency="CNY", stock=9, name="v"
        )
        rows.append(
            (CartLine(id=line_id, variant_id=variant_id, quantity=1, unit_price_minor_units=price), variant)
        )
        merchant_of[variant_id] = merchant_id
    return CartContents(made, rows, merchant_of=merchant_of)


def rate(rate_id: int, merchant_id: int, price: int, **fields: Any) -> ShippingRate:
    values: dict[str, Any] = {
        "name": f"r{rate_id}",
        "countries": ["CN"],
        "currency": "CNY",
        "min_delivery_days": 1,
        "max_delivery_days": 3,
    }
    return ShippingRate(id=rate_id, merchant_id=merchant_id, price_minor_units=price, **(values | fields))


def code(code_id: int, merchant_id: int, kind: DiscountKind, value: int, **fields: Any) -> DiscountCode:
    defaults: dict[str, Any] = {"uses": 0, "active": True, "product_ids": [], "min_subtotal_minor_units": 0}
    return DiscountCode(
        id=code_id, merchant_id=merchant_id, code=f"C{code_id}", kind=kind, value=value, **(defaults | fields)
    )


def test_each_merchant_is_a_group_priced_by_its_own_cheapest_rate_and_threshold() -> None:
    cart = contents([(1, 11, 101, 7, 20000), (2, 12, 102, 8, 5000)], shipping_address={"country": "CN"})
    rates = [
        rate(1, 7, 1000, free_over_minor_units=15000),
        rate(2, 7, 300, countries=["US"]),
        rate(3, 8, 800),
        rate(4, 8, 500, archived_at=NOW),
    ]
    priced = price_cart(cart, rates=rates, codes=[], now=NOW)
    seven, eight = priced.group_of(7), priced.group_of(8)
    assert seven is not None and eight is not None
    assert [(o.rate.id if o.rate else None, o.price_minor_units) for o in seven.options] == [
        (1, 0)
    ]  # free over 150.00
    assert [(o.rate.id if o.rate else None, o.price_minor_units) for o in eight.options] == [
        (3, 800)
    ]  # archived left out
    assert (priced.subtotal_minor_units, priced.shipping_minor_units, priced.total_minor_units) == (
        25000,
        800,
        25800,
    )


def test_a_chosen_rate_no_longer_offered_falls_back_to_the_cheapest_and_options_are_capped() -> None:
    many = [rate(i, 7, 100 * i) for i in range(1, MAX_OPTIONS + 3)]
    cart = contents(
        [(1, 11, 101, 7, 1000)], shipping_address={"country": "CN"}, delivery_rate_ids={"7": MAX_OPTIONS + 2}
    )
    (group,) = price_cart(cart, rates=many, codes=[], now=NOW).groups
    assert len(group.options) == MAX_OPTIONS
    assert group.selected is not None and group.selected.rate is not None and group.selected.rate.id == 1


def test_no_address_means_not_shippable_unless_the_merchant_has_no_rates() -> None:
    cart = contents([(1, 11, 101, 7, 1000), (2, 12, 102, 8, 1000)])
    priced = price_cart(cart, rates=[rate(1, 7, 500)], codes=[], now=NOW)
    assert [g.merchant_id for g in priced.unshippable()] == [7]
    eight = priced.group_of(8)
    assert eight is not None and eight.selected is not None and eight.selected.rate is None


def test_a_restricted_code_discounts_its_products_only_and_shares_add_up() -> None:
    cart = contents(
        [(1, 11, 101, 7, 1000), (2, 12, 102, 7, 2000), (3, 13, 103, 7, 3333)],
        shipping_address={"country": "CN"},
    )
    percent = code(1, 7, DiscountKind.PERCENT, 3333, product_ids=[101, 103])
    (group,) = price_cart(cart, rates=[], codes=[percent], now=NOW).groups
    assert group.discount_minor_units == (1000 + 3333) * 3333 // 10000 == 1444
    assert set(group.line_discounts) == {1, 3} and sum(group.line_discounts.values()) == 1444


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"ends_at": NOW}, ErrorCode.DISCOUNT_EXPIRED),
        ({"starts_at": NOW + timedelta(days=1)}, ErrorCode.DISCOUNT_EXPIRED),
        ({"active": False}, ErrorCode.DISCOUNT_EXPIRED),
        ({"usage_limit": 3, "uses": 3}, ErrorCode.DISCOUNT_EXHAUSTED),
        ({"min_subtotal_minor_units": 5001}, ErrorCode.DISCOUNT_NOT_APPLICABLE),
        ({"currency": "USD"}, ErrorCode.DISCOUNT_NOT_APPLICABLE),
        ({"product_ids": [999]}, ErrorCode.DISCOUNT_NOT_APPLICABLE),
    ],
)
def test_a_code_that_cannot_apply_takes_nothing_and_says_why(
    changes: dict[str, Any], problem: ErrorCode
) -> None:
    fixed = code(1, 7, DiscountKind.FIXED, 700, currency="CNY")
    for field, value in changes.items():
        setattr(fixed, field, value)
    (group,) = price_cart(contents([(1, 11, 101, 7, 5000)]), rates=[], codes=[fixed], now=NOW).groups
    assert group.code is not None and group.code.problem is problem and group.code.message
    assert group.total_minor_units == 5000


def test_never_below_zero_and_free_shipping_takes_the_chosen_option() -> None:
    cart = contents([(1, 11, 101, 7, 500)], shipping_address={"country": "CN"})
    (group,) = price_cart(
        cart, rates=[rate(1, 7, 900)], codes=[code(1, 7, DiscountKind.FIXED, 99999, currency="CNY")], now=NOW
    ).groups
    assert group.discount_minor_units == 500 and group.total_minor_units == 900
    (group,) = price_cart(
        cart, rates=[rate(1, 7, 900)], codes=[code(2, 7, DiscountKind.FREE_SHIPPING, 0)], now=NOW
    ).groups
    assert (group.shipping_minor_units, group.shipping_discount_minor_units, group.total_minor_units) == (
        900,
        900,
        500,
    )


def test_a_code_of_a_merchant_with_nothing_in_the_cart_is_not_priced() -> None:
    (group,) = price_cart(
        contents([(1, 11, 101, 7, 500)]), rates=[], codes=[code(1, 8, DiscountKind.PERCENT, 5000)], now=NOW
    ).groups
    assert group.code is None and group.total_minor_units == 500
