"""Hand-written SQL for the few reads the ORM cannot express (window functions), on both databases.

Queries are written with PostgreSQL's numbered parameters ($1, $2 …); SQLite understands the same
numbering as ?1, ?2 …, so one text serves both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from tortoise import connections

_PARAM = re.compile(r"\$(\d+)")


def placeholders(count: int, start: int = 1) -> str:
    """`$start, $start+1, …` for an IN list of `count` values."""
    return ", ".join(f"${i}" for i in range(start, start + count))


async def fetch_all(sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run one SELECT and return its rows as dicts."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        sql = _PARAM.sub(r"?\1", sql)
    return list(await conn.execute_query_dict(sql, list(params)))


def uuid_param(value: UUID) -> UUID | str:
    """A UUID as the current database's raw SQL expects it (SQLite keeps UUIDs as text)."""
    return str(value) if connections.get("default").capabilities.dialect == "sqlite" else value


def columns_of(model: type[Any]) -> list[str]:
    """The database columns of a Tortoise model, in declaration order."""
    return list(model._meta.fields_db_projection.values())


def select_list(model: type[Any], alias: str, prefix: str = "") -> str:
    """`alias.col AS prefixcol, …` for every column of the model."""
    return ", ".join(f'{alias}."{c}" AS "{prefix}{c}"' for c in columns_of(model))


def model_from_row(model: type[Any], row: dict[str, Any], prefix: str = "") -> Any:
    """A model instance from a raw row (with prefixed column names), converted as the ORM would."""
    return model._init_from_db(**{c: row[prefix + c] for c in columns_of(model)})
