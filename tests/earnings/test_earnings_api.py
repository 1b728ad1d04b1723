"""Creators earn from the notes that sell, through the API: a paid order credits the note's author the
commission as PENDING; refunds, returns and refunds made outside Vermilion take it back exactly; the return
window closing releases it to AVAILABLE (the clock moved by hand); a suspended creator's earnings wait,
frozen, until they are back. Every test ends with the payment ledger and the earnings ledger reconciled
(`ledger_agrees`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

import pytest

from commerce.commissions import commission_on, reversed_total
from commerce.earnings import balances
from commerce.releases import UNDELIVERED_RELEASE, release_due
from commerce.returns import RETURN_WINDOW
from models import Order, OrderLine, PaymentAttempt, Shipment, User
from tests.conftest import GraphQLClient
from tests.earnings.world import (
    EARNINGS,
    ENTRIES,
    NOTE_SALES,
    OTHERS,
    OWED,
    RATE,
    balance,
    buy,
    earnings,
    entries,
    moves,
    note_by,
    note_commission,
    owed,
    paying_world,
)
from tests.selling.orders import DELIVERED, FULFIL, RETURN_APPROVE, RETURN_CREATE, RETURN_RECEIVE, order_pk
from tests.shop import ORDER_REFUND, PRICE, World, ok, pk
from tests.stripe_emulator import stripe_client
from tests.webhooks import charge_id, deliver, intent_at_stripe

pytestmark = [pytest.mark.usefixtures("ledger_agrees"), pytest.mark.timeout(180)]

C1 = commission_on(PRICE, RATE)  # 1290: one unit's commission


async def _refund(shop: GraphQLClient, w: World, order: dict[str, Any], amount: int) -> None:
    variables = {"orderId": order["id"], "amount": amount, "key": None}
    await ok(shop, ORDER_REFUND, variables, "orderRefund", token=w.merchant["token"])


async def _deliver(shop: GraphQLClient, w: World, order: dict[str, Any]) -> datetime:
    """The merchant ships the order and marks it delivered: when it arrived."""
    fields = {"orderId": order["id"], "trackingNumber": "SF-1"}
    shipment = (await ok(shop, FULFIL, {"input": fields}, "orderFulfill", token=w.merchant["token"]))[
        "shipment"
    ]
    await ok(shop, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=w.merchant["token"])
    moment = (await Shipment.get(id=pk(shipment["id"]))).delivered_at
    assert moment is not None
    return moment


async def _return(shop: GraphQLClient, w: World, order: dict[str, Any], quantity: int) -> dict[str, Any]:
    """The buyer returns `quantity` of the order's line; the merchant approves and receives it: the return."""
    line = order["lines"][0]["id"]
    asked = {"orderId": order["id"], "lines": [{"lineId": line, "quantity": quantity}], "reason": "不合适"}
    ret = (await ok(shop, RETURN_CREATE, {"input": asked}, "returnRequestCreate", token=w.shopper["token"]))[
        "returnRequest"
    ]
    for step, name in ((RETURN_APPROVE, "returnApprove"), (RETURN_RECEIVE, "returnReceive")):
        ret = (await ok(shop, step, {"input": {"returnId": ret["id"]}}, name, token=w.merchant["token"]))[
            "returnRequest"
        ]
    assert ret["status"] == "REFUNDED"
    return dict(ret)


# --- commissions -----------------------------------------------------------------------------------------


