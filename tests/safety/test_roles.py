"""Staff roles: made on the command line (`vermilion users grant-role`), granted by admins in the API, logged,
and seen by the person themselves and by staff only."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from models import ModerationAction, ModerationActionKind, Role, User
from tests.conftest import GraphQLClient
from tests.databases import drop_postgres_database
from tests.safety.moderating import QUEUE, ROLE_GRANT, codes, person
from tests.shop import pk
from tests.test_cli import POSTGRES_SERVER, sqlite_url, vermilion

DEMOS = "WHERE target_user_id = (SELECT id FROM users WHERE handle = 'demo')"
ROLE_OF = "query($h: String!) { user(handle: $h) { handle role } }"


@pytest.fixture(params=["sqlite", "postgres"])
def cli_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database for the command line, as tests/test_cli.py makes them: a SQLite file, or a PostgreSQL
    database dropped afterwards."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    root, _, _ = POSTGRES_SERVER.rpartition("/")
    url = f"{root}/vermilion_cli_{uuid.uuid4().hex[:10]}"
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


def _row(url: str, sql: str) -> list[tuple[object, ...]]:
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            return list(conn.execute(sql).fetchall())
    return asyncio.run(_pg_rows(url, sql))


async def _pg_rows(url: str, sql: str) -> list[tuple[object, ...]]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def test_the_command_line_grants_roles_and_logs_them(cli_database: str, tmp_path: Path) -> None:
    seeded = vermilion(
        "seed", "--users", "3", "--no-progress", "--no-pictures", cwd=tmp_path, database_url=cli_database
    )
    assert seeded.returncode == 0, seeded.stderr

    granted = vermilion("users", "grant-role", "@Demo", "moderator", cwd=tmp_path, database_url=cli_database)
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.strip() == "@demo is now moderator (was user)."
    again = vermilion("users", "grant-role", "demo", "MODERATOR", cwd=tmp_path, database_url=cli_database)
    assert again.stdout.strip() == "@demo is already moderator; nothing changed."
    assert _row(cli_database, "SELECT role FROM users WHERE handle = 'demo'") == [("MODERATOR",)]
    # The demo's own moderator was granted their role by the seed; demo's entries are the command's.
    assert _row(
        cli_database, f"SELECT action, moderator_id, reason FROM moderation_actions {DEMOS} ORDER BY id"
    ) == [("ROLE_GRANTED", None, "USER → MODERATOR")]

    unknown = vermilion(
        "users", "grant-role", "nobody_here", "admin", cwd=tmp_path, database_url=cli_database
    )
    assert unknown.returncode == 1
    assert "No account has the handle 'nobody_here'" in unknown.stderr
    bad_role = vermilion("users", "grant-role", "demo", "overlord", cwd=tmp_path, database_url=cli_database)
    assert bad_role.returncode == 1
    assert "unknown role 'overlord'" in bad_role.stderr
    assert _row(cli_database, f"SELECT COUNT(*) FROM moderation_actions {DEMOS}") == [(1,)]


async def test_admins_grant_roles_in_the_api_and_nobody_else(client: GraphQLClient) -> None:
    admin = await person(client, "admin", Role.ADMIN)
    moderator = await person(client, "mod", Role.MODERATOR)
    user = await person(client, "user")

    async def grant(token: str, user_id: str, role: str, reason: str = "") -> dict[str, object]:
        data = await client.data(
            ROLE_GRANT, {"i": {"userId": user_id, "role": role, "reason": reason}}, token=token
        )
        return data["roleGrant"]  # type: ignore[no-any-return]

    assert codes(await grant(moderator["token"], user["user"]["id"], "MODERATOR")) == [(None, "FORBIDDEN")]
    assert codes(await grant(user["token"], user["user"]["id"], "ADMIN")) == [(None, "FORBIDDEN")]
    assert codes(await grant(admin["token"], admin["user"]["id"], "USER")) == [
        (("input", "userId"), "INVALID")
    ]
    assert codes(await grant(admin["token"], "VXNlcjoxOTk5OTk=", "MODERATOR")) == [
        (("input", "userId"), "NOT_FOUND")
    ]
    assert codes(await grant(admin["token"], user["user"]["id"], "MODERATOR", "x" * 1001)) == [
        (("input", "reason"), "TOO_LONG")
    ]
    assert (await User.get(id=pk(user["user"]["id"]))).role is Role.USER

    made = await grant(admin["token"], user["user"]["id"], "MODERATOR", "Volunteer for the 美妆 topic.")
    assert made["errors"] == []
    assert made["user"] == {"id": user["user"]["id"], "handle": "user", "role": "MODERATOR"}
    # The new moderator works the queue at once; demoted, they no longer can.
    assert "errors" not in await client.execute(QUEUE, {}, token=user["token"])
    assert (await grant(admin["token"], user["user"]["id"], "USER"))["errors"] == []
    refused = await client.execute(QUEUE, {}, token=user["token"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    log = await ModerationAction.filter(
        action=ModerationActionKind.ROLE_GRANTED, moderator_id=pk(admin["user"]["id"])
    )
    assert [(entry.target_user_id, entry.reason) for entry in log] == [
        (pk(user["user"]["id"]), "USER → MODERATOR: Volunteer for the 美妆 topic."),
        (pk(user["user"]["id"]), "MODERATOR → USER"),
    ]


async def test_a_role_is_seen_by_its_holder_and_by_staff_only(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    user = await person(client, "user")
    other = await person(client, "other")

    assert (await client.data("{ viewer { role } }", token=user["token"]))["viewer"] == {"role": "USER"}
    assert (await client.data("{ viewer { role } }", token=moderator["token"]))["viewer"] == {
        "role": "MODERATOR"
    }
    assert (await client.data(ROLE_OF, {"h": "mod"}, token=other["token"]))["user"] == {
        "handle": "mod",
        "role": None,
    }
    assert (await client.data(ROLE_OF, {"h": "mod"}, anonymous=True))["user"]["role"] is None
    assert (await client.data(ROLE_OF, {"h": "user"}, token=moderator["token"]))["user"]["role"] == "USER"
