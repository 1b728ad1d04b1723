"""The migrations build exactly the schema the models describe, and no model change lacks a migration.

Two scratch databases of the kind the suite runs on (SQLite files, or PostgreSQL databases with a
random name): one is migrated with `apply_migrations()`, the other built by Tortoise's
`generate_schemas()` straight from the models; their introspected schemas must be equal.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.schema_generator.state import State

from api.db import apply_migrations, tortoise_config
from tests import databases
from tests.conftest import DATABASE_URL, IS_POSTGRES
from tests.databases import asyncpg_dsn

# Tortoise's own record of applied migrations is not part of the schema the models describe.
BOOKKEEPING_TABLES = {"tortoise_migrations"}


# --- scratch databases ----------------------------------------------------------------------------


@asynccontextmanager
async def scratch_database(tag: str) -> AsyncIterator[str]:
    """The URL of a new, empty database of the suite's kind, deleted afterwards."""
    async with databases.scratch_database(tag, like=DATABASE_URL) as url:
        yield url


async def migrate(url: str) -> None:
    """Apply the migrations on disk, as `vermilion migrate` does (own context: the session's stays)."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await apply_migrations()


async def generate(url: str) -> None:
    """Create the tables straight from the models, plus the full-text index the models cannot describe."""
    from tortoise import connections

    from search.schema import install

    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await ctx.generate_schemas(safe=False)
        await install(connections.get("default"))


async def execute(url: str, sql: str) -> None:
    if IS_POSTGRES:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
    else:
        with sqlite3.connect(_sqlite_path(url)) as conn:
            conn.executescript(sql)


# --- introspection --------------------------------------------------------------------------------


@dataclass
class DbSchema:
    """What a database's schema is made of, with no constraint or index names."""

    tables: set[str] = field(default_factory=set)
    # (table, column) -> (type, not null, default, primary-key position)
    columns: dict[tuple[str, str], tuple[Any, ...]] = field(default_factory=dict)
    # Multisets: a duplicate index is a difference too.
    uniques: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    indexes: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    foreign_keys: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    checks: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    table_options: dict[str, tuple[Any, ...]] = field(default_factory=dict)


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite://")


def introspect_sqlite(url: str) -> DbSchema:
    schema = DbSchema()
    with sqlite3.connect(_sqlite_path(url)) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        for table, sql in rows:
            if table in BOOKKEEPING_TABLES:
                continue
            schema.tables.add(table)
            schema.table_options[table] = ("AUTOINCREMENT" in sql.upper(),)
            for _cid, name, type_, notnull, default, pk, hidden in conn.execute(
                f'PRAGMA table_xinfo("{table}")'
            ):
                schema.columns[(table, name)] = (type_.upper(), bool(notnull), default, pk, hidden)
            for _seq, index, unique, origin, partial in conn.execute(f'PRAGMA index_list("{table}")'):
                columns = tuple(
                    name if name is not None else "<expression>"
                    for _seqno, _cid, name in conn.execute(f'PRAGMA index_info("{index}")')
                )
                schema.indexes[(table, columns, bool(unique), bool(partial))] += 1
                if origin == "u":
                    schema.uniques[(table, columns)] += 1
            fks: dict[int, list[Any]] = {}
            for fk_id, _seq, ref_table, source, target, on_update, on_delete, _match in conn.execute(
                f'PRAGMA foreign_key_list("{table}")'
            ):
                entry = fks.setdefault(fk_id, [[], ref_table, [], on_update, on_delete])
                entry[0].append(source)
                entry[2].append(target)
            for sources, ref_table, targets, on_update, on_delete in fks.values():
                key = (table, tuple(sources), ref_table, tuple(targets), on_delete, on_update)
                schema.foreign_keys[key] += 1
    return schema


PG_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       coalesce(array_position(pk.conkey, a.attnum), 0)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
"""

PG_INDEXES = """
SELECT c.relname, i.indisunique, i.indisprimary, am.amname, pg_get_expr(i.indpred, i.indrelid),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = current_schema()
"""

PG_CONSTRAINTS = """
SELECT c.relname, con.contype::text,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       rc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
       con.confdeltype::text, con.confupdtype::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
