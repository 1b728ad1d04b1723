"""Running Vermilion: JSON log lines and the access line, Prometheus metrics at /metrics, and
OpenTelemetry traces — each seen from outside, through HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.types import Message

from api.app import create_app
from api.metrics import MAX_OPERATION_NAMES
from core.ids import parse_global_id
from core.settings import Settings
from social import engagement
from tests.conftest import DATABASE_URL, GENEROUS_LIMITS, IS_POSTGRES, TEST_SECRET, GraphQLClient
from tests.factories import create_note, sign_up
from tests.loopback import free_port, wait_until_healthy

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
PROBE = "query Probe { __typename }"
FEED = "query Feed { followingFeed(first: 5) { edges { node { id } } } }"
LIKE = "mutation Like($n: ID!) { noteLike(noteId: $n) { note { likeCount } errors { code } } }"
LIKES = "subscription Likes($n: ID!) { noteLikeCount(noteId: $n) { likeCount } }"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes the process's root handler: put it back as it was."""
    root = logging.getLogger()
    saved = (root.level, [(handler, handler.formatter) for handler in root.handlers])
    yield
    root.setLevel(saved[0])
    root.handlers[:] = [handler for handler, _ in saved[1]]
    for handler, formatter in saved[1]:
        handler.setFormatter(formatter)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with metrics on (they are off unless asked for)."""
    return settings.model_copy(update={"metrics": True})


def build(settings: Settings, **changes: Any) -> Starlette:
    """An app with these settings changed (metrics on unless said otherwise)."""
    return create_app(settings.model_copy(update={"metrics": True, **changes}), manage_database=False)


def http_to(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def json_app(db: str, settings: Settings, restore_logging: None) -> AsyncIterator[GraphQLClient]:
    app = build(settings, log_format="json")
    async with http_to(app) as http:
        yield GraphQLClient(http, app)
    await app.state.recorder.drain()


def json_lines(err: str) -> list[dict[str, Any]]:
    """Every line written to stderr, each of which must be a JSON object."""
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def access_lines(err: str) -> list[dict[str, Any]]:
    return [line for line in json_lines(err) if line["logger"] == "vermilion.access"]


# --- logs -------------------------------------------------------------------------------------------


async def test_json_logs_carry_one_access_line_per_request(
    json_app: GraphQLClient, capsys: pytest.CaptureFixture[str]
) -> None:
    author = await sign_up(json_app, "lumen")
    await create_note(json_app, author["token"])
    capsys.readouterr()

    response = await json_app.http.post(
        "/graphql",
        json={"query": FEED},
        headers={"X-Request-ID": "feed-1", "Authorization": f"Bearer {author['token']}"},
    )
    assert response.status_code == 200 and "errors" not in response.json()
    body = response.json()

    [line] = access_lines(capsys.readouterr().err)
    assert set(line) >= {"timestamp", "level", "logger", "message", "request_id"}
    assert line["level"] == "INFO" and line["request_id"] == "feed-1"
    assert line["operation_name"] == "Feed" and line["operation_type"] == "query"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    # The figures the response reports, as the client saw them.
    assert line["sql_statements"] == body["extensions"]["sqlStatements"] > 0
    cost = body["extensions"]["cost"]
    assert (line["cost_requested"], line["cost_actual"]) == (
        cost["requestedQueryCost"],
        cost["actualQueryCost"],
    )
    assert line["cost_requested"] > 0
    assert line["error_codes"] == []
    assert ("User", line["viewer_id"]) == parse_global_id(author["user"]["id"])


async def test_refused_requests_log_their_status_and_codes(
    json_app: GraphQLClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    refused = await json_app.http.post(
        "/graphql", json={"query": PROBE}, headers={"Authorization": "Bearer not-a-token"}
    )
    broken = await json_app.http.post("/graphql", json={"query": "query Broken { __typ"})
    anonymous = await json_app.http.post("/graphql", json={"query": "{ __typename }"})
    assert (refused.status_code, broken.status_code, anonymous.status_code) == (401, 200, 200)

    err = capsys.readouterr().err
    lines = access_lines(err)
    assert [(line["status"], line["error_codes"], line["viewer_id"]) for line in lines] == [
        (401, ["UNAUTHENTICATED"], None),
        (200, ["GRAPHQL_PARSE_FAILED"], None),
        (200, [], None),
    ]
    assert lines[2]["operation_type"] == "query" and lines[2]["operation_name"] is None
    # Every other line is JSON too, with the same fields.
    assert all(
        {"timestamp", "level", "logger", "message", "request_id"} <= set(line) for line in json_lines(err)
    )


async def test_text_logs_stay_as_they_were_unless_the_access_line_is_asked_for(
    db: str, settings: Settings, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with http_to(build(settings)) as http:
        capsys.readouterr()
        await http.post("/graphql", json={"query": PROBE}, headers={"X-Request-ID": "plain-1"})
    assert "vermilion.access" not in capsys.readouterr().err

    async with http_to(build(settings, access_log_override=True)) as http:
        capsys.readouterr()
        await http.post("/graphql", json={"query": PROBE}, headers={"X-Request-ID": "plain-2"})
    [line] = [line for line in capsys.readouterr().err.splitlines() if "vermilion.access" in line]
    assert " INFO vermilion.access request_id=plain-2 graphql query Probe status=200 " in line
    assert "sql=0 cost=1/1 viewer=- errors=-" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


# --- metrics ----------------------------------------------------------------------------------------


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric, by their sorted labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def scrape(http: httpx.AsyncClient, **headers: str) -> str:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_count_requests_by_operation_and_errors_by_code(client: GraphQLClient) -> None:
    author = await sign_up(client, "gauge")
    await create_note(client, author["token"])
    for _ in range(2):
        await client.data(FEED, token=author["token"])
    await client.http.post("/graphql", json={"query": PROBE}, headers={"Authorization": "Bearer nope"})

    text = await scrape(client.http)
    requests = samples(text, "vermilion_graphql_requests_total")
    assert requests[(("operation_name", "Feed"), ("operation_type", "query"))] == 2
    assert requests[(("operation_name", "SignUp"), ("operation_type", "mutation"))] == 1
    # Refused before its document was read: the operation is unknown.
    assert requests[(("operation_name", "unknown"), ("operation_type", "unknown"))] == 1
    errors = samples(text, "vermilion_graphql_errors_total")
    assert errors == {(("code", "UNAUTHENTICATED"), ("operation_name", "unknown")): 1}
    durations = samples(text, "vermilion_graphql_request_duration_seconds_count")
    assert durations[(("operation_name", "Feed"), ("operation_type", "query"))] == 2
    sql = samples(text, "vermilion_graphql_sql_statements_count")
    assert sql[(("operation_type", "query"),)] == 2  # the two feeds (the refused probe is "unknown")
    assert samples(text, "vermilion_graphql_sql_statements_sum")[(("operation_type", "query"),)] > 0
    cost = samples(text, "vermilion_graphql_query_cost_sum")
    assert cost[(("operation_type", "query"),)] > 2  # each feed costs more than one point
    # The scrape itself, /healthz and other routes are not GraphQL requests.
    await client.http.get("/healthz")
    again = samples(await scrape(client.http), "vermilion_graphql_requests_total")
    assert sum(again.values()) == sum(requests.values())


async def test_operation_names_are_capped(client: GraphQLClient) -> None:
    for i in range(MAX_OPERATION_NAMES + 5):
        await client.data(f"query Name{i} {{ __typename }}")
    await client.data("query " + "L" * 65 + " { __typename }")  # a valid GraphQL name, too long a label
    await client.data("{ __typename }")

    requests = samples(await scrape(client.http), "vermilion_graphql_requests_total")
    names = {dict(labels)["operation_name"]: value for labels, value in requests.items()}
    assert len(names) == MAX_OPERATION_NAMES + 2  # the first names, "other" and "anonymous"
    assert names["other"] == 6 and names["anonymous"] == 1
    assert "Name0" in names and f"Name{MAX_OPERATION_NAMES}" not in names


async def test_a_request_stopped_at_its_budget_is_counted_as_timeout(
    db: str, client: GraphQLClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = await sign_up(client, "slowpoke")
    note = await create_note(client, author["token"])

    async def stall(**_: Any) -> None:
        await asyncio.Event().wait()  # never set: only the request's budget ends this

    monkeypatch.setattr(engagement, "notify", stall)
    async with http_to(build(settings, request_timeout_seconds=0.3)) as http:
        response = await http.post(
            "/graphql",
            json={"query": LIKE, "variables": {"n": note["id"]}},
            headers={"Authorization": f"Bearer {author['token']}"},
        )
        assert response.status_code == 503
        text = await scrape(http)
    assert samples(text, "vermilion_graphql_errors_total") == {
        (("code", "TIMEOUT"), ("operation_name", "Like")): 1
    }


async def test_metrics_can_ask_for_a_token_or_be_off(db: str, settings: Settings) -> None:
    async with http_to(build(settings, metrics_token="scrape-secret")) as http:
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer scrape-public"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
        await scrape(http, Authorization="Bearer scrape-secret")

    async with http_to(build(settings, metrics=False)) as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.post("/graphql", json={"query": PROBE})).json()["data"] == {"__typename": "Query"}


class Socket:
    """One graphql-transport-ws connection driven at the ASGI level, beside HTTP requests to the app."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.incoming: asyncio.Queue[Message] = asyncio.Queue()
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Socket:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"sec-websocket-protocol", b"graphql-transport-ws")],
            "subprotocols": ["graphql-transport-ws"],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
            "extensions": {},
        }

        async def send(message: Message) -> None:
            if message["type"] == "websocket.send":
                await self.frames.put(json.loads(message.get("text") or message["bytes"]))

        self.task = asyncio.create_task(self.app(scope, self.incoming.get, send))
        await self.incoming.put({"type": "websocket.connect"})
        await self.send({"type": "connection_init"})
        assert (await self.next())["type"] == "connection_ack"
        return self

    async def send(self, frame: dict[str, Any]) -> None:
        await self.incoming.put({"type": "websocket.receive", "text": json.dumps(frame)})

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), 10)

    async def __aexit__(self, *exc: object) -> None:
        await self.incoming.put({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)


async def active_subscriptions(http: httpx.AsyncClient) -> float:
    return samples(await scrape(http), "vermilion_graphql_active_subscriptions")[()]


async def settled(http: httpx.AsyncClient, expected: float) -> float:
    """The gauge once it reads `expected` (an ended operation's task finishes a moment after its frame)."""
    for _ in range(100):
        value = await active_subscriptions(http)
        if value == expected:
            break
        await asyncio.sleep(0.02)
    return value


async def test_active_subscriptions_gauge_follows_websocket_operations(client: GraphQLClient) -> None:
    author = await sign_up(client, "streamer")
    note = await create_note(client, author["token"])
    assert await active_subscriptions(client.http) == 0

    async with Socket(client.app) as socket:
        for operation in ("a", "b"):
            await socket.send(
                {
                    "type": "subscribe",
                    "id": operation,
                    "payload": {"query": LIKES, "variables": {"n": note["id"]}},
                }
            )
            assert (await socket.next())["type"] == "next"  # the current count: the subscription is live
        assert await active_subscriptions(client.http) == 2
        await socket.send({"type": "complete", "id": "a"})
        assert await settled(client.http, 1) == 1
    assert await settled(client.http, 0) == 0
    # WebSocket operations are not HTTP requests.
    requests = samples(await scrape(client.http), "vermilion_graphql_requests_total")
    assert not any(dict(labels)["operation_type"] == "subscription" for labels in requests)


WORKER = """
import asyncio, sys
import httpx
from api.app import create_app
from core.settings import Settings

async def main() -> None:
    settings = Settings(
        VERMILION_DATABASE_URL="sqlite://:memory:", VERMILION_SECRET_KEY=sys.argv[1], VERMILION_METRICS=True
    )
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://worker") as http:
        await http.post("/graphql", json={"query": "query Worker { __typename }"})
        if sys.argv[2] == "scrape":
            print((await http.get("/metrics")).text)

asyncio.run(main())
"""


def test_workers_share_their_counts_through_the_multiprocess_directory(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "OTEL_"))},
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }

    def worker(then: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, TEST_SECRET, then],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    worker("exit")
    text = worker("scrape")  # another process: its scrape adds the first one's files
    requests = samples(text, "vermilion_graphql_requests_total")
    assert requests[(("operation_name", "Worker"), ("operation_type", "query"))] == 2


