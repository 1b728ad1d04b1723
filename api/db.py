"""Tortoise configuration shared by the app, the CLI, the migrations and the tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODEL_MODULES = ["models"]
# The engine that bounds how long a request waits for a pooled connection (api/dbpool.py).
BOUNDED_ENGINE = "api.dbpool"


@dataclass(frozen=True)
class ConnectionLimits:
    """How the server bounds its PostgreSQL work (SQLite has one connection and no such settings).

    `statement_timeout` is enforced by the server on every statement, so a query keeps no connection
    busy past it even when the request that sent it is gone. `lock_timeout` makes a statement waiting on
    a row lock fail early: a hot row then cannot hold every pool connection while writes queue for it.
    The pool timeout answers SERVICE_UNAVAILABLE when, all the same, no connection frees up in time.
    Zero turns a server-side timeout off. The CLI connects without them (migrations and reindexing may
    rightly run long)."""

    pool_size: int = 10
    pool_timeout_seconds: float = 3
    statement_timeout_seconds: float = 10
    lock_timeout_seconds: float = 3
    # The planner's cost of a page read out of order (0: the server's own). With PostgreSQL's default of
    # 4 (a spinning disk) the planner prefers reading and sorting all of a followed person's notes to
    # reading the newest few from the (author_id, id) index: 7–8 ms of the database's time for a following
    # feed page on the bench world, against 1 ms at 1.1, the usual figure for memory and SSD.
    random_page_cost: float = 1.1

    @classmethod
    def of(cls, settings: Any) -> ConnectionLimits:
        """The limits in `core.settings.Settings`."""
        return cls(
            pool_size=settings.db_pool_size,
            pool_timeout_seconds=settings.db_pool_timeout_seconds,
            statement_timeout_seconds=settings.statement_timeout_seconds,
            lock_timeout_seconds=settings.lock_timeout_seconds,
            random_page_cost=settings.db_random_page_cost,
        )


def _connection(database_url: str, limits: ConnectionLimits | None) -> str | dict[str, Any]:
    """The URL as it is, or (PostgreSQL with limits) a bounded pool with server-side timeouts."""
    if limits is None or database_url.startswith("sqlite"):
        return database_url
    from tortoise.backends.base.config_generator import expand_db_url

    info = expand_db_url(database_url)
    if info["engine"] != "tortoise.backends.asyncpg":
        return database_url
    credentials = dict(info["credentials"])
    credentials.setdefault("maxsize", limits.pool_size)  # `?maxsize=` in the URL wins
    # Opening a connection is bounded too: an unreachable server must not stall a request for asyncpg's
    # default minute.
    credentials.setdefault("timeout", max(limits.pool_timeout_seconds, 1.0))
    credentials["acquire_timeout"] = limits.pool_timeout_seconds
    credentials["server_settings"] = {
        **(credentials.get("server_settings") or {}),
        "statement_timeout": str(round(limits.statement_timeout_seconds * 1000)),
        "lock_timeout": str(round(limits.lock_timeout_seconds * 1000)),
    }
    if limits.random_page_cost:
        credentials["server_settings"]["random_page_cost"] = str(limits.random_page_cost)
    return {"engine": BOUNDED_ENGINE, "credentials": credentials}


def tortoise_config(database_url: str, limits: ConnectionLimits | None = None) -> dict[str, Any]:
    """Tortoise config for one database; migrations live in the `migrations` package. The server passes
    `limits`; scripts and the CLI do not."""
    return {
        "connections": {"default": _connection(database_url, limits)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def apply_migrations(progress: Callable[[str, str, str], object] | None = None) -> None:
    """Bring the already-initialised default connection up to the latest migration."""
    from tortoise import Tortoise, connections
    from tortoise.migrations.executor import MigrationExecutor

    if Tortoise.apps is None:
        raise RuntimeError("Tortoise.init() must run before apply_migrations()")
    apps_config = {
        "models": {"models": MODEL_MODULES, "default_connection": "default", "migrations": "migrations"}
    }
    await MigrationExecutor(connections.get("default"), apps_config).migrate(None, progress=progress)


# Reference data a migration installs and admins edit, not content: it stays when the content goes.
KEPT_TABLES = frozenset({"topic_aliases"})


async def empty_all_tables() -> None:
    """Delete every row of every model table but the reference data (KEPT_TABLES; migration bookkeeping
    stays too)."""
    from tortoise import Tortoise, connections

    tables: set[str] = set()
    for model in Tortoise.apps["models"].values():  # type: ignore[index]
        if model._meta.db_table in KEPT_TABLES:
            continue
        tables.add(model._meta.db_table)
        for name in model._meta.m2m_fields:
            tables.add(model._meta.fields_map[name].through)  # type: ignore[attr-defined]
    quoted = ", ".join(f'"{t}"' for t in sorted(tables))
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        return
    deletes = "".join(f'DELETE FROM "{t}";' for t in sorted(tables))
    names = ", ".join(f"'{t}'" for t in sorted(tables))
    # Row order across foreign keys does not matter once the checks are off for this script.
    await conn.execute_script(
        f"PRAGMA foreign_keys=OFF;{deletes}"
        f"DELETE FROM sqlite_sequence WHERE name IN ({names});PRAGMA foreign_keys=ON;"
    )
