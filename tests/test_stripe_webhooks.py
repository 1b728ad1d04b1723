"""`POST /webhooks/stripe` on the in-process app, with localstripe as Stripe: signatures, replays,
reordering, refunds made outside Vermilion, the reservation sweeper, late successes (Saleor #15246),
and what paid orders mean for creators (note sales) and reviewers (verified purchase).

localstripe never sends charge.refunded, duplicates or out-of-order deliveries, so the tests sign
events themselves, exactly as Stripe does, and post them to the real endpoint. The handler re-reads
each PaymentIntent from the emulator, so the emulator's state is what decides.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.app import create_app
from commerce.ledger import ledger_mismatches
from commerce.payments import Payments, payments_from_settings
from commerce.reservations import sweep_expired
from core.ids import decode_uuid_global_id
from core.settings import Settings
from models import Order, PaymentAttempt, PaymentEvent, StripeEvent
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up
from tests.shop import (
    CHECKOUT_START,
    ORDER,
    ORDER_REFUND,
    World,
    cart_with,
    checkout_input,
    ok,
    world,
)
from tests.stripe_emulator import event_payload, pay, sign_event, stripe_client

pytestmark = pytest.mark.timeout(120)

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeCustomerFail"
PRICE = 12900

STOCK = "query($p: ID!) { product(id: $p) { variants { stock } } }"
SALES = (
    "query($n: ID!) { note(id: $n) { sales { itemsSold orders revenue { amount minorUnits currency } } } }"
)
REVIEW = "query($n: ID!) { note(id: $n) { review { rating verifiedPurchase product { id } } } }"


# --- helpers -------------------------------------------------------------------------------------


class Purchase:
    """One checkout: the order as first returned, its PaymentIntent, and who bought it."""

    def __init__(self, order: dict[str, Any], intent_id: str, token: str, cart_id: str):
        self.order = order
        self.intent_id = intent_id
        self.token = token
        self.cart_id = cart_id

    @property
    def gid(self) -> str:
        return str(self.order["id"])

    @property
    def pk(self) -> UUID:
        return decode_uuid_global_id(self.gid, "Order", "id")


async def buy(
    shop: GraphQLClient, w: World, quantity: int = 1, *, buyer: dict[str, Any] | None = None
) -> Purchase:
    token = (buyer or w.shopper)["token"]
    cart = await cart_with(shop, w, quantity, token=token)
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=token)
    assert started["order"]["status"] == "PENDING_PAYMENT"
    assert started["order"]["stockState"] == "RESERVED"
    return Purchase(started["order"], started["payment"]["paymentIntentId"], token, cart["id"])


async def order_of(shop: GraphQLClient, p: Purchase) -> dict[str, Any]:
    order: dict[str, Any] = (await shop.data(ORDER, {"id": p.gid}, token=p.token))["order"]
    return order


def ledger(order: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(e["kind"], e["amount"]["minorUnits"], e["reference"]) for e in order["paymentEvents"]]


async def stock_of(shop: GraphQLClient, w: World) -> int:
    product = (await shop.data(STOCK, {"p": w.product["id"]}, anonymous=True))["product"]
    return int(product["variants"][0]["stock"])


async def intent_at_stripe(base: str, intent_id: str) -> dict[str, Any]:
    """The PaymentIntent as Stripe has it now: what an event about it carries."""
    intent = await stripe_client(base).v1.payment_intents.retrieve_async(intent_id)
    return intent.to_dict()


def charge_id(intent: dict[str, Any]) -> str:
    charge = intent["latest_charge"]
    return str(charge["id"] if isinstance(charge, dict) else charge)


async def post(shop: GraphQLClient, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await shop.http.post("/webhooks/stripe", content=payload, headers=headers)


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex[:24]}"


async def deliver(shop: GraphQLClient, kind: str, obj: dict[str, Any], event_id: str | None = None) -> str:
    """Post a genuine, freshly signed event; it must be accepted with 200. Returns its id."""
    event_id = event_id or new_event_id()
    payload = event_payload(kind, obj, event_id=event_id)
    response = await post(shop, payload, sign_event(payload))
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True}
    return event_id


async def deliver_intent(
    shop: GraphQLClient, base: str, kind: str, p: Purchase, event_id: str | None = None
) -> str:
    return await deliver(shop, kind, await intent_at_stripe(base, p.intent_id), event_id)


async def stripe_event_count(event_id: str | None = None) -> int:
    query = StripeEvent.all() if event_id is None else StripeEvent.filter(id=event_id)
    return await query.count()


def shop_payments(shop_settings: Settings) -> Payments:
    payments = payments_from_settings(
        shop_settings.stripe_api_key, shop_settings.stripe_webhook_secret, shop_settings.stripe_api_base
    )
    assert payments is not None
    return payments


async def reserved_until(p: Purchase) -> datetime:
    return (await Order.get(id=p.pk)).reserved_until


# --- signatures ----------------------------------------------------------------------------------


def _bad_signature(case: str, payload: bytes) -> str | None:
    if case == "forged":
        return sign_event(payload, secret="whsec_somebody_else")
    if case == "tampered":
        # A genuine signature, but over another body (a harmless event), replayed onto this one.
        other = event_payload("customer.created", {"id": "cus_1", "object": "customer"})
        return sign_event(other)
    if case == "missing":
        return None
    if case == "stale":
        return sign_event(payload, timestamp=int(time.time()) - 301)
    if case == "garbage":
        return "t=yesterday,v1=deadbeef"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["forged", "tampered", "missing", "stale", "garbage"])
async def test_bad_signature_is_refused_and_changes_nothing(
    shop: GraphQLClient, stripe_base: str, case: str
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    # The payment really went through, so an accepted event would mark the order PAID.
    assert await pay(stripe_base, p.intent_id) == "succeeded"
    event_id = new_event_id()
    payload = event_payload(
        "payment_intent.succeeded", await intent_at_stripe(stripe_base, p.intent_id), event_id=event_id
    )

    response = await post(shop, payload, _bad_signature(case, payload))

    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid signature"}
    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["paid"]["minorUnits"]) == (
        "PENDING_PAYMENT",
        "RESERVED",
        0,
    )
    assert ledger(order) == [("PAYMENT_INTENT_CREATED", 2 * PRICE, p.intent_id)]
    assert await stock_of(shop, w) == 8
    assert await stripe_event_count() == 0
    assert await ledger_mismatches() == []

    # The refused delivery was not remembered as seen: Stripe's genuine retry of it still counts.
    await deliver(
        shop, "payment_intent.succeeded", await intent_at_stripe(stripe_base, p.intent_id), event_id
    )
    assert (await order_of(shop, p))["status"] == "PAID"
    assert await ledger_mismatches() == []


async def test_signature_within_tolerance_is_accepted(shop: GraphQLClient, stripe_base: str) -> None:
    """Stripe's tolerance is 300 s: a delivery signed 250 s ago (a slow retry) still counts."""
    w = await world(shop)
    p = await buy(shop, w)
    assert await pay(stripe_base, p.intent_id) == "succeeded"
    payload = event_payload("payment_intent.succeeded", await intent_at_stripe(stripe_base, p.intent_id))
    response = await post(shop, payload, sign_event(payload, timestamp=int(time.time()) - 250))
    assert response.status_code == 200, response.text
    assert (await order_of(shop, p))["status"] == "PAID"
    assert await ledger_mismatches() == []


