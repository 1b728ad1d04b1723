"""The seeded world the benchmark runs on: made once with the project's seeder, reused when present.

A world is a PostgreSQL database `vermilion_bench_<scale>x` filled by `vermilion seed` (its progress bars
show), then `VACUUM ANALYZE`d. The database's comment records that it is complete (what was asked, the
rows it holds, how long seeding took): a later run finds it and reuses it. A database of that name without
the comment is reused when its users and notes are the expected counts (a seed that finished), else
seeded again from empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
SERVER = "postgres://postgres@127.0.0.1:5432"
# PERFORMANCE.md's 1× world; the seeder is asked for users, notes and products, the rest follows from them.
ONE_X = {"users": 10_000, "notes": 100_000, "products": 5_000}
PROTOCOL_1X = {
    "users": 10_000,
    "notes": 100_000,
    "products": 5_000,
    "likes": 1_000_000,
    "comments": 500_000,
    "reviews": 50_000,
    "note_products": 200_000,
    "carts": 10_000,
}
COUNTS = {
    "users": "SELECT count(*) FROM users",
    "notes": "SELECT count(*) FROM notes",
    "products": "SELECT count(*) FROM products",
    "product_variants": "SELECT count(*) FROM product_variants",
    "follows": "SELECT count(*) FROM follows",
    "likes": "SELECT count(*) FROM likes",
    "comments": "SELECT count(*) FROM comments",
    "reviews": "SELECT count(*) FROM notes WHERE review_product_id IS NOT NULL",
    "note_products": "SELECT count(*) FROM note_products",
    "carts": "SELECT count(*) FROM carts",
}


@dataclass
class World:
    database: str
    url: str
    scale: float
    asked: dict[str, int]
    rows: dict[str, int]
    seed_seconds: float | None
    seeded_at: str | None
    reused: bool

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "url": self.url}


def database_name(scale: float) -> str:
    return "vermilion_bench_" + f"{scale:g}".replace(".", "_") + "x"


def asked_for(scale: float) -> dict[str, int]:
    return {key: max(1, round(value * scale)) for key, value in ONE_X.items()}


async def _marker(database: str) -> dict[str, Any] | None:
    """The world's record, when the database exists: {} without one, None when there is no database."""
    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        row = await connection.fetchrow(
            "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1",
            database,
        )
    finally:
        await connection.close()
    if row is None:
        return None
    try:
        record = json.loads(row["comment"] or "{}")
    except ValueError:
        return {}
    return record.get("bench_http_world", {}) if isinstance(record, dict) else {}


async def _counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        return {name: int(await connection.fetchval(sql)) for name, sql in COUNTS.items()}
    finally:
        await connection.close()


async def _finish(url: str, database: str, record: dict[str, Any]) -> None:
    connection = await asyncpg.connect(url)
    try:
        print(f"VACUUM ANALYZE {database} …", flush=True)
        await connection.execute("VACUUM ANALYZE")
        comment = json.dumps({"bench_http_world": record}).replace("'", "''")
        await connection.execute(f"COMMENT ON DATABASE {database} IS '{comment}'")
    finally:
        await connection.close()


def _seed(url: str, asked: dict[str, int], reset: bool) -> float:
    command = [
        str(ROOT / ".venv" / "bin" / "vermilion"),
        "seed",
        *(
            "--users",
            str(asked["users"]),
            "--notes",
            str(asked["notes"]),
            "--products",
            str(asked["products"]),
        ),
        *(["--reset"] if reset else []),
    ]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=_env(url), check=True, stdout=sys.stdout, stderr=sys.stderr)
    return time.perf_counter() - started


def _migrate(url: str) -> None:
    command = [str(ROOT / ".venv" / "bin" / "vermilion"), "migrate"]
    subprocess.run(command, cwd=ROOT, env=_env(url), check=True, stdout=sys.stdout, stderr=sys.stderr)


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "VERMILION_DATABASE_URL": url}


async def ensure_world(scale: float) -> World:
    """The world at `scale` (1 = PERFORMANCE.md's 1×), seeded now unless a complete one is there."""
    database, asked = database_name(scale), asked_for(scale)
    url = f"{SERVER}/{database}"
    marker = await _marker(database)
    if marker and marker.get("asked") == asked:
        _migrate(url)  # a world seeded before the latest migrations gets them (a no-op otherwise)
        return World(
            database,
            url,
            scale,
            asked,
            marker["rows"],
            marker.get("seed_seconds"),
            marker.get("seeded_at"),
            reused=True,
        )
    seconds: float | None = None
    reused = False
    if marker is not None:
        try:
            counts = await _counts(url)
        except asyncpg.PostgresError:  # not even migrated
            counts = {}
        reused = counts.get("users") == asked["users"] and counts.get("notes") == asked["notes"]
    if not reused:
        print(f"Seeding {database}: {asked} …", flush=True)
        seconds = _seed(url, asked, reset=marker is not None)
    rows = await _counts(url)
    seed_seconds = round(seconds, 1) if seconds is not None else None
    seeded_at = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"asked": asked, "rows": rows, "seed_seconds": seed_seconds, "seeded_at": seeded_at}
    await _finish(url, database, record)
    return World(database, url, scale, asked, rows, seed_seconds, seeded_at, reused)
