"""The payments door: what the rules need from a payment provider (`Payments`), and Stripe's door
(`StripePayments`: PaymentIntents, refunds and webhook signatures, through the official SDK).

Nothing else in Vermilion imports `stripe`; the app is handed one door at its bootstrap
(`create_app(settings, payments=…)`), so tests can hand it an in-memory one. Callers never hold a
transaction or a row lock while a door's method runs (COMMERCE.md): every call is a network round trip
that may take seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import orjson
import stripe
from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from core.errors import DomainError, ErrorCode

log = logging.getLogger(__name__)
WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentProviderError(DomainError):
    """Stripe refused a request or could not be reached; the operation may be retried."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(ErrorCode.PAYMENT_PROVIDER_ERROR, message)
        self.retryable = retryable


class InvalidWebhook(Exception):
    """The payload is not a genuine, fresh Stripe event for our endpoint secret."""


class IntentStatus(StrEnum):
    """Stripe's PaymentIntent statuses. A status Stripe adds later reads as UNKNOWN: not settled, so
    nothing moves until Stripe reports one of these (the sweeper and cancels wait, as for PROCESSING)."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"  # new, or the last card was declined
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"  # e.g. 3-D Secure
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    CANCELED = "canceled"
    SUCCEEDED = "succeeded"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> IntentStatus:
        log.warning("unknown PaymentIntent status %r", value)
        return cls.UNKNOWN


class StripeRefundStatus(StrEnum):
    """Stripe's refund statuses; one it adds later reads as UNKNOWN."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> StripeRefundStatus:
        log.warning("unknown refund status %r", value)
        return cls.UNKNOWN


@dataclass(frozen=True)
class IntentState:
    """What Vermilion needs to know about a PaymentIntent."""

    id: str
    status: IntentStatus
    amount: int
    amount_received: int
    currency: str  # upper-case ISO code
    client_secret: str | None
    metadata: dict[str, str]
    failure_message: str | None = None
    latest_charge: str | None = None

    @classmethod
    def of(cls, obj: Any) -> IntentState:
        data = obj if isinstance(obj, dict) else obj.to_dict()
        error = data.get("last_payment_error") or {}
        status = IntentStatus(str(data.get("status")))
        return cls(
            id=str(data["id"]),
            status=status,
            amount=int(data.get("amount") or 0),
            # Older API versions (localstripe's) omit amount_received; a succeeded intent received it all.
            amount_received=int(
                data.get("amount_received")
                or (data.get("amount") if status == IntentStatus.SUCCEEDED else 0)
                or 0
            ),
            currency=str(data.get("currency") or "").upper(),
            client_secret=data.get("client_secret"),
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
            failure_message=error.get("message") if isinstance(error, dict) else None,
            latest_charge=_object_id(data.get("latest_charge")),
        )

    @property
    def declined(self) -> bool:
        """The last card was declined (the intent waits for another, or was cancelled after it)."""
        return (
            self.status in (IntentStatus.REQUIRES_PAYMENT_METHOD, IntentStatus.CANCELED)
            and self.failure_message is not None
        )


def _object_id(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("id")) if value.get("id") else None
    return str(value) if value else None


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: StripeRefundStatus
    amount: int
    metadata: dict[str, str] | None = None


