"""Which deliveries to `POST /webhooks/stripe` count: signatures, tolerance, missing configuration, and events
about objects that are not ours (they change nothing)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from api.app import create_app
from commerce.ledger import ledger_mismatches
from core.settings import Settings
from models import PaymentAttempt, PaymentEvent
from tests.conftest import GraphQLClient
from tests.shop import (
    PRICE,
    World,
    stock_of,
    world,
)
from tests.stripe_emulator import event_payload, pay, sign_event
from tests.webhooks import (
    Purchase,
    buy,
    deliver,
    intent_at_stripe,
    ledger,
    new_event_id,
    order_of,
    post,
    stripe_event_count,
)

pytestmark = pytest.mark.timeout(120)


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
