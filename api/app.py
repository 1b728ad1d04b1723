"""The ASGI application: routes, middleware and lifespan in one place.

`api.app:app` is built from the environment on first access; `create_app(settings)` builds one
from explicit settings (tests, embedding). The long-lived dependencies are made here, once, and handed
down; `payments=` swaps the Stripe door for another one (an in-memory fake in rule tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from tortoise.contrib.starlette import RegisterTortoise

from api import access_log, collector, sqlcount, tracing
from api.access_log import AccessMiddleware
from api.db import ConnectionLimits, tortoise_config
from api.export_routes import download as export_download
from api.graphiql import graphiql_routes
from api.graphql_view import VermilionGraphQL
from api.health import healthz
from api.logs import RequestIdMiddleware, configure_logging
from api.media_routes import file as media_file
from api.media_routes import upload as media_upload
from api.metrics import Metrics
from api.timeouts import RequestTimeoutMiddleware
from api.webhooks import stripe_webhook
from commerce.payments import Payments, payments_from_settings
from commerce.releases import RELEASE_INTERVAL_SECONDS, release_due
from commerce.reservations import sweep_expired
from core.jobs import Jobs
from core.mail import mailer_from_settings
from core.periodic import run_every
from core.pubsub import create_broker
from core.ratelimit import RateLimiter
from core.settings import Settings
from feed.recorder import SignalRecorder
from feed.snapshots import FallbackSnapshots, RedisSnapshots, TableSnapshots, sweep_expired_snapshots
from media.service import MediaServices, media_from_settings
from safety.deletion import PURGE_INTERVAL_SECONDS, purge_due
from safety.export import ExportServices, export_services
from schema import build_schema
from search import lexicon
from search.documents import load_topic_words
from search.terms import refresh_if_due as refresh_search_terms
from search.text import segmenter
from social import passwords
from social.mail import sending

app: Starlette  # built from the environment on first access, by __getattr__ below
log = logging.getLogger(__name__)
# Each clean-up step at shutdown gets at most this long.
CLOSE_STEP_SECONDS = 3.0
# How long start-up waits for the database before serving without it.
STARTUP_WAIT_SECONDS = 5.0


def create_app(
    settings: Settings | None = None, *, payments: Payments | None = None, manage_database: bool = True
) -> Starlette:
    """Build the app. `payments` is the payments door (default: Stripe's from the settings, or none
    without STRIPE_API_KEY). With `manage_database=False` the caller owns Tortoise's connections (tests)."""
    settings = settings or Settings()
    configure_logging(settings)
    segmenter.configure(settings.cache_dir)
    lexicon.configure(settings.cache_dir)
    if settings.count_sql:
        sqlcount.install()
    broker = create_broker(settings.redis_url)
    if payments is None:
        payments = payments_from_settings(
            settings.stripe_api_key, settings.stripe_webhook_secret, settings.stripe_api_base
        )
    # Feed sessions survive a Redis outage in the table (see feed/snapshots.py).
    snapshots: FallbackSnapshots | TableSnapshots = (
        FallbackSnapshots(RedisSnapshots(settings.redis_url), TableSnapshots())
        if settings.redis_url
        else TableSnapshots()
    )
    recorder = SignalRecorder(context=sqlcount.detached_context)
    rate_limiter = RateLimiter.from_settings(settings)  # Redis when configured, so workers share counts
    # Background jobs (media processing): in this process, or from Redis when configured (core/jobs.py).
    jobs = Jobs.from_settings(settings.redis_url, in_process=settings.jobs_in_process)
    media = media_from_settings(settings, jobs, broker)
    # Data exports: built by a job of the same queue, stored beside the media (safety/export.py).
    exports = export_services(settings, storage=media.storage, jobs=jobs, broker=broker)
    exports.register_jobs()
    mailer = mailer_from_settings(settings)
    # Operations: access lines, Prometheus metrics, traces (api/access_log.py); nothing of it when all off.
    metrics = Metrics() if settings.metrics else None
    tracer_provider = tracing.tracer_provider() if tracing.configured() else None
    observers = access_log.observers(
        access_line=settings.access_log,
        others=[metrics.observe if metrics else None, tracing.annotate if tracer_provider else None],
    )
    schema = build_schema(settings)
    if observers:
        access_log.record_operations(schema, subscriptions=metrics.subscriptions if metrics else None)
    graphql = VermilionGraphQL(
        schema,
        settings=settings,
        broker=broker,
        payments=payments,
        snapshots=snapshots,
        recorder=recorder,
        rate_limiter=rate_limiter,
        media=media,
        exports=exports,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if not manage_database:
                yield
                return
            # Tortoise connects on first use: the server starts while the database is down, and
            # /healthz answers 503 until it is up.
            config = tortoise_config(settings.database_url, ConnectionLimits.of(settings))
            async with (
                RegisterTortoise(app, config=config),
                _background(_housekeeping(settings, payments, snapshots, media, exports), settings),
                _background(_load_topic_words(), settings, always=True) as words,
                sending(mailer),  # the email outbox, sent after each commit and retried
            ):
                passwords.start_processes(settings.password_processes)
                await jobs.start()
                # jieba loads now, not on the first search; the topic words too, unless the database
                # is down (then they follow as soon as it is up).
                await asyncio.to_thread(lambda: segmenter.tokenizer)
                if words is not None:
                    await asyncio.wait([words], timeout=STARTUP_WAIT_SECONDS)
                collector.settle(settings.gc_threshold)
                yield
        finally:
            # Every step is bounded, so that a stopping worker never hangs on a dependency that is down.
            passwords.stop_processes()
            await _bounded("stop the job queue", jobs.stop())
            await _bounded("write buffered feed signals", recorder.drain())
            await _bounded("close the event broker", broker.close())
            if isinstance(snapshots, FallbackSnapshots):
                await _bounded("close the feed session store", snapshots.close())
            await _bounded("close the rate-limit storage", rate_limiter.close())
            await _bounded("close the persisted-query store", graphql.persisted_queries.close())
            if metrics is not None:
                metrics.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
            # Local storage's upload URLs take a whole video: their own body cap, above the API's 1 MB.
            Route(
                "/media/upload/{key:path}",
                media_upload,
                methods=["PUT"],
                middleware=[
                    Middleware(
                        RequestBodyLimitMiddleware,
                        max_body_size=max(settings.media_max_image_bytes, settings.media_max_video_bytes),
                    )
                ],
            ),
            Route("/media/files/{key:path}", media_file, methods=["GET", "HEAD"]),
            Route("/exports/{link}", export_download, methods=["GET"]),
            *(graphiql_routes() if settings.graphiql else []),
            *([metrics.route(settings.metrics_token)] if metrics else []),
        ],
        # The body cap sits inside RequestIdMiddleware so that a 413 also carries X-Request-ID.
        middleware=[
            *([tracing.middleware(tracer_provider)] if tracer_provider else []),  # outermost: spans cover all
            Middleware(RequestIdMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_origin_regex=settings.allowed_origin_regex,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            ),
            # Inside CORS, so that a 503 TIMEOUT reaches a browser frontend readable.
            Middleware(RequestTimeoutMiddleware, seconds=settings.request_timeout_seconds),
            # Inside the timeout, so that a request stopped at its budget is reported too.
            *([Middleware(AccessMiddleware, observers=observers)] if observers else []),
            Middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.broker = broker
    app.state.payments = payments
    app.state.recorder = recorder
    app.state.rate_limiter = rate_limiter
    app.state.media = media
    app.state.exports = exports
    app.state.snapshots = snapshots
    app.state.metrics = metrics
    app.state.tracer_provider = tracer_provider
    return app


def _housekeeping(
    settings: Settings,
    payments: Payments | None,
    snapshots: FallbackSnapshots | TableSnapshots,
    media: MediaServices,
    exports: ExportServices | None = None,
) -> Coroutine[Any, Any, None]:
    """Expired stock reservations are released; expired feed sessions leave the table (Redis expires
    its own; the table also holds those made while Redis was down); media never attached within a day
    are deleted with their files; expired data exports are deleted; accounts whose deletion's grace
    period is over are purged (checked every PURGE_INTERVAL_SECONDS: it reads the users table); creators'
    earnings whose return window closed are released (every RELEASE_INTERVAL_SECONDS)."""

    async def reservations() -> None:
        await sweep_expired(payments)

    last_purge: float | None = None

    async def purge_deleted_accounts() -> None:
        nonlocal last_purge
        moment = asyncio.get_running_loop().time()
        if last_purge is not None and moment - last_purge < PURGE_INTERVAL_SECONDS:
            return
        last_purge = moment
        await purge_due(storage=media.storage)

    last_release: float | None = None

    async def release_earnings() -> None:
        nonlocal last_release
        moment = asyncio.get_running_loop().time()
        if last_release is not None and moment - last_release < RELEASE_INTERVAL_SECONDS:
            return
        last_release = moment
        await release_due()

    jobs: list[Callable[[], Awaitable[object]]] = [
        reservations,
        sweep_expired_snapshots,
        media.sweep,
        *([exports.sweep] if exports is not None else []),
        purge_deleted_accounts,
        release_earnings,
        refresh_search_terms,  # every few hours (search/terms.py)
    ]
    return run_every(settings.sweep_interval_seconds, *jobs)


async def _load_topic_words() -> None:
    """Teach the segmenter the topic names, so that queries cut them as indexing did: at start-up, or —
    when the database is down then — as soon as it answers."""
    delay = 0.5
    while True:
        try:
            await load_topic_words()
            return
        except Exception as exc:
            log.warning(
                "topic words not loaded yet (%s: %s); retrying in %.0f s", type(exc).__name__, exc, delay
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)


@asynccontextmanager
async def _background(
    job: Coroutine[Any, Any, None], settings: Settings, *, always: bool = False
) -> AsyncIterator[asyncio.Task[None] | None]:
    """Run a job for the app's lifetime (a periodic one not at all when its interval is 0)."""
    if not (always or settings.sweep_interval_seconds):
        job.close()
        yield None
        return
    task = asyncio.create_task(job)
    try:
        yield task
    finally:
        task.cancel()
        # A job stuck in a call that ignores cancellation must not hold the shutdown.
        await asyncio.wait([task], timeout=CLOSE_STEP_SECONDS)


async def _bounded(what: str, step: Awaitable[object]) -> None:
    """One clean-up step at shutdown: at most CLOSE_STEP_SECONDS, a failure logged and passed over."""
    try:
        await asyncio.wait_for(step, CLOSE_STEP_SECONDS)
    except Exception as exc:
        log.warning("could not %s at shutdown: %s: %s", what, type(exc).__name__, exc)


def __getattr__(name: str) -> Any:
    # Built lazily so that importing create_app never reads the environment.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
