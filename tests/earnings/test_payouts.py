"""Payouts, through the API and the rules the admin's command line calls: a creator asks for their AVAILABLE
balance (payoutRequest), at least the minimum, one open payout per currency however many requests race; an
admin marks it paid or cancels it, once; a reversal after the request cannot take what is in the payout.
Every test ends with both ledgers reconciled (`ledger_agrees`), which checks each payout's entries."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce.errors import EarningsFrozen
from commerce.payouts import cancel_payout, mark_paid, minimum_payout, request_payout
from commerce.releases import UNDELIVERED_RELEASE, release_due
from core.errors import DomainError, ErrorCode
from models import EarningEntry, Payout, PayoutStatus, User
from tests.conftest import GraphQLClient
from tests.earnings.world import RATE, balance, buy, entries, moves, paying_world
from tests.shop import ORDER_REFUND, PRICE, World, ok, pk

pytestmark = [pytest.mark.usefixtures("ledger_agrees"), pytest.mark.timeout(180)]

C1 = PRICE * RATE // 10_000  # 1290: one unit's commission
UNITS = 8  # 8 × 12.90 = 103.20 CNY: just over the 100.00 CNY minimum
REQUEST = """mutation($currency: String!) { payoutRequest(input: {currency: $currency}) {
  payout { id status amount { minorUnits currency } reference requestedAt settledAt }
  errors { field code message detail { minimum { amount minorUnits currency } } } } }"""
PAYOUTS = """query($first: Int, $after: String) { viewer { payouts(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id status amount { minorUnits currency } reference requestedAt settledAt } } } }"""
OTHERS = "query($handle: String!) { user(handle: $handle) { payouts(first: 5) { totalCount } } }"


async def _released(shop: GraphQLClient, base: str, w: World, units: int = UNITS) -> int:
    """The creator earned `units` commissions, and the return window closed: what is now AVAILABLE."""
    await buy(shop, base, w, quantity=units)
    report = await release_due(now=datetime.now(UTC) + UNDELIVERED_RELEASE + timedelta(days=1))
    assert report.released >= 1
    return units * C1


async def _request(shop: GraphQLClient, token: str | None, currency: str = "CNY") -> dict[str, Any]:
    body = await shop.execute(REQUEST, {"currency": currency}, token=token, anonymous=token is None)
    assert "errors" not in body, body
    return dict(body["data"]["payoutRequest"])


async def test_a_creator_asks_for_everything_available_and_an_admin_pays_it_once(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    creator = w.creator["token"]
    await buy(shop, stripe_base, w, quantity=UNITS)
    # Earned but still PENDING: nothing is available yet.
    refused = await _request(shop, creator)
    assert refused["payout"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("PAYOUT_BELOW_MINIMUM", ["input", "currency"])
    ]
    assert refused["errors"][0]["detail"]["minimum"] == {
        "amount": "100.00",
        "minorUnits": 10000,
        "currency": "CNY",
    }
    assert "0.00 CNY available" in refused["errors"][0]["message"]

    await release_due(now=datetime.now(UTC) + UNDELIVERED_RELEASE + timedelta(days=1))
    amount = UNITS * C1
    assert await balance(shop, creator) == [0, amount, 0, 0]
    asked = await _request(shop, creator, "cny")
    assert asked["errors"] == []
    payout = asked["payout"]
    assert (payout["status"], payout["amount"], payout["reference"], payout["settledAt"]) == (
        "REQUESTED",
        {"minorUnits": amount, "currency": "CNY"},
        None,
        None,
    )
    assert await balance(shop, creator) == [0, 0, amount, 0]
    assert moves(await entries(shop, creator))[0] == ("PAYOUT_REQUESTED", 0, -amount)

    # One open payout per currency; nothing changed by the refusal.
    again = await _request(shop, creator)
    assert [e["code"] for e in again["errors"]] == ["PAYOUT_OPEN"] and again["payout"] is None
    assert await Payout.all().count() == 1

    listed = (await shop.data(PAYOUTS, {"first": 10}, token=creator))["viewer"]["payouts"]
    assert listed["totalCount"] == 1 and listed["nodes"] == [payout]
    seen = await shop.data(OTHERS, {"handle": w.creator["user"]["handle"]}, token=w.shopper["token"])
    assert seen == {"user": {"payouts": None}}

    # The admin pays it (vermilion payouts mark-paid): once, however often it is said.
    paid = await mark_paid(payout_id=pk(payout["id"]), reference="  ICBC 2026-12-01 #884  ")
    assert paid.changed and paid.payout.status is PayoutStatus.PAID
    twice = await mark_paid(payout_id=pk(payout["id"]), reference="ICBC again")
    assert not twice.changed and twice.payout.reference == "ICBC 2026-12-01 #884"
    assert await balance(shop, creator) == [0, 0, 0, amount]
    kinds = [k for k, *_ in moves(await entries(shop, creator))]
    assert kinds[:2] == ["PAYOUT_PAID", "PAYOUT_REQUESTED"]
    (shown,) = (await shop.data(PAYOUTS, {"first": 10}, token=creator))["viewer"]["payouts"]["nodes"]
    assert (shown["status"], shown["reference"]) == ("PAID", "ICBC 2026-12-01 #884")
    assert shown["settledAt"] is not None
    # Paid: it can no longer be cancelled, and the creator may ask again (for nothing yet).
    with pytest.raises(DomainError) as cancelled:
        await cancel_payout(payout_id=pk(payout["id"]))
    assert cancelled.value.code is ErrorCode.INVALID_TRANSITION
    assert [e["code"] for e in (await _request(shop, creator))["errors"]] == ["PAYOUT_BELOW_MINIMUM"]


async def test_ten_requests_at_once_make_one_payout_and_move_the_balance_once(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    amount = await _released(shop, stripe_base, w)
    creator = w.creator["token"]

    answers = await asyncio.gather(*(_request(shop, creator) for _ in range(10)))

    won = [a["payout"] for a in answers if a["payout"] is not None]
    assert len(won) == 1
    assert sorted(e["code"] for a in answers for e in a["errors"]) == ["PAYOUT_OPEN"] * 9
    assert await Payout.all().count() == 1
    assert await EarningEntry.filter(kind="PAYOUT_REQUESTED").count() == 1
    assert await balance(shop, creator) == [0, 0, amount, 0]


async def test_a_cancelled_payout_goes_back_to_available_and_the_creator_asks_again(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    amount = await _released(shop, stripe_base, w)
    creator = w.creator["token"]
    first = (await _request(shop, creator))["payout"]

    cancelled = await cancel_payout(payout_id=pk(first["id"]))
    assert cancelled.changed and cancelled.payout.status is PayoutStatus.CANCELLED
    assert not (await cancel_payout(payout_id=pk(first["id"]))).changed
    with pytest.raises(DomainError) as refused:
        await mark_paid(payout_id=pk(first["id"]), reference="too late")
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert await balance(shop, creator) == [0, amount, 0, 0]

    second = (await _request(shop, creator))["payout"]
    assert second["amount"]["minorUnits"] == amount and second["id"] != first["id"]
    statuses = [
        n["status"]
        for n in (await shop.data(PAYOUTS, {"first": 10}, token=creator))["viewer"]["payouts"]["nodes"]
    ]
    assert statuses == ["REQUESTED", "CANCELLED"]  # newest first
    with pytest.raises(DomainError) as unknown:
        await mark_paid(payout_id=10**6, reference="x")
    assert unknown.value.code is ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as blank:
        await mark_paid(payout_id=pk(second["id"]), reference="   ")
    assert blank.value.code is ErrorCode.REQUIRED


async def test_a_refund_after_the_request_cannot_take_what_is_in_the_payout(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    order = await buy(shop, stripe_base, w, quantity=UNITS)
    await release_due(now=datetime.now(UTC) + UNDELIVERED_RELEASE + timedelta(days=1))
    creator = w.creator["token"]
    amount = UNITS * C1
    await _request(shop, creator)

    # The merchant refunds one unit's price: its commission was due back, but it is in the payout.
    variables = {"orderId": order["id"], "amount": PRICE, "key": None}
    await ok(shop, ORDER_REFUND, variables, "orderRefund", token=w.merchant["token"])
    assert await balance(shop, creator) == [0, 0, amount, 0]
    reversal = await EarningEntry.get(kind="REVERSAL")
    assert (reversal.pending, reversal.available) == (0, 0)
    assert reversal.detail == f"due {C1}; {C1} already paid out, not taken back"


async def test_refused_for_a_frozen_creator_an_unknown_currency_and_nobody_signed_in(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await paying_world(shop, stock=30)
    amount = await _released(shop, stripe_base, w)
    creator_id = pk(w.creator["user"]["id"])

    anonymous = await _request(shop, None)
    assert [e["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    assert [e["code"] for e in (await _request(shop, w.creator["token"], "XYZ"))["errors"]] == [
        "INVALID_CURRENCY"
    ]
    assert [e["code"] for e in (await _request(shop, w.creator["token"], "USD"))["errors"]] == [
        "PAYOUT_BELOW_MINIMUM"
    ]
    # Leaving (deletion asked for; still signed in during the grace period): frozen.
    await User.filter(id=creator_id).update(deletion_requested_at=datetime.now(UTC))
    frozen = await _request(shop, w.creator["token"])
    assert [(e["code"], e["field"]) for e in frozen["errors"]] == [("EARNINGS_FROZEN", None)]
    # Suspended (the API refuses their token altogether; the rule refuses them too).
    await User.filter(id=creator_id).update(
        deletion_requested_at=None, suspended_until=datetime.now(UTC) + timedelta(days=3)
    )
    with pytest.raises(EarningsFrozen):
        await request_payout(creator_id=creator_id, currency="CNY")
    assert await Payout.all().count() == 0
    # Back: the payout goes through.
    await User.filter(id=creator_id).update(suspended_until=None)
    payout = await request_payout(creator_id=creator_id, currency="CNY")
    assert payout.amount_minor_units == amount


def test_minimums_follow_each_currencys_exponent() -> None:
    assert minimum_payout("CNY") == 10_000  # 100.00
    assert minimum_payout("USD") == 10_000
    assert minimum_payout("JPY") == 10_000  # ¥10,000: no fraction
    assert minimum_payout("KRW") == 100_000
