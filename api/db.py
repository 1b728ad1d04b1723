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
