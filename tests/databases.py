"""Scratch databases for tests that need one of their own (migrations, the CLI, search on both engines):
SQLite files or PostgreSQL databases with a random name, dropped afterwards."""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


def asyncpg_dsn(url: str) -> str:
    """A Tortoise `postgres://` URL as asyncpg spells it."""
    return re.sub(r"^[a-z]+://", "postgresql://", url)


async def drop_postgres_database(url: str) -> None:
    """Drop the database `url` names (connected to the server's `postgres` database), if it exists."""
    import asyncpg

    root, _, name = url.rpartition("/")
    admin = await asyncpg.connect(asyncpg_dsn(f"{root}/postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_database(tag: str, *, like: str) -> AsyncIterator[str]:
    """The URL of a new, empty database of the same kind as `like` (on its server), deleted afterwards."""
    if not like.startswith("postgres"):
        with tempfile.TemporaryDirectory(prefix=f"vermilion-{tag}-") as tmp:
            yield f"sqlite://{Path(tmp) / 'db.sqlite3'}"
        return
    import asyncpg

    root, _, _ = like.rpartition("/")
    url = f"{root}/vermilion_{tag}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(asyncpg_dsn(f"{root}/postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{url.rpartition("/")[2]}"')
    finally:
        await admin.close()
    try:
        yield url
    finally:
        await drop_postgres_database(url)
