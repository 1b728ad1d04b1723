"""Migration operations Tortoise does not have."""

from __future__ import annotations

from typing import Any

from tortoise.migrations import operations as ops


class AlterFieldState(ops.AlterField):
    """A field change that needs nothing from the database: new values of a CharEnumField change only its
    description (the column stays a VARCHAR of the same length). Applied to the migration state alone,
    because on SQLite a real AlterField rebuilds the table and drops its indexes."""

    async def database_forward(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def database_backward(self, *args: Any, **kwargs: Any) -> None:
        return None