async def test_webhook_without_payments_configured_is_503(client: GraphQLClient) -> None:
    payload = event_payload("payment_intent.succeeded", {"id": "pi_unknown_1", "object": "payment_intent"})
    response = await client.http.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign_event(payload)},
    )
    assert response.status_code == 503
    assert response.json() == {"error": "payments are not configured"}
    assert await stripe_event_count() == 0


async def test_webhook_without_webhook_secret_is_503(db: str, shop_settings: Settings) -> None:
    settings = shop_settings.model_copy(update={"stripe_webhook_secret": None})
    app = create_app(settings, manage_database=False)
    payload = event_payload("payment_intent.succeeded", {"id": "pi_unknown_2", "object": "payment_intent"})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.post(
            "/webhooks/stripe", content=payload, headers={"Stripe-Signature": sign_event(payload)}
        )
    assert response.status_code == 503
    assert await stripe_event_count() == 0


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


# --- events that are not ours --------------------------------------------------------------------


async def _snapshot(shop: GraphQLClient, w: World, p: Purchase) -> tuple[Any, ...]:
    order = await order_of(shop, p)
    return (
        order["status"],
        order["stockState"],
        order["paid"]["minorUnits"],
        order["refunded"]["minorUnits"],
        ledger(order),
        await stock_of(shop, w),
        await PaymentEvent.all().count(),
    )


