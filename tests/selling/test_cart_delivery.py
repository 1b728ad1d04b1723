"""A cart from three merchants, as a shopper fills it: delivery groups, shipping options for the address,
discount codes (valid, expired, exhausted, another merchant's, stacked), and a checkout whose PaymentIntent
is the cart's total to the minor unit; codes reserved with the stock and given back with it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce.ledger import ledger_mismatches
from core.ids import parse_uuid_global_id
from models import Cart, CartStatus, DiscountCode, Order
from models.fulfilment import DiscountRedemption, OrderDeliveryGroup, RedemptionStatus
from tests.conftest import GraphQLClient
from tests.factories import create_product, sign_up
from tests.shop import ADDRESS, CHECKOUT_COMPLETE, ERRORS, ORDER_CANCEL, pk
from tests.stripe_emulator import pay, stripe_client

pytestmark = pytest.mark.usefixtures("ledger_agrees")

GROUPS = """
  id currency
  subtotal { minorUnits } shipping { minorUnits } discount { minorUnits } total { minorUnits currency }
  shippingAddress { country city }
  lines { id quantity discountAllocations { code amount { minorUnits } } }
  deliveryGroups {
    merchant { handle } lineIds shippable problem message
    subtotal { minorUnits } shipping { minorUnits } total { minorUnits }
    options { rate { id name } price { minorUnits } estimatedDelivery { minDays maxDays } }
    selectedOption { rate { id name } price { minorUnits } }
    discount { code amount { minorUnits } }
  }
  discounts { code kind amount { minorUnits } shippingAmount { minorUnits } merchant { handle } problem }