WHERE n.nspname = current_schema() AND con.contype IN ('u', 'f', 'c')
"""


async def introspect_postgres(url: str) -> DbSchema:
    import asyncpg

    schema = DbSchema()
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for row in await conn.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
        ):
            if row[0] not in BOOKKEEPING_TABLES:
                schema.tables.add(row[0])
        for table, column, type_, notnull, default, identity, generated, pk in await conn.fetch(PG_COLUMNS):
            if table in schema.tables:
                schema.columns[(table, column)] = (type_, notnull, default, pk, identity, generated)
        for table, unique, primary, method, predicate, columns in await conn.fetch(PG_INDEXES):
            if table in schema.tables:
                schema.indexes[(table, tuple(columns), unique, primary, method, predicate)] += 1
        for (
            table,
            kind,
            columns,
            ref_table,
            ref_columns,
            on_delete,
            on_update,
            definition,
        ) in await conn.fetch(PG_CONSTRAINTS):
            if table not in schema.tables:
                continue
            if kind == "u":
                schema.uniques[(table, tuple(columns))] += 1
            elif kind == "f":
                key = (
                    table,
                    tuple(columns),
                    ref_table,
                    tuple(ref_columns),
                    PG_ACTIONS[on_delete],
                    PG_ACTIONS[on_update],
                )
                schema.foreign_keys[key] += 1
            else:
                schema.checks[(table, definition)] += 1
    finally:
        await conn.close()
    return schema


async def introspect(url: str) -> DbSchema:
    return await introspect_postgres(url) if IS_POSTGRES else introspect_sqlite(url)


KINDS = {"uniques": "unique", "indexes": "index", "foreign_keys": "foreign key", "checks": "check"}


def schema_differences(migrated: DbSchema, models: DbSchema) -> list[str]:
    """Human-readable differences; empty when the two schemas are the same."""
    out: list[str] = []
    for table in sorted(migrated.tables - models.tables):
        out.append(f"table {table}: only in the migrated database")
    for table in sorted(models.tables - migrated.tables):
        out.append(f"table {table}: missing from the migrated database")
    for table in sorted(migrated.tables & models.tables):
        if migrated.table_options.get(table) != models.table_options.get(table):
            out.append(
                f"table {table}: options {migrated.table_options.get(table)} after migrating, "
                f"{models.table_options.get(table)} from the models"
            )
    for key in sorted(set(migrated.columns) | set(models.columns)):
        if key[0] not in migrated.tables & models.tables:
            continue
        got, want = migrated.columns.get(key), models.columns.get(key)
        if got != want:
            out.append(f"column {key[0]}.{key[1]}: {got} after migrating, {want} from the models")
    for kind, label in KINDS.items():
        got, want = getattr(migrated, kind), getattr(models, kind)
        for item in sorted((got - want).elements(), key=repr):
            out.append(f"{label} {item}: only in the migrated database")
        for item in sorted((want - got).elements(), key=repr):
            out.append(f"{label} {item}: missing from the migrated database")
    return out


# --- tests ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def model_schema() -> AsyncIterator[DbSchema]:
    """The schema `generate_schemas()` builds from the models."""
    async with scratch_database("models") as url:
        await generate(url)
        yield await introspect(url)


async def test_migrating_an_empty_database_gives_the_model_schema(model_schema: DbSchema) -> None:
    async with scratch_database("migrated") as url:
        await migrate(url)
        migrated = await introspect(url)
        # A second run finds nothing to do and changes nothing.
        await migrate(url)
        assert await introspect(url) == migrated

    assert migrated.tables, "the migrations created no tables"
    assert migrated.indexes, "the migrations created no indexes"
    differences = schema_differences(migrated, model_schema)
    assert not differences, "migrations and models disagree:\n" + "\n".join(differences)


async def test_comparison_reports_a_dropped_index_and_an_extra_column() -> None:
    """The comparison above can fail: drift in a migrated database is reported, and only that."""
    async with scratch_database("drift") as url:
        await migrate(url)
        clean = await introspect(url)
        await execute(url, f"DROP INDEX {await _index_name(url, 'notes', ['author_id', 'id'])}")
        await execute(url, 'ALTER TABLE "users" ADD COLUMN "nickname" VARCHAR(20)')
        differences = schema_differences(await introspect(url), clean)

    assert len(differences) == 2, differences
    assert any(d.startswith("index ('notes', ('author_id', 'id')") and "missing" in d for d in differences)
    assert any(d.startswith("column users.nickname:") for d in differences), differences


async def _index_name(url: str, table: str, columns: list[str]) -> str:
    """The name of the plain index on exactly `columns` of `table`."""
    if IS_POSTGRES:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            rows = await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND schemaname = current_schema()",
                table,
            )
        finally:
            await conn.close()
        wanted = f"({', '.join(columns)})"
        names = [name for name, definition in rows if definition.endswith(wanted)]
    else:
        with sqlite3.connect(_sqlite_path(url)) as db:
            names = [
                name
                for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
                )
                if [c[2] for c in db.execute(f'PRAGMA index_info("{name}")')] == columns
            ]
    assert len(names) == 1, names
    return f'"{names[0]}"'


async def _autodetected_changes(detector_class: type[MigrationAutodetector]) -> list[Any]:
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        assert ctx.apps is not None
        writers = await detector_class(ctx.apps, config["apps"]).changes()
    return [op for writer in writers for op in writer.operations]


async def test_models_have_no_changes_without_a_migration() -> None:
    """Like `vermilion makemigrations --check`: the migrations on disk cover every model change."""
    operations = await _autodetected_changes(MigrationAutodetector)
    assert operations == [], (
        "models/ changed without a migration; run `vermilion makemigrations`:\n"
        + "\n".join(op.describe() for op in operations)
    )


class _NoteWithoutIndexes(MigrationAutodetector):
    """Sees the models as if Note had lost its indexes."""

    def _current_state(self) -> State:
        state = super()._current_state()
        state.models[("models", "Note")].options["indexes"] = ()
        return state


async def test_autodetector_notices_a_model_change() -> None:
    """The check above can fail: a model change the migrations lack yields operations."""
    operations = await _autodetected_changes(_NoteWithoutIndexes)
    assert operations, "a removed index went unnoticed"
    assert all("Index" in type(op).__name__ for op in operations), [op.describe() for op in operations]
