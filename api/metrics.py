"""Prometheus metrics of the GraphQL endpoint, served at GET /metrics (prometheus-client).

Per operation name and type: requests, latency, and requests answered with each error code; per
operation type: SQL statements and query cost per request; and the subscriptions in progress.

Several uvicorn workers share their values through files in `PROMETHEUS_MULTIPROC_DIR`, which
prometheus-client reads when first imported: each worker writes there, and a scrape of any worker sums
them all. `vermilion serve --workers N` with metrics on prepares it before the workers start
(`prepare_multiprocess_directory`): the directory named by the variable, emptied of a previous run's
files (they would be added in), or a fresh one of its own. Running uvicorn (or gunicorn) directly, set
the variable to an empty directory yourself. Without it each worker has its own registry and a scrape
sees only the worker that answers it (fine for one worker).

Operation names are the client's to choose, and each new one would be new series in Prometheus: a name
counts under its own label only when it is a plain GraphQL name of at most 64 characters and one of the
first `MAX_OPERATION_NAMES` this process has seen; any other is "other".
"""

from __future__ import annotations

import hmac
import os
import re
import tempfile
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    values,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from api.access_log import Access
from schema.context import bearer_token

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATION_NAMES = 200
OTHER = "other"  # an operation name past the cap, or not a plain name
ANONYMOUS = "anonymous"  # an operation without a name
UNKNOWN = "unknown"  # no operation was read: refused first, a syntax error, a body too large …
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Codes are the server's own (core/errors.py and the domain errors), checked all the same.
_PLAIN_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
SQL_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
COST_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)

# The `_created` twin of every counter and histogram doubles the series for a figure nobody graphs.
disable_created_metrics()


def prepare_multiprocess_directory() -> str:
    """Point PROMETHEUS_MULTIPROC_DIR at an empty directory for workers about to start: the one already
    named, emptied of its `.db` files, else a new temporary one. Returns its path."""
    directory = os.environ.get(MULTIPROC_VARIABLE)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))
    else:
        directory = tempfile.mkdtemp(prefix="vermilion-metrics-")
        os.environ[MULTIPROC_VARIABLE] = directory
    return directory


def multiprocess_mode() -> bool:
    """Whether values go to PROMETHEUS_MULTIPROC_DIR (decided by prometheus-client when first imported)."""
    return values.ValueClass is not values.MutexValue


class OperationNames:
    """Operation names as label values: plain names, the first `limit` of them, else "other"."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def label(self, name: str | None, operation_type: str | None) -> str:
        if name is None:
            return ANONYMOUS if operation_type is not None else UNKNOWN
        if name in self.seen:
            return name
        if len(self.seen) >= self.limit or not _PLAIN_NAME.fullmatch(name):
            return OTHER
        self.seen.add(name)
        return name


class Metrics:
    """The metrics of one app, in a registry of its own (so that apps built side by side never clash)."""

    def __init__(self, *, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        self.names = OperationNames(max_operation_names)
        self.registry = registry = CollectorRegistry()
        operation = ("operation_name", "operation_type")
        self.requests = Counter(
            "vermilion_graphql_requests",
            "GraphQL HTTP requests, by operation.",
            operation,
            registry=registry,
        )
        self.duration = Histogram(
            "vermilion_graphql_request_duration_seconds",
            "Time to answer a GraphQL HTTP request, by operation.",
            operation,
            registry=registry,
        )
        self.errors = Counter(
            "vermilion_graphql_errors",
            "GraphQL HTTP requests answered with a top-level error of this code (once per request and code).",
            ("operation_name", "code"),
            registry=registry,
        )
        self.sql_statements = Histogram(
            "vermilion_graphql_sql_statements",
            "SQL statements sent to answer one GraphQL HTTP request.",
            ("operation_type",),
            buckets=SQL_BUCKETS,
            registry=registry,
        )
        self.query_cost = Histogram(
            "vermilion_graphql_query_cost",
            "Requested query cost of one GraphQL HTTP request (README: Query cost and rate limits).",
            ("operation_type",),
            buckets=COST_BUCKETS,
            registry=registry,
        )
        self.subscriptions = Gauge(
            "vermilion_graphql_active_subscriptions",
            "Subscriptions in progress (WebSocket operations and multipart HTTP streams).",
            registry=registry,
            multiprocess_mode="livesum",
        )

    def observe(self, access: Access) -> None:
        """Count one finished GraphQL HTTP request."""
        kind = access.operation_type or UNKNOWN
        name = self.names.label(access.operation_name, access.operation_type)
        self.requests.labels(name, kind).inc()
        self.duration.labels(name, kind).observe(access.duration_seconds)
        if access.sql_statements is not None:
            self.sql_statements.labels(kind).observe(access.sql_statements)
        if access.cost_requested is not None:
            self.query_cost.labels(kind).observe(access.cost_requested)
        for code in dict.fromkeys(access.error_codes):
            self.errors.labels(name, code if _PLAIN_CODE.fullmatch(code) else OTHER).inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes: this process's figures, or every worker's."""
        if multiprocess_mode():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def route(self, token: str | None) -> Route:
        """GET /metrics; with a token, only for `Authorization: Bearer <token>` (401 otherwise)."""
        return Route("/metrics", self.endpoint(token), methods=["GET"])

    def endpoint(self, token: str | None) -> Callable[[Request], Awaitable[Response]]:
        expected = token.encode() if token else None

        async def metrics(request: Request) -> Response:
            if expected is not None:
                given = bearer_token(request.headers.get("authorization")) or ""
                if not hmac.compare_digest(given.encode(), expected):
                    return PlainTextResponse(
                        "Unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
                    )
            # Reading every worker's files is file I/O: off the event loop.
            body = await run_in_threadpool(self.exposition) if multiprocess_mode() else self.exposition()
            return Response(body, media_type=CONTENT_TYPE_LATEST)

        return metrics

    def close(self) -> None:
        """At a worker's shutdown: its subscriptions no longer count in the other workers' scrapes."""
        if multiprocess_mode():
            multiprocess.mark_process_dead(os.getpid())