def _foreign_events(p: Purchase, attempt_id: int) -> list[tuple[str, dict[str, Any]]]:
    unknown = f"pi_unknown{uuid.uuid4().hex[:12]}"
    intent = {
        "id": unknown,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": PRICE,
        "amount_received": PRICE,
        "currency": "cny",
        "metadata": {},
    }
    return [
        ("payment_intent.succeeded", intent),
        ("payment_intent.payment_failed", {**intent, "status": "requires_payment_method"}),
        ("payment_intent.canceled", {**intent, "status": "canceled"}),
        # Someone else's intent whose metadata names our order and attempt: still not ours.
        (
            "payment_intent.succeeded",
            {**intent, "metadata": {"order_id": str(p.pk), "attempt_id": str(attempt_id)}},
        ),
        ("customer.created", {"id": "cus_123", "object": "customer", "email": "a@example.com"}),
        ("invoice.paid", {"id": "in_123", "object": "invoice", "payment_intent": p.intent_id}),
        (
            "charge.refunded",
            {
                "id": "ch_unknown",
                "object": "charge",
                "payment_intent": unknown,
                "amount_refunded": 500,
                "refunds": {"data": [{"id": "re_unknown", "amount": 500, "metadata": {}}]},
            },
        ),
        (
            "charge.refunded",
            {
                "id": "ch_nopi",
                "object": "charge",
                "payment_intent": None,
                "amount_refunded": 500,
                "refunds": {"data": [{"id": "re_nopi", "amount": 500, "metadata": {}}]},
            },
        ),
    ]


async def test_events_about_other_objects_change_nothing(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id) == "succeeded"  # ours is paid, but no event says so
    attempt = await PaymentAttempt.get(payment_intent_id=p.intent_id)
    before = await _snapshot(shop, w, p)
    assert before[:3] == ("PENDING_PAYMENT", "RESERVED", 0)

    events = _foreign_events(p, attempt.id)
    for kind, obj in events:
        await deliver(shop, kind, obj)
        assert await _snapshot(shop, w, p) == before, kind

    assert await stripe_event_count() == len(events)
    assert await ledger_mismatches() == []


# --- charge.refunded -----------------------------------------------------------------------------