async def test_a_sale_from_a_note_credits_its_author_and_nothing_else_earns(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    await buy(shop, stripe_base, w, quantity=2)
    creator = w.creator["token"]
    assert await earnings(shop, creator) == {"CNY": [2 * C1, 0, 0, 0]}
    listed = await entries(shop, creator)
    assert moves(listed) == [("COMMISSION", 2 * C1, 0)]
    assert listed["nodes"][0]["note"] == {"id": w.note["id"]}
    assert await note_commission(shop, creator, w.note["id"]) == [2 * C1]
    assert await owed(shop, w.merchant["token"]) == {"CNY": [2 * C1, 0, 0]}

    # Bought from no note, by the creator from their own note, and from the merchant's own note: nothing.
    await buy(shop, stripe_base, w, note_id=None)
    await buy(shop, stripe_base, w, token=creator)
    own = await note_by(shop, w.merchant["token"], w)
    await buy(shop, stripe_base, w, note_id=own)
    assert await earnings(shop, creator) == {"CNY": [2 * C1, 0, 0, 0]}
    assert await earnings(shop, w.merchant["token"]) == {}
    assert await earnings(shop, w.shopper["token"]) == {}
    terms = (
        await OrderLine.all().order_by("id").values_list("commission_basis_points", "commission_creator_id")
    )
    assert terms == [
        (RATE, w.creator["user"]["id"] and pk(w.creator["user"]["id"])),
        (0, None),
        (0, None),
        (0, None),
    ]

    # Nobody else sees anyone's earnings or commissions.
    for handle in (w.creator["user"]["handle"], w.merchant["user"]["handle"]):
        seen = (await shop.data(OTHERS, {"handle": handle}, token=w.shopper["token"]))["user"]
        assert seen == {"earnings": None, "earningEntries": None, "commissionsOwed": None}


async def test_each_read_costs_one_statement(shop: GraphQLClient, stripe_base: str) -> None:
    w = await paying_world(shop)
    await buy(shop, stripe_base, w)
    reads = [
        (EARNINGS, {}, w.creator["token"], 1),
        (ENTRIES, {"first": 10}, w.creator["token"], 3),  # the page, its count, its notes (one batch)
        (NOTE_SALES, {"id": w.note["id"]}, w.creator["token"], 2),  # the note, its sales
        (OWED, {}, w.merchant["token"], 1),
    ]
    for query, variables, token, statements in reads:
        body = await shop.execute(query, variables, token=token)
        assert "errors" not in body, body
        # Besides the read itself, one statement finds the viewer's session.
        assert int(body["extensions"]["sqlStatements"]) == statements + 1, (query, body["extensions"])


# --- reversals -------------------------------------------------------------------------------------------


async def test_two_partial_refunds_reverse_in_proportion_and_add_up_to_the_whole(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    order = await buy(shop, stripe_base, w)
    creator = w.creator["token"]
    await _refund(shop, w, order, 5000)
    # 1290 less what the 7900 still held keeps: ⌊1290 × 7900 / 12900⌋ = 790.
    held = Fraction(PRICE - 5000, PRICE)
    assert reversed_total(C1, quantity=1, returned=0, held=held) == C1 - 790 == 500
    assert await balance(shop, creator) == [C1 - 500, 0, 0, 0]
    assert await note_commission(shop, creator, w.note["id"]) == [C1 - 500]
    await _refund(shop, w, order, PRICE - 5000)
    assert await balance(shop, creator) == [0, 0, 0, 0]
    listed = await entries(shop, creator)
    assert moves(listed) == [("REVERSAL", -(C1 - 500), 0), ("REVERSAL", -500, 0), ("COMMISSION", C1, 0)]
    assert await owed(shop, w.merchant["token"]) == {"CNY": [0, 0, C1]}

    # Paged newest first, both ways.
    page = await entries(shop, creator, first=2)
    assert (page["totalCount"], page["pageInfo"]["hasNextPage"]) == (3, True)
    rest = await entries(shop, creator, first=2, after=page["pageInfo"]["endCursor"])
    assert moves(rest) == [("COMMISSION", C1, 0)] and not rest["pageInfo"]["hasNextPage"]
    back = await entries(shop, creator, last=2, before=rest["pageInfo"]["startCursor"])
    assert [n["id"] for n in back["nodes"]] == [n["id"] for n in page["nodes"]]


async def test_returns_in_parts_reverse_exactly_and_their_refunds_are_not_reversed_again(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    order = await buy(shop, stripe_base, w, quantity=3, discount=101)
    commission = commission_on(3 * PRICE - 101, RATE)
    creator = w.creator["token"]
    assert await balance(shop, creator) == [commission, 0, 0, 0]
    await _deliver(shop, w, order)
    await _return(shop, w, order, 1)
    one = reversed_total(commission, quantity=3, returned=1)
    assert await balance(shop, creator) == [commission - one, 0, 0, 0]
    await _return(shop, w, order, 2)
    assert await balance(shop, creator) == [0, 0, 0, 0]
    assert moves(await entries(shop, creator)) == [
        ("REVERSAL", -(commission - one), 0),
        ("REVERSAL", -one, 0),
        ("COMMISSION", commission, 0),
    ]


async def test_a_return_then_a_refund_of_the_rest_reverse_everything(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    order = await buy(shop, stripe_base, w, quantity=2)
    creator = w.creator["token"]
    await _deliver(shop, w, order)
    ret = await _return(shop, w, order, 1)
    assert ret["amount"]["minorUnits"] == PRICE
    assert await balance(shop, creator) == [C1, 0, 0, 0]  # 2 × 1290 less one unit's
    # Half of what is left refunded: half of the rest; then the other half: nothing is left.
    await _refund(shop, w, order, PRICE // 2)
    assert await balance(shop, creator) == [C1 - C1 // 2, 0, 0, 0]
    await _refund(shop, w, order, PRICE - PRICE // 2)
    assert await balance(shop, creator) == [0, 0, 0, 0]
    assert (await Order.get(id=_order_pk(order))).status == "REFUNDED"


async def test_a_refund_made_outside_vermilion_reverses_its_share(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    order = await buy(shop, stripe_base, w)
    intent_id = str((await PaymentAttempt.get(order_id=_order_pk(order))).payment_intent_id)
    intent = await intent_at_stripe(stripe_base, intent_id)
    refund = await stripe_client(stripe_base).v1.refunds.create_async(
        {"payment_intent": intent_id, "amount": 5000}
    )
    charge = {
        "id": charge_id(intent),
        "object": "charge",
        "payment_intent": intent["id"],
        "amount": intent["amount"],
        "amount_refunded": 5000,
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": [{"id": refund["id"], "object": "refund", "amount": 5000, "metadata": {}}],
        },
    }
    await deliver(shop, "charge.refunded", charge)
    assert await balance(shop, w.creator["token"]) == [C1 - 500, 0, 0, 0]


# --- release ---------------------------------------------------------------------------------------------


async def test_the_window_closing_releases_and_later_refunds_take_from_available(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    creator = w.creator["token"]
    delivered_order = await buy(shop, stripe_base, w)
    arrived = await _deliver(shop, w, delivered_order)
    never_delivered = await buy(shop, stripe_base, w)
    paid_at = (await Order.get(id=_order_pk(never_delivered))).paid_at
    assert paid_at is not None

    report = await release_due(now=arrived + RETURN_WINDOW - timedelta(minutes=1))
    assert report.released == 0
    assert await balance(shop, creator) == [2 * C1, 0, 0, 0]

    report = await release_due(now=arrived + RETURN_WINDOW + timedelta(minutes=1))
    assert (report.released, report.amounts, report.waiting) == (1, {"CNY": C1}, 1)
    assert await balance(shop, creator) == [C1, C1, 0, 0]
    again = await release_due(now=arrived + RETURN_WINDOW + timedelta(days=1))
    assert again.released == 0 and await balance(shop, creator) == [C1, C1, 0, 0]

    # A goodwill refund after the window: from AVAILABLE.
    await _refund(shop, w, delivered_order, PRICE // 2)
    assert await balance(shop, creator) == [C1, C1 - C1 // 2, 0, 0]
    assert await owed(shop, w.merchant["token"]) == {"CNY": [C1, C1 - C1 // 2, C1 // 2]}

    # Never marked delivered: released UNDELIVERED_RELEASE after payment.
    assert (await release_due(now=paid_at + UNDELIVERED_RELEASE - timedelta(minutes=1))).released == 0
    assert (await release_due(now=paid_at + UNDELIVERED_RELEASE + timedelta(minutes=1))).released == 1
    assert await balance(shop, creator) == [0, 2 * C1 - C1 // 2, 0, 0]
    kinds = [k for k, _, _ in moves(await entries(shop, creator))]
    assert kinds == ["RELEASE", "REVERSAL", "RELEASE", "COMMISSION", "COMMISSION"]


async def test_an_open_return_holds_the_release(shop: GraphQLClient, stripe_base: str) -> None:
    w = await paying_world(shop)
    order = await buy(shop, stripe_base, w)
    arrived = await _deliver(shop, w, order)
    line = order["lines"][0]["id"]
    asked = {"orderId": order["id"], "lines": [{"lineId": line, "quantity": 1}], "reason": "坏了"}
    ret = (await ok(shop, RETURN_CREATE, {"input": asked}, "returnRequestCreate", token=w.shopper["token"]))[
        "returnRequest"
    ]
    later = arrived + RETURN_WINDOW + timedelta(days=2)
    assert (await release_due(now=later)).waiting == 1
    for step, name in ((RETURN_APPROVE, "returnApprove"), (RETURN_RECEIVE, "returnReceive")):
        await ok(shop, step, {"input": {"returnId": ret["id"]}}, name, token=w.merchant["token"])
    assert await balance(shop, w.creator["token"]) == [0, 0, 0, 0]
    assert (await release_due(now=later)).released == 1  # what is left: nothing
    assert await balance(shop, w.creator["token"]) == [0, 0, 0, 0]


async def test_a_suspended_creators_earnings_are_frozen_then_released_when_back(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop)
    order = await buy(shop, stripe_base, w)
    arrived = await _deliver(shop, w, order)
    creator_id = pk(w.creator["user"]["id"])
    later = arrived + RETURN_WINDOW + timedelta(days=1)
    await User.filter(id=creator_id).update(suspended_until=later + timedelta(days=7))

    report = await release_due(now=later)
    assert (report.released, report.frozen) == (0, 1)
    assert (await balances(creator_id))["CNY"].pending == C1  # kept, not lost

    report = await release_due(now=later + timedelta(days=8))  # the suspension is over
    assert (report.released, report.frozen) == (1, 0)
    back = (await balances(creator_id))["CNY"]
    assert (back.pending, back.available) == (0, C1)


def _order_pk(order: dict[str, Any]) -> UUID:
    return order_pk(order["id"])
