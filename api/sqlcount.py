"""Counts SQL statements per request from Tortoise's query log.

Every statement Tortoise sends is logged by `tortoise.db_client` at DEBUG as "%s: %s" (query, values).
That logger's `debug` is replaced by one that adds one to the counter of the current context and logs
nothing: going through `logging` (a LogRecord, the caller's frame looked up, a handler) cost about 27 µs
a statement, a tenth of a small request's CPU (bench/results/metrics_overhead.md); the counter costs
well under one. A counter is a one-item list so that tasks spawned by the request (resolvers,
dataloader batches) share it through context copies.
"""

from __future__ import annotations

import contextvars
import logging
from contextvars import ContextVar
from typing import Any

_counter: ContextVar[list[int] | None] = ContextVar("vermilion_sql_counter", default=None)
_installed = False


class _CountingLogger(logging.Logger):
    """`tortoise.db_client` once counting: a statement's debug line counts; nothing is logged at DEBUG."""

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        if msg == "%s: %s":
            counter = _counter.get()
            if counter is not None:
                counter[0] += 1


def install() -> None:
    """Start counting; idempotent. SQL text stays out of the logs, as it does when not counting.

    Tortoise's clients hold the logger object itself (`self.log = db_client_logger`), so it is that
    object whose class changes (to a subclass adding no state), not a new logger put in its place."""
    global _installed
    if _installed:
        return
    logger = logging.getLogger("tortoise.db_client")
    logger.__class__ = _CountingLogger
    _installed = True


def start_request_counter() -> list[int]:
    """A fresh counter for the current request's context (the ASGI request task)."""
    counter = [0]
    _counter.set(counter)
    return counter


def current_counter() -> list[int] | None:
    return _counter.get()


def detached_context() -> contextvars.Context:
    """A copy of the current context without the request's counter, for work that outlives the request
    (deferred feed writes): it must not be counted against the request."""
    context = contextvars.copy_context()
    context.run(_counter.set, None)
    return context
