"""Time limits: a request's wall-clock budget, PostgreSQL's statement and lock timeouts, the pool's
acquire timeout, and a bounded graceful shutdown. No request may hang a worker or a client."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.app import create_app
from api.db import BOUNDED_ENGINE, ConnectionLimits, tortoise_config
from api.timeouts import RequestTimeoutMiddleware
from core.settings import Settings
from models import Like, Note
from schema.timeouts import refusal_for
from social import engagement
from tests.conftest import DATABASE_URL, IS_POSTGRES, TEST_SECRET, GraphQLClient
from tests.databases import asyncpg_dsn
from tests.factories import create_note, sign_up
from tests.live_server import live_server
from tests.loopback import free_port, wait_until_healthy

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount } errors { code } } }"
ONLY_POSTGRES = pytest.mark.skipif(
    not IS_POSTGRES,
    reason="row locks, statement/lock timeouts and a connection pool are PostgreSQL's; SQLite has one "
    "connection that serialises every statement and no row locks to wait on (STACK-NOTES)",
)


# --- the request's wall-clock budget ------------------------------------------------------------------


def _tiny_app(seconds: float) -> Starlette:
    async def slow(request: Request) -> PlainTextResponse:
        await asyncio.Event().wait()  # never set: only the budget ends this
        return PlainTextResponse("unreachable")

    async def fast(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def own_timeout(request: Request) -> PlainTextResponse:
        raise TimeoutError("a timeout of the endpoint's own")

    app = Starlette(routes=[Route("/slow", slow), Route("/fast", fast), Route("/own", own_timeout)])
    return RequestTimeoutMiddleware(app, seconds=seconds)  # type: ignore[return-value]


async def test_the_budget_stops_a_request_with_503_timeout_and_spares_quick_ones() -> None:
    transport = httpx.ASGITransport(app=_tiny_app(0.2), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        slow = await asyncio.wait_for(http.get("/slow"), 30)  # a hang would fail here, not time out
        fast = await http.get("/fast")
        own = await http.get("/own")

    assert slow.status_code == 503
    assert slow.headers["retry-after"] == "1"
    [error] = slow.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT", "timeoutSeconds": 0.2}
    assert (fast.status_code, fast.text) == (200, "ok")
    assert own.status_code == 500  # the app's own TimeoutError is an ordinary error, not the budget


@pytest.fixture
async def hasty(db: str) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to an app whose requests have half a second each."""
    settings = Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=None,
        VERMILION_REQUEST_TIMEOUT_SECONDS=0.5,
    )
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http
    await app.state.recorder.drain()