async def _paid(shop: GraphQLClient, stripe_base: str, w: World, quantity: int = 1) -> Purchase:
    p = await buy(shop, w, quantity)
    assert await pay(stripe_base, p.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert (await order_of(shop, p))["status"] == "PAID"
    return p


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
    p = await _paid(shop, stripe_base, w)
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
    p = await _paid(shop, stripe_base, w)
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
    p = await _paid(shop, stripe_base, w)
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


# --- the reservation sweeper ---------------------------------------------------------------------


async def test_sweeper_cancels_expired_orders(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await stock_of(shop, w) == 8
    until = await reserved_until(p)

    report = await sweep_expired(shop_payments(shop_settings), now=until + timedelta(seconds=1))

    assert (report.expired, report.paid, report.skipped) == (1, 0, 0)
    order = await order_of(shop, p)
    assert (order["status"], order["cancelReason"], order["stockState"]) == (
        "CANCELLED",
        "RESERVATION_EXPIRED",
        "RELEASED",
    )
    assert await stock_of(shop, w) == 10
    assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "canceled"
    # Stripe tells us about the cancellation afterwards: nothing more happens.
    await deliver_intent(shop, stripe_base, "payment_intent.canceled", p)
    again = await order_of(shop, p)
    assert (again["status"], again["stockState"], ledger(again)) == ("CANCELLED", "RELEASED", ledger(order))
    assert await stock_of(shop, w) == 10
    # A second sweep finds nothing.
    report = await sweep_expired(shop_payments(shop_settings), now=until + timedelta(hours=1))
    assert (report.expired, report.paid, report.skipped) == (0, 0, 0)
    assert await ledger_mismatches() == []


async def test_sweeper_does_not_restock_twice_after_a_decline(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id, DECLINED) == "requires_payment_method"
    await deliver_intent(shop, stripe_base, "payment_intent.payment_failed", p)
    assert await stock_of(shop, w) == 10

    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(p) + timedelta(seconds=1)
    )

    assert report.expired == 1
    order = await order_of(shop, p)
    assert (order["status"], order["cancelReason"], order["stockState"]) == (
        "CANCELLED",
        "RESERVATION_EXPIRED",
        "RELEASED",
    )
    assert await stock_of(shop, w) == 10
    assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "canceled"
    assert await ledger_mismatches() == []


async def test_sweeper_settles_an_intent_that_already_succeeded(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    p = await buy(shop, w, 2)
    assert await pay(stripe_base, p.intent_id) == "succeeded"  # the webhook has not come yet

    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(p) + timedelta(seconds=1)
    )

    assert (report.expired, report.paid, report.skipped) == (0, 1, 0)
    order = await order_of(shop, p)
    assert (order["status"], order["stockState"], order["cancelReason"]) == ("PAID", "SOLD", None)
    assert order["paid"]["minorUnits"] == 2 * PRICE
    assert await stock_of(shop, w) == 8
    assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "succeeded"
    # The webhook, when it comes, adds nothing.
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", p)
    assert ledger(await order_of(shop, p)) == ledger(order)
    assert await PaymentEvent.filter(order_id=p.pk, kind="PAYMENT_SUCCEEDED").count() == 1
    assert await ledger_mismatches() == []


async def test_sweeper_leaves_unexpired_orders_alone(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    early = await buy(shop, w, 1)
    late = await buy(shop, w, 2, buyer=await sign_up(shop, f"late{uuid.uuid4().hex[:6]}"))
    await Order.filter(id=late.pk).update(reserved_until=(await reserved_until(early)) + timedelta(hours=1))
    assert await stock_of(shop, w) == 7

    # Just before anything expires: nothing happens, not even at Stripe.
    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(early) - timedelta(seconds=1)
    )
    assert (report.expired, report.paid, report.skipped) == (0, 0, 0)
    for p in (early, late):
        order = await order_of(shop, p)
        assert (order["status"], order["stockState"], order["cancelReason"]) == (
            "PENDING_PAYMENT",
            "RESERVED",
            None,
        )
        assert (await intent_at_stripe(stripe_base, p.intent_id))["status"] == "requires_payment_method"
    assert await stock_of(shop, w) == 7

    # Once the first has expired: only it goes.
    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(early) + timedelta(seconds=1)
    )
    assert (report.expired, report.paid, report.skipped) == (1, 0, 0)
    assert (await order_of(shop, early))["status"] == "CANCELLED"
    kept = await order_of(shop, late)
    assert (kept["status"], kept["stockState"]) == ("PENDING_PAYMENT", "RESERVED")
    assert (await intent_at_stripe(stripe_base, late.intent_id))["status"] == "requires_payment_method"
    assert await stock_of(shop, w) == 8
    # The one left can still be paid.
    assert await pay(stripe_base, late.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", late)
    assert (await order_of(shop, late))["status"] == "PAID"
    assert await stock_of(shop, w) == 8
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


# --- social commerce: note sales and verified purchases ------------------------------------------


async def _sales(shop: GraphQLClient, w: World, **kw: Any) -> Any:
    return (await shop.data(SALES, {"n": w.note["id"]}, **kw))["note"]["sales"]


async def test_note_sales_count_paid_orders_for_the_author_only(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    assert await _sales(shop, w, token=w.creator["token"]) == {"itemsSold": 0, "orders": 0, "revenue": []}

    paid = await _paid(shop, stripe_base, w, 2)
    other_buyer = await sign_up(shop, f"fan{uuid.uuid4().hex[:6]}")
    paid_too = await buy(shop, w, 1, buyer=other_buyer)
    assert await pay(stripe_base, paid_too.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", paid_too)
    # Not sales: an unpaid order, one cancelled when its reservation expired, one whose card was declined.
    unpaid = await buy(shop, w, 3, buyer=await sign_up(shop, f"slow{uuid.uuid4().hex[:6]}"))
    expired = await buy(shop, w, 1, buyer=await sign_up(shop, f"late{uuid.uuid4().hex[:6]}"))
    await Order.filter(id=expired.pk).update(reserved_until=await reserved_until(unpaid) - timedelta(hours=1))
    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(unpaid) - timedelta(minutes=30)
    )
    assert report.expired == 1
    assert (await order_of(shop, expired))["status"] == "CANCELLED"
    w_declined = await buy(shop, w, 1, buyer=await sign_up(shop, f"card{uuid.uuid4().hex[:6]}"))
    assert await pay(stripe_base, w_declined.intent_id, DECLINED) == "requires_payment_method"
    await deliver_intent(shop, stripe_base, "payment_intent.payment_failed", w_declined)

    expected = {
        "itemsSold": 3,
        "orders": 2,
        "revenue": [{"amount": "387.00", "minorUnits": 3 * PRICE, "currency": "CNY"}],
    }
    assert await _sales(shop, w, token=w.creator["token"]) == expected
    assert await _sales(shop, w, token=w.merchant["token"]) is None
    assert await _sales(shop, w, token=paid.token) is None
    assert await _sales(shop, w, anonymous=True) is None
    assert (await order_of(shop, unpaid))["status"] == "PENDING_PAYMENT"
    assert await ledger_mismatches() == []


async def test_verified_purchase_on_reviews(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    paid = await _paid(shop, stripe_base, w)
    unpaid_buyer = await sign_up(shop, f"slow{uuid.uuid4().hex[:6]}")
    await buy(shop, w, 1, buyer=unpaid_buyer)
    stranger = await sign_up(shop, f"stranger{uuid.uuid4().hex[:6]}")

    review = {"productId": w.product["id"], "rating": 5}
    notes = {
        "buyer": await create_note(shop, paid.token, title="买了，真香", review=review),
        "unpaid": await create_note(
            shop, unpaid_buyer["token"], title="还没付款", review={**review, "rating": 4}
        ),
        "stranger": await create_note(
            shop, stranger["token"], title="没买过", review={**review, "rating": 1}
        ),
    }
    for name, note in notes.items():
        assert note["review"]["product"]["id"] == w.product["id"], name

    # All three in one request, so a batched lookup must keep the reviewers apart.
    query = "query(" + ", ".join(f"${k}: ID!" for k in notes) + ") {"
    query += " ".join(f"{k}: note(id: ${k}) {{ review {{ rating verifiedPurchase }} }}" for k in notes) + " }"
    data = await shop.data(query, {k: n["id"] for k, n in notes.items()}, anonymous=True)
    assert data == {
        "buyer": {"review": {"rating": 5, "verifiedPurchase": True}},
        "unpaid": {"review": {"rating": 4, "verifiedPurchase": False}},
        "stranger": {"review": {"rating": 1, "verifiedPurchase": False}},
    }
    single = (await shop.data(REVIEW, {"n": notes["buyer"]["id"]}, token=stranger["token"]))["note"]
    assert single["review"] == {"rating": 5, "verifiedPurchase": True, "product": {"id": w.product["id"]}}
    assert await ledger_mismatches() == []
