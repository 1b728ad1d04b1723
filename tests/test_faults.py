"""Faults of the things Vermilion leans on: an answer never lies about what was stored.

Redis down or silent: a like is answered success and stored (its live event is lost, not the like);
the discovery feed keeps paging from the table and returns to Redis when it is back. The database down:
the server starts, /healthz answers 503 and requests SERVICE_UNAVAILABLE until it is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from api.app import create_app
from core.outages import Outage
from core.pubsub import RedisBroker, announce
from core.settings import Settings
from feed.snapshots import FallbackSnapshots
from models import FeedSnapshot, Like, Note, User
from tests.conftest import DATABASE_URL, IS_POSTGRES, TEST_SECRET, GraphQLClient
from tests.factories import create_note, sign_up
from tests.loopback import serve_on_loopback

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount } errors { code } } }"
FEED = """
query($after: String) {
  discoverFeed(first: 10, after: $after, interests: ["护肤", "穿搭"], seed: 3) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _redis_server(port: int) -> Iterator[str]:
    """A throwaway Redis on `port` (no persistence), stopped on exit."""
    binary = shutil.which("redis-server")
    # The suite needs Redis (scripts/test); its server binary starts the throwaway one. Missing, the
    # test fails rather than skips, so an outage test can never silently not run.
    assert binary is not None, "redis-server is not installed (Debian's redis-server package)"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if proc.poll() is not None:
                pytest.fail("redis-server exited")
            subprocess.run(["sleep", "0.1"], check=True)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _settings(**extra: Any) -> Settings:
    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=None,
        **extra,
    )


@contextlib.asynccontextmanager
async def _app_client(settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app)
    await app.state.recorder.drain()
    await app.state.broker.close()
    if isinstance(app.state.snapshots, FallbackSnapshots):
        await app.state.snapshots.close()


async def _like_through(client: GraphQLClient, note_id: str, token: str) -> httpx.Response:
    return await asyncio.wait_for(
        client.http.post(
            "/graphql",
            json={"query": LIKE, "variables": {"n": note_id}},
            headers={"Authorization": f"Bearer {token}"},
        ),
        30,  # a hang fails here
    )


async def _assert_like_told_the_truth(response: httpx.Response, title: str, fan_handle: str) -> None:
    """Success in the answer if and only if the like is stored, with the stored count."""
    note = await Note.get(title=title)
    stored = await Like.filter(note_id=note.id, user__handle=fan_handle).exists()
    body = response.json()
    succeeded = (
        response.status_code == 200 and "errors" not in body and body["data"]["noteLike"]["errors"] == []
    )
    assert succeeded == stored, body
    assert body["data"]["noteLike"]["note"]["likeCount"] == note.like_count


# --- the database connection lost ---------------------------------------------------------------------


