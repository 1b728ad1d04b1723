"""The ASGI application: routes, middleware and lifespan in one place.

`api.app:app` is built from the environment on first access; `create_app(settings)` builds one
from explicit settings (tests, embedding). The long-lived dependencies are made here, once, and handed
down; `payments=` swaps the Stripe door for another one (an in-memory fake in rule tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from api import sqlcount
from api.db import tortoise_config
from api.graphiql import graphiql_routes
from api.graphql_view import VermilionGraphQL
from api.health import healthz
from api.logs import RequestIdMiddleware, configure_logging
from api.webhooks import stripe_webhook
from commerce.payments import Payments, payments_from_settings
from commerce.reservations import sweep_expired
from core.periodic import run_every
from core.pubsub import create_broker
from core.settings import Settings
from feed.recorder import SignalRecorder
from feed.snapshots import RedisSnapshots, TableSnapshots, sweep_expired_snapshots
from schema import build_schema
from search.documents import load_topic_words
from search.text import segmenter

app: Starlette  # built from the environment on first access, by __getattr__ below


def create_app(
    settings: Settings | None = None, *, payments: Payments | None = None, manage_database: bool = True
) -> Starlette:
    """Build the app. `payments` is the payments door (default: Stripe's from the settings, or none
    without STRIPE_API_KEY). With `manage_database=False` the caller owns Tortoise's connections (tests)."""
    settings = settings or Settings()
    configure_logging(settings)
    segmenter.configure(settings.cache_dir)
    if settings.count_sql:
        sqlcount.install()
    broker = create_broker(settings.redis_url)
    if payments is None:
        payments = payments_from_settings(
            settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base
        )
    snapshots = RedisSnapshots(settings.redis_url) if settings.redis_url else TableSnapshots()
    recorder = SignalRecorder(context=sqlcount.detached_context)
    graphql = VermilionGraphQL(
        build_schema(settings),
        settings=settings,
        broker=broker,
        payments=payments,
        snapshots=snapshots,
        recorder=recorder,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if not manage_database:
                yield
                return
            async with (
                RegisterTortoise(app, config=tortoise_config(settings.database_url)),
                _background(_housekeeping(settings, payments, snapshots), settings),
            ):
                # Queries must cut topic names as indexing did; jieba loads now, not on the first search.
                await load_topic_words()
                await asyncio.to_thread(lambda: segmenter.tokenizer)
                yield
        finally:
            await recorder.drain()
            await broker.close()
            if isinstance(snapshots, RedisSnapshots):
                await snapshots.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
            *graphiql_routes(),
        ],
        # The body cap sits inside RequestIdMiddleware so that a 413 also carries X-Request-ID.
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            ),
            Middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.broker = broker
    app.state.payments = payments
    app.state.recorder = recorder
    app.state.snapshots = snapshots
    return app


def _housekeeping(
    settings: Settings, payments: Payments | None, snapshots: RedisSnapshots | TableSnapshots
) -> Coroutine[Any, Any, None]:
    """Expired stock reservations are released; expired feed sessions leave the table (Redis expires
    its own)."""

    async def reservations() -> None:
        await sweep_expired(payments)

    jobs: list[Callable[[], Awaitable[object]]] = [reservations]
    if isinstance(snapshots, TableSnapshots):
        jobs.append(sweep_expired_snapshots)
    return run_every(settings.sweep_interval_seconds, *jobs)


@asynccontextmanager
async def _background(job: Coroutine[Any, Any, None], settings: Settings) -> AsyncIterator[None]:
    """Run a periodic job for the app's lifetime (not at all when its interval is 0)."""
    if not settings.sweep_interval_seconds:
        job.close()
        yield
        return
    task = asyncio.create_task(job)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def __getattr__(name: str) -> Any:
    # Built lazily so that importing create_app never reads the environment.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
