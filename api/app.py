"""The ASGI application: routes, middleware and lifespan in one place.

`api.app:app` is built from the environment on first access; `create_app(settings)` builds one
from explicit settings (tests, embedding).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from api.pubsub import create_broker
from api.settings import Settings
from schema import build_schema

app: Starlette  # built from the environment on first access, by __getattr__ below


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """Build the app. With `manage_database=False` the caller owns Tortoise's connections (tests)."""
    settings = settings or Settings()
    configure_logging(settings)
    if settings.count_sql:
        sqlcount.install()
    broker = create_broker(settings.redis_url)
    graphql = VermilionGraphQL(build_schema(settings), settings=settings, broker=broker)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if not manage_database:
                yield
                return
            async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
                yield
        finally:
            await broker.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
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
    return app


def __getattr__(name: str) -> Any:
    # Built lazily so that importing create_app never reads the environment.
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
