"""Fulfilment per merchant through the API: orderFulfill(input) ships a merchant's own lines in parcels with
tracking, the order is FULFILLED only when every line has shipped, shipmentMarkDelivered, who sees which
parcels, what the buyer is told, and no line shipped twice however many requests race for it."""

from __future__ import annotations

import asyncio

import pytest

from commerce.fulfilment import MAX_PARCELS_PER_ORDER
from models import OrderLine, Shipment
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.selling.orders import (
    DELIVERED,
    FULFIL,
    FULFIL_BY_ID,
    SALES,
    fulfil,
    fulfil_refused,
    notifications,
    one_shop_order,
    order_pk,
    read,
    two_shop_order,
)
from tests.shop import (
    CART_CREATE,
    CHECKOUT_START,
    checkout_input,
    complete,
    ok,
    other_variant,
    pk,
    refused,
    start,
    world,
)
from tests.stripe_emulator import pay

pytestmark = pytest.mark.usefixtures("ledger_agrees")


async def test_partial_fulfilment_then_fulfilled_when_every_line_has_shipped(
    shop: GraphQLClient, stripe_base: str
) -> None:
    t = await two_shop_order(shop, stripe_base, quantity=2, other_quantity=1)
    first_line, second_line = t.line_of(t.first), t.line_of(t.second)

    done = await fulfil(
        shop, t.first, orderId=t.order["id"], trackingNumber="  SF1234567890  ", carrier="SF Express"
    )
    shipment = done["shipment"]
    assert (shipment["status"], shipment["trackingNumber"], shipment["carrier"]) == (
        "SHIPPED",
        "SF1234567890",
        "SF Express",
    )
    assert shipment["merchant"] == {"handle": t.w.merchant["user"]["handle"]}
    assert [(x["line"]["id"], x["quantity"]) for x in shipment["lines"]] == [(first_line["id"], 2)]
    assert shipment["deliveredAt"] is None
    # One shop shipped: the order waits for the other.
    assert done["order"]["status"] == "PAID"

    done = await fulfil(
        shop, t.second, orderId=t.order["id"], lineIds=[second_line["id"]], trackingNumber="YT-9"
    )
    assert done["order"]["status"] == "FULFILLED"

    order = await read(shop, t.order["id"], t.buyer)
    assert order["status"] == "FULFILLED"
    assert [(ln["sku"], ln["quantity"], ln["shippedQuantity"]) for ln in order["lines"]] == [
        ("VLT-01", 2, 2),
        ("SCARF-1", 1, 1),
    ]
    assert [(s["merchant"]["handle"], s["trackingNumber"], s["carrier"]) for s in order["shipments"]] == [
        (t.w.merchant["user"]["handle"], "SF1234567890", "SF Express"),
        (t.other["user"]["handle"], "YT-9", ""),
    ]
    # Each merchant sees their own parcels and lines, through the order and through their sales.
    for token, sku in ((t.first, "VLT-01"), (t.second, "SCARF-1")):
        own = await read(shop, t.order["id"], token)
        assert [ln["sku"] for ln in own["lines"]] == [sku]
        assert [[x["line"]["sku"] for x in s["lines"]] for s in own["shipments"]] == [[sku]]
        (sale,) = (await shop.data(SALES, token=token))["viewer"]["salesOrders"]["nodes"]
        assert [ln["sku"] for ln in sale["lines"]] == [sku]
        assert len(sale["shipments"]) == 1

    # The buyer was told of the first parcel, then that the order shipped (the last parcel).
    told = await notifications(shop, t.buyer)
    assert told[:2] == [
        ("ORDER_FULFILLED", t.other["user"]["handle"]),
        ("SHIPMENT_UPDATED", t.w.merchant["user"]["handle"]),
    ]
    assert [kind for kind, _ in told[2:]] == ["ORDER_PAID"]


