"""Counts SQL statements per request from Tortoise's query log.

Every statement Tortoise sends is logged by `tortoise.db_client` at DEBUG as "%s: %s" (query, values);
a handler on that logger adds one to the counter of the current context. A counter is a one-item list
so that tasks spawned by the request (resolvers, dataloader batches) share it through context copies.
"""

from __future__ import annotations

import contextvars
import logging
from contextvars import ContextVar

_counter: ContextVar[list[int] | None] = ContextVar("vermilion_sql_counter", default=None)
_installed = False


class _StatementCounter(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        counter = _counter.get()
        if counter is not None and record.msg == "%s: %s":
            counter[0] += 1


def install() -> None:
    """Start counting; idempotent. SQL text stays out of the normal logs (the logger does not propagate)."""
    global _installed
    if _installed:
        return
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(_StatementCounter(logging.DEBUG))
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