@pytest.mark.skipif(not IS_POSTGRES, reason="several workers need PostgreSQL (SQLite serves with one)")
async def test_vermilion_serve_with_two_workers_counts_every_request_in_every_scrape(
    db: str, tmp_path: Path
) -> None:
    # A file a previous run left behind: it would be added into every sum if it were kept.
    (tmp_path / "counter_999999.db").write_bytes(b"stale")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "OTEL_"))},
        **{key: str(value) for key, value in GENEROUS_LIMITS.items()},
        "VERMILION_DATABASE_URL": DATABASE_URL,
        "VERMILION_SECRET_KEY": TEST_SECRET,
        "VERMILION_ENV": "development",
        "VERMILION_SWEEP_INTERVAL_SECONDS": "0",
        "VERMILION_METRICS": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    vermilion = str(Path(sys.executable).with_name("vermilion"))
    command = [vermilion, "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: ASYNC220 (started once, not awaited)
    sent = 40
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await wait_until_healthy(http)
            # A new connection per request, so the kernel spreads them over both workers.
            for _ in range(sent):
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as once:
                    assert (
                        await once.post("/graphql", json={"query": "query Counted { __typename }"})
                    ).status_code == 200
            scrapes = []
            for _ in range(6):  # each scrape is answered by either worker
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as once:
                    scrapes.append((await once.get("/metrics")).text)
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 30)

    counted = [
        samples(text, "vermilion_graphql_requests_total")[
            (("operation_name", "Counted"), ("operation_type", "query"))
        ]
        for text in scrapes
    ]
    assert counted == [sent] * len(scrapes)
    # Both workers wrote their own files, and the stale one was removed before they started.
    writers = {path.name for path in await asyncio.to_thread(tmp_path.glob, "counter_*.db")}
    assert "counter_999999.db" not in writers and len(writers) >= 2, writers


