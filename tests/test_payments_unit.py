"""Rules of the Stripe door that no API scenario shows directly."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from commerce.payments import IntentState, payments_from_settings
from core.settings import Settings


async def test_stripe_is_never_called_inside_a_transaction(db: str, shop_settings: Settings) -> None:
    payments = payments_from_settings(
        shop_settings.stripe_api_key, shop_settings.stripe_webhook_secret, shop_settings.stripe_api_base
    )
    assert payments is not None
    intent = await payments.create_intent(amount=100, currency="CNY", metadata={}, idempotency_key="unit-1")
    async with in_transaction():
        with pytest.raises(RuntimeError, match="inside a database transaction"):
            await payments.get_intent(intent.id)
        with pytest.raises(RuntimeError, match="inside a database transaction"):
            await payments.cancel_intent(intent.id)
    assert (await payments.get_intent(intent.id)).status == "requires_payment_method"


def test_no_key_means_no_payments() -> None:
    assert payments_from_settings(None, "whsec_x", None) is None
    assert payments_from_settings("", None, None) is None


def test_intent_state_reads_old_and_new_api_shapes() -> None:
    old = IntentState.of({"id": "pi_1", "status": "succeeded", "amount": 990, "currency": "jpy"})
    assert (old.amount_received, old.currency) == (990, "JPY")
    new = IntentState.of(
        {
            "id": "pi_2",
            "status": "requires_payment_method",
            "amount": 500,
            "amount_received": 0,
            "currency": "usd",
            "latest_charge": {"id": "ch_9"},
            "last_payment_error": {"message": "Your card was declined."},
            "metadata": {"order_id": "x"},
        }
    )
    assert new.latest_charge == "ch_9"
    assert new.failure_message == "Your card was declined."
    assert new.metadata == {"order_id": "x"}
