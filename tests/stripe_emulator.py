"""localstripe, the stateful Stripe emulator, on 127.0.0.1 in its own process, for payment tests.

The emulator itself (loopback, state in memory, declined cards retried as Stripe allows) is
demo/stripe_emulator.py, which the demo server runs too; here it gets a port the test chose.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import stripe

from demo.stripe_emulator import API_KEY, WEBHOOK_SECRET
from tests.loopback import serve_on_loopback

# Runs in the child: the emulator (demo/stripe_emulator.py), served on the socket inherited from the test.
EMULATOR = """
import socket, sys
from demo.stripe_emulator import serve

serve(socket.socket(fileno=int(sys.argv[1])))
"""

# Stripe's test payment methods: a card that pays, and one whose charge is declined.
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeCustomerFail"


@contextmanager
def stripe_emulator() -> Iterator[str]:
    """Base URL of a fresh localstripe on 127.0.0.1."""
    with serve_on_loopback(
        "localstripe",
        EMULATOR,
        [],
        # Any authenticated answer means the emulator is serving.
        lambda base: httpx.get(f"{base}/v1/balance", auth=(API_KEY, ""), timeout=1).status_code < 500,
        timeout=20,
    ) as base:
        yield base


def register_webhook(base: str, *, url: str, secret: str, name: str = "vermilion") -> None:
    """Ask the emulator to deliver its signed events to `url`."""
    response = httpx.post(
        f"{base}/_config/webhooks/{name}",
        data={"url": url, "secret": secret},
        auth=(API_KEY, ""),
        timeout=5,
    )
    response.raise_for_status()


def sign_event(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header for `payload`, made the way Stripe makes it, for events the
    emulator never sends (charge.refunded, replays, reordering)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def stripe_client(base: str) -> stripe.StripeClient:
    """The SDK as a shopper's browser would use it (Stripe.js), pointed at the emulator."""
    return stripe.StripeClient(API_KEY, base_addresses={"api": base}, http_client=stripe.HTTPXClient())


async def pay(base: str, intent_id: str, card: str = VISA) -> str:
    """Confirm a PaymentIntent with a test card, as Stripe.js would; the intent's status afterwards.

    The emulator wants the payment method set first and `confirm` called without one."""
    client = stripe_client(base)
    await client.v1.payment_intents.update_async(intent_id, {"payment_method": card})
    try:
        intent = await client.v1.payment_intents.confirm_async(intent_id)
    except stripe.CardError:
        intent = await client.v1.payment_intents.retrieve_async(intent_id)
    return str(intent["status"])
