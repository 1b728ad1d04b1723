"""The conflict retry: only deadlocks and serialization failures are retried, a bounded number of times."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError, OperationalError

from core.retry import ATTEMPTS, is_conflict, retry_on_conflict


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(sqlstate: str) -> OperationalError:
    try:
        raise OperationalError("deadlock detected") from _PgError(sqlstate)
    except OperationalError as exc:
        return exc


def test_conflicts_are_recognised_through_the_orm_wrapper() -> None:
    assert is_conflict(_wrapped("40P01"))
    assert is_conflict(_wrapped("40001"))
    assert not is_conflict(_wrapped("23505"))
    assert not is_conflict(IntegrityError("duplicate key"))


async def test_a_conflict_is_retried_until_it_succeeds() -> None:
    calls = []

    @retry_on_conflict
    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _wrapped("40P01")
        return "done"

    assert await flaky() == "done"
    assert len(calls) == 3


async def test_retries_are_bounded_and_other_errors_pass_straight_through() -> None:
    calls = []

    @retry_on_conflict
    async def always_deadlocks() -> None:
        calls.append(1)
        raise _wrapped("40P01")

    with pytest.raises(OperationalError):
        await always_deadlocks()
    assert len(calls) == ATTEMPTS

    @retry_on_conflict
    async def broken() -> None:
        calls.append(1)
        raise ValueError("not a conflict")

    calls.clear()
    with pytest.raises(ValueError):
        await broken()
    assert len(calls) == 1