# --- tracing ----------------------------------------------------------------------------------------


async def test_a_traced_request_is_a_span_named_for_its_operation(
    db: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")  # never reached
    monkeypatch.setattr("api.tracing.span_exporter", lambda: exporter)
    app = build(settings)
    provider = app.state.tracer_provider
    try:
        async with http_to(app) as http:
            response = await http.post("/graphql", json={"query": PROBE}, headers={"X-Request-ID": "trace-1"})
            assert response.json()["data"] == {"__typename": "Query"}
            await http.get("/healthz")  # a probe: not traced
        assert provider.force_flush()
        [span] = exporter.get_finished_spans()
    finally:
        provider.shutdown()
    assert span.name == "POST /graphql"
    assert span.attributes is not None
    assert span.attributes["graphql.operation.name"] == "Probe"
    assert span.attributes["graphql.operation.type"] == "query"
    assert span.attributes["vermilion.request_id"] == "trace-1"
    assert span.resource.attributes["service.name"] == "vermilion"


def test_without_an_endpoint_no_tracing_is_loaded() -> None:
    # redis-py imports OpenTelemetry's API and metrics SDK when they are installed (and stays idle unless
    # told otherwise): what must not be loaded is the tracing of Vermilion's own.
    tracing = ("opentelemetry.sdk.trace", "opentelemetry.instrumentation", "opentelemetry.exporter")
    probe = (
        "import sys\n"
        "from api.app import create_app\n"
        "from core.settings import Settings\n"
        f"app = create_app(Settings(VERMILION_DATABASE_URL='sqlite://:memory:', VERMILION_SECRET_KEY={TEST_SECRET!r}),"
        " manage_database=False)\n"
        "assert app.state.tracer_provider is None\n"
        f"print(sorted(name for name in sys.modules if name.startswith({tracing!r})))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "OTEL_"))}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