async def test_a_like_stored_but_not_read_back_is_answered_success(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    from schema.loaders import Loaders

    author = await sign_up(client, "writer")
    fan = await sign_up(client, "reader")
    note = await create_note(client, author["token"], title="失联")
    # The connection drops after the like's commit, when its note is read back for the payload.
    original = Loaders._notes_by_id

    async def notes_by_id(self: Loaders, ids: Any) -> Any:
        if await Like.filter(note__title="失联").exists():
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        return await original(self, ids)

    monkeypatch.setattr(Loaders, "_notes_by_id", notes_by_id)

    response = await _like_through(client, note["id"], fan["token"])

    assert await Like.filter(note__title="失联", user__handle="reader").exists()
    assert response.status_code == 200
    assert response.json()["data"]["noteLike"] == {"note": None, "errors": []}


async def test_a_mutation_whose_connection_is_lost_before_it_ends_is_a_503_that_claims_nothing(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    from social import engagement

    author = await sign_up(client, "writer")
    fan = await sign_up(client, "reader")
    note = await create_note(client, author["token"], title="断开")

    async def lost(**kwargs: Any) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(engagement, "notify", lost)

    response = await _like_through(client, note["id"], fan["token"])

    body = response.json()
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "may or may not have been saved" in body["errors"][0]["message"]
    assert not await Like.filter(note__title="断开").exists()  # here it was rolled back


async def test_a_field_failing_below_a_stored_mutation_leaves_its_success_standing(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import schema.loaders
    from core.errors import RequestCode, RequestRefused

    author = await sign_up(client, "writer")
    fan = await sign_up(client, "reader")
    note = await create_note(client, author["token"], title="半途")

    fetch_rows = schema.loaders.fetch_rows

    async def topics_unavailable(sql: str, *args: Any, **kwargs: Any) -> Any:
        if "note_topics" in sql:
            raise RequestRefused(RequestCode.SERVICE_UNAVAILABLE, "The service is busy.", http_status=503)
        return await fetch_rows(sql, *args, **kwargs)

    # After the like is stored, a note's topics can no longer be read; the note itself still can.
    monkeypatch.setattr(schema.loaders, "fetch_rows", topics_unavailable)
    response = await client.http.post(
        "/graphql",
        json={
            "query": "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount topics { name } } errors { code } } }",
            "variables": {"n": note["id"]},
        },
        headers={"Authorization": f"Bearer {fan['token']}"},
    )

    body = response.json()
    # The like is stored, so the answer says so: 200, the payload without errors, the field's error coded.
    assert await Like.filter(note__title="半途").exists()
    assert response.status_code == 200
    assert (
        body["data"]["noteLike"] == {"note": None, "errors": []} or body["data"]["noteLike"]["errors"] == []
    )
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["errors"][0]["path"][:2] == ["noteLike", "note"]


async def test_a_session_check_whose_connection_is_lost_is_a_coded_503(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    import schema.context

    fan = await sign_up(client, "reader")

    async def lost(claims: Any) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(schema.context, "session_user", lost)
    response = await client.http.post(
        "/graphql",
        json={"query": "{ viewer { handle } }"},
        headers={"Authorization": f"Bearer {fan['token']}"},
    )

    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


@contextlib.asynccontextmanager
async def _server_connections() -> AsyncIterator[None]:
    """Tortoise connected the way the server connects to PostgreSQL (`api.dbpool`, with limits)."""
    from tortoise.context import TortoiseContext

    from api.db import ConnectionLimits, tortoise_config

    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(DATABASE_URL, ConnectionLimits()))
        yield


def _drop_during_commit(monkeypatch: pytest.MonkeyPatch, *, after_commit: bool) -> list[str]:
    """The next outermost COMMIT loses its connection: after the server committed (only the answer is
    lost) or before it got there (the server rolls back when the connection closes)."""
    import asyncpg
    from asyncpg.transaction import Transaction

    original = Transaction.commit
    dropped: list[str] = []

    async def commit(self: Transaction) -> None:
        if self._nested or dropped:
            return await original(self)
        if after_commit:
            await original(self)
        dropped.append("after" if after_commit else "before")
        self._connection.terminate()
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(Transaction, "commit", commit)
    return dropped


@pytest.mark.skipif(not IS_POSTGRES, reason="txid_status and the server's pool are PostgreSQL's")
@pytest.mark.parametrize("after_commit", [True, False], ids=["committed", "rolled-back"])
async def test_a_commit_whose_answer_is_lost_is_settled_by_asking_the_database(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, after_commit: bool
) -> None:
    author = await sign_up(client, "writer")
    fan = await sign_up(client, "reader")
    note = await create_note(client, author["token"], title="悬而未决")

    async with _server_connections():
        dropped = _drop_during_commit(monkeypatch, after_commit=after_commit)
        response = await _like_through(client, note["id"], fan["token"])
        monkeypatch.undo()

    assert dropped == ["after" if after_commit else "before"]
    stored = await Like.filter(note__title="悬而未决", user__handle="reader").exists()
    assert stored is after_commit
    body = response.json()
    if after_commit:
        # The database says the like committed: the answer is the success it was.
        assert response.status_code == 200, body
        assert body["data"]["noteLike"] == {"note": {"likeCount": 1}, "errors": []}
        await _assert_like_told_the_truth(response, "悬而未决", "reader")
    else:
        # The database says it rolled back: a 503 that says plainly nothing was saved.
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        [error] = body["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "nothing was saved" in error["message"]


# --- Redis down: events are best effort ---------------------------------------------------------------


async def test_a_like_with_redis_unreachable_is_answered_success_and_stored(client: GraphQLClient) -> None:
    author = await sign_up(client, "writer")
    fan = await sign_up(client, "reader")
    note = await create_note(client, author["token"], title="断线")

    async with _app_client(_settings(VERMILION_REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0")) as down:
        response = await _like_through(down, note["id"], fan["token"])
        await _assert_like_told_the_truth(response, "断线", "reader")
        second = await _like_through(down, note["id"], author["token"])  # while the outage is remembered
        await _assert_like_told_the_truth(second, "断线", "writer")

    assert response.status_code == 200
    assert response.json()["data"]["noteLike"] == {"note": {"likeCount": 1}, "errors": []}
    assert (await Note.get(title="断线")).like_count == 2


async def test_a_like_with_a_redis_that_stopped_answering_is_answered_success_and_stored(
    client: GraphQLClient,
) -> None:
    author = await sign_up(client, "writer")
    fan = await sign_up(client, "reader")
    note = await create_note(client, author["token"], title="沉默")
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepts, reads, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with _app_client(_settings(VERMILION_REDIS_URL=f"redis://127.0.0.1:{port}/0")) as silent_redis:
            response = await _like_through(silent_redis, note["id"], fan["token"])
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()

    await _assert_like_told_the_truth(response, "沉默", "reader")
    assert response.json()["data"]["noteLike"] == {"note": {"likeCount": 1}, "errors": []}


async def test_publishing_never_raises_and_an_outage_is_remembered_briefly() -> None:
    ticks = [0.0]
    outage = Outage("Redis (test)", retry_after=5, clock=lambda: ticks[0])
    broker = RedisBroker(f"redis://127.0.0.1:{_closed_port()}/0", outage=outage)
    try:
        await broker.publish("vermilion:test", {"a": 1})  # refused: logged, not raised
        assert outage.down and outage.skip()
        ticks[0] = 6.0
        assert not outage.skip()  # time to try again
        await broker.publish("vermilion:test", {"a": 2})
        assert outage.skip()
    finally:
        await broker.close()

    class Broken:
        async def publish(self, channel: str, message: dict[str, Any]) -> None:
            raise RuntimeError("a broker of any kind may fail")

    await announce(Broken(), "vermilion:test", {"a": 3})  # type: ignore[arg-type]


# --- the discovery feed through a Redis outage --------------------------------------------------------


async def _page(client: GraphQLClient, after: str | None) -> tuple[list[str], str | None]:
    feed = (await client.data(FEED, {"after": after}, anonymous=True))["discoverFeed"]
    return [e["node"]["id"] for e in feed["edges"]], feed["pageInfo"]["endCursor"]


async def _feed_keys(url: str) -> int:
    r = redis.Redis.from_url(url)
    try:
        return len([k async for k in r.scan_iter("vermilion:feed:*")])
    finally:
        await r.aclose()


async def test_the_feed_pages_through_a_redis_outage_and_returns_to_redis(demo_user: User) -> None:
    port = _closed_port()
    with _redis_server(port) as url:
        async with _app_client(_settings(VERMILION_REDIS_URL=url)) as client:
            store: FallbackSnapshots = client.app.state.snapshots
            store.outage.retry_after = 0  # try Redis on every call: the test decides when it is back
            first, cursor = await _page(client, None)
            assert await _feed_keys(url) == 1 and await FeedSnapshot.all().count() == 0

    # Redis is gone: a cursor of a session kept there starts a fresh session instead of failing,
    # and new sessions are kept in the table, their pages continuing without repeats.
    async with _app_client(_settings(VERMILION_REDIS_URL=url)) as client:
        client.app.state.snapshots.outage.retry_after = 0
        continued, _ = await _page(client, cursor)
        assert continued
        down_first, down_cursor = await _page(client, None)
        down_second, down_cursor = await _page(client, down_cursor)
        assert await FeedSnapshot.all().count() >= 1
        assert down_first and down_second and not set(down_first) & set(down_second)

        # Redis is back: the table's cursor still pages on, and new sessions go to Redis again.
        with _redis_server(port):
            down_third, _ = await _page(client, down_cursor)
            assert down_third and not set(down_third) & (set(down_first) | set(down_second))
            tables_before = await FeedSnapshot.all().count()
            await _page(client, None)
            assert await _feed_keys(url) == 1
            assert await FeedSnapshot.all().count() == tables_before
    assert len(first) == 10


# --- the database down at start-up --------------------------------------------------------------------

SERVER = """
import socket, sys
import uvicorn
from api.app import create_app
from core.settings import Settings

fd, url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = Settings(VERMILION_DATABASE_URL=url, VERMILION_SECRET_KEY=secret, VERMILION_ENV="development",
                    VERMILION_SWEEP_INTERVAL_SECONDS=0, VERMILION_DB_POOL_TIMEOUT_SECONDS=1)
uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning")).run(sockets=[socket.socket(fileno=fd)])
"""


async def _forward(port: int, target: tuple[str, int]) -> asyncio.Server:
    """A TCP relay on `port` to `target`: the database "comes up" at the address the server knows."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*target)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    return await asyncio.start_server(relay, "127.0.0.1", port)


@pytest.mark.skipif(
    not IS_POSTGRES,
    reason="SQLite is a file opened in the server's own process: no database server to be down",
)
async def test_the_server_starts_with_the_database_down_and_is_healthy_once_it_is_up(db: str) -> None:
    from urllib.parse import urlsplit

    real = urlsplit(DATABASE_URL)
    port = _closed_port()
    behind_relay = DATABASE_URL.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{port}", 1)
    query = {"query": "{ trendingTopics(first: 3) { name } }"}

    with serve_on_loopback(
        "server",
        SERVER,
        [behind_relay, TEST_SECRET],
        lambda base: httpx.get(f"{base}/healthz", timeout=5).status_code == 503,  # started, database down
        timeout=30,
        cwd=ROOT,
    ) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            refused = await http.post("/graphql", json=query)
            assert refused.status_code == 503
            assert refused.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

            relay = await _forward(port, (real.hostname or "127.0.0.1", real.port or 5432))
            try:
                for _ in range(100):  # bounded: the next health check connects
                    health = await http.get("/healthz")
                    if health.status_code == 200:
                        break
                    await asyncio.sleep(0.1)
                assert health.json() == {"status": "ok", "database": "up"}
                answered = await http.post("/graphql", json=query)
                assert answered.status_code == 200 and "errors" not in answered.json()
            finally:
                relay.close()
