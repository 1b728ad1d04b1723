"""The `vermilion` command, run for real in subprocesses against scratch databases."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from demo.population import DEMO_ACCOUNTS
from tests.databases import drop_postgres_database
from tests.loopback import free_port
from tests.test_schema_export import printed_schema

BIN = Path(sys.executable).parent / "vermilion"
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "api.cli"]


def vermilion(
    *args: str, cwd: Path, database_url: str | None = None, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI from `cwd` (so no project .env applies) with a clean Vermilion environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "STRIPE_"))}
    env["VERMILION_ENV"] = "development"
    if database_url:
        env["VERMILION_DATABASE_URL"] = database_url
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'cli.sqlite3'}"


# The CLI is tried on both kinds in every run: scripts/test provides PostgreSQL to both passes.
POSTGRES_SERVER = os.environ.get("VERMILION_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", "postgres"])
def cli_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for the CLI: a SQLite file, or a PostgreSQL database
    name that does not exist yet, dropped afterwards."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    root, _, _ = POSTGRES_SERVER.rpartition("/")
    url = f"{root}/vermilion_cli_{uuid.uuid4().hex[:10]}"
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


def row_counts(url: str) -> dict[str, int]:
    """Rows per table, Tortoise's bookkeeping and FTS5's internal segment tables aside (their row counts
    follow the history of merges, not the data; `search_fts` itself counts the indexed documents)."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            tables = [
                name
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not name.startswith(("sqlite_", "search_fts_")) and name != "tortoise_migrations"
            ]
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    return asyncio.run(_postgres_row_counts(url))


