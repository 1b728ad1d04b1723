"""charge.refunded at `POST /webhooks/stripe`: refunds made outside Vermilion, echoes of our own, and reordering."""

from __future__ import annotations

from typing import Any

import pytest

from commerce.ledger import ledger_mismatches
from tests.conftest import GraphQLClient
from tests.shop import (
    ORDER_REFUND,
    PRICE,
    ok,
    world,
)
from tests.stripe_emulator import event_payload, pay, sign_event, stripe_client
from tests.webhooks import (
    buy,
    charge_id,
    deliver,
    deliver_intent,
    intent_at_stripe,
    ledger,
    order_of,
    paid_purchase,
    post,
)

pytestmark = pytest.mark.timeout(120)


# --- charge.refunded -----------------------------------------------------------------------------


def _charge(intent: dict[str, Any], refunds: list[dict[str, Any]], *, listed: bool = True) -> dict[str, Any]:
    charge: dict[str, Any] = {
        "id": charge_id(intent),
        "object": "charge",
        "payment_intent": intent["id"],
        "amount": intent["amount"],
        "amount_refunded": sum(int(r["amount"]) for r in refunds),
        "refunded": sum(int(r["amount"]) for r in refunds) >= intent["amount"],
    }
    if listed:
        charge["refunds"] = {"object": "list", "data": refunds}
    return charge


def _refund_item(refund: Any) -> dict[str, Any]:
    """A refund as the charge's `refunds` list carries it, from the emulator's refund object."""
    data = refund.to_dict()
    return {
        "id": data["id"],
        "object": "refund",
        "amount": data["amount"],
        "metadata": data.get("metadata") or {},
    }


async def test_refund_made_outside_vermilion_is_recorded_once(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    p = await paid_purchase(shop, stripe_base, w)
    intent = await intent_at_stripe(stripe_base, p.intent_id)
    stripe = stripe_client(stripe_base)
    first = await stripe.v1.refunds.create_async({"payment_intent": p.intent_id, "amount": 500})

    event = await deliver(shop, "charge.refunded", _charge(intent, [_refund_item(first)]))

    order = await order_of(shop, p)
    assert order["status"] == "PARTIALLY_REFUNDED"
    assert (order["paid"]["minorUnits"], order["refunded"]["minorUnits"]) == (PRICE, 500)
    assert order["refundable"]["minorUnits"] == PRICE - 500
    assert ledger(order)[-1] == ("EXTERNAL_REFUND", 500, first["id"])
    assert [k for k, _, _ in ledger(order)].count("EXTERNAL_REFUND") == 1
    assert await ledger_mismatches() == []

    # Replayed, and a different event listing the same refund: unchanged.
    await deliver(shop, "charge.refunded", _charge(intent, [_refund_item(first)]), event)
    await deliver(shop, "charge.refunded", _charge(intent, [_refund_item(first)]))
    same = await order_of(shop, p)
    assert (same["status"], same["refunded"]["minorUnits"], ledger(same)) == (
        "PARTIALLY_REFUNDED",
        500,
        ledger(order),
    )

    # A second dashboard refund for the rest: the charge now lists both, newest first.
    rest = await stripe.v1.refunds.create_async({"payment_intent": p.intent_id, "amount": PRICE - 500})
    await deliver(shop, "charge.refunded", _charge(intent, [_refund_item(rest), _refund_item(first)]))
    done = await order_of(shop, p)
    assert done["status"] == "REFUNDED"
    assert done["refunded"]["minorUnits"] == PRICE
    assert done["refundable"]["minorUnits"] == 0
    assert [e for e in ledger(done) if e[0] == "EXTERNAL_REFUND"] == [
        ("EXTERNAL_REFUND", 500, first["id"]),
        ("EXTERNAL_REFUND", PRICE - 500, rest["id"]),
    ]
    assert await ledger_mismatches() == []


async def test_own_refund_echoed_by_charge_refunded_counts_once(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop)
    p = await paid_purchase(shop, stripe_base, w)
    refunded = await ok(
        shop,
        ORDER_REFUND,
        {"orderId": p.gid, "amount": 1000, "key": "r-1"},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert refunded["refund"] == {"amount": {"minorUnits": 1000}, "status": "SUCCEEDED"}
    intent = await intent_at_stripe(stripe_base, p.intent_id)
    at_stripe = await stripe_client(stripe_base).v1.refunds.list_async({"payment_intent": p.intent_id})
    items = [_refund_item(r) for r in at_stripe.data]
    assert [i["amount"] for i in items] == [1000]

    await deliver(shop, "charge.refunded", _charge(intent, items))

    order = await order_of(shop, p)
    assert (order["status"], order["refunded"]["minorUnits"]) == ("PARTIALLY_REFUNDED", 1000)
    assert [(k, a) for k, a, _ in ledger(order) if "REFUND" in k] == [("REFUND_SUCCEEDED", 1000)]
    assert await ledger_mismatches() == []


async def test_refund_outside_vermilion_without_refunds_list(shop: GraphQLClient, stripe_base: str) -> None:
    """Since API version 2022-11-15 a Charge (and so a charge.refunded event) no longer carries its
    `refunds` list; `amount_refunded` still says 500 were refunded. The order must still reflect it."""
    w = await world(shop)
    p = await paid_purchase(shop, stripe_base, w)
    intent = await intent_at_stripe(stripe_base, p.intent_id)
    refund = await stripe_client(stripe_base).v1.refunds.create_async(
        {"payment_intent": p.intent_id, "amount": 500}
    )

    await deliver(shop, "charge.refunded", _charge(intent, [_refund_item(refund)], listed=False))

    order = await order_of(shop, p)
    assert (order["status"], order["refunded"]["minorUnits"]) == ("PARTIALLY_REFUNDED", 500)
    assert ledger(order)[-1] == ("EXTERNAL_REFUND", 500, refund["id"])
    assert await ledger_mismatches() == []


async def test_refund_event_before_the_success_event_is_not_lost(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """Stripe delivers in any order: the payment succeeded and was partly refunded in the dashboard,
    and charge.refunded arrives before payment_intent.succeeded (our endpoint was down for a while).
    Once both have been delivered (again, if we asked for a retry), the order shows the refund."""
    w = await world(shop)
    p = await buy(shop, w)
    assert await pay(stripe_base, p.intent_id) == "succeeded"
    intent = await intent_at_stripe(stripe_base, p.intent_id)
    refund = await stripe_client(stripe_base).v1.refunds.create_async(
        {"payment_intent": p.intent_id, "amount": 500}
    )
    refunded_event = event_payload("charge.refunded", _charge(intent, [_refund_item(refund)]))

    first = await post(shop, refunded_event, sign_event(refunded_event))
    assert first.status_code in (200, 503), first.text
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    if first.status_code == 503:  # "try again later": Stripe redelivers the same event
        again = await post(shop, refunded_event, sign_event(refunded_event))
        assert again.status_code == 200, again.text

    order = await order_of(shop, p)
    assert (order["status"], order["paid"]["minorUnits"], order["refunded"]["minorUnits"]) == (
        "PARTIALLY_REFUNDED",
        PRICE,
        500,
    )
    assert ledger(order)[-1] == ("EXTERNAL_REFUND", 500, refund["id"])
    assert await ledger_mismatches() == []
