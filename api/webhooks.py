"""`POST /webhooks/stripe`: Stripe's signed event deliveries.

400 for a bad, missing or stale signature, or a body that is not a JSON event object (nothing changes);
200 for processed, duplicate, ignored and unknown-object events; 503 when payments are not configured or
a retry can succeed (Stripe or the database briefly unreachable), so Stripe delivers again.
"""

from __future__ import annotations

import logging

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from commerce.events import publish_order_status
from commerce.payments import InvalidWebhook, PaymentProviderError, Payments
from commerce.webhooks import handle_event
from social.events import flush_notification_changes, open_notification_outbox

log = logging.getLogger(__name__)


def _is_event_shaped(payload: bytes) -> bool:
    """True for a JSON object whose `data` and `data.object`, when present, are objects too."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(body, dict):
        return False
    data = body.get("data", {})
    return isinstance(data, dict) and isinstance(data.get("object", {}), dict)


async def stripe_webhook(request: Request) -> JSONResponse:
    # The door create_app was given (Stripe's, or a fake in tests): it verifies what it signs.
    payments: Payments | None = request.app.state.payments
    if payments is None or not payments.webhook_secret:
        return JSONResponse({"error": "payments are not configured"}, status_code=503)
    payload = await request.body()  # the raw bytes: the signature covers them exactly
    if not _is_event_shaped(payload):
        # Signed or not, no Stripe event looks like this; the SDK's own parser would fail on it.
        log.warning("rejected a Stripe webhook: the body is not a JSON object with an object `data`")
        return JSONResponse({"error": "the body is not a JSON event object"}, status_code=400)
    try:
        event = payments.parse_webhook(payload, request.headers.get("stripe-signature"))
    except InvalidWebhook as exc:
        log.warning("rejected a Stripe webhook: %s", exc)
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    # An event may notify people (the buyer of a payment or a refund, merchants, creators): their live
    # notifications are told once it is stored, as after a mutation.
    open_notification_outbox()
    try:
        order_id = await handle_event(payments, event)
    except PaymentProviderError as exc:
        log.warning("Stripe event %s deferred: %s", event["id"], exc.message)
        return JSONResponse({"error": "try again later"}, status_code=503)
    await flush_notification_changes(request.app.state.broker)
    if order_id is not None:
        await publish_order_status(request.app.state.broker, order_id)
    return JSONResponse({"received": True})
