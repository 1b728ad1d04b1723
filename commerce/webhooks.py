"""Stripe webhook events: verified, processed once each, safe in any order.

Stripe delivers at least once and in any order, so the PaymentIntent is read back from Stripe before
acting on a `payment_intent.*` event: a late `payment_failed` for a card that was since replaced by
one that succeeded settles the order as paid, not as failed.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from commerce.orders import attempt_for_intent, settle
from commerce.payments import IntentState, IntentStatus, Payments
from commerce.refunds import reflect_charge_refunds
from models import StripeEvent

log = logging.getLogger(__name__)
INTENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.processing",
}


async def handle_event(payments: Payments, event: dict[str, Any]) -> UUID | None:
    """Process one verified event; the order it touched, if any. Raises only when a retry can help
    (Stripe or the database unreachable), so the endpoint answers 5xx and Stripe delivers again."""
    event_id = str(event["id"])
    if await StripeEvent.exists(id=event_id):
        log.info("stripe event %s already processed", event_id)
        return None
    kind = str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    order_id: UUID | None = None
    if kind in INTENT_EVENTS and isinstance(obj, dict) and obj.get("id"):
        order_id = await _intent_event(payments, IntentState.of(obj), event_id)
    elif kind == "charge.refunded" and isinstance(obj, dict):
        order_id = await reflect_charge_refunds(payments, obj, stripe_event_id=event_id)
    else:
        log.info("stripe event %s of type %s ignored", event_id, kind)
    await StripeEvent.bulk_create([StripeEvent(id=event_id, type=kind[:100])], ignore_conflicts=True)
    return order_id


async def _intent_event(payments: Payments, claimed: IntentState, event_id: str) -> UUID | None:
    if await attempt_for_intent(claimed) is None:
        log.info("stripe event %s is about a PaymentIntent that is not ours", event_id)
        return None
    current = await payments.get_intent(claimed.id)
    if (
        current.failure_message is None
        and claimed.failure_message
        and current.status != IntentStatus.SUCCEEDED
    ):
        # Keep the decline reason the event carried when the re-read has none.
        current = IntentState(**{**current.__dict__, "failure_message": claimed.failure_message})
    order = await settle(current, stripe_event_id=event_id)
    return order.id if order else None
