"""Database time limits and lost connections as the client sees them.

PostgreSQL stops a statement past `statement_timeout` (SQLSTATE 57014) and a wait for a row lock past
`lock_timeout` (55P03). Either is the server protecting itself, not a bug: the operation is refused as a
whole with a top-level error — TIMEOUT or SERVICE_UNAVAILABLE, HTTP 503 — instead of an
INTERNAL_SERVER_ERROR. The transaction it ran in has rolled back.

A connection lost mid-use (the database stopped or the network dropped it) is SERVICE_UNAVAILABLE too,
worded so that it does not claim what it cannot know: whether a COMMIT in flight took effect (on the
server's connections `api.commits` first asks the database, so this is left for when it cannot tell).
It decides the HTTP status (503) only when the root field failed; a nested field failing after a
mutation's root field returned — after its commit — leaves that payload's success standing, with the
field's error coded.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError

from core.errors import RequestCode, RequestRefused
from core.outages import database_connection_lost

log = logging.getLogger(__name__)

QUERY_CANCELED = "57014"  # statement_timeout, or a cancel request
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout (or NOWAIT)


def _sqlstate(exc: BaseException | None) -> str | None:
    """The SQLSTATE of the exception or of one it was raised from."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        state = getattr(exc, "sqlstate", None)
        if isinstance(state, str):
            return state
        exc = exc.__cause__ or exc.__context__
    return None


def refusal_for(exc: BaseException | None, *, root: bool = True) -> RequestRefused | None:
    """The refusal a database time limit stands for; None for any other error."""
    state = _sqlstate(exc)
    if state == QUERY_CANCELED:
        refusal = RequestRefused(
            RequestCode.TIMEOUT, "The database took too long to answer; try again.", http_status=503
        )
    elif state == LOCK_NOT_AVAILABLE:
        refusal = RequestRefused(
            RequestCode.SERVICE_UNAVAILABLE,
            "What this changes is busy right now; try again shortly.",
            http_status=503,
        )
    elif database_connection_lost(exc):
        refusal = RequestRefused(
            RequestCode.SERVICE_UNAVAILABLE,
            "The connection to the database was lost; try again shortly. A change this request was "
            "making may or may not have been saved: check before repeating it.",
            http_status=503 if root else None,
        )
    else:
        return None
    refusal.headers["Retry-After"] = "1"
    return refusal


def map_timeouts(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors with those caused by a database time limit replaced by `RequestRefused` errors (the
    same list when there are none), before the HTTP status is decided from them."""
    mapped = [_mapped(error) for error in errors]
    return mapped if any(new is not old for new, old in zip(mapped, errors, strict=True)) else errors


def _mapped(error: GraphQLError) -> GraphQLError:
    if isinstance(error.original_error, RequestRefused):
        return error
    refusal = refusal_for(error.original_error, root=len(error.path or ()) <= 1)
    if refusal is None:
        return error
    log.warning("%s at %s: %s", refusal.code.value, ".".join(map(str, error.path or ())), error.message)
    return GraphQLError(
        refusal.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        refusal,
        refusal.extensions,
    )
