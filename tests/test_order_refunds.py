"""orderRefund through the API and the Stripe emulator: partial and full refunds, limits, idempotency, who may refund."""

from __future__ import annotations

import uuid

import pytest

from commerce.ledger import ledger_mismatches
from tests.conftest import GraphQLClient
from tests.shop import (
    ORDER_REFUND,
    PRICE,
    emulator_refunds,
    kinds,
    paid_order,
    problems,
    read_order,
    refund,
    refused,
    start,
    world,
)

pytestmark = pytest.mark.usefixtures("ledger_agrees")  # every order agrees with its ledger afterwards


# ------------------------------------------------------------------------------------- refunds


async def test_partial_then_full_refund_reconciles_with_stripe(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 2)
    order_id, intent_id = order["id"], order["payment"]["paymentIntentId"]
    total = 2 * PRICE
    merchant = w.merchant["token"]

    first = await refund(shop, order_id, 1000, merchant)
    assert first["refund"] == {"amount": {"minorUnits": 1000}, "status": "SUCCEEDED"}
    assert first["order"]["status"] == "PARTIALLY_REFUNDED"
    assert first["order"]["refunded"] == {"minorUnits": 1000}
    assert first["order"]["refundable"] == {"minorUnits": total - 1000}
    assert first["order"]["paid"] == {"minorUnits": total}
    assert await emulator_refunds(stripe_base, intent_id) == [1000]
    assert await ledger_mismatches() == []

    # More than remains: refused, nothing changed here or at Stripe.
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order_id, "amount": total - 999, "key": None},
        "orderRefund",
        token=merchant,
    )
    assert problems(errors) == [(["amountMinorUnits"], "REFUND_EXCEEDS_PAID")]
    unchanged = await read_order(shop, order_id, token=merchant)
    assert unchanged is not None
    assert unchanged["status"] == "PARTIALLY_REFUNDED"
    assert unchanged["refunded"] == {"minorUnits": 1000}
    assert len(unchanged["refunds"]) == 1
    assert await emulator_refunds(stripe_base, intent_id) == [1000]

    rest = await refund(shop, order_id, total - 1000, merchant)
    assert rest["order"]["status"] == "REFUNDED"
    assert rest["order"]["refunded"] == {"minorUnits": total}
    assert rest["order"]["refundable"] == {"minorUnits": 0}
    assert [r["amount"]["minorUnits"] for r in rest["order"]["refunds"]] == [1000, total - 1000]
    assert [r["status"] for r in rest["order"]["refunds"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert kinds(rest["order"]) == [
        "PAYMENT_INTENT_CREATED",
        "PAYMENT_SUCCEEDED",
        "REFUND_SUCCEEDED",
        "REFUND_SUCCEEDED",
    ]
    at_stripe = await emulator_refunds(stripe_base, intent_id)
    assert at_stripe == sorted([1000, total - 1000])
    assert sum(at_stripe) == rest["order"]["refunded"]["minorUnits"]

    # Nothing is left to refund.
    errors = await refused(
        shop, ORDER_REFUND, {"orderId": order_id, "amount": 1, "key": None}, "orderRefund", token=merchant
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
    assert await emulator_refunds(stripe_base, intent_id) == at_stripe


async def test_refund_more_than_paid_changes_nothing(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order["id"], "amount": PRICE + 1, "key": None},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["amountMinorUnits"], "REFUND_EXCEEDS_PAID")]
    after = await read_order(shop, order["id"], token=w.merchant["token"])
    assert after is not None
    assert after["status"] == "PAID"
    assert after["refunded"] == {"minorUnits": 0}
    assert after["refunds"] == []
    assert kinds(after) == ["PAYMENT_INTENT_CREATED", "PAYMENT_SUCCEEDED"]
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == []


async def test_refund_with_the_same_key_refunds_once(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    key = f"refund-{uuid.uuid4()}"
    first = await refund(shop, order["id"], 2500, w.merchant["token"], key)
    second = await refund(shop, order["id"], 2500, w.merchant["token"], key)
    assert first["refund"] == second["refund"] == {"amount": {"minorUnits": 2500}, "status": "SUCCEEDED"}
    assert len(second["order"]["refunds"]) == 1
    assert second["order"]["refunded"] == {"minorUnits": 2500}
    assert second["order"]["status"] == "PARTIALLY_REFUNDED"
    assert kinds(second["order"]).count("REFUND_SUCCEEDED") == 1

    at_stripe = await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"])
    assert at_stripe == [2500]
    assert sum(at_stripe) == second["order"]["refunded"]["minorUnits"]

    # The same key for another amount is refused, and refunds nothing.
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order["id"], "amount": 3000, "key": key},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["idempotencyKey"], "INVALID")]
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == [2500]


async def test_only_the_merchant_may_refund(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    variables = {"orderId": order["id"], "amount": 1000, "key": None}
    errors = await refused(shop, ORDER_REFUND, variables, "orderRefund", token=w.shopper["token"])
    assert problems(errors) == [(["orderId"], "FORBIDDEN")]
    errors = await refused(shop, ORDER_REFUND, variables, "orderRefund", token=w.creator["token"])
    assert problems(errors) == [(["orderId"], "NOT_FOUND")]
    errors = await refused(shop, ORDER_REFUND, variables, "orderRefund", anonymous=True)
    assert problems(errors) == [(None, "UNAUTHENTICATED")]

    after = await read_order(shop, order["id"], token=w.shopper["token"])
    assert after is not None
    assert after["status"] == "PAID"
    assert after["refunded"] == {"minorUnits": 0}
    assert after["refunds"] == []
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == []


async def test_refund_of_an_unpaid_order_is_an_invalid_transition(shop: GraphQLClient) -> None:
    w = await world(shop, stock=10)
    started = await start(shop, w, 1)
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": started["order"]["id"], "amount": 1000, "key": None},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["orderId"], "INVALID_TRANSITION")]
    after = await read_order(shop, started["order"]["id"], token=w.merchant["token"])
    assert after is not None
    assert (after["status"], after["refunded"], after["refunds"]) == (
        "PENDING_PAYMENT",
        {"minorUnits": 0},
        [],
    )


@pytest.mark.parametrize("amount", [0, -1, -PRICE])
async def test_refund_amount_must_be_positive(shop: GraphQLClient, stripe_base: str, amount: int) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 1)
    errors = await refused(
        shop,
        ORDER_REFUND,
        {"orderId": order["id"], "amount": amount, "key": None},
        "orderRefund",
        token=w.merchant["token"],
    )
    assert problems(errors) == [(["amountMinorUnits"], "OUT_OF_RANGE")]
    after = await read_order(shop, order["id"], token=w.merchant["token"])
    assert after is not None
    assert (after["status"], after["refunded"], after["refunds"]) == ("PAID", {"minorUnits": 0}, [])
    assert await emulator_refunds(stripe_base, order["payment"]["paymentIntentId"]) == []