async def _postgres_row_counts(url: str) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'tortoise_migrations'"
            )
        ]
        return {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
    finally:
        await conn.close()


# --- migrate ----------------------------------------------------------------------------------------


def test_migrate_creates_the_default_sqlite_file_and_is_repeatable(tmp_path: Path) -> None:
    first = vermilion("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Created directory data" in first.stdout
    assert "Applied models.0001_initial" in first.stdout
    assert (tmp_path / "data" / "vermilion.sqlite3").exists()

    second = vermilion("migrate", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Applied" not in second.stdout
    assert "No migrations to apply" in second.stdout


def test_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    result = vermilion("migrate", cwd=tmp_path, database_url="postgres://ghost:secret@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot connect to postgres://ghost:***@127.0.0.1:1/nowhere: ")
    assert "secret" not in result.stderr


@pytest.mark.parametrize("cli_database", ["postgres"], indirect=True)
def test_migrate_creates_a_missing_postgres_database(cli_database: str, tmp_path: Path) -> None:
    first = vermilion("migrate", cwd=tmp_path, database_url=cli_database)
    assert first.returncode == 0, first.stderr
    assert f"Created database {cli_database.rpartition('/')[2]}" in first.stdout
    assert "Applied models.0001_initial" in first.stdout

    second = vermilion("migrate", cwd=tmp_path, database_url=cli_database)
    assert second.returncode == 0, second.stderr
    assert "Created" not in second.stdout and "Applied" not in second.stdout
    assert "No migrations to apply" in second.stdout


def test_makemigrations_check_finds_no_pending_model_changes(tmp_path: Path) -> None:
    result = vermilion("makemigrations", "--check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


# --- schema -----------------------------------------------------------------------------------------


def test_export_schema_writes_the_printed_schema(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    result = vermilion("export-schema", "--output", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == printed_schema()

    to_stdout = vermilion("export-schema", "--output", "-", cwd=tmp_path)
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout == printed_schema()


def test_check_schema_fails_with_a_diff_when_out_of_date(tmp_path: Path) -> None:
    schema_file = tmp_path / "schema.graphql"
    schema_file.write_text(printed_schema(), encoding="utf-8")
    assert vermilion("check-schema", cwd=tmp_path).returncode == 0

    schema_file.write_text(printed_schema().replace("type Query", "type Query @deprecated", 1))
    result = vermilion("check-schema", cwd=tmp_path)
    assert result.returncode == 1
    assert "-type Query @deprecated" in result.stdout
    assert "run `vermilion export-schema`" in result.stderr


# --- seed -------------------------------------------------------------------------------------------


def test_seed_refuses_a_seeded_database_unless_told(cli_database: str, tmp_path: Path) -> None:
    url = cli_database
    first = vermilion(
        "seed", "--users", "12", "--no-progress", "--no-pictures", cwd=tmp_path, database_url=url
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Applied models.0001_initial" in first.stdout  # seeding migrates first
    assert "GraphiQL: http://127.0.0.1:8000/graphql" in first.stdout
    assert all(account.email in first.stdout for account in DEMO_ACCOUNTS)  # sign-in accounts shown
    counts = row_counts(url)
    assert counts["users"] >= 12

    again = vermilion(
        "seed", "--users", "12", "--no-progress", "--no-pictures", cwd=tmp_path, database_url=url
    )
    assert again.returncode == 1
    assert "already has data" in again.stderr

    kept = vermilion("seed", "--if-empty", "--no-progress", cwd=tmp_path, database_url=url)
    assert kept.returncode == 0, kept.stderr
    assert "already seeded" in kept.stdout
    assert row_counts(url) == counts

    reset = vermilion(
        "seed", "--users", "12", "--reset", "--no-progress", "--no-pictures", cwd=tmp_path, database_url=url
    )
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert row_counts(url) == counts  # the same seed gives the same data, not twice as much


FAKE_DEMO_SEED = '''
"""Stands in for demo.seed: one user per --users, so that the CLI's own logic can be checked."""
from dataclasses import dataclass, field

from models import User


@dataclass
class SeedSummary:
    rows: dict = field(default_factory=dict)

    def lines(self):
        return [f"users {self.rows['users']}", "fake0@example.com  password demo-password"]


async def database_is_empty() -> bool:
    return not await User.exists()


async def seed_database(*, users=60, notes=None, products=None, seed=7, progress=True, pictures=False, media_storage=None):
    for i in range(users):
        await User.create(
            email=f"fake{i}@example.com", handle=f"fake{i}", display_name="Fake", password_hash="-"
        )
    return SeedSummary(rows={"users": await User.all().count()})
'''


def test_seed_command_logic_with_a_stand_in_demo_module(cli_database: str, tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    (fake / "demo").mkdir(parents=True)
    (fake / "demo" / "__init__.py").write_text("")
    (fake / "demo" / "seed.py").write_text(textwrap.dedent(FAKE_DEMO_SEED))
    url = cli_database

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return vermilion("seed", "--no-progress", *args, cwd=tmp_path, database_url=url, pythonpath=fake)

    first = run("--users", "3")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "fake0@example.com" in first.stdout and "demo-password" in first.stdout
    assert row_counts(url)["users"] == 3

    refused = run("--users", "3")
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0 and "--reset" in refused.stderr
    assert row_counts(url)["users"] == 3

    kept = run("--if-empty")
    assert (kept.returncode, row_counts(url)["users"]) == (0, 3)
    assert "already seeded" in kept.stdout

    reset = run("--reset", "--users", "2")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert row_counts(url)["users"] == 2

    both = run("--reset", "--if-empty")
    assert both.returncode == 2


# --- serve ------------------------------------------------------------------------------------------


def test_serve_migrates_runs_one_worker_on_sqlite_and_answers(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "STRIPE_"))}
    env.update(VERMILION_DATABASE_URL=url, VERMILION_ENV="development")
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*COMMAND, "serve", "--port", str(port), "--workers", "3", "--migrate"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, log.read_text()
        assert health.status_code == 200, health.text
        answer = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=5)
        assert answer.json()["data"] == {"__typename": "Query"}
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log.read_text()
    assert "SQLite allows one writer process; starting 1 worker" in output
    assert "Applied models.0001_initial" in output


def test_sweep_reservations_reports_what_it_did(tmp_path: Path) -> None:
    assert vermilion("migrate", cwd=tmp_path).returncode == 0
    swept = vermilion("sweep-reservations", cwd=tmp_path)
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.strip() == (
        "0 expired order(s) cancelled and their stock released; 0 found paid; 0 left for the next sweep."
    )
