"""Returns through the API: the buyer asks within the return window for delivered goods of one merchant,
the merchant approves or rejects, receives (restocking when asked) and the buyer is refunded exactly what the
returned units were paid — once, however often returnReceive is retried — with every step in the payment
ledger. And the rule of what k units of a discounted line were paid (`paid_for`)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from commerce import returns
from commerce.amounts import paid_for
from commerce.ledger import ledger_mismatches
from commerce.returns import MAX_RETURN_LINES, MAX_RETURNS_PER_ORDER, RETURN_WINDOW
from models import OrderLine, ReturnRequest, Shipment
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.selling.orders import (
    DELIVERED,
    RETURN_APPROVE,
    RETURN_CREATE,
    RETURN_RECEIVE,
    RETURN_REJECT,
    VIEWER_RETURNS,
    ask_return,
    delivered,
    fulfil,
    notifications,
    one_shop_order,
    order_pk,
    read,
    return_step,
    two_shop_order,
)
from tests.shop import (
    CHECKOUT_COMPLETE,
    CHECKOUT_START,
    PRICE,
    cart_with,
    checkout_input,
    emulator_refunds,
    ok,
    pk,
    stock_of,
    world,
)
from tests.stripe_emulator import pay

pytestmark = pytest.mark.usefixtures("ledger_agrees")


# --- what returned units were paid ---------------------------------------------------------------------


def test_paid_for_takes_the_discount_off_in_proportion_rounding_down() -> None:
    # 3 × 10.00 with 1.00 off the line: 9.67, 19.34, 29.00.
    assert [paid_for(quantity=3, unit_price=1000, discount=100, units=k) for k in range(4)] == [
        0,
        967,
        1934,
        2900,
    ]
    assert paid_for(quantity=1, unit_price=1299, discount=0, units=1) == 1299
    assert paid_for(quantity=2, unit_price=500, discount=1000, units=1) == 0  # a free line refunds nothing
    for bad in ({"units": 4}, {"units": -1}, {"discount": 3001}, {"discount": -1}):
        with pytest.raises(ValueError):
            paid_for(**{"quantity": 3, "unit_price": 1000, "discount": 100, "units": 0, **bad})


def _compositions(n: int) -> list[list[int]]:
    """Every way of returning n units in parts, in order (1+2 and 2+1 are both there)."""
    ways = []
    for cuts in itertools.product([False, True], repeat=n - 1):
        parts, size = [], 1
        for cut in cuts:
            if cut:
                parts.append(size)
                size = 0
            size += 1
        ways.append([*parts, size])
    return ways


def test_returning_a_line_in_parts_refunds_exactly_what_the_line_was_paid() -> None:
    class Line:
        def __init__(self, quantity: int, unit_price: int, discount: int) -> None:
            self.quantity, self.unit_price_minor_units, self.discount_minor_units = (
                quantity,
                unit_price,
                discount,
            )

    for quantity in range(1, 7):
        for unit_price in (1, 7, 999, 12900):
            for discount in {
                0,
                1,
                quantity - 1,
                unit_price,
                quantity * unit_price // 3,
                quantity * unit_price,
            }:
                if not 0 <= discount <= quantity * unit_price:
                    continue
                line = Line(quantity, unit_price, discount)
                for parts in _compositions(quantity):
                    before, refunds = 0, []
                    for part in parts:
                        refunds.append(returns.paid_between(line, before, part))  # type: ignore[arg-type]
                        before += part
                    assert all(r >= 0 for r in refunds)
                    assert sum(refunds) == quantity * unit_price - discount, (
                        quantity,
                        unit_price,
                        discount,
                        parts,
                    )


# --- a return's whole life -----------------------------------------------------------------------------


async def test_a_return_from_request_to_refund(shop: GraphQLClient, stripe_base: str) -> None:
    t = await two_shop_order(shop, stripe_base, quantity=2, other_quantity=1)
    await delivered(shop, t, t.first)
    line = t.line_of(t.first)
    intent_id = (await shop.data("query($id: ID!) { order(id: $id) { payment { paymentIntentId } } }",
                                 {"id": t.order["id"]}, token=t.buyer))["order"]["payment"]["paymentIntentId"]  # fmt: skip
    stock_before = await stock_of(shop, t.w)

    asked = await ask_return(shop, t, [(line, 1)], reason="  颜色不喜欢 ")
    assert (asked["status"], asked["reason"], asked["amount"]) == (
        "REQUESTED",
        "颜色不喜欢",
        {"minorUnits": PRICE, "currency": "CNY"},
    )
    assert [(x["line"]["id"], x["quantity"]) for x in asked["lines"]] == [(line["id"], 1)]
    assert asked["merchant"] == {"handle": t.w.merchant["user"]["handle"]}
    assert (await notifications(shop, t.first))[0] == ("RETURN_UPDATED", t.w.shopper["user"]["handle"])

    approved = await return_step(shop, RETURN_APPROVE, t.first, asked["id"], note="请寄回")
    assert approved["errors"] == []
    assert (approved["returnRequest"]["status"], approved["returnRequest"]["merchantNote"]) == (
        "APPROVED",
        "请寄回",
    )
    assert approved["returnRequest"]["decidedAt"] is not None

    received = await return_step(shop, RETURN_RECEIVE, t.first, asked["id"], restock=True)
    assert received["errors"] == []
    done = received["returnRequest"]
    assert (done["status"], done["restock"], done["amount"]["minorUnits"]) == ("REFUNDED", True, PRICE)
    assert done["refund"] == {"amount": {"minorUnits": PRICE}, "status": "SUCCEEDED"}
    assert done["receivedAt"] is not None

    order = await read(shop, t.order["id"], t.buyer)
    assert (order["status"], order["refunded"]) == ("PARTIALLY_REFUNDED", {"minorUnits": PRICE})
    assert [(ln["sku"], ln["returnedQuantity"]) for ln in order["lines"]] == [("VLT-01", 1), ("SCARF-1", 0)]
    assert [r["status"] for r in order["returns"]] == ["REFUNDED"]
    reference = f"return-{pk(asked['id'])}"
    assert [(e["kind"], e["amount"]["minorUnits"]) for e in order["paymentEvents"]] == [
        ("PAYMENT_INTENT_CREATED", t.order["paid"]["minorUnits"]),
        ("PAYMENT_SUCCEEDED", t.order["paid"]["minorUnits"]),
        ("RETURN_REQUESTED", 0),
        ("RETURN_APPROVED", 0),
        ("RETURN_RECEIVED", 0),
        ("REFUND_SUCCEEDED", PRICE),
    ]
    assert {e["reference"] for e in order["paymentEvents"] if e["kind"].startswith("RETURN_")} == {reference}
    assert await emulator_refunds(stripe_base, intent_id) == [PRICE]
    assert await ledger_mismatches() == []
    assert await stock_of(shop, t.w) == stock_before + 1

    # The buyer was told of each step; the refund itself as every refund is.
    told = await notifications(shop, t.buyer)
    assert [kind for kind, _ in told[:4]] == [
        "ORDER_REFUNDED",
        "RETURN_UPDATED",
        "RETURN_UPDATED",
        "SHIPMENT_UPDATED",
    ]

    # The merchant's list of returns; nobody else's.
    listed = (await shop.data(VIEWER_RETURNS, {"status": "REFUNDED"}, token=t.first))["viewer"][
        "returnRequests"
    ]
    assert listed["totalCount"] == 1 and listed["nodes"][0]["id"] == asked["id"]
    assert (await shop.data(VIEWER_RETURNS, {"status": "REQUESTED"}, token=t.first))["viewer"][
        "returnRequests"
    ]["nodes"] == []
    assert (await shop.data(VIEWER_RETURNS, {}, token=t.second))["viewer"]["returnRequests"]["nodes"] == []


async def test_a_discounted_line_returned_in_two_parts_refunds_exactly_what_it_was_paid(
    shop: GraphQLClient, stripe_base: str
) -> None:
    # The first shop's code takes 1.01 off its line of 3 × PRICE.
    t = await two_shop_order(shop, stripe_base, quantity=3, discount=101)
    line = t.line_of(t.first)
    assert (await OrderLine.get(id=pk(line["id"]))).discount_minor_units == 101
    await delivered(shop, t, t.first)
    refunds = []
    for quantity in (1, 2):
        asked = await ask_return(shop, t, [(line, quantity)])
        assert (await return_step(shop, RETURN_APPROVE, t.first, asked["id"]))["errors"] == []
        done = await return_step(shop, RETURN_RECEIVE, t.first, asked["id"])
        assert done["errors"] == [] and done["returnRequest"]["status"] == "REFUNDED"
        refunds.append(done["returnRequest"]["refund"]["amount"]["minorUnits"])

    assert refunds == [PRICE - 101 // 3, 2 * PRICE - (101 - 101 // 3)]
    assert sum(refunds) == 3 * PRICE - 101
    order = await read(shop, t.order["id"], t.buyer)
    assert order["refunded"]["minorUnits"] == sum(refunds)
    assert [
        e["amount"]["minorUnits"] for e in order["paymentEvents"] if e["kind"] == "REFUND_SUCCEEDED"
    ] == refunds
    assert await ledger_mismatches() == []
    # Everything of that line is back: nothing more of it can be returned.
    body = await shop.data(
        RETURN_CREATE,
        {
            "input": {
                "orderId": t.order["id"],
                "lines": [{"lineId": line["id"], "quantity": 1}],
                "reason": "x",
            }
        },
        token=t.buyer,
    )
    assert [(e["field"], e["code"]) for e in body["returnRequestCreate"]["errors"]] == [
        (["input", "lines", "0", "quantity"], "OUT_OF_RANGE")
    ]


# --- refusals ------------------------------------------------------------------------------------------


async def _refusals(
    client: GraphQLClient, token: str, order_id: str, lines: list[tuple[str, int]]
) -> list[tuple[list[str], str]]:
    variables = {
        "input": {
            "orderId": order_id,
            "lines": [{"lineId": line_id, "quantity": q} for line_id, q in lines],
            "reason": "不想要了",
        }
    }
    payload = (await client.data(RETURN_CREATE, variables, token=token))["returnRequestCreate"]
    assert payload["returnRequest"] is None and payload["errors"], payload
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_only_delivered_goods_within_the_window_and_no_more_than_were_delivered(
    shop: GraphQLClient, stripe_base: str
) -> None:
    t = await two_shop_order(shop, stripe_base, quantity=2)
    first, second = t.line_of(t.first)["id"], t.line_of(t.second)["id"]
    order_id = t.order["id"]

    assert await _refusals(shop, t.buyer, order_id, [(first, 1)]) == [
        (["input", "lines", "0", "lineId"], "NOT_DELIVERED")
    ]
    await fulfil(shop, t.first, orderId=order_id, trackingNumber="SF-1")  # shipped, not delivered
    assert await _refusals(shop, t.buyer, order_id, [(first, 1)]) == [
        (["input", "lines", "0", "lineId"], "NOT_DELIVERED")
    ]
    await Shipment.filter(order_id=order_pk(order_id)).update(
        status="DELIVERED", delivered_at=datetime.now(UTC)
    )

    assert await _refusals(shop, t.buyer, order_id, [(first, 3)]) == [
        (["input", "lines", "0", "quantity"], "OUT_OF_RANGE")
    ]
    assert await _refusals(shop, t.buyer, order_id, [(first, 1), (first, 1)]) == [
        (["input", "lines", "1", "lineId"], "INVALID")
    ]
    assert await _refusals(shop, t.buyer, order_id, [(first, 0)]) == [
        (["input", "lines", "0", "quantity"], "OUT_OF_RANGE")
    ]
    # One merchant per return.
    assert await _refusals(shop, t.buyer, order_id, [(first, 1), (second, 1)]) == [
        (["input", "lines", "1", "lineId"], "INVALID")
    ]
    # Who may ask: the buyer only.
    stranger = await sign_up(shop, "stranger")
    assert await _refusals(shop, t.first, order_id, [(first, 1)]) == [(["input", "orderId"], "FORBIDDEN")]
    assert await _refusals(shop, stranger["token"], order_id, [(first, 1)]) == [
        (["input", "orderId"], "NOT_FOUND")
    ]

    # Units in an open return are spoken for.
    await ask_return(shop, t, [(t.line_of(t.first), 2)])
    assert await _refusals(shop, t.buyer, order_id, [(first, 1)]) == [
        (["input", "lines", "0", "quantity"], "OUT_OF_RANGE")
    ]

    # The window: delivered 29 days ago is still returnable, 31 days ago no more.
    assert timedelta(days=30) == RETURN_WINDOW
    await delivered(shop, t, t.second)
    shipments = Shipment.filter(order_id=order_pk(order_id), merchant_id=pk(t.other["user"]["id"]))
    await shipments.update(delivered_at=datetime.now(UTC) - timedelta(days=31))
    assert await _refusals(shop, t.buyer, order_id, [(second, 1)]) == [
        (["input", "lines", "0", "lineId"], "RETURN_WINDOW_CLOSED")
    ]
    await shipments.update(delivered_at=datetime.now(UTC) - timedelta(days=29))
    assert (await ask_return(shop, t, [(t.line_of(t.second), 1)]))["status"] == "REQUESTED"
    assert await ReturnRequest.filter(order_id=order_pk(order_id)).count() == 2


async def test_merchant_steps_in_order_and_only_by_that_merchant(
    shop: GraphQLClient, stripe_base: str
) -> None:
    t = await two_shop_order(shop, stripe_base, quantity=2)
    await delivered(shop, t, t.first)
    line = t.line_of(t.first)
    asked = await ask_return(shop, t, [(line, 2)])

    def problems(payload: dict[str, object]) -> list[tuple[object, object]]:
        errors = payload["errors"]
        assert isinstance(errors, list)
        return [(e["field"], e["code"]) for e in errors]

    for token, code in ((t.second, "FORBIDDEN"), (t.buyer, "FORBIDDEN")):
        assert problems(await return_step(shop, RETURN_APPROVE, token, asked["id"])) == [
            (["input", "returnId"], code)
        ]
    assert problems(await return_step(shop, RETURN_RECEIVE, t.first, asked["id"])) == [
        (["input", "returnId"], "INVALID_TRANSITION")
    ]
    assert problems(await return_step(shop, RETURN_REJECT, t.first, asked["id"], note="x" * 1001)) == [
        (["input", "note"], "TOO_LONG")
    ]

    rejected = await return_step(shop, RETURN_REJECT, t.first, asked["id"], note="已拆封，不能退")
    assert rejected["returnRequest"]["status"] == "REJECTED"
    assert (await return_step(shop, RETURN_REJECT, t.first, asked["id"]))["returnRequest"][
        "merchantNote"
    ] == "已拆封，不能退"
    for mutation in (RETURN_APPROVE, RETURN_RECEIVE):
        assert problems(await return_step(shop, mutation, t.first, asked["id"])) == [
            (["input", "returnId"], "INVALID_TRANSITION")
        ]
    order = await read(shop, t.order["id"], t.buyer)
    assert (order["status"], order["refunded"]["minorUnits"]) == ("PAID", 0)
    assert [e["kind"] for e in order["paymentEvents"]][-2:] == ["RETURN_REQUESTED", "RETURN_REJECTED"]
    assert (await notifications(shop, t.buyer))[0] == ("RETURN_UPDATED", t.w.merchant["user"]["handle"])
    # A rejected return gives its units back to the buyer to ask again.
    assert (await ask_return(shop, t, [(line, 2)]))["status"] == "REQUESTED"


async def test_a_retried_return_receive_refunds_once(shop: GraphQLClient, stripe_base: str) -> None:
    t = await two_shop_order(shop, stripe_base, quantity=3)
    await delivered(shop, t, t.first)
    line = t.line_of(t.first)
    stock_before = await stock_of(shop, t.w)
    intent = (await shop.data("query($id: ID!) { order(id: $id) { payment { paymentIntentId } } }",
                              {"id": t.order["id"]}, token=t.buyer))["order"]["payment"]["paymentIntentId"]  # fmt: skip

    # Concurrent retries of one receipt: one refund.
    asked = await ask_return(shop, t, [(line, 1)])
    await return_step(shop, RETURN_APPROVE, t.first, asked["id"])
    results = await asyncio.gather(
        *(return_step(shop, RETURN_RECEIVE, t.first, asked["id"], restock=True) for _ in range(4))
    )
    done = [r["returnRequest"] for r in results if not r["errors"]]
    assert done and all(r["status"] == "REFUNDED" for r in done)
    assert {e["code"] for r in results for e in r["errors"]} <= {"CHECKOUT_IN_PROGRESS"}
    again = await return_step(shop, RETURN_RECEIVE, t.first, asked["id"], restock=True)
    assert again["errors"] == [] and again["returnRequest"]["refund"]["amount"]["minorUnits"] == PRICE
    assert await emulator_refunds(stripe_base, intent) == [PRICE]
    assert await stock_of(shop, t.w) == stock_before + 1  # restocked once

    # A receipt recorded before the request died (no refund yet): the retry refunds, once.
    second = await ask_return(shop, t, [(line, 2)])
    await return_step(shop, RETURN_APPROVE, t.first, second["id"])
    await returns._receive(pk(second["id"]), order_pk(t.order["id"]), False)
    assert (await ReturnRequest.get(id=pk(second["id"]))).status == "RECEIVED"
    retried = await return_step(shop, RETURN_RECEIVE, t.first, second["id"], restock=True)
    assert retried["errors"] == []
    assert (retried["returnRequest"]["status"], retried["returnRequest"]["restock"]) == ("REFUNDED", False)
    assert await return_step(shop, RETURN_RECEIVE, t.first, second["id"]) == retried
    assert sorted(await emulator_refunds(stripe_base, intent)) == [PRICE, 2 * PRICE]
    assert await stock_of(shop, t.w) == stock_before + 1
    order = await read(shop, t.order["id"], t.buyer)
    assert [ln["returnedQuantity"] for ln in order["lines"]] == [3, 0]
    assert order["refunded"]["minorUnits"] == 3 * PRICE
    assert await ledger_mismatches() == []


async def test_a_guest_order_is_returned_by_whoever_holds_its_id_but_not_its_merchant(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop)
    cart = await cart_with(shop, w, 1, anonymous=True)
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", anonymous=True)
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    order_id = started["order"]["id"]
    await ok(shop, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", anonymous=True)
    shipment = (await fulfil(shop, w.merchant["token"], orderId=order_id, trackingNumber="T"))["shipment"]
    await ok(shop, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=w.merchant["token"])
    (line,) = shipment["lines"]
    variables = {
        "input": {
            "orderId": order_id,
            "lines": [{"lineId": line["line"]["id"], "quantity": 1}],
            "reason": "坏了",
        }
    }

    by_merchant = (await shop.data(RETURN_CREATE, variables, token=w.merchant["token"]))[
        "returnRequestCreate"
    ]
    assert [(e["field"], e["code"]) for e in by_merchant["errors"]] == [(["input", "orderId"], "FORBIDDEN")]
    by_guest = (await shop.data(RETURN_CREATE, variables, anonymous=True))["returnRequestCreate"]
    assert by_guest["errors"] == [] and by_guest["returnRequest"]["status"] == "REQUESTED"


async def test_a_return_holds_five_lines_and_an_order_has_ten_returns(
    shop: GraphQLClient, stripe_base: str
) -> None:
    assert (MAX_RETURN_LINES, MAX_RETURNS_PER_ORDER) == (5, 10)
    o = await one_shop_order(shop, stripe_base, lines=6, quantity=2)
    order_id, ids = o.order["id"], o.line_ids
    await fulfil(shop, o.merchant["token"], orderId=order_id, trackingNumber="SF-1")
    await Shipment.filter(order_id=order_pk(order_id)).update(
        status="DELIVERED", delivered_at=datetime.now(UTC)
    )
    buyer = o.shopper["token"]

    assert await _refusals(shop, buyer, order_id, [(line_id, 1) for line_id in ids]) == [
        (["input", "lines"], "TOO_MANY")
    ]
    # Ten returns of one unit each (one rejected: it counts too), then no more, though units are left.
    first = await ok(
        shop,
        RETURN_CREATE,
        {"input": {"orderId": order_id, "lines": [{"lineId": ids[0], "quantity": 1}], "reason": "x"}},
        "returnRequestCreate",
        token=buyer,
    )
    rejected = await return_step(shop, RETURN_REJECT, o.merchant["token"], first["returnRequest"]["id"])
    assert rejected["returnRequest"]["status"] == "REJECTED"
    for n in range(1, MAX_RETURNS_PER_ORDER):
        variables = {
            "input": {"orderId": order_id, "lines": [{"lineId": ids[n % 6], "quantity": 1}], "reason": "x"}
        }
        await ok(shop, RETURN_CREATE, variables, "returnRequestCreate", token=buyer)
    assert await _refusals(shop, buyer, order_id, [(ids[5], 1)]) == [(["input", "orderId"], "TOO_MANY")]
    assert await ReturnRequest.filter(order_id=order_pk(order_id)).count() == MAX_RETURNS_PER_ORDER
