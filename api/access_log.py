"""What one GraphQL HTTP request did, gathered while it is served, for the access log, metrics and traces.

`AccessMiddleware` opens an `Access` record for each GET or POST to /graphql and, once the response is
done, hands it to each observer: the access line below, `api.metrics`, `api.tracing`. The record is
filled where the facts are: the operation and the viewer by `OperationRecorder` (a schema extension),
error codes, query cost and the SQL statement count by `record_response` (the GraphQL view's
`process_result`, from the response body the client gets), status and duration by the middleware.

Nothing here runs when no observer is on (no access log, no metrics, no tracing): `create_app` then
installs neither the middleware nor the extension.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api import sqlcount
from api.logs import current_request_id
from core.errors import RequestCode

log = logging.getLogger("vermilion.access")
GRAPHQL_PATH = "/graphql"
# Operation names are the client's: the log keeps at most this much of one.
MAX_LOGGED_NAME = 200


@dataclass(slots=True)
class Access:
    """One GraphQL HTTP request, as the access line, the metrics and the trace report it."""

    request_id: str
    operation_name: str | None = None
    operation_type: str | None = None  # "query", "mutation", "subscription"; None when none was read
    viewer_id: int | None = None
    status: int | None = None
    duration_seconds: float = 0.0
    sql_statements: int | None = None  # None when counting is off (VERMILION_SQL_COUNT=false)
    cost_requested: int | None = None
    cost_actual: int | None = None
    error_codes: list[str] = field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        """The access line's fields (JSON keys; `request_id` comes with every line)."""
        name = self.operation_name
        return {
            "operation_name": name[:MAX_LOGGED_NAME] if name else name,
            "operation_type": self.operation_type,
            "viewer_id": self.viewer_id,
            "status": self.status,
            "duration_ms": round(self.duration_seconds * 1000, 1),
            "sql_statements": self.sql_statements,
            "cost_requested": self.cost_requested,
            "cost_actual": self.cost_actual,
            "error_codes": list(dict.fromkeys(self.error_codes)),
        }


Observer = Callable[[Access], None]
_current: ContextVar[Access | None] = ContextVar("vermilion_access", default=None)


def current_access() -> Access | None:
    """The record of the GraphQL HTTP request being served, if any observer wants one."""
    return _current.get()


def write_line(access: Access) -> None:
    """The access line: readable as text, and every figure a field of its own in JSON."""
    fields = access.fields()
    cost = "-" if access.cost_requested is None else f"{access.cost_requested}/{access.cost_actual}"
    log.info(
        "graphql %s %s status=%s duration_ms=%.1f sql=%s cost=%s viewer=%s errors=%s",
        fields["operation_type"] or "-",
        fields["operation_name"] or "-",
        access.status if access.status is not None else "-",
        fields["duration_ms"],
        "-" if access.sql_statements is None else access.sql_statements,
        cost,
        "-" if access.viewer_id is None else access.viewer_id,
        ",".join(fields["error_codes"]) or "-",
        extra=fields,
    )


class AccessMiddleware:
    """Pure ASGI middleware: one `Access` record per GraphQL HTTP request, handed to each observer as the
    last of the response is sent (or when the request ends without it). It sits inside the
    request-timeout middleware, so that a request stopped at its budget is reported too (503 `TIMEOUT`)."""

    def __init__(self, app: ASGIApp, *, observers: Sequence[Observer]) -> None:
        self.app = app
        self.observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST") or not _is_graphql(scope):
            await self.app(scope, receive, send)
            return
        access = Access(request_id=current_request_id())
        started = time.perf_counter()
        reported = False

        def report() -> None:
            nonlocal reported
            reported = True
            access.duration_seconds = time.perf_counter() - started
            for observe in self.observers:
                try:
                    observe(access)
                except Exception:  # reporting must never break serving
                    log.exception("could not report a request to %r", observe)

        async def send_noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                access.status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                report()  # before the last write: the trace's span ends with it
            await send(message)

        token = _current.set(access)
        try:
            await self.app(scope, receive, send_noting)
        except asyncio.CancelledError:
            # Only the request budget (api/timeouts.py) cancels a request being served; it answers
            # 503 TIMEOUT unless the response had started.
            access.status = access.status or 503
            access.error_codes.append(RequestCode.TIMEOUT.value)
            raise
        except Exception:
            access.status = 500  # Starlette's error middleware answers it
            access.error_codes.append(RequestCode.INTERNAL_SERVER_ERROR.value)
            raise
        finally:
            _current.reset(token)
            if not reported:
                report()


def _is_graphql(scope: Scope) -> bool:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path == GRAPHQL_PATH


def record_response(response: Mapping[str, Any]) -> None:
    """Note what the client is told: error codes, the query cost, and the SQL statements sent so far."""
    access = _current.get()
    if access is None:
        return
    for error in response.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        if isinstance(code, str):
            access.error_codes.append(code)
    cost = (response.get("extensions") or {}).get("cost")
    # A multipart subscription reports its cost with each event: the first one is the operation's.
    if isinstance(cost, Mapping) and access.cost_requested is None:
        access.cost_requested = cost.get("requestedQueryCost")
        access.cost_actual = cost.get("actualQueryCost")
    counter = sqlcount.current_counter()
    if counter is not None:
        access.sql_statements = counter[0]


class _Gauge(Protocol):
    def inc(self) -> None: ...
    def dec(self) -> None: ...


class OperationRecorder(SchemaExtension):
    """Notes the operation and the viewer on the request's `Access` record, and keeps the count of
    subscriptions in progress (over WebSocket or a multipart HTTP stream)."""

    def __init__(self, *, subscriptions: _Gauge | None = None) -> None:
        self.subscriptions = subscriptions
        self.counted = False

    def on_operation(self) -> Iterator[None]:
        # First of the extensions, so that this runs even when a later one refuses the operation.
        try:
            yield
        finally:
            self._note(current_access())
            if self.counted and self.subscriptions is not None:
                self.subscriptions.dec()

    def on_execute(self) -> Iterator[None]:
        # The document is parsed and valid here: a subscription is about to start.
        if self.subscriptions is not None and self._kind() is OperationType.SUBSCRIPTION:
            self.subscriptions.inc()
            self.counted = True
        yield

    def _kind(self) -> OperationType | None:
        if self.execution_context.graphql_document is None:
            return None  # not parsed: refused before, or a syntax error
        try:
            return self.execution_context.operation_type
        except RuntimeError:  # no operation of the name asked for (Strawberry answers 400)
            return None

    def _note(self, access: Access | None) -> None:
        if access is None:
            return
        execution = self.execution_context
        kind = self._kind()
        access.operation_name = execution.operation_name
        access.operation_type = kind.value if kind is not None else None
        access.viewer_id = getattr(execution.context, "viewer_id", None)


def observers(*, access_line: bool, others: Sequence[Observer | None]) -> list[Observer]:
    """The observers that are on: the access line when wanted, then the others given (None: off)."""
    chosen: list[Observer] = [write_line] if access_line else []
    return chosen + [observer for observer in others if observer is not None]


def record_operations(schema: Schema, *, subscriptions: _Gauge | None = None) -> None:
    """Add `OperationRecorder` to a built schema, ahead of its own extensions."""
    recorder = partial(OperationRecorder, subscriptions=subscriptions)
    schema.extensions = (recorder, *schema.extensions)
