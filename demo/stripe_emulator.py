"""Stripe for the demo server and the tests: localstripe (Stripe's API, emulated) on 127.0.0.1.

Upstream's `localstripe` command binds every interface and keeps its state in a pickle file shared by
every run on the machine; here it is bound to loopback and keeps its state in memory (from scratch each
start). `scripts/serve` runs it next to the demo server so that a purchase can be tried end to end:

    python -m demo.stripe_emulator --port 8420 --webhook http://127.0.0.1:8000/webhooks/stripe

Stripe lets the shopper's browser try another card on a PaymentIntent whose card was declined;
localstripe answers that second confirm with 400 because the failed charge stays the intent's latest
charge. Here a new payment method on such an intent forgets the failed charge, as Stripe does.
"""

from __future__ import annotations

import argparse
import logging
import socket
from typing import Any

# The key and webhook secret the demo server is given (test-mode values: they open nothing real).
API_KEY = "sk_test_vermilion_localstripe"
WEBHOOK_SECRET = "whsec_vermilion_test_secret"


def _prepare() -> Any:
    """localstripe's aiohttp app, patched as described above."""
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None  # keep state in memory only
    plain_update = resources.PaymentIntent._api_update.__func__

    def update_after_decline(cls: Any, id: str, **data: Any) -> Any:
        intent = cls._api_retrieve(id)
        charge = intent.latest_charge
        if "payment_method" in data and charge is not None and charge.status == "failed":
            intent.latest_charge = None
        return plain_update(cls, id, **data)

    resources.PaymentIntent._api_update = classmethod(update_after_decline)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return server.app


def serve(sock: socket.socket, *, webhook: str | None = None, secret: str = WEBHOOK_SECRET) -> None:
    """Serve the emulator on `sock` until stopped; with `webhook`, deliver its signed events there."""
    from aiohttp import web
    from localstripe.webhooks import register_webhook

    app = _prepare()
    if webhook:
        register_webhook("vermilion", webhook, secret, None)
    web.run_app(app, sock=sock, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(description="localstripe on 127.0.0.1, state in memory.")
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--webhook", help="URL its signed events are delivered to (the server's webhook)")
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    print(f"Stripe emulator (localstripe) on http://127.0.0.1:{args.port}, key {API_KEY}", flush=True)
    serve(sock, webhook=args.webhook)


if __name__ == "__main__":
    main()
