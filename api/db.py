"""Tortoise configuration shared by the app, the CLI, the migrations and the tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MODEL_MODULES = ["models"]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """Tortoise config for one database; migrations live in the `migrations` package."""
    return {
        "connections": {"default": database_url},
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


async def empty_all_tables() -> None:
    """Delete every row of every model table (migration bookkeeping stays)."""
    from tortoise import Tortoise, connections

    tables: set[str] = set()
    for model in Tortoise.apps["models"].values():  # type: ignore[index]
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
