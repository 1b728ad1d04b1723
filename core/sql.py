"""Hand-written SQL for the few reads the ORM cannot express (window functions), on both databases.

Queries are written with PostgreSQL's numbered parameters ($1, $2 …); SQLite understands the same
numbering as ?1, ?2 …, so one text serves both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise import connections, timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import DatetimeField

_PARAM = re.compile(r"\$(\d+)")


def placeholders(count: int, start: int = 1) -> str:
    """`$start, $start+1, …` for an IN list of `count` values."""
    return ", ".join(f"${i}" for i in range(start, start + count))


def _for(conn: BaseDBAsyncClient, sql: str) -> str:
    return _PARAM.sub(r"?\1", sql) if conn.capabilities.dialect == "sqlite" else sql


async def fetch_all(
    sql: str, params: Sequence[Any] = (), connection: BaseDBAsyncClient | None = None
) -> list[dict[str, Any]]:
    """Run one SELECT and return its rows as dicts (on `connection`, else the current default)."""
    conn = connection or connections.get("default")
    return list(await conn.execute_query_dict(_for(conn, sql), list(params)))


async def fetch_rows(
    sql: str, params: Sequence[Any] = (), connection: BaseDBAsyncClient | None = None
) -> Sequence[Mapping[str, Any]]:
    """`fetch_all` without copying each row into a dict: the driver's own rows (asyncpg's Record,
    sqlite3.Row), read by column name. For hot reads that only read rows (`model_from_row`)."""
    conn = connection or connections.get("default")
    return (await conn.execute_query(_for(conn, sql), list(params)))[1]


async def fetch_planned(
    sql: str, params: Sequence[Any] = (), connection: BaseDBAsyncClient | None = None
) -> Sequence[Mapping[str, Any]]:
    """`fetch_rows` for a statement whose best plan depends on its values: planned for them every time.

    A statement run through the driver's statement cache is a prepared statement, and after five runs
    PostgreSQL may switch it to a generic plan made without the values. For the feed's candidate
    statement (the same text for every viewer with as many topics) that plan costs about twice the
    database CPU (bench/results/http.md). A statement prepared for one run only is always planned for
    its values; on SQLite this is `fetch_rows`.
    """
    conn = connection or connections.get("default")
    if conn.capabilities.dialect != "postgres":
        return await fetch_rows(sql, params, conn)
    async with conn.acquire_connection() as raw:
        conn.log.debug("%s: %s", sql, params)  # as Tortoise logs (and api/sqlcount counts) a statement
        statement = await raw.prepare(sql)
        return await statement.fetch(*params)  # type: ignore[no-any-return]


async def execute_many(
    sql: str, rows: Sequence[Sequence[Any]], connection: BaseDBAsyncClient | None = None
) -> None:
    """Run one statement once per row of parameters."""
    if rows:
        conn = connection or connections.get("default")
        await conn.execute_many(_for(conn, sql), [list(r) for r in rows])


def aware_datetime(value: datetime | str) -> datetime:
    """A timestamp as a raw statement or a JSON column gives it (a datetime from PostgreSQL, ISO text from
    SQLite, with a "T" or a space), with its zone: the text is read as it comes, and a time without a zone
    is UTC, as the API documents."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def dialect(connection: BaseDBAsyncClient | None = None) -> str:
    """ "postgres" or "sqlite"."""
    return str((connection or connections.get("default")).capabilities.dialect)


def uuid_param(value: UUID) -> UUID | str:
    """A UUID as the current database's raw SQL expects it (SQLite keeps UUIDs as text)."""
    return str(value) if connections.get("default").capabilities.dialect == "sqlite" else value


def columns_of(model: type[Any]) -> list[str]:
    """The database columns of a Tortoise model, in declaration order."""
    return list(_columns(model))


_COLUMNS: dict[type[Any], tuple[str, ...]] = {}