async def test_one_merchant_ships_their_lines_in_several_parcels(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop)
    second = await other_variant(shop, w, price=2500, currency="CNY", sku="VLT-02")
    lines = [{"variantId": w.variant_id, "quantity": 1}, {"variantId": second, "quantity": 3}]
    cart = (await ok(shop, CART_CREATE, {"input": {"lines": lines}}, "cartCreate", token=w.shopper["token"]))[
        "cart"
    ]
    started = await ok(
        shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    order_id = (await complete(shop, started["order"]["id"], w.shopper["token"]))["id"]
    _, second_line = (await read(shop, order_id, w.shopper["token"]))["lines"]

    one = await fulfil(
        shop, w.merchant["token"], orderId=order_id, lineIds=[second_line["id"]], trackingNumber="A"
    )
    assert one["order"]["status"] == "PAID"
    assert [(x["line"]["sku"], x["quantity"]) for x in one["shipment"]["lines"]] == [("VLT-02", 3)]
    two = await fulfil(shop, w.merchant["token"], orderId=order_id, trackingNumber="B")
    assert two["order"]["status"] == "FULFILLED"
    assert [(x["line"]["sku"], x["quantity"]) for x in two["shipment"]["lines"]] == [("VLT-01", 1)]
    assert [s["trackingNumber"] for s in two["order"]["shipments"]] == ["A", "B"]
    assert [ln["shippedQuantity"] for ln in two["order"]["lines"]] == [1, 3]


async def test_refusals_change_nothing(shop: GraphQLClient, stripe_base: str) -> None:
    t = await two_shop_order(shop, stripe_base)
    order_id = t.order["id"]
    first_line, second_line = t.line_of(t.first), t.line_of(t.second)
    stranger = await sign_up(shop, "stranger")

    # Another merchant's line, a line named twice, a blank tracking number, a long carrier: all at once.
    assert await fulfil_refused(
        shop,
        t.first,
        orderId=order_id,
        lineIds=[second_line["id"]],
        trackingNumber="   ",
        carrier="x" * 101,
    ) == [(["input", "trackingNumber"], "REQUIRED"), (["input", "carrier"], "TOO_LONG")]
    assert await fulfil_refused(
        shop, t.first, orderId=order_id, lineIds=[second_line["id"]], trackingNumber="T"
    ) == [(["input", "lineIds", "0"], "FORBIDDEN")]
    assert await fulfil_refused(
        shop, t.first, orderId=order_id, lineIds=[first_line["id"], first_line["id"]], trackingNumber="T"
    ) == [(["input", "lineIds", "1"], "INVALID")]
    assert await fulfil_refused(shop, t.first, orderId=order_id, lineIds=[], trackingNumber="T") == [
        (["input", "lineIds"], "REQUIRED")
    ]
    assert await fulfil_refused(shop, t.first, orderId=order_id, trackingNumber="T" * 101) == [
        (["input", "trackingNumber"], "TOO_LONG")
    ]
    # The buyer and a stranger.
    assert await fulfil_refused(shop, t.buyer, orderId=order_id, trackingNumber="T") == [
        (["input", "orderId"], "FORBIDDEN")
    ]
    assert await fulfil_refused(shop, stranger["token"], orderId=order_id, trackingNumber="T") == [
        (["input", "orderId"], "NOT_FOUND")
    ]
    # Both forms at once, or neither.
    body = (await shop.data(FULFIL_BY_ID, {"orderId": order_id, "input": None}, token=t.first))[
        "orderFulfill"
    ]
    assert body["errors"] == [] and body["shipment"]["trackingNumber"] == ""  # the first form still works
    both = {"orderId": order_id, "input": {"orderId": order_id, "trackingNumber": "T"}}
    body = (await shop.data(FULFIL_BY_ID, both, token=t.second))["orderFulfill"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(["orderId"], "INVALID")]
    body = (await shop.data(FULFIL_BY_ID, {}, token=t.second))["orderFulfill"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(["input"], "REQUIRED")]

    # Already shipped: named, or nothing of theirs left to ship.
    assert await fulfil_refused(
        shop, t.first, orderId=order_id, lineIds=[first_line["id"]], trackingNumber="T"
    ) == [(["input", "lineIds", "0"], "ALREADY_SHIPPED")]
    assert await fulfil_refused(shop, t.first, orderId=order_id, trackingNumber="T") == [
        (["input", "orderId"], "ALREADY_SHIPPED")
    ]
    order = await read(shop, order_id, t.buyer)
    assert order["status"] == "PAID"
    assert [ln["shippedQuantity"] for ln in order["lines"]] == [2, 0]
    assert len(order["shipments"]) == 1

    # An unpaid order cannot ship.
    w = await world(shop)
    unpaid = await start(shop, w)
    assert await fulfil_refused(
        shop, w.merchant["token"], orderId=unpaid["order"]["id"], trackingNumber="T"
    ) == [(["input", "orderId"], "INVALID_TRANSITION")]
    assert await Shipment.filter(order_id=order_pk(unpaid["order"]["id"])).count() == 0


async def test_concurrent_fulfils_of_one_line_ship_it_once(shop: GraphQLClient, stripe_base: str) -> None:
    t = await two_shop_order(shop, stripe_base, quantity=3)
    line = t.line_of(t.first)
    variables = {"input": {"orderId": t.order["id"], "lineIds": [line["id"]], "trackingNumber": "T"}}

    bodies = await asyncio.gather(*(shop.data(FULFIL, variables, token=t.first) for _ in range(6)))

    payloads = [b["orderFulfill"] for b in bodies]
    assert sum(1 for p in payloads if not p["errors"]) == 1
    assert sorted({e["code"] for p in payloads for e in p["errors"]}) == ["ALREADY_SHIPPED"]
    assert await Shipment.filter(order_id=order_pk(t.order["id"])).count() == 1
    assert (await OrderLine.get(id=pk(line["id"]))).shipped_quantity == 3


async def test_two_shops_shipping_their_last_lines_at_once_fulfil_the_order(
    shop: GraphQLClient, stripe_base: str
) -> None:
    t = await two_shop_order(shop, stripe_base)
    bodies = await asyncio.gather(
        shop.data(FULFIL, {"input": {"orderId": t.order["id"], "trackingNumber": "A"}}, token=t.first),
        shop.data(FULFIL, {"input": {"orderId": t.order["id"], "trackingNumber": "B"}}, token=t.second),
    )
    assert [b["orderFulfill"]["errors"] for b in bodies] == [[], []]
    assert (await read(shop, t.order["id"], t.buyer))["status"] == "FULFILLED"


async def test_a_parcel_is_marked_delivered_once_by_its_merchant(
    shop: GraphQLClient, stripe_base: str
) -> None:
    t = await two_shop_order(shop, stripe_base)
    shipment = (await fulfil(shop, t.first, orderId=t.order["id"], trackingNumber="SF1"))["shipment"]
    stranger = await sign_up(shop, "stranger")

    for token, code in ((t.second, "FORBIDDEN"), (t.buyer, "FORBIDDEN"), (stranger["token"], "NOT_FOUND")):
        errors = await refused(shop, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=token)
        assert [(e["field"], e["code"]) for e in errors] == [(["shipmentId"], code)]

    delivered = (await ok(shop, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=t.first))[
        "shipment"
    ]
    assert delivered["status"] == "DELIVERED" and delivered["deliveredAt"] is not None
    again = (await ok(shop, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=t.first))[
        "shipment"
    ]
    assert again == delivered

    order = await read(shop, t.order["id"], t.buyer)
    assert [(s["status"], s["deliveredAt"]) for s in order["shipments"]] == [
        ("DELIVERED", delivered["deliveredAt"])
    ]
    # Told once of the parcel and once of its delivery.
    told = [kind for kind, _ in await notifications(shop, t.buyer)]
    assert told.count("SHIPMENT_UPDATED") == 2


async def test_order_status_tells_subscribers_of_each_parcel(shop: GraphQLClient, stripe_base: str) -> None:
    """`orderStatus` yields the order again when a parcel ships or arrives, though its status stays PAID."""
    from types import SimpleNamespace

    from schema.commerce.subscriptions import CommerceSubscription

    t = await two_shop_order(shop, stripe_base)
    assert shop.app is not None
    info = SimpleNamespace(
        context=SimpleNamespace(broker=shop.app.state.broker, viewer_id=pk(t.w.shopper["user"]["id"]))
    )
    updates = CommerceSubscription.order_status(None, info, t.order["id"])  # type: ignore[arg-type]
    assert (await anext(updates)).row.status == "PAID"

    shipment = (await fulfil(shop, t.first, orderId=t.order["id"], trackingNumber="SF-1"))["shipment"]
    shipped = await asyncio.wait_for(anext(updates), 10)
    assert shipped.row.status == "PAID"
    assert [s.status for s in await Shipment.filter(order_id=shipped.row.id)] == ["SHIPPED"]
    await ok(shop, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=t.first)
    arrived = await asyncio.wait_for(anext(updates), 10)
    assert arrived.row.status == "PAID"
    await updates.aclose()


# --- how many parcels, of how many lines ----------------------------------------------------------------


async def test_a_parcel_holds_five_lines_and_all_lines_left_ship_in_parcels_of_five(
    shop: GraphQLClient, stripe_base: str
) -> None:
    o = await one_shop_order(shop, stripe_base, lines=7)
    token, order_id, ids = o.merchant["token"], o.order["id"], o.line_ids

    assert await fulfil_refused(shop, token, orderId=order_id, lineIds=ids[:6], trackingNumber="T") == [
        (["input", "lineIds"], "TOO_MANY")
    ]
    one = await fulfil(shop, token, orderId=order_id, lineIds=ids[6:], trackingNumber="SF-A")
    assert len(one["shipment"]["lines"]) == 1

    # The first form ships the six lines left: a parcel of five, then one of one.
    body = (await shop.data(FULFIL_BY_ID, {"orderId": order_id}, token=token))["orderFulfill"]
    assert body["errors"] == [] and body["order"]["status"] == "FULFILLED"
    assert [x["line"]["id"] for x in body["shipment"]["lines"]] == ids[:5]
    order = await read(shop, order_id, o.shopper["token"])
    assert [([x["line"]["id"] for x in s["lines"]], s["trackingNumber"]) for s in order["shipments"]] == [
        (ids[6:], "SF-A"),
        (ids[:5], ""),
        (ids[5:6], ""),
    ]
    assert all(line["shippedQuantity"] == line["quantity"] for line in order["lines"])
    # One message for the call that sent two parcels, and the order's completion with it.
    told = [kind for kind, _ in await notifications(shop, o.shopper["token"])]
    assert told == ["ORDER_FULFILLED", "SHIPMENT_UPDATED", "ORDER_PAID"]


async def test_an_order_ships_in_at_most_28_parcels_and_can_always_ship_in_full(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """29 lines of one shop: one parcel each would be 29; the parcel that would leave the last lines no
    parcel to go in is refused, and they ship together in the 28th."""
    assert MAX_PARCELS_PER_ORDER == 28
    o = await one_shop_order(shop, stripe_base, lines=29)
    token, order_id, ids = o.merchant["token"], o.order["id"], o.line_ids

    for n, line_id in enumerate(ids[:27]):
        await fulfil(shop, token, orderId=order_id, lineIds=[line_id], trackingNumber=f"SF-{n}")
    refused_parcel = await shop.data(
        FULFIL, {"input": {"orderId": order_id, "lineIds": [ids[27]], "trackingNumber": "SF-27"}}, token=token
    )
    (error,) = refused_parcel["orderFulfill"]["errors"]
    assert (error["field"], error["code"]) == (["input", "lineIds"], "TOO_MANY")
    assert "at most 28 parcels" in error["message"]
    assert await Shipment.filter(order_id=order_pk(order_id)).count() == 27

    # All the lines left, in one parcel: the 28th, and the order is complete.
    done = await fulfil(shop, token, orderId=order_id, trackingNumber="SF-27")
    assert done["order"]["status"] == "FULFILLED"
    assert [x["line"]["id"] for x in done["shipment"]["lines"]] == ids[27:]
    assert len(done["order"]["shipments"]) == MAX_PARCELS_PER_ORDER


def test_the_order_page_fits_the_default_cost_budget() -> None:
    """What an order page asks for — lines, each shop's part, the parcels and the returns with their
    lines — priced at the most the rules allow, well within the 1,000-point budget."""
    from graphql import parse

    from core.settings import Settings
    from schema import build_schema
    from schema.cost import operation_cost

    schema = build_schema(Settings(VERMILION_SECRET_KEY="x" * 40))._schema
    spent = operation_cost(schema, parse(ORDER_PAGE), None, {"id": "x"})
    print(f"order page: {spent} of {Settings().query_cost_budget}")
    # The order, its five amounts and address (7); 100 lines × (line, paid) (200); 10 shops' parts ×
    # (part, merchant, estimate, 4 amounts) (70); 28 parcels × (parcel, merchant, 5 × (line, order line))
    # (336); 10 returns × (return, amount, merchant, 5 × (line, order line)) (130).
    assert spent == 7 + 200 + 70 + 336 + 130 == 743
    assert spent < 0.75 * Settings().query_cost_budget
    # What a page pays for the parcels and returns alone (20,101 and 4,021 before the limits).
    parcels = '{ order(id: "x") { shipments { lines { line { id } quantity } } } }'
    returned = '{ order(id: "x") { returns { lines { line { id } quantity } } } }'
    assert operation_cost(schema, parse(parcels)) == 1 + 28 * (1 + 5 * 2) == 309
    assert operation_cost(schema, parse(returned)) == 1 + 10 * (1 + 5 * 2) == 111


MONEY = "{ amount currency }"
ORDER_PAGE = f"""
query OrderPage($id: ID!) {{ order(id: $id) {{
  id status email createdAt paidAt
  total {MONEY} subtotal {MONEY} shipping {MONEY} discount {MONEY} refunded {MONEY}
  shippingAddress {{ name line1 line2 city region postalCode country }}
  lines {{ id productTitle variantName sku quantity shippedQuantity returnedQuantity paidTotal {MONEY} }}
  deliveryGroups {{ merchant {{ handle displayName }} rateName discountCode estimatedDelivery {{ minDays maxDays }}
                   subtotal {MONEY} shipping {MONEY} discount {MONEY} total {MONEY} }}
  shipments {{ id status trackingNumber carrier shippedAt deliveredAt merchant {{ handle }}
              lines {{ quantity line {{ id }} }} }}
  returns {{ id status reason merchantNote createdAt amount {MONEY} merchant {{ handle }}
            lines {{ quantity line {{ id }} }} }}
}} }}"""
