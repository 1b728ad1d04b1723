"""Test fixtures: one database per test session (SQLite, or PostgreSQL when
VERMILION_TEST_DATABASE_URL points at a server), emptied before each test; an in-process client."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from api.app import create_app
from api.db import apply_migrations, empty_all_tables, tortoise_config
from commerce.earnings_check import earnings_mismatches
from commerce.ledger import ledger_mismatches
from core.settings import Settings
from demo import seed_database
from models import User
from search.caches import forget_search_caches
from search.families import families
from tests.databases import drop_postgres_database

TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-000"
# A test likes a note and reads its feed a moment later: the trending pool is read afresh every time
# (tests/feed/test_trending.py keeps it on purpose).
os.environ.setdefault("VERMILION_FEED_TRENDING_SECONDS", "0")
# Tests send many requests from one address within seconds: rate limits and the cost budget are lifted
# for them (tests/test_rate_limits.py and tests/test_query_cost.py set their own).
GENEROUS_LIMITS: dict[str, Any] = {
    "VERMILION_QUERY_COST_BUDGET": 10**9,
    "VERMILION_COST_BUCKET_SIZE": 10**9,
    "VERMILION_COST_RESTORE_RATE": 10**8,
    "VERMILION_COST_RESTORE_RATE_ANONYMOUS": 10**8,
    "VERMILION_WRITE_LIMITS": "1000000/minute",
    "VERMILION_SIGN_IN_LIMITS_PER_EMAIL": "1000000/minute",
    "VERMILION_SIGN_IN_LIMITS_PER_IP": "1000000/minute",
    "VERMILION_SIGN_UP_LIMITS_PER_IP": "1000000/minute",
    "VERMILION_PASSWORD_RESET_LIMITS_PER_EMAIL": "1000000/minute",
    "VERMILION_PASSWORD_RESET_LIMITS_PER_IP": "1000000/minute",
    "VERMILION_MEDIA_UPLOAD_LIMITS_PER_USER": "1000000/minute",
    "VERMILION_REPORT_LIMITS_PER_USER": "1000000/minute",
    "VERMILION_MODERATION_LIMITS_PER_MODERATOR": "1000000/minute",
    "VERMILION_MODERATION_LIMITS_PER_ADMIN": "1000000/minute",
}


def _database_url() -> str:
    base = os.environ.get("VERMILION_TEST_DATABASE_URL", "sqlite://:memory:")
    if base.startswith("postgres"):
        # A fresh database per session, so parallel runs and old leftovers never collide.
        root, _, _ = base.rpartition("/")
        return f"{root}/vermilion_test_{uuid.uuid4().hex[:10]}"
    return base


DATABASE_URL = _database_url()
IS_POSTGRES = DATABASE_URL.startswith("postgres")


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[str]:
    """Initialise Tortoise once per session and build the schema from the migrations."""
    await Tortoise.init(
        config=tortoise_config(DATABASE_URL), _create_db=IS_POSTGRES, _enable_global_fallback=True
    )
    await apply_migrations()
    yield DATABASE_URL
    await Tortoise.close_connections()
    if IS_POSTGRES:
        await drop_postgres_database(DATABASE_URL)


async def forget_search_data() -> None:
    """Search's per-process knowledge of the last database forgotten; the topic families (reference data
    the tables keep) read again here, not by a test's first request."""
    forget_search_caches()
    await families.get()


@pytest.fixture
async def db(database: str) -> AsyncIterator[str]:
    """An empty database for this test (and search's per-process knowledge of the last one forgotten)."""
    await empty_all_tables()
    await forget_search_data()
    yield database


@pytest.fixture
async def demo_user(db: str) -> User:
    """The demo world (`vermilion seed`: 60 people and their notes), and its shopper `demo`, who follows
    several creators and has a history of likes and collects."""
    await seed_database(users=60, progress=False)
    return await User.get(handle="demo")


@pytest.fixture
def settings() -> Settings:
    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=None,
        **GENEROUS_LIMITS,
    )


@pytest.fixture
async def client(db: str, settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app)
    await app.state.recorder.drain()  # deferred feed writes land before the next test empties tables


@pytest.fixture(scope="session")
def stripe_base() -> Iterator[str]:
    """A localstripe emulator on 127.0.0.1 for the whole session (state only grows; tests use new
    PaymentIntents, so they never see each other's)."""
    from tests.stripe_emulator import stripe_emulator

    with stripe_emulator() as base:
        yield base


@pytest.fixture
def shop_settings(stripe_base: str) -> Settings:
    """Settings with payments through the emulator, and no background sweeper (tests sweep explicitly)."""
    from tests.stripe_emulator import API_KEY, WEBHOOK_SECRET

    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=API_KEY,
        STRIPE_API_BASE=stripe_base,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        VERMILION_SWEEP_INTERVAL_SECONDS=0,
        **GENEROUS_LIMITS,
    )


@pytest.fixture
async def shop(db: str, shop_settings: Settings) -> AsyncIterator[GraphQLClient]:
    """A client of an app whose payments go to localstripe."""
    app = create_app(shop_settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app)
    await app.state.recorder.drain()


@pytest.fixture
async def ledger_agrees(db: str) -> AsyncIterator[None]:
    """After the test, each order's paid and refunded amounts agree with its payment ledger, and creators'
    earnings with the orders they were earned on (`pytestmark = pytest.mark.usefixtures("ledger_agrees")`)."""
    yield
    assert await ledger_mismatches() == []
    assert await earnings_mismatches() == []


class GraphQLClient:
    """Posts GraphQL operations the way a frontend does."""

    def __init__(self, http: httpx.AsyncClient, app: Any = None):
        self.http = http
        self.app = app  # the in-process app, when there is one (its state: recorder, snapshots …)
        self.token: str | None = None

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """The whole response body; fails the test on a non-200 answer."""
        headers = {}
        bearer = None if anonymous else (token or self.token)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        """`data` of a response that must have no top-level errors."""
        body = await self.execute(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]
