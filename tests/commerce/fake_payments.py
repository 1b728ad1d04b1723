"""An in-memory payments door for rule tests: PaymentIntents whose fate the test decides.

It keeps the promises of `commerce.payments.Payments` that the rules lean on: one intent per
idempotency key, cancelling never un-succeeds an intent, refunds never exceed what was received, and
no call inside a database transaction. The test plays the shopper's browser and Stripe's dashboard with
`succeed`, `decline`, `process`, `forget`, `refund_outside`, and builds webhook events with `event`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from typing import Any

import orjson

from commerce.payments import (
    IntentState,
    IntentStatus,
    InvalidWebhook,
    PaymentProviderError,
    RefundResult,
    StripeRefundStatus,
    refuse_inside_transaction,
)

WEBHOOK_SECRET = "whsec_fake"


class FakePayments:
    """`Payments` held in dictionaries. Intents are kept in Stripe's wire shape and read back through
    `IntentState.of`, as the real door does."""

    def __init__(self, *, webhook_secret: str | None = WEBHOOK_SECRET):
        self.webhook_secret = webhook_secret
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, list[RefundResult]] = {}
        self.calls: list[str] = []  # the door's methods in the order they were called
        # While True every call fails as a network error would (retryable).
        self.unreachable = False
        self._intent_by_key: dict[str, str] = {}
        self._refund_by_key: dict[str, RefundResult] = {}
        self._ids = itertools.count(1)

    # --- the door -------------------------------------------------------------------------------

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> IntentState:
        self._enter("create_intent")
        if idempotency_key not in self._intent_by_key:
            intent_id = f"pi_fake_{next(self._ids)}"
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "status": IntentStatus.REQUIRES_PAYMENT_METHOD.value,
                "amount": amount,
                "amount_received": 0,
                "currency": currency.lower(),
                "client_secret": f"{intent_id}_secret_fake",
                "metadata": dict(metadata),
                "last_payment_error": None,
                "latest_charge": None,
            }
            self._intent_by_key[idempotency_key] = intent_id
        return self._state(self._intent_by_key[idempotency_key])

    async def get_intent(self, intent_id: str) -> IntentState:
        self._enter("get_intent")
        return self._state(intent_id)

    async def cancel_intent(self, intent_id: str) -> IntentState:
        self._enter("cancel_intent")
        intent = self._intent(intent_id)
        # Stripe refuses to cancel an intent that succeeded or is processing; the door then answers
        # with the intent as it is.
        if intent["status"] not in (IntentStatus.SUCCEEDED, IntentStatus.PROCESSING, IntentStatus.CANCELED):
            intent["status"] = IntentStatus.CANCELED.value
        return self._state(intent_id)

    async def refund(
        self, *, intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundResult:
        self._enter("refund")
        if idempotency_key in self._refund_by_key:
            return self._refund_by_key[idempotency_key]
        intent = self._intent(intent_id)
        if intent["status"] != IntentStatus.SUCCEEDED:
            raise PaymentProviderError("This PaymentIntent has no successful charge.", retryable=False)
        if amount > intent["amount_received"] - self.refunded(intent_id):
            raise PaymentProviderError("The refund exceeds the charge.", retryable=False)
        result = self._add_refund(intent_id, amount, dict(metadata))
        self._refund_by_key[idempotency_key] = result
        return result

    async def list_refunds(self, intent_id: str) -> list[RefundResult]:
        self._enter("list_refunds")
        return list(self.refunds.get(intent_id, []))

    def parse_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        if not self.webhook_secret:
            raise InvalidWebhook("no webhook secret is configured")
        if signature is None or not hmac.compare_digest(signature, self.sign(payload)):
            raise InvalidWebhook("bad signature")
        event = orjson.loads(payload)
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise InvalidWebhook("not an event")
        return event

    # --- the shopper, the dashboard and Stripe's deliveries, as a test drives them -----------------

    def succeed(self, intent_id: str, *, amount_received: int | None = None) -> None:
        """The shopper's card went through (for `amount_received`, the whole amount by default)."""
        intent = self._intent(intent_id)
        intent.update(
            status=IntentStatus.SUCCEEDED.value,
            amount_received=intent["amount"] if amount_received is None else amount_received,
            last_payment_error=None,
            latest_charge=f"ch_fake_{next(self._ids)}",
        )

    def decline(self, intent_id: str, message: str = "Your card was declined.") -> None:
        """The shopper's card was declined; the intent waits for another."""
        self._intent(intent_id).update(
            status=IntentStatus.REQUIRES_PAYMENT_METHOD.value,
            last_payment_error={"message": message},
            latest_charge=f"ch_fake_{next(self._ids)}",
        )

    def process(self, intent_id: str) -> None:
        """The payment is under way (a bank transfer, a slow card network): its outcome is unknown."""
        self._intent(intent_id)["status"] = IntentStatus.PROCESSING.value

    def set_status(self, intent_id: str, status: str) -> None:
        """Any status at all, including ones Stripe may add in future."""
        self._intent(intent_id)["status"] = status

    def forget(self, intent_id: str) -> None:
        """Stripe no longer knows the intent (another account's key, a purged test mode): every call
        about it fails as "No such PaymentIntent"."""
        del self.intents[self._intent(intent_id)["id"]]

    def refund_outside(self, intent_id: str, amount: int) -> RefundResult:
        """A refund made in Stripe's dashboard, unknown to Vermilion until `charge.refunded`."""
        return self._add_refund(intent_id, amount, {})

    def refunded(self, intent_id: str) -> int:
        return sum(r.amount for r in self.refunds.get(intent_id, []))

    def wire(self, intent_id: str) -> dict[str, Any]:
        """The intent as Stripe would put it in an event."""
        return dict(self._intent(intent_id))

    def event(self, kind: str, intent_id: str, *, event_id: str | None = None) -> dict[str, Any]:
        """A verified event of `kind` about the intent: a PaymentIntent event carries the intent,
        `charge.refunded` its charge."""
        intent = self._intent(intent_id)
        obj = (
            {"id": intent["latest_charge"] or "ch_none", "object": "charge", "payment_intent": intent_id}
            if kind.startswith("charge.")
            else self.wire(intent_id)
        )
        return {
            "id": event_id or f"evt_fake_{next(self._ids)}",
            "object": "event",
            "type": kind,
            "data": {"object": obj},
        }

    def sign(self, payload: bytes) -> str:
        """The signature header `parse_webhook` accepts for this payload."""
        assert self.webhook_secret is not None
        return hmac.new(self.webhook_secret.encode(), payload, hashlib.sha256).hexdigest()

    # --- inside -----------------------------------------------------------------------------------

    def _enter(self, method: str) -> None:
        # The same rule the Stripe door enforces: a slow network call must never hold row locks.
        refuse_inside_transaction()
        self.calls.append(method)
        if self.unreachable:
            raise PaymentProviderError("The payment provider could not be reached; try again shortly.")

    def _intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.intents:
            raise PaymentProviderError(f"No such PaymentIntent: {intent_id}", retryable=False)
        return self.intents[intent_id]

    def _state(self, intent_id: str) -> IntentState:
        return IntentState.of(self._intent(intent_id))

    def _add_refund(self, intent_id: str, amount: int, metadata: dict[str, str]) -> RefundResult:
        result = RefundResult(
            id=f"re_fake_{next(self._ids)}",
            status=StripeRefundStatus.SUCCEEDED,
            amount=amount,
            metadata=metadata,
        )
        self.refunds.setdefault(intent_id, []).append(result)
        return result
