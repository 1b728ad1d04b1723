"""The demo's payments, as `scripts/serve` wires them: the Stripe emulator started as a command
(`python -m demo.stripe_emulator --port … --webhook …`) beside a server given its key and API base, and a
purchase confirmed with a test card straight at the emulator, as the README shows — no browser."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo.stripe_emulator import API_KEY, WEBHOOK_SECRET
from tests.live_server import live_server
from tests.loopback import free_port
from tests.test_subscriptions import gql, sign_up

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
ADDRESS = {
    "name": "李雷",
    "line1": "1 Huaihai Rd",
    "city": "Shanghai",
    "postalCode": "200000",
    "country": "CN",
}


def _start_emulator(port: int, webhook: str) -> subprocess.Popen[bytes]:
    """The emulator as scripts/serve starts it."""
    command = [sys.executable, "-m", "demo.stripe_emulator", "--port", str(port), "--webhook", webhook]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, "the emulator exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the emulator did not start")


async def _purchase(base: str, stripe_base: str) -> dict[str, Any]:
    merchant = await sign_up(base, "shopkeeper")
    product = await gql(
        base,
        "mutation($i: ProductCreateInput!) { productCreate(input: $i) { product { variants { id } } errors { code } } }",
        {
            "i": {
                "title": "口红 Lipstick",
                "variants": [
                    {"sku": "L1", "name": "Red", "priceMinorUnits": 1250, "currency": "USD", "stock": 3}
                ],
            }
        },
        merchant["token"],
    )
    variant = product["productCreate"]["product"]["variants"][0]["id"]
    shopper = await sign_up(base, "shopper")
    cart = await gql(
        base,
        "mutation($v: ID!) { cartCreate(input: {lines: [{variantId: $v, quantity: 1}]}) { cart { id } } }",
        {"v": variant},
        shopper["token"],
    )
    started = await gql(
        base,
        """mutation($c: ID!, $a: ShippingAddressInput!, $k: String!) {
          checkoutStart(input: {cartId: $c, shippingAddress: $a, idempotencyKey: $k}) {
            order { id status } payment { paymentIntentId } errors { code } } }""",
        {"c": cart["cartCreate"]["cart"]["id"], "a": ADDRESS, "k": str(uuid.uuid4())},
        shopper["token"],
    )
    assert started["checkoutStart"]["errors"] == [], started
    intent = started["checkoutStart"]["payment"]["paymentIntentId"]
    async with httpx.AsyncClient(base_url=stripe_base, auth=(API_KEY, ""), timeout=10) as stripe:
        (
            await stripe.post(f"/v1/payment_intents/{intent}", data={"payment_method": "pm_card_visa"})
        ).raise_for_status()
        confirmed = (await stripe.post(f"/v1/payment_intents/{intent}/confirm")).json()
    assert confirmed["status"] == "succeeded", confirmed
    order_id = started["checkoutStart"]["order"]["id"]
    for _ in range(50):  # the emulator's webhook settles the order
        order = await gql(
            base, "query($o: ID!) { order(id: $o) { status } }", {"o": order_id}, shopper["token"]
        )
        if order["order"]["status"] != "PENDING_PAYMENT":
            return dict(order["order"])
        await asyncio.sleep(0.2)
    return dict(order["order"])


async def test_a_purchase_completes_against_the_demo_emulator(tmp_path: Path) -> None:
    port = free_port()
    stripe_base = f"http://127.0.0.1:{port}"
    env = {"STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": stripe_base, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with live_server(f"sqlite://{tmp_path / 'demo.sqlite3'}", env=env) as base:
        emulator = _start_emulator(port, f"{base}/webhooks/stripe")
        try:
            _wait_for(port, emulator)
            order = await _purchase(base, stripe_base)
        finally:
            emulator.terminate()
            emulator.wait(10)

    assert order == {"status": "PAID"}