async def test_a_mutation_stopped_by_the_budget_answers_timeout_and_keeps_nothing(
    client: GraphQLClient, hasty: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = await sign_up(client, "author")  # set up at the usual budget: hashing takes its time
    fan = await sign_up(client, "fan")
    note = await create_note(client, author["token"], title="慢慢来")
    stalled = asyncio.Event()

    async def stall(**_: Any) -> None:
        stalled.set()  # the like and its counter are written, uncommitted
        await asyncio.Event().wait()

    # Inside the like's transaction, after its writes: the notification never finishes.
    monkeypatch.setattr(engagement, "notify", stall)
    response = await asyncio.wait_for(
        hasty.post(
            "/graphql",
            json={"query": LIKE, "variables": {"n": note["id"]}},
            headers={"Authorization": f"Bearer {fan['token']}"},
        ),
        30,
    )

    assert stalled.is_set()
    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    # The transaction rolled back: no like, no count.
    monkeypatch.undo()
    assert await Like.all().count() == 0
    assert (await Note.get(title="慢慢来")).like_count == 0
    again = await client.data(LIKE, {"n": note["id"]}, token=fan["token"])
    assert again["noteLike"] == {"note": {"likeCount": 1}, "errors": []}


# --- database time limits -----------------------------------------------------------------------------


def test_the_server_connects_to_postgresql_with_limits_and_the_cli_without() -> None:
    url = "postgres://app:secret@db.internal:5432/vermilion"
    limits = ConnectionLimits(
        pool_size=10, pool_timeout_seconds=2, statement_timeout_seconds=10, lock_timeout_seconds=2.5
    )

    server = tortoise_config(url, limits)["connections"]["default"]

    assert server["engine"] == BOUNDED_ENGINE
    credentials = server["credentials"]
    assert (credentials["host"], credentials["database"], credentials["password"]) == (
        "db.internal",
        "vermilion",
        "secret",
    )
    assert (credentials["maxsize"], credentials["acquire_timeout"]) == (10, 2)
    assert credentials["server_settings"] == {
        "statement_timeout": "10000",
        "lock_timeout": "2500",
        "random_page_cost": "1.1",
    }
    # A page cost of 0 leaves the database server's own.
    unset = tortoise_config(url, ConnectionLimits(random_page_cost=0))["connections"]["default"]
    assert "random_page_cost" not in unset["credentials"]["server_settings"]
    # A pool size in the URL wins; SQLite and the CLI's connections stay as they were.
    assert (
        tortoise_config(url + "?maxsize=4", limits)["connections"]["default"]["credentials"]["maxsize"] == "4"
    )
    assert (
        tortoise_config("sqlite://data/x.sqlite3", limits)["connections"]["default"]
        == "sqlite://data/x.sqlite3"
    )
    assert tortoise_config(url)["connections"]["default"] == url


def test_database_time_limits_become_refusals_of_the_request() -> None:
    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    wrapped = RuntimeError("while liking")
    wrapped.__cause__ = PgError("55P03")

    statement = refusal_for(PgError("57014"))
    lock = refusal_for(wrapped)

    assert statement is not None and lock is not None
    assert (statement.extensions["code"], statement.http_status) == ("TIMEOUT", 503)
    assert (lock.extensions["code"], lock.http_status) == ("SERVICE_UNAVAILABLE", 503)
    assert refusal_for(PgError("23505")) is None  # a unique violation is not a time limit
    assert refusal_for(ValueError("x")) is None


def test_a_lost_database_connection_is_service_unavailable_worded_as_unknown_outcome() -> None:
    import asyncpg

    lost = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    closed = RuntimeError("rollback failed")
    closed.__context__ = asyncpg.InterfaceError(
        "cannot call Transaction.rollback(): the underlying connection is closed"
    )

    at_root = refusal_for(lost)
    nested = refusal_for(closed, root=False)

    assert at_root is not None and nested is not None
    assert (at_root.extensions["code"], at_root.http_status) == ("SERVICE_UNAVAILABLE", 503)
    assert "may or may not have been saved" in at_root.message
    # Below a root field (after a mutation's change was stored) it is a coded field error only.
    assert (nested.extensions["code"], nested.http_status) == ("SERVICE_UNAVAILABLE", None)
    assert (
        refusal_for(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))
        is None
    )


@ONLY_POSTGRES
async def test_timeouts_and_the_page_cost_are_set_on_the_servers_connections(db: str) -> None:
    from tortoise import connections
    from tortoise.context import TortoiseContext

    limits = ConnectionLimits(statement_timeout_seconds=7, lock_timeout_seconds=2, random_page_cost=1.5)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(DATABASE_URL, limits))
        rows = await connections.get("default").execute_query_dict(
            "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l,"
            " current_setting('random_page_cost') AS r"
        )
    assert rows == [{"s": "7s", "l": "2s", "r": "1.5"}]


@ONLY_POSTGRES
async def test_a_released_connection_sends_no_reset_statement_but_ends_an_open_transaction(db: str) -> None:
    from tortoise import connections
    from tortoise.context import TortoiseContext

    limits = ConnectionLimits(pool_size=1)
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(DATABASE_URL, limits))
        client = connections.get("default")
        await client.execute_query("SELECT 1")  # the pool opens
        pool = client._pool
        async with pool.acquire() as connection:
            sent: list[str] = []
            connection.add_query_logger(lambda record: sent.append(record.query))
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            await connection.execute("BEGIN")
            await connection.execute("SELECT 1")
        async with pool.acquire() as again:
            same = await again.fetchval("SELECT pg_backend_pid()")
            in_transaction = again.is_in_transaction()

    # The one connection came back without `RESET ALL` & co., but not inside the transaction left open.
    assert same == backend and not in_transaction
    assert not any("RESET ALL" in query for query in sent)
    assert "ROLLBACK" in sent


