"""Commerce rule tests run against the in-memory payments door: no Stripe, no emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from tests.commerce.fake_payments import FakePayments
from tests.conftest import GraphQLClient


@pytest.fixture
def payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
async def fake_shop(db: str, settings: Settings, payments: FakePayments) -> AsyncIterator[GraphQLClient]:
    """A client of an app bootstrapped with the in-memory door (`create_app(settings, payments=…)`)."""
    assert settings.stripe_api_key is None  # only the door handed in can take payments
    app = create_app(settings, payments=payments, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app)
    await app.state.recorder.drain()