class Payments(Protocol):
    """The door the rules pay through. One instance per app, shared by every request; no method may be
    called inside a database transaction."""

    # The endpoint secret webhook deliveries are signed with; None when webhooks are not configured.
    webhook_secret: str | None

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> IntentState:
        """A new PaymentIntent; the same idempotency key gives the same intent."""
        ...

    async def get_intent(self, intent_id: str) -> IntentState:
        """The intent as the provider sees it now."""
        ...

    async def cancel_intent(self, intent_id: str) -> IntentState:
        """Cancel so that the intent can never succeed; an intent past cancelling is returned as it is."""
        ...

    async def refund(
        self, *, intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundResult:
        """Refund part or all of a succeeded intent; the same idempotency key is the same refund."""
        ...

    async def list_refunds(self, intent_id: str) -> list[RefundResult]:
        """Every refund of the intent, wherever it was made."""
        ...

    def parse_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event as a plain dict, after checking its signature; `InvalidWebhook` otherwise."""
        ...


@dataclass(frozen=True)
class TransferResult:
    """A Stripe Connect transfer from the platform's balance to a connected account."""

    id: str
    amount: int
    currency: str  # upper-case ISO code
    destination: str


class Transfers(Protocol):
    """The door creators' payouts are sent through (Stripe Connect). Apart from `Payments`: checkout never
    needs it, and a platform without Connect has none. Never called inside a database transaction."""

    async def transfer(
        self, *, amount: int, currency: str, destination: str, metadata: dict[str, str], idempotency_key: str
    ) -> TransferResult:
        """Send `amount` to the connected account `destination`; the same idempotency key is the same
        transfer (Stripe keeps keys for 24 hours)."""
        ...


class StripePayments:
    """`Payments` (and `Transfers`) through `stripe.StripeClient`."""

    def __init__(self, api_key: str, *, webhook_secret: str | None = None, api_base: str | None = None):
        base = {"api": api_base.rstrip("/")} if api_base else None
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=base,  # type: ignore[arg-type]
            http_client=stripe.HTTPXClient(),
            max_network_retries=2,
        )
        self.webhook_secret = webhook_secret

    async def create_intent(
        self, *, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> IntentState:
        return IntentState.of(
            await self._call(
                "create a payment",
                self._client.v1.payment_intents.create_async(
                    {
                        "amount": amount,
                        "currency": currency.lower(),
                        # No payment_method_types: Stripe then offers what the account enables
                        # (cards at least), and the emulator accepts the request as it is.
                        "metadata": metadata,
                    },
                    {"idempotency_key": idempotency_key},
                ),
            )
        )

    async def get_intent(self, intent_id: str) -> IntentState:
        return IntentState.of(
            await self._call("read the payment", self._client.v1.payment_intents.retrieve_async(intent_id))
        )

    async def cancel_intent(self, intent_id: str) -> IntentState:
        """Cancel so that the intent can never succeed; an intent past cancelling is returned as it is."""
        refuse_inside_transaction()
        try:
            return IntentState.of(await self._client.v1.payment_intents.cancel_async(intent_id))
        except stripe.InvalidRequestError:
            return await self.get_intent(intent_id)  # already succeeded, processing or cancelled
        except stripe.StripeError as exc:
            raise _provider_error("cancel the payment", exc) from exc

    async def refund(
        self, *, intent_id: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> RefundResult:
        refund = await self._call(
            "refund",
            self._client.v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            ),
        )
        return RefundResult(
            id=str(refund["id"]),
            status=StripeRefundStatus(str(refund["status"])),
            amount=int(refund["amount"]),
        )

    async def list_refunds(self, intent_id: str) -> list[RefundResult]:
        """Every refund of a PaymentIntent, wherever it was made (Vermilion or the Stripe dashboard)."""
        page = await self._call(
            "list refunds", self._client.v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
        )
        refunds = [r.to_dict() for r in page["data"]]
        return [
            RefundResult(
                id=str(r["id"]),
                status=StripeRefundStatus(str(r["status"])),
                amount=int(r["amount"]),
                metadata={str(k): str(v) for k, v in (r.get("metadata") or {}).items()},
            )
            for r in refunds
        ]

    async def transfer(
        self, *, amount: int, currency: str, destination: str, metadata: dict[str, str], idempotency_key: str
    ) -> TransferResult:
        """A Connect transfer (POST /v1/transfers). Not tried against localstripe, which has no Connect."""
        transfer = await self._call(
            "send the payout",
            self._client.v1.transfers.create_async(
                {
                    "amount": amount,
                    "currency": currency.lower(),
                    "destination": destination,
                    "metadata": metadata,
                },
                {"idempotency_key": idempotency_key},
            ),
        )
        return TransferResult(
            id=str(transfer["id"]),
            amount=int(transfer["amount"]),
            currency=str(transfer["currency"]).upper(),
            destination=_object_id(transfer["destination"]) or destination,
        )

    def parse_webhook(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event as a plain dict, after checking its signature and age against the endpoint secret."""
        if not self.webhook_secret:
            raise InvalidWebhook("no webhook secret is configured")
        try:
            self._client.construct_event(
                payload, signature, self.webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
            event = orjson.loads(payload)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidWebhook(str(exc)) from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise InvalidWebhook("not an event")
        return event

    async def _call(self, what: str, request: Any) -> Any:
        try:
            refuse_inside_transaction()
        except RuntimeError:
            request.close()  # the coroutine never ran; close it so nothing warns about it
            raise
        try:
            return await request
        except stripe.StripeError as exc:
            raise _provider_error(what, exc) from exc


def refuse_inside_transaction() -> None:
    """A Stripe round trip inside a transaction would hold its row locks for seconds (COMMERCE.md):
    a programming error, so it fails loudly everywhere, tests included."""
    if isinstance(connections.get("default"), TransactionalDBClient):
        raise RuntimeError("Stripe must not be called inside a database transaction")


def _provider_error(what: str, exc: stripe.StripeError) -> PaymentProviderError:
    log.warning("Stripe could not %s: %s (%s)", what, exc.user_message or exc, type(exc).__name__)
    if isinstance(exc, stripe.CardError):
        return PaymentProviderError(exc.user_message or "The card was declined.", retryable=False)
    retryable = isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError)
    return PaymentProviderError(
        f"The payment provider could not {what}; try again shortly.", retryable=retryable
    )


def payments_from_settings(
    api_key: str | None, webhook_secret: str | None, api_base: str | None
) -> Payments | None:
    """The Stripe door, or None when no key is configured (checkout then answers PAYMENTS_NOT_CONFIGURED)."""
    if not api_key:
        return None
    return StripePayments(api_key, webhook_secret=webhook_secret, api_base=api_base)