def _columns(model: type[Any]) -> tuple[str, ...]:
    # Models do not change while the process runs; a hot loader builds hundreds of rows a request.
    found = _COLUMNS.get(model)
    if found is None:
        found = _COLUMNS[model] = tuple(model._meta.fields_db_projection.values())
    return found


def select_list(model: type[Any], alias: str, prefix: str = "") -> str:
    """`alias.col AS prefixcol, …` for every column of the model."""
    return ", ".join(f'{alias}."{c}" AS "{prefix}{c}"' for c in columns_of(model))


# (columns read as they come, columns of the field's own type, columns the field converts, custom pk)
_Plan = tuple[
    tuple[tuple[str, str], ...],
    tuple[tuple[str, str, Callable[[Any], Any]], ...],
    tuple[tuple[str, str, Callable[[Any], Any]], ...],
    bool,
]
_PLANS: dict[tuple[type[Any], str], _Plan] = {}


def _plan(model: type[Any], prefix: str) -> _Plan:
    """How `model_from_row` reads a model's columns under `prefix`, worked out once per model and prefix.

    The ORM sorts a model's fields into these three kinds when it starts, for the database it talks to;
    a process talks to one database."""
    found = _PLANS.get((model, prefix))
    if found is None:
        meta = model._meta
        found = _PLANS[(model, prefix)] = (
            tuple((prefix + key, attribute) for key, attribute, _ in meta.db_native_fields),
            tuple(
                (prefix + key, attribute, field.field_type)
                for key, attribute, field in meta.db_default_fields
            ),
            tuple(
                (prefix + key, attribute, _converter(field))
                for key, attribute, field in meta.db_complex_fields
            ),
            meta.db_pk_column not in meta.generated_db_fields,
        )
    return found


def _converter(field: Any) -> Callable[[Any], Any]:
    """The field's `to_python_value`; for a timestamp the driver gives with its offset (PostgreSQL's
    timestamptz), the same conversion without the general path's checks: a page reads hundreds.

    When the ORM's zone is UTC (Vermilion's), a timestamp the driver gives in UTC is kept as it is: the
    same instant, offset and ISO text; only its tzinfo is `datetime.timezone.utc` rather than the ORM's
    `ZoneInfo("UTC")`, which nothing tells apart. A following feed page converted 300 of them (1.4 µs
    each, a twentieth of its CPU)."""
    convert = field.to_python_value
    if type(field) is not DatetimeField:
        return convert  # type: ignore[no-any-return]
    use_tz = timezone.get_use_tz()
    zone = timezone.get_default_timezone()
    keep_utc = use_tz and timezone.get_timezone().upper() == "UTC"

    def timestamp(value: Any) -> Any:
        if type(value) is datetime:
            if keep_utc and value.tzinfo is UTC:
                return value
            if use_tz and value.utcoffset() is not None:
                return value.astimezone(zone)
        return convert(value)

    return timestamp


def model_from_row(model: type[Any], row: Mapping[str, Any], prefix: str = "") -> Any:
    """A model instance from a raw row (with prefixed column names), converted as the ORM would.

    Tortoise's own `_init_from_db` step by step — the same attributes, the same conversions — without
    the keyword dict it is called with, its `__setattr__` for each attribute (model fields are plain
    instance attributes) and the column names built again for every row: a feed page builds some 200
    rows."""
    native, default, complex_, custom_pk = _plan(model, prefix)
    self = object.__new__(model)
    state = self.__dict__
    state["_partial"] = False
    state["_saved_in_db"] = True
    state["_custom_generated_pk"] = custom_pk
    state["_await_when_save"] = {}
    try:
        for key, attribute in native:
            state[attribute] = row[key]
        for key, attribute, field_type in default:
            value = row[key]
            state[attribute] = None if value is None else field_type(value)
        for key, attribute, convert in complex_:
            state[attribute] = convert(row[key])
    except KeyError:  # a row without every column: the ORM's own (partial) path
        return model._init_from_db(**{c: row[prefix + c] for c in _columns(model) if prefix + c in row})
    return self
