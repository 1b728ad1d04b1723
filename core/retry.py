"""Retry a rule whose transaction lost a deadlock or serialization conflict (PostgreSQL).

The rules take row locks in a fixed order (notes, then boards by id, then users by id) so deadlocks
should not happen; this is the safety net STACK-NOTES asks for. A rolled-back transaction changed
nothing, so running the rule again is safe.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)
# deadlock_detected, serialization_failure, lock_not_available
RETRYABLE_SQLSTATES = {"40P01", "40001", "55P03"}
ATTEMPTS = 4


def is_conflict(exc: BaseException) -> bool:
    """True when the exception (or one it was raised from) is a retryable database conflict."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) in RETRYABLE_SQLSTATES:
            return True
        current = current.__cause__ or current.__context__
    return False


def retry_on_conflict(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await fn(*args, **kwargs)
            except Exception as exc:
                if attempt == ATTEMPTS or not is_conflict(exc):
                    raise
                log.info("%s lost a lock conflict (attempt %d); retrying", fn.__name__, attempt)
                await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")

    return wrapper