"""
CART_CREATE = f"""
mutation($input: CartCreateInput!) {{ cartCreate(input: $input) {{ cart {{ {GROUPS} }} {ERRORS} }} }}"""
CART = f"query($id: ID!) {{ cart(id: $id) {{ {GROUPS} }} }}"
ADDRESS_SET = f"""
mutation($cartId: ID!, $address: ShippingAddressInput!) {{
  cartShippingAddressSet(cartId: $cartId, address: $address) {{ cart {{ {GROUPS} }} {ERRORS} }}
}}"""
OPTION_SELECT = f"""
mutation($cartId: ID!, $merchantId: ID!, $rateId: ID!) {{
  cartDeliveryOptionSelect(cartId: $cartId, merchantId: $merchantId, rateId: $rateId) {{ cart {{ {GROUPS} }} {ERRORS} }}
}}"""
CODE_APPLY = f"""
mutation($cartId: ID!, $code: String!) {{
  cartDiscountCodeApply(cartId: $cartId, code: $code) {{ cart {{ {GROUPS} }} {ERRORS} }}
}}"""
CODE_REMOVE = f"""
mutation($cartId: ID!, $code: String!) {{
  cartDiscountCodeRemove(cartId: $cartId, code: $code) {{ cart {{ {GROUPS} }} {ERRORS} }}
}}"""
LINES_REMOVE = f"""
mutation($cartId: ID!, $lineIds: [ID!]!) {{
  cartLinesRemove(cartId: $cartId, lineIds: $lineIds) {{ cart {{ {GROUPS} }} {ERRORS} }}
}}"""
CHECKOUT = f"""
mutation($input: CheckoutStartInput!) {{
  checkoutStart(input: $input) {{
    order {{
      id status total {{ minorUnits }} subtotal {{ minorUnits }} shipping {{ minorUnits }}
      discount {{ minorUnits }} lines {{ sku discount {{ minorUnits }} paidTotal {{ minorUnits }} }}
    }}
    payment {{ paymentIntentId clientSecret }} {ERRORS}
  }}
}}"""
RATE_CREATE = f"""
mutation($input: ShippingRateCreateInput!) {{
  shippingRateCreate(input: $input) {{ shippingRate {{ id name }} {ERRORS} }}
}}"""
CODE_CREATE = f"""
mutation($input: DiscountCodeCreateInput!) {{
  discountCodeCreate(input: $input) {{ discountCode {{ id code }} {ERRORS} }}
}}"""


async def ok(client: GraphQLClient, query: str, variables: dict[str, Any], field: str, **kw: Any) -> Any:
    body = await client.execute(query, variables, **kw)
    assert "errors" not in body, body["errors"]
    payload = body["data"][field]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def refused(
    client: GraphQLClient, query: str, variables: dict[str, Any], field: str, **kw: Any
) -> list[str]:
    body = await client.execute(query, variables, **kw)
    assert "errors" not in body, body["errors"]
    payload = body["data"][field]
    assert payload["errors"], payload
    return [e["code"] for e in payload["errors"]]


async def merchant_with(
    client: GraphQLClient, name: str, price: int, rates: list[dict[str, Any]], stock: int = 100
) -> dict[str, Any]:
    """A merchant selling one product at `price` CNY, shipping with `rates`."""
    who = await sign_up(client, f"{name}{uuid.uuid4().hex[:6]}")
    product = await create_product(
        client,
        who["token"],
        title=f"{name} 好物",
        variants=[
            {
                "sku": f"{name.upper()}-1",
                "name": "标准",
                "priceMinorUnits": price,
                "currency": "CNY",
                "stock": stock,
            }
        ],
    )
    who["product"] = product
    who["variant"] = product["variants"][0]["id"]
    who["rates"] = []
    for rate in rates:
        spec = {
            "currency": "CNY",
            "minDeliveryDays": 2,
            "maxDeliveryDays": 5,
            "freeOverMinorUnits": None,
            **rate,
        }
        made = await ok(client, RATE_CREATE, {"input": spec}, "shippingRateCreate", token=who["token"])
        who["rates"].append(made["shippingRate"])
    return who


async def code(client: GraphQLClient, merchant: dict[str, Any], **fields: Any) -> dict[str, Any]:
    made = await ok(client, CODE_CREATE, {"input": fields}, "discountCodeCreate", token=merchant["token"])
    return dict(made["discountCode"])


def by_merchant(cart: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["merchant"]["handle"][:-6]: g for g in cart["deliveryGroups"]}


async def three_shops(client: GraphQLClient) -> dict[str, dict[str, Any]]:
    lipstick = await merchant_with(
        client,
        "lipshop",
        12900,
        [
            {"name": "标准快递", "countries": ["CN"], "priceMinorUnits": 1000, "freeOverMinorUnits": 30000},
            {
                "name": "顺丰次日",
                "countries": ["CN"],
                "priceMinorUnits": 2500,
                "minDeliveryDays": 1,
                "maxDeliveryDays": 2,
            },
        ],
    )
    tea = await merchant_with(
        client, "teashop", 5000, [{"name": "EMS", "countries": ["CN", "HK"], "priceMinorUnits": 800}]
    )
    usonly = await merchant_with(
        client, "usshop", 3000, [{"name": "USPS", "countries": ["US"], "priceMinorUnits": 500}]
    )
    return {"lipshop": lipstick, "teashop": tea, "usshop": usonly}


async def cart_of(client: GraphQLClient, lines: list[tuple[str, int]], **kw: Any) -> dict[str, Any]:
    spec = {"lines": [{"variantId": v, "quantity": q} for v, q in lines]}
    return dict((await ok(client, CART_CREATE, {"input": spec}, "cartCreate", **kw))["cart"])


async def test_a_cart_from_three_shops_pays_its_total_to_the_minor_unit(
    shop: GraphQLClient, stripe_base: str
) -> None:
    shops = await three_shops(shop)
    lip, tea, us = shops["lipshop"], shops["teashop"], shops["usshop"]
    other = await merchant_with(shop, "othershop", 1000, [])
    await code(shop, lip, code="LIP10", kind="PERCENT", value=1000)
    await code(shop, lip, code="LIPSHIP", kind="FREE_SHIPPING", value=0)
    await code(shop, lip, code="LIPOLD", kind="PERCENT", value=5000, endsAt="2020-01-01T00:00:00Z")
    await code(shop, tea, code="TEA5", kind="FIXED", value=500, currency="CNY")
    await code(shop, tea, code="TEAGONE", kind="FIXED", value=100, currency="CNY", usageLimit=1)
    # Someone else takes the code's one use (a checkout reserves it).
    early = await cart_of(shop, [(tea["variant"], 1)])
    await ok(shop, ADDRESS_SET, {"cartId": early["id"], "address": ADDRESS}, "cartShippingAddressSet")
    await ok(shop, CODE_APPLY, {"cartId": early["id"], "code": "TEAGONE"}, "cartDiscountCodeApply")
    early_checkout = {"cartId": early["id"], "idempotencyKey": "early", "email": "early@example.com"}
    await ok(shop, CHECKOUT, {"input": early_checkout}, "checkoutStart")
    await code(shop, other, code="ELSEWHERE", kind="PERCENT", value=1000)
    buyer = await sign_up(shop, f"buyer{uuid.uuid4().hex[:6]}")
    token = buyer["token"]

    cart = await cart_of(shop, [(lip["variant"], 2), (tea["variant"], 1), (us["variant"], 1)], token=token)
    cart_id = cart["id"]
    groups = by_merchant(cart)
    assert set(groups) == {"lipshop", "teashop", "usshop"}
    # No address yet: merchants with rates cannot be priced; the cart says so and totals the goods.
    assert all(not g["shippable"] and g["problem"] == "NOT_SHIPPABLE" for g in groups.values())
    assert cart["total"]["minorUnits"] == 2 * 12900 + 5000 + 3000

    cart = (
        await ok(
            shop, ADDRESS_SET, {"cartId": cart_id, "address": ADDRESS}, "cartShippingAddressSet", token=token
        )
    )["cart"]
    assert cart["shippingAddress"]["country"] == "CN"
    groups = by_merchant(cart)
    assert [o["price"]["minorUnits"] for o in groups["lipshop"]["options"]] == [1000, 2500]  # cheapest first
    assert groups["lipshop"]["selectedOption"]["rate"]["name"] == "标准快递"  # the default: the cheapest
    assert groups["teashop"]["shipping"]["minorUnits"] == 800
    assert groups["usshop"]["options"] == [] and groups["usshop"]["problem"] == "NOT_SHIPPABLE"
    assert "does not ship to CN" in groups["usshop"]["message"]

    # Checkout refuses a group that cannot ship, and changes nothing.
    body = await shop.execute(CHECKOUT, {"input": {"cartId": cart_id, "idempotencyKey": "k1"}}, token=token)
    assert [e["code"] for e in body["data"]["checkoutStart"]["errors"]] == ["NOT_SHIPPABLE"]
    assert (await Cart.get(id=pk_uuid(cart_id))).status == CartStatus.OPEN
    assert await Order.filter(cart_id=pk_uuid(cart_id)).count() == 0

    us_line = next(line["id"] for line in cart["lines"] if line["id"] in groups["usshop"]["lineIds"])
    await ok(shop, LINES_REMOVE, {"cartId": cart_id, "lineIds": [us_line]}, "cartLinesRemove", token=token)
    express = lip["rates"][1]
    cart = (
        await ok(
            shop,
            OPTION_SELECT,
            {"cartId": cart_id, "merchantId": lip_id(lip), "rateId": express["id"]},
            "cartDeliveryOptionSelect",
            token=token,
        )
    )["cart"]
    assert by_merchant(cart)["lipshop"]["selectedOption"]["rate"]["name"] == "顺丰次日"
    # A rate of another merchant, or one that does not ship here, is refused.
    assert await refused(
        shop,
        OPTION_SELECT,
        {"cartId": cart_id, "merchantId": lip_id(lip), "rateId": tea["rates"][0]["id"]},
        "cartDeliveryOptionSelect",
        token=token,
    ) == ["NOT_FOUND"]

    apply = {"cartId": cart_id}
    cart = (await ok(shop, CODE_APPLY, {**apply, "code": "lip10"}, "cartDiscountCodeApply", token=token))[
        "cart"
    ]
    assert await refused(
        shop, CODE_APPLY, {**apply, "code": "LIPSHIP"}, "cartDiscountCodeApply", token=token
    ) == ["DISCOUNT_NOT_COMBINABLE"]
    assert await refused(
        shop, CODE_APPLY, {**apply, "code": "lipold"}, "cartDiscountCodeApply", token=token
    ) == ["DISCOUNT_EXPIRED"]
    assert await refused(
        shop, CODE_APPLY, {**apply, "code": "TEAGONE"}, "cartDiscountCodeApply", token=token
    ) == ["DISCOUNT_EXHAUSTED"]
    assert await refused(
        shop, CODE_APPLY, {**apply, "code": "ELSEWHERE"}, "cartDiscountCodeApply", token=token
    ) == ["DISCOUNT_NOT_APPLICABLE"]
    assert await refused(
        shop, CODE_APPLY, {**apply, "code": "NOSUCH"}, "cartDiscountCodeApply", token=token
    ) == ["NOT_FOUND"]
    cart = (await ok(shop, CODE_APPLY, {**apply, "code": "Tea5"}, "cartDiscountCodeApply", token=token))[
        "cart"
    ]

    groups = by_merchant(cart)
    lip_subtotal, tea_subtotal = 2 * 12900, 5000
    assert groups["lipshop"]["discount"]["amount"]["minorUnits"] == lip_subtotal // 10
    assert groups["lipshop"]["total"]["minorUnits"] == lip_subtotal + 2500 - lip_subtotal // 10
    assert groups["teashop"]["total"]["minorUnits"] == tea_subtotal + 800 - 500
    expected = lip_subtotal + 2500 - 2580 + tea_subtotal + 800 - 500
    assert (
        cart["subtotal"]["minorUnits"],
        cart["shipping"]["minorUnits"],
        cart["discount"]["minorUnits"],
    ) == (lip_subtotal + tea_subtotal, 3300, 3080)
    assert cart["total"]["minorUnits"] == expected
    assert {d["code"]: d["amount"]["minorUnits"] for d in cart["discounts"]} == {"LIP10": 2580, "TEA5": 500}
    allocations = sorted(
        a["amount"]["minorUnits"] for line in cart["lines"] for a in line["discountAllocations"]
    )
    assert allocations == [500, 2580]

    started = await ok(
        shop, CHECKOUT, {"input": {"cartId": cart_id, "idempotencyKey": "k2"}}, "checkoutStart", token=token
    )
    order = started["order"]
    assert (
        order["subtotal"]["minorUnits"],
        order["shipping"]["minorUnits"],
        order["discount"]["minorUnits"],
    ) == (30800, 3300, 3080)
    assert order["total"]["minorUnits"] == expected
    assert sum(line["paidTotal"]["minorUnits"] for line in order["lines"]) == 30800 - 3080
    intent_id = started["payment"]["paymentIntentId"]
    intent = await stripe_client(stripe_base).v1.payment_intents.retrieve_async(intent_id)
    assert (intent["amount"], intent["currency"]) == (expected, "cny")
    assert {c.code: c.uses for c in await DiscountCode.filter(code__in=["LIP10", "TEA5"])} == {
        "LIP10": 1,
        "TEA5": 1,
    }

    assert await pay(stripe_base, intent_id) == "succeeded"
    paid = await ok(shop, CHECKOUT_COMPLETE, {"orderId": order["id"]}, "checkoutComplete", token=token)
    assert paid["order"]["status"] == "PAID"
    assert paid["order"]["paid"]["minorUnits"] == expected
    order_id = pk_uuid(order["id"])
    assert sorted(await DiscountRedemption.filter(order_id=order_id).values_list("status", flat=True)) == [
        RedemptionStatus.USED,
        RedemptionStatus.USED,
    ]
    kept = {
        g.rate_name: (g.shipping_minor_units, g.discount_minor_units)
        for g in await OrderDeliveryGroup.filter(order_id=order_id)
    }
    assert kept == {"顺丰次日": (2500, 2580), "EMS": (800, 500)}
    assert await ledger_mismatches() == []


def pk_uuid(global_id: str) -> uuid.UUID:
    parsed = parse_uuid_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


def lip_id(merchant: dict[str, Any]) -> str:
    return str(merchant["user"]["id"])


async def test_free_over_threshold_and_free_shipping_code_are_per_merchant(shop: GraphQLClient) -> None:
    shops = await three_shops(shop)
    lip, tea = shops["lipshop"], shops["teashop"]
    await code(shop, tea, code="TEASHIP", kind="FREE_SHIPPING", value=0)
    cart = await cart_of(shop, [(lip["variant"], 3), (tea["variant"], 1)])
    cart = (
        await ok(shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet")
    )["cart"]
    groups = by_merchant(cart)
    # 3 × 129.00 = 387.00 reaches the lip shop's 300.00 threshold for its standard rate; the express rate has none.
    assert [o["price"]["minorUnits"] for o in groups["lipshop"]["options"]] == [0, 2500]
    assert groups["teashop"]["shipping"]["minorUnits"] == 800  # the threshold is the lip shop's alone
    cart = (await ok(shop, CODE_APPLY, {"cartId": cart["id"], "code": "teaship"}, "cartDiscountCodeApply"))[
        "cart"
    ]
    (discount,) = cart["discounts"]
    assert (discount["amount"]["minorUnits"], discount["shippingAmount"]["minorUnits"]) == (800, 800)
    assert cart["total"]["minorUnits"] == 3 * 12900 + 5000
    cart = (await ok(shop, CODE_REMOVE, {"cartId": cart["id"], "code": "TEASHIP"}, "cartDiscountCodeRemove"))[
        "cart"
    ]
    assert cart["discounts"] == [] and cart["total"]["minorUnits"] == 3 * 12900 + 5000 + 800
    assert await refused(
        shop, CODE_REMOVE, {"cartId": cart["id"], "code": "TEASHIP"}, "cartDiscountCodeRemove"
    ) == ["NOT_FOUND"]


async def test_a_bad_address_is_refused_whole_and_changes_nothing(shop: GraphQLClient) -> None:
    shops = await three_shops(shop)
    cart = await cart_of(shop, [(shops["teashop"]["variant"], 1)])
    body = await shop.execute(
        ADDRESS_SET,
        {"cartId": cart["id"], "address": {**ADDRESS, "country": "XX", "postalCode": " ", "name": ""}},
    )
    payload = body["data"]["cartShippingAddressSet"]
    assert payload["cart"] is None
    assert sorted((tuple(e["field"]), e["code"]) for e in payload["errors"]) == [
        (("address", "country"), "INVALID"),
        (("address", "name"), "REQUIRED"),
        (("address", "postalCode"), "REQUIRED"),
    ]
    assert (await Cart.get(id=pk_uuid(cart["id"]))).shipping_address is None


async def test_expiry_and_limits_are_checked_again_at_checkout(shop: GraphQLClient) -> None:
    shops = await three_shops(shop)
    tea = shops["teashop"]
    made = await code(shop, tea, code="TEALATE", kind="FIXED", value=300, currency="CNY")
    cart = await cart_of(shop, [(tea["variant"], 1)])
    await ok(shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet")
    await ok(shop, CODE_APPLY, {"cartId": cart["id"], "code": "TEALATE"}, "cartDiscountCodeApply")
    await DiscountCode.filter(id=pk(made["id"])).update(ends_at=datetime.now(UTC) - timedelta(minutes=1))

    checkout = {"input": {"cartId": cart["id"], "idempotencyKey": "late", "email": "guest@example.com"}}
    body = await shop.execute(CHECKOUT, checkout)
    errors = body["data"]["checkoutStart"]["errors"]
    assert [e["code"] for e in errors] == ["DISCOUNT_EXPIRED"], errors
    assert (await Cart.get(id=pk_uuid(cart["id"]))).status == CartStatus.OPEN
    assert (await DiscountCode.get(id=pk(made["id"]))).uses == 0
    stock = await stock_of(tea)
    assert stock == 100  # nothing was reserved

    cart_now = (await shop.data(CART, {"id": cart["id"]}))["cart"]
    assert cart_now["discounts"][0]["problem"] == "DISCOUNT_EXPIRED"
    assert cart_now["discounts"][0]["amount"]["minorUnits"] == 0


async def stock_of(merchant: dict[str, Any]) -> int:
    from models import ProductVariant

    return (await ProductVariant.get(id=pk(merchant["variant"]))).stock


async def test_a_rush_on_a_limited_code_never_passes_its_limit(shop: GraphQLClient) -> None:
    shops = await three_shops(shop)
    tea = shops["teashop"]
    limited = await code(shop, tea, code="RUSH10", kind="PERCENT", value=2000, usageLimit=10)
    carts = []
    for _ in range(50):
        cart = await cart_of(shop, [(tea["variant"], 1)])
        await ok(shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet")
        await ok(shop, CODE_APPLY, {"cartId": cart["id"], "code": "RUSH10"}, "cartDiscountCodeApply")
        carts.append(cart["id"])

    async def checkout(i: int, cart_id: str) -> list[str]:
        variables = {
            "input": {"cartId": cart_id, "idempotencyKey": f"rush-{i}", "email": f"r{i}@example.com"}
        }
        body = await shop.execute(CHECKOUT, variables)
        assert "errors" not in body, body["errors"]
        return [e["code"] for e in body["data"]["checkoutStart"]["errors"]]

    results = await asyncio.gather(*(checkout(i, c) for i, c in enumerate(carts)))
    assert sum(1 for r in results if r == []) == 10
    assert all(r == ["DISCOUNT_EXHAUSTED"] for r in results if r)
    assert (await DiscountCode.get(id=pk(limited["id"]))).uses == 10
    assert (
        await DiscountRedemption.filter(code_id=pk(limited["id"]), status=RedemptionStatus.RESERVED).count()
        == 10
    )
    assert await stock_of(tea) == 100 - 10  # the refused checkouts took no stock


async def test_a_cancelled_order_gives_its_code_use_back_and_a_customer_limit_holds(
    shop: GraphQLClient, stripe_base: str
) -> None:
    shops = await three_shops(shop)
    tea = shops["teashop"]
    once = await code(
        shop, tea, code="ONCE", kind="FIXED", value=1000, currency="CNY", usageLimit=5, perCustomerLimit=1
    )
    buyer = await sign_up(shop, f"once{uuid.uuid4().hex[:6]}")
    token = buyer["token"]

    async def started() -> dict[str, Any]:
        cart = await cart_of(shop, [(tea["variant"], 1)], token=token)
        await ok(
            shop,
            ADDRESS_SET,
            {"cartId": cart["id"], "address": ADDRESS},
            "cartShippingAddressSet",
            token=token,
        )
        await ok(
            shop, CODE_APPLY, {"cartId": cart["id"], "code": "ONCE"}, "cartDiscountCodeApply", token=token
        )
        key = uuid.uuid4().hex
        return dict(
            await ok(
                shop,
                CHECKOUT,
                {"input": {"cartId": cart["id"], "idempotencyKey": key}},
                "checkoutStart",
                token=token,
            )
        )

    first = await started()
    assert (await DiscountCode.get(id=pk(once["id"]))).uses == 1
    await ok(shop, ORDER_CANCEL, {"orderId": first["order"]["id"]}, "orderCancel", token=token)
    assert (await DiscountCode.get(id=pk(once["id"]))).uses == 0
    assert await DiscountRedemption.filter(code_id=pk(once["id"])).values_list("status", flat=True) == [
        RedemptionStatus.RELEASED
    ]

    second = await started()  # the cancelled use no longer counts against the customer
    assert await pay(stripe_base, second["payment"]["paymentIntentId"]) == "succeeded"
    await ok(shop, CHECKOUT_COMPLETE, {"orderId": second["order"]["id"]}, "checkoutComplete", token=token)
    assert (await DiscountCode.get(id=pk(once["id"]))).uses == 1

    cart = await cart_of(shop, [(tea["variant"], 1)], token=token)
    assert await refused(
        shop, CODE_APPLY, {"cartId": cart["id"], "code": "ONCE"}, "cartDiscountCodeApply", token=token
    ) == ["DISCOUNT_EXHAUSTED"]


async def test_merchants_without_rates_ship_with_the_price_of_the_goods(client: GraphQLClient) -> None:
    seller = await merchant_with(client, "norates", 4200, [])
    cart = await cart_of(client, [(seller["variant"], 2)])
    (group,) = cart["deliveryGroups"]
    assert group["shippable"] and group["problem"] is None
    assert group["selectedOption"] == {"rate": None, "price": {"minorUnits": 0}}
    assert cart["total"]["minorUnits"] == 8400


async def test_a_priced_cart_of_three_shops_reads_in_a_fixed_number_of_statements(
    shop: GraphQLClient,
) -> None:
    shops = await three_shops(shop)
    for name, kind, value in (
        ("lipshop", "PERCENT", 1000),
        ("teashop", "FIXED", 200),
        ("usshop", "FREE_SHIPPING", 0),
    ):
        extra = {"currency": "CNY"} if kind == "FIXED" else {}
        await code(shop, shops[name], code=f"B{name.upper()}", kind=kind, value=value, **extra)
    cart = await cart_of(shop, [(shops[n]["variant"], 1) for n in shops])
    await ok(
        shop,
        ADDRESS_SET,
        {"cartId": cart["id"], "address": {**ADDRESS, "country": "US"}},
        "cartShippingAddressSet",
    )
    await ok(shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet")
    for name in shops:
        if name != "usshop":
            await ok(
                shop, CODE_APPLY, {"cartId": cart["id"], "code": f"B{name.upper()}"}, "cartDiscountCodeApply"
            )
    body = await shop.execute(CART, {"id": cart["id"]})
    assert "errors" not in body, body["errors"]
    priced = body["data"]["cart"]
    assert len(priced["deliveryGroups"]) == 3 and len(priced["discounts"]) == 2
    # The cart with its lines and merchants, the rates, the codes, the merchants' accounts (one batch).
    assert int(body["extensions"]["sqlStatements"]) <= 8, body["extensions"]  # 4 measured


async def test_checkout_of_three_shops_with_codes_writes_its_order_in_at_most_15_statements(
    shop: GraphQLClient,
) -> None:
    from api import sqlcount
    from commerce import checkout
    from models import OrderLine

    shops = await three_shops(shop)
    del shops["usshop"]
    shops["third"] = await merchant_with(
        shop, "third", 2000, [{"name": "Post", "countries": ["CN"], "priceMinorUnits": 600}]
    )
    for name, merchant in shops.items():
        await code(
            shop,
            merchant,
            code=f"T{name.upper()}",
            kind="PERCENT",
            value=500,
            usageLimit=5,
            perCustomerLimit=1,
        )
    cart = await cart_of(shop, [(m["variant"], 2) for m in shops.values()])
    await ok(shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet")
    for name in shops:
        await ok(
            shop, CODE_APPLY, {"cartId": cart["id"], "code": f"T{name.upper()}"}, "cartDiscountCodeApply"
        )
    row = await Cart.get(id=pk_uuid(cart["id"]))
    address = dict(row.shipping_address or {})

    sqlcount.install()
    counter = sqlcount.start_request_counter()
    order, created = await checkout._create_order(
        row, None, "budget@example.com", address, "budget-1", checkout.DEFAULT_RESERVATION
    )
    statements = counter[0]

    assert created and order.total_minor_units > 0
    assert await OrderLine.filter(order_id=order.id).count() == 3
    assert await DiscountRedemption.filter(order_id=order.id).count() == 3
    assert await OrderDeliveryGroup.filter(order_id=order.id).count() == 3
    # 14 measured: freeze the cart, read it (lines, variants, products, notes), rates, codes, the customer's
    # uses of the three, stock (one conditional decrement per variant: 3), take the three uses (one
    # statement), the order, its redemptions, lines, groups and payment attempt.
    assert statements <= 15, statements


def test_the_whole_priced_cart_query_fits_the_default_cost_budget() -> None:
    from graphql import parse

    from core.settings import Settings
    from schema import build_schema
    from schema.cost import operation_cost

    schema = build_schema(Settings(VERMILION_SECRET_KEY="x" * 40))._schema
    spent = operation_cost(schema, parse(CART), None, {"id": "x"})
    # Ten shops at most, five options each, one code per shop: the query a checkout page sends.
    assert spent < Settings().query_cost_budget, spent


async def test_a_cart_holds_the_goods_of_at_most_ten_shops(client: GraphQLClient) -> None:
    shops = [await merchant_with(client, f"s{i}x", 1000 + i, []) for i in range(11)]
    cart = await cart_of(client, [(s["variant"], 1) for s in shops[:10]])
    assert len(cart["deliveryGroups"]) == 10
    body = await client.execute(
        """mutation($cartId: ID!, $lines: [CartLineInput!]!) {
             cartLinesAdd(cartId: $cartId, lines: $lines) { cart { id } errors { field code } } }""",
        {"cartId": cart["id"], "lines": [{"variantId": shops[10]["variant"], "quantity": 1}]},
    )
    assert body["data"]["cartLinesAdd"]["errors"] == [{"field": ["lines"], "code": "TOO_MANY"}]
    assert len((await client.data(CART, {"id": cart["id"]}))["cart"]["lines"]) == 10  # nothing added


ORDER_GROUPS = """
query($id: ID!) { order(id: $id) {
  total { minorUnits } lines { sku }
  deliveryGroups { merchant { handle } rateName discountCode estimatedDelivery { minDays maxDays }
                   subtotal { minorUnits } shipping { minorUnits } discount { minorUnits } total { minorUnits } }
} }"""


async def test_a_merchant_sees_only_their_own_part_of_an_order(shop: GraphQLClient, stripe_base: str) -> None:
    shops = await three_shops(shop)
    lip, tea = shops["lipshop"], shops["teashop"]
    await code(shop, tea, code="TEAPART", kind="FIXED", value=700, currency="CNY")
    buyer = await sign_up(shop, f"part{uuid.uuid4().hex[:6]}")
    token = buyer["token"]
    cart = await cart_of(shop, [(lip["variant"], 1), (tea["variant"], 2)], token=token)
    await ok(
        shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet", token=token
    )
    await ok(
        shop, CODE_APPLY, {"cartId": cart["id"], "code": "teapart"}, "cartDiscountCodeApply", token=token
    )
    started = await ok(
        shop,
        CHECKOUT,
        {"input": {"cartId": cart["id"], "idempotencyKey": "part"}},
        "checkoutStart",
        token=token,
    )
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    order_id = started["order"]["id"]
    await ok(shop, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", token=token)

    mine = (await shop.data(ORDER_GROUPS, {"id": order_id}, token=token))["order"]
    assert len(mine["deliveryGroups"]) == 2 and len(mine["lines"]) == 2
    theirs = (await shop.data(ORDER_GROUPS, {"id": order_id}, token=tea["token"]))["order"]
    (group,) = theirs["deliveryGroups"]
    assert [line["sku"] for line in theirs["lines"]] == ["TEASHOP-1"]
    assert (group["rateName"], group["discountCode"], group["estimatedDelivery"]) == (
        "EMS",
        "TEAPART",
        {"minDays": 2, "maxDays": 5},
    )
    assert (
        group["subtotal"]["minorUnits"],
        group["shipping"]["minorUnits"],
        group["discount"]["minorUnits"],
    ) == (
        10000,
        800,
        700,
    )
    assert group["total"]["minorUnits"] == 10100
    # The tea shop may refund what the buyer paid it, and no more.
    refund = await shop.execute(
        "mutation($id: ID!, $a: Int!) { orderRefund(orderId: $id, amountMinorUnits: $a) { errors { code } } }",
        {"id": order_id, "a": 10101},
        token=tea["token"],
    )
    assert [e["code"] for e in refund["data"]["orderRefund"]["errors"]] == ["REFUND_EXCEEDS_PAID"]


async def test_a_declined_card_gives_the_use_back_and_a_retry_takes_it_again(
    shop: GraphQLClient, stripe_base: str
) -> None:
    from tests.stripe_emulator import DECLINED

    shops = await three_shops(shop)
    tea = shops["teashop"]
    last = await code(shop, tea, code="LASTONE", kind="FIXED", value=400, currency="CNY", usageLimit=1)
    cart = await cart_of(shop, [(tea["variant"], 1)])
    await ok(shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet")
    await ok(shop, CODE_APPLY, {"cartId": cart["id"], "code": "LASTONE"}, "cartDiscountCodeApply")
    checkout = {"cartId": cart["id"], "email": "declined@example.com"}
    first = await ok(shop, CHECKOUT, {"input": {**checkout, "idempotencyKey": "one"}}, "checkoutStart")
    assert await pay(stripe_base, first["payment"]["paymentIntentId"], DECLINED) != "succeeded"
    order_id = first["order"]["id"]
    await shop.execute(CHECKOUT_COMPLETE, {"orderId": order_id})  # settles the decline: stock and use back

    uses = lambda: DiscountCode.get(id=pk(last["id"]))  # noqa: E731
    assert (await uses()).uses == 0
    assert await stock_of(tea) == 100

    again = await ok(shop, CHECKOUT, {"input": {**checkout, "idempotencyKey": "two"}}, "checkoutStart")
    assert again["order"]["id"] == order_id and again["order"]["total"]["minorUnits"] == 5000 + 800 - 400
    assert (await uses()).uses == 1
    assert await DiscountRedemption.filter(order_id=pk_uuid(order_id)).values_list("status", flat=True) == [
        RedemptionStatus.RESERVED
    ]
    assert await pay(stripe_base, again["payment"]["paymentIntentId"]) == "succeeded"
    paid = await ok(shop, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete")
    assert paid["order"]["paid"]["minorUnits"] == 5400
    assert (await uses()).uses == 1


async def test_checkout_refuses_a_cart_of_more_shops_than_allowed(
    shop: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import commerce.cart

    shops = [await merchant_with(shop, f"m{i}x", 1000 + i, []) for i in range(3)]
    cart = await cart_of(shop, [(s["variant"], 1) for s in shops])  # filled while three were allowed
    monkeypatch.setattr(commerce.cart, "MAX_CART_MERCHANTS", 2)
    monkeypatch.setattr(commerce.checkout, "MAX_CART_MERCHANTS", 2)
    body = await shop.execute(
        CHECKOUT,
        {
            "input": {
                "cartId": cart["id"],
                "idempotencyKey": "many",
                "email": "m@example.com",
                "shippingAddress": ADDRESS,
            }
        },
    )
    assert [e["code"] for e in body["data"]["checkoutStart"]["errors"]] == ["TOO_MANY"]
    assert (await Cart.get(id=pk_uuid(cart["id"]))).status == CartStatus.OPEN


async def test_a_discounted_purchase_refunded_in_full_is_no_longer_verified(
    shop: GraphQLClient, stripe_base: str
) -> None:
    from commerce.sales import verified_purchases

    shops = await three_shops(shop)
    tea = shops["teashop"]
    await code(shop, tea, code="TEAREFUND", kind="FIXED", value=1000, currency="CNY")
    buyer = await sign_up(shop, f"verify{uuid.uuid4().hex[:6]}")
    token = buyer["token"]
    cart = await cart_of(shop, [(tea["variant"], 1)], token=token)
    await ok(
        shop, ADDRESS_SET, {"cartId": cart["id"], "address": ADDRESS}, "cartShippingAddressSet", token=token
    )
    await ok(
        shop, CODE_APPLY, {"cartId": cart["id"], "code": "TEAREFUND"}, "cartDiscountCodeApply", token=token
    )
    started = await ok(
        shop, CHECKOUT, {"input": {"cartId": cart["id"], "idempotencyKey": "v"}}, "checkoutStart", token=token
    )
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    order_id = started["order"]["id"]
    await ok(shop, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", token=token)
    pair = (pk(buyer["user"]["id"]), pk(tea["product"]["id"]))
    assert await verified_purchases([pair]) == {pair}

    refund = """mutation($id: ID!, $a: Int!) { orderRefund(orderId: $id, amountMinorUnits: $a) { errors { code } } }"""
    # The goods were paid 50.00 − 10.00: refunding that much of the shop's part takes the mark away.
    body = await shop.execute(refund, {"id": order_id, "a": 4000}, token=tea["token"])
    assert body["data"]["orderRefund"]["errors"] == []
    assert await verified_purchases([pair]) == set()
