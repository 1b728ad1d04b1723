"""payment_intent events at `POST /webhooks/stripe`: success delivered at least once, failures, reordering, and
late successes after the reservation was released (Saleor #15246)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from commerce.ledger import ledger_mismatches
from models import PaymentEvent
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.shop import (
    CHECKOUT_START,
    PRICE,
    World,
    checkout_input,
    ok,
    stock_of,
    world,
)
from tests.stripe_emulator import DECLINED, VISA, pay
from tests.webhooks import (
    Purchase,
    buy,
    charge_id,
    deliver,
    deliver_intent,
    intent_at_stripe,
    ledger,
    order_of,
    stripe_event_count,
)

pytestmark = pytest.mark.timeout(120)


# --- payment_intent.succeeded, at least once -----------------------------------------------------


async def test_succeeded_pays_the_order_once(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await stock_of(shop, w) == 8
    assert await pay(stripe_base, p.intent_id) == "succeeded"

    first = await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)

    order = await order_of(shop, p)
    assert (order["status"], order["stockState"]) == ("PAID", "SOLD")
    assert (order["paid"]["minorUnits"], order["refunded"]["minorUnits"]) == (2 * PRICE, 0)
    assert order["attention"] is None
    assert ledger(order) == [
        ("PAYMENT_INTENT_CREATED", 2 * PRICE, p.intent_id),
        ("PAYMENT_SUCCEEDED", 2 * PRICE, p.intent_id),
    ]
    assert await stock_of(shop, w) == 8
    assert await stripe_event_count(first) == 1
    assert await ledger_mismatches() == []

    # The same event again (Stripe retries when our 200 got lost): accepted, nothing more.
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p, first)
    assert await stripe_event_count(first) == 1
    # Another event about the same success: still one PAYMENT_SUCCEEDED.
    second = await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert await stripe_event_count() == 2

    again = await order_of(shop, p)
    assert (again["status"], again["stockState"], again["paid"]["minorUnits"]) == ("PAID", "SOLD", 2 * PRICE)
    assert ledger(again) == ledger(order)
    assert await PaymentEvent.filter(order_id=p.pk, kind="PAYMENT_SUCCEEDED").count() == 1
    assert await stock_of(shop, w) == 8
    assert second != first
    assert await ledger_mismatches() == []


async def test_succeeded_event_does_not_pay_what_stripe_has_not_taken(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """The event body claims success, but the PaymentIntent at Stripe was never paid: the re-read wins."""
    w = await world(shop)
    p = await buy(shop, w)
    claimed = {
        **await intent_at_stripe(stripe_base, p.intent_id),
        "status": "succeeded",
        "amount_received": PRICE,
    }
    await deliver(shop, "payment_intent.succeeded", claimed)
    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["paid"]["minorUnits"]) == (
        "PENDING_PAYMENT",
        "RESERVED",
        0,
    )
    assert await stock_of(shop, w) == 9
    assert await ledger_mismatches() == []


# --- failures and reordering ---------------------------------------------------------------------


async def test_payment_failed_releases_the_reservation(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    p = await buy(shop, w, 3)
    assert await stock_of(shop, w) == 7
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    declined = await intent_at_stripe(stripe_base, p.intent_id)

    await deliver(shop, "payment_intent.payment_failed", declined)

    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["paid"]["minorUnits"]) == (
        "PENDING_PAYMENT",
        "RELEASED",
        0,
    )
    assert await stock_of(shop, w) == 10
    assert ledger(order) == [
        ("PAYMENT_INTENT_CREATED", 3 * PRICE, p.intent_id),
        ("PAYMENT_FAILED", 0, charge_id(declined)),
    ]
    # Replayed: the stock is not given back twice.
    await deliver(shop, "payment_intent.payment_failed", declined)
    assert await stock_of(shop, w) == 10
    assert ledger(await order_of(shop, p)) == ledger(order)
    assert await ledger_mismatches() == []


async def test_late_failure_after_success_keeps_the_order_paid(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    declined = await intent_at_stripe(stripe_base, p.intent_id)  # what the payment_failed event carries
    assert declined["last_payment_error"]["message"]
    assert await pay(stripe_base, p.intent_id, VISA) == "succeeded"

    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert await stock_of(shop, w) == 8
    await deliver(shop, "payment_intent.payment_failed", declined)  # the decline's event, late

    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["paid"]["minorUnits"]) == ("PAID", "SOLD", 2 * PRICE)
    assert await stock_of(shop, w) == 8
    assert [kind for kind, _, _ in ledger(order)] == ["PAYMENT_INTENT_CREATED", "PAYMENT_SUCCEEDED"]
    assert await ledger_mismatches() == []


async def test_failure_delivered_after_the_card_was_replaced_pays_the_order(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """Declined, then paid with another card; only the old payment_failed arrives (so far): Stripe's
    current state is success, so the order is PAID and keeps its reservation as the sale."""
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    declined = await intent_at_stripe(stripe_base, p.intent_id)
    assert await pay(stripe_base, p.intent_id, VISA) == "succeeded"

    await deliver(shop, "payment_intent.payment_failed", declined)
    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["paid"]["minorUnits"]) == ("PAID", "SOLD", 2 * PRICE)
    assert await stock_of(shop, w) == 8

    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert await PaymentEvent.filter(order_id=p.pk, kind="PAYMENT_SUCCEEDED").count() == 1
    assert await stock_of(shop, w) == 8
    assert await ledger_mismatches() == []


async def test_replayed_failure_does_not_release_a_renewed_reservation(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """Declined and released; the shopper checks out again (stock taken again); Stripe then redelivers
    the old payment_failed. The redelivery must not give the new reservation back."""
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    declined = await intent_at_stripe(stripe_base, p.intent_id)
    failed = await deliver(shop, "payment_intent.payment_failed", declined)
    assert await stock_of(shop, w) == 10

    # A new idempotency key: the shopper's retry after the decline.
    again = await ok(shop, CHECKOUT_START, checkout_input(p.cart_id), "checkoutStart", token=p.token)
    assert again["order"]["id"] == p.gid
    assert again["order"]["stockState"] == "RESERVED"
    assert await stock_of(shop, w) == 8

    await deliver(shop, "payment_intent.payment_failed", declined, failed)  # the same event, redelivered
    order = await order_of(shop, p)
    assert (order["status"], order["stockState"]) == ("PENDING_PAYMENT", "RESERVED")
    assert await stock_of(shop, w) == 8
    assert await ledger_mismatches() == []


async def test_late_decline_after_a_retry_keeps_the_new_reservation(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """Declined; the shopper retries checkout before Stripe's payment_failed arrives; then it arrives.
    The retry's reservation stays, and the retry's payment settles the order."""
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    declined = await intent_at_stripe(stripe_base, p.intent_id)
    retry = await ok(shop, CHECKOUT_START, checkout_input(p.cart_id), "checkoutStart", token=p.token)
    assert retry["order"]["id"] == p.gid
    assert retry["order"]["stockState"] == "RESERVED"
    assert await stock_of(shop, w) == 8

    await deliver(shop, "payment_intent.payment_failed", declined)

    order = await order_of(shop, p)
    assert (order["status"], order["stockState"]) == ("PENDING_PAYMENT", "RESERVED")
    assert await stock_of(shop, w) == 8
    intent_id = retry["payment"]["paymentIntentId"]
    assert await pay(stripe_base, intent_id) == "succeeded"
    await deliver(shop, "payment_intent.succeeded", await intent_at_stripe(stripe_base, intent_id))
    paid = await order_of(shop, p)
    assert (paid["status"], paid["stockState"], paid["paid"]["minorUnits"]) == ("PAID", "SOLD", 2 * PRICE)
    assert await stock_of(shop, w) == 8
    assert await PaymentEvent.filter(order_id=p.pk, kind="PAYMENT_SUCCEEDED").count() == 1
    assert await ledger_mismatches() == []


# --- late success after the reservation was released (Saleor #15246) -----------------------------


async def _declined_and_released(shop: GraphQLClient, stripe_base: str, w: World, quantity: int) -> Purchase:
    p = await buy(shop, w, quantity)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    await deliver_intent(shop, stripe_base, "payment_intent.payment_failed", p)
    assert (await order_of(shop, p))["stockState"] == "RELEASED"
    return p


async def test_late_success_when_the_stock_is_gone_is_paid_and_flagged(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=1)
    p = await _declined_and_released(shop, stripe_base, w, 1)
    assert await stock_of(shop, w) == 1
    # Someone else buys the last one.
    rival = await buy(shop, w, 1, buyer=await sign_up(shop, f"rival{uuid.uuid4().hex[:6]}"))
    assert await pay(stripe_base, rival.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", rival)
    assert await stock_of(shop, w) == 0

    # The first shopper tries another card on the same PaymentIntent, and it goes through.
    assert await pay(stripe_base, p.intent_id, VISA) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)

    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["paid"]["minorUnits"]) == ("PAID", "SHORT", PRICE)
    assert (
        order["attention"]
        == "Paid after its reservation was released and the stock is gone: refund or restock."
    )
    assert await stock_of(shop, w) == 0  # never below zero
    rival_order = await order_of(shop, rival)
    assert (rival_order["status"], rival_order["stockState"], rival_order["attention"]) == (
        "PAID",
        "SOLD",
        None,
    )
    # Redelivered: still one payment, still SHORT, stock untouched.
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert await PaymentEvent.filter(order_id=p.pk, kind="PAYMENT_SUCCEEDED").count() == 1
    assert (await order_of(shop, p))["stockState"] == "SHORT"
    assert await stock_of(shop, w) == 0
    assert await ledger_mismatches() == []


async def test_late_success_with_stock_left_takes_it_again(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=5)
    p = await _declined_and_released(shop, stripe_base, w, 2)
    assert await stock_of(shop, w) == 5

    assert await pay(stripe_base, p.intent_id, VISA) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)

    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["attention"]) == ("PAID", "SOLD", None)
    assert order["paid"]["minorUnits"] == 2 * PRICE
    assert await stock_of(shop, w) == 3
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert await stock_of(shop, w) == 3
    assert await ledger_mismatches() == []


# --- notifications told live ---------------------------------------------------------------------


async def test_a_paid_order_is_told_live_to_the_buyer_merchant_and_creator(
    shop: GraphQLClient, stripe_base: str
) -> None:
    from core.ids import parse_global_id
    from social.events import notifications_channel

    w = await world(shop)
    p = await buy(shop, w, 1)
    assert await pay(stripe_base, p.intent_id) == "succeeded"
    people: dict[str, int] = {}
    for role in ("shopper", "merchant", "creator"):
        parsed = parse_global_id(getattr(w, role)["user"]["id"])
        assert parsed is not None
        people[role] = parsed[1]
    broker = shop.app.state.broker
    received: dict[str, list[dict[str, object]]] = {}

    async def listen(role: str, ready: asyncio.Event) -> None:
        async with broker.subscribe(notifications_channel(people[role])) as messages:
            ready.set()
            async for message in messages:
                received.setdefault(role, []).append(message)
                return

    listeners = []
    for role in people:
        ready = asyncio.Event()
        listeners.append(asyncio.create_task(listen(role, ready)))
        await ready.wait()

    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    await asyncio.wait_for(asyncio.gather(*listeners), 10)

    # Each was told which notification changed (ORDER_PAID, SALE, NOTE_SALE), once the payment was stored.
    assert set(received) == {"shopper", "merchant", "creator"}
    assert all(messages[0]["notificationId"] for messages in received.values())
