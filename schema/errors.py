"""Errors as data: every mutation payload carries `errors: [UserError!]!`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from core.errors import DomainError, ErrorCode, ValidationErrors

P = TypeVar("P")

ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode", description="Why an operation was refused.")


@strawberry.type(description="An expected refusal: which input field, what went wrong, and a stable code.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "title"]; null when none.'
    )
    message: str
    code: ErrorCodeEnum  # type: ignore[valid-type]


def user_errors(exc: DomainError) -> list[UserError]:
    """The `errors` list for a refused mutation."""
    errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
    return [UserError(field=e.field, message=e.message, code=e.code) for e in errors]


async def guarded(payload: type[P], action: Callable[[], Awaitable[P]]) -> P:
    """Run a mutation; a domain refusal becomes `payload(errors=[…])` with nothing changed."""
    try:
        return await action()
    except DomainError as exc:
        return payload(errors=user_errors(exc))  # type: ignore[call-arg]
