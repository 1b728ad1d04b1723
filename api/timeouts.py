"""The wall-clock budget of an HTTP request.

Each HTTP request runs under `asyncio.timeout`: past the budget its task is cancelled wherever it is
waiting — a query, a pool, Redis, Stripe — and the client gets HTTP 503 with a GraphQL-shaped
`TIMEOUT` error. Cancellation unwinds through `in_transaction()`, which rolls the open transaction
back, and asyncpg asks PostgreSQL to stop the statement in flight (the server's own
`statement_timeout` is the backstop). WebSocket connections are not timed: a subscription lives as
long as its client wants it.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import RequestCode

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 1


def timeout_body(seconds: float) -> dict[str, object]:
    """The response to a request stopped at its budget: a top-level GraphQL error."""
    return {
        "errors": [
            {
                "message": f"The request took longer than {seconds:g} s and was stopped; try again.",
                "extensions": {"code": RequestCode.TIMEOUT.value, "timeoutSeconds": seconds},
            }
        ]
    }


class RequestTimeoutMiddleware:
    """Pure ASGI middleware: an HTTP request gets `seconds` of wall-clock time, then 503 TIMEOUT."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        budget = asyncio.timeout(self.seconds)
        try:
            async with budget:
                await self.app(scope, receive, send_tracking)
        except TimeoutError:
            if not budget.expired():
                raise  # a timeout of the app's own, not the budget: an ordinary error
            log.warning("%s %s stopped after %g s", scope.get("method"), scope.get("path"), self.seconds)
            if started:
                return  # part of the answer is out: the server ends the incomplete response
            response = JSONResponse(
                timeout_body(self.seconds),
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