async def _locked(note_id: int) -> Any:
    """A connection of another program holding the note's row lock (until it is closed)."""
    import asyncpg

    holder = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    await holder.execute("BEGIN")
    await holder.execute("SELECT id FROM notes WHERE id = $1 FOR UPDATE", note_id)
    return holder


async def _post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


@ONLY_POSTGRES
async def test_writes_queued_on_one_row_lock_leave_unrelated_reads_an_answer(db: str) -> None:
    # Given a server with a pool of 10, and 60 likes of one note waiting on that note's row lock
    env = {"VERMILION_DB_POOL_SIZE": "10", "VERMILION_DB_POOL_TIMEOUT_SECONDS": "1"}
    with live_server(DATABASE_URL, migrate=False, env=env) as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            client = GraphQLClient(http)
            author = await sign_up(client, "hot")
            fan = await sign_up(client, "crowd")
            hot = await create_note(client, author["token"], title="热门")
            quiet = await create_note(client, author["token"], title="安静")
            note_pk = (await Note.get(title="热门")).id
            holder = await _locked(note_pk)
            try:
                writes = [
                    asyncio.create_task(_post(http, LIKE, {"n": hot["id"]}, fan["token"])) for _ in range(60)
                ]
                await asyncio.sleep(0.5)  # let them take the pool (the answer below must not depend on it)

                # When an unrelated read comes in
                read = await asyncio.wait_for(
                    _post(http, "query($n: ID!) { note(id: $n) { title } }", {"n": quiet["id"]}, None), 30
                )
            finally:
                await holder.close()  # the lock goes; the writes still queued may now go through
            answers = await asyncio.wait_for(asyncio.gather(*writes), 60)

    # Then it is answered (within seconds: the bound above would fail otherwise): data, or a plain refusal
    if "errors" in read.json():
        assert read.status_code == 503
        assert read.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    else:
        assert read.json()["data"] == {"note": {"title": "安静"}}
    # And every write answered: success, or a refusal with a code a client retries on.
    codes = set()
    for answer in answers:
        body = answer.json()
        if body.get("errors"):
            codes.add(body["errors"][0]["extensions"]["code"])
        else:
            assert answer.status_code == 200
            assert body["data"]["noteLike"]["errors"] == []
            codes.add("OK")
    assert codes <= {"OK", "SERVICE_UNAVAILABLE", "TIMEOUT"}
    stored = await Like.filter(note_id=note_pk).count()
    assert stored == (1 if "OK" in codes else 0)
    assert (await Note.get(id=note_pk)).like_count == stored


# --- graceful shutdown --------------------------------------------------------------------------------


@ONLY_POSTGRES
async def test_sigterm_ends_the_server_in_bounded_time_while_a_request_waits(db: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "VERMILION_DATABASE_URL": DATABASE_URL,
        "VERMILION_SECRET_KEY": TEST_SECRET,
        "VERMILION_ENV": "development",
        # Nothing but the shutdown bound may end the waiting request.
        "VERMILION_REQUEST_TIMEOUT_SECONDS": "600",
        "VERMILION_LOCK_TIMEOUT_SECONDS": "0",
        "VERMILION_STATEMENT_TIMEOUT_SECONDS": "0",
        "VERMILION_SWEEP_INTERVAL_SECONDS": "0",
    }
    vermilion = str(Path(sys.executable).with_name("vermilion"))
    command = [vermilion, "serve", "--port", str(port), "--timeout-graceful-shutdown", "1"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: ASYNC220 (started once, not awaited)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            await wait_until_healthy(http)
            client = GraphQLClient(http)
            author = await sign_up(client, "closer")
            note = await create_note(client, author["token"], title="最后一条")
            holder = await _locked((await Note.get(title="最后一条")).id)
            try:
                waiting = asyncio.create_task(_post(http, LIKE, {"n": note["id"]}, author["token"]))
                await asyncio.sleep(0.5)  # the like is now waiting on the lock
                server.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(asyncio.to_thread(server.wait), 30)
            finally:
                await holder.close()
            outcome = await asyncio.gather(waiting, return_exceptions=True)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    # Uvicorn ends a graceful shutdown by re-raising the signal it caught.
    assert code in (0, -signal.SIGTERM)
    assert not isinstance(outcome[0], httpx.Response) or outcome[0].status_code != 200
    assert await Like.all().count() == 0  # the cancelled like rolled back
