"""Request ids: generated or taken from the client, echoed, and on every log line written meanwhile."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
import strawberry
import uvicorn
from starlette.types import Message

import api.app
from api.app import create_app
from api.logs import LOG_FORMAT, RequestIdFormatter, configure_logging, current_request_id
from core.settings import Settings
from schema.limits import protection_extensions
from tests.conftest import GraphQLClient

HEX_ID = re.compile(r"[0-9a-f]{32}")
LOGGERS_USED_IN_REQUEST = ("vermilion.test", "tortoise", "uvicorn.error")


@strawberry.type
class LoggingQuery:
    @strawberry.field
    def shout(self) -> str:
        for name in LOGGERS_USED_IN_REQUEST:
            logging.getLogger(name).warning("shouting from %s", name)
        return "ok"


@pytest.fixture
def logging_app(db: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[api.app.Starlette]:
    """The real app wiring around a schema whose resolver logs."""
    monkeypatch.setattr(
        api.app,
        "build_schema",
        lambda s: strawberry.Schema(query=LoggingQuery, extensions=protection_extensions(s)),
    )
    yield create_app(settings, manage_database=False)


@asynccontextmanager
async def http(app: api.app.Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def test_client_request_id_is_echoed(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "web-7f3a.retry_2"}
    )
    assert response.headers["X-Request-ID"] == "web-7f3a.retry_2"
    assert response.json()["extensions"]["requestId"] == "web-7f3a.retry_2"


async def test_request_id_is_generated_when_absent(client: GraphQLClient) -> None:
    first = await client.http.post("/graphql", json={"query": "{ __typename }"})
    second = await client.http.post("/graphql", json={"query": "{ __typename }"})
    assert HEX_ID.fullmatch(first.headers["X-Request-ID"])
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert first.json()["extensions"]["requestId"] == first.headers["X-Request-ID"]


async def test_non_graphql_routes_get_a_request_id(client: GraphQLClient) -> None:
    response = await client.http.get("/healthz")
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


@pytest.mark.parametrize(
    "unsafe",
    ["x" * 65, "has space", "semi;colon", 'quote"d', "ünïcode", "new%0Aline", ""],
)
async def test_unsafe_client_request_ids_are_replaced(client: GraphQLClient, unsafe: str) -> None:
    response = await client.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers=[(b"X-Request-ID", unsafe.encode())],
    )
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])


async def test_longest_allowed_client_request_id_is_kept(client: GraphQLClient) -> None:
    longest = "A9._-" * 12 + "abcd"
    assert len(longest) == 64
    response = await client.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": longest}
    )
    assert response.headers["X-Request-ID"] == longest


async def test_request_id_is_reset_after_the_request(client: GraphQLClient) -> None:
    await client.http.post("/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "r1"})
    assert current_request_id() == "-"


async def test_log_records_during_a_request_carry_its_id(
    logging_app: api.app.Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with http(logging_app) as client:
        response = await client.post(
            "/graphql", json={"query": "{ shout }"}, headers={"X-Request-ID": "shout-1"}
        )
    assert response.json()["data"] == {"shout": "ok"}
    records = [r for r in caplog.records if r.getMessage().startswith("shouting")]
    assert sorted(r.name for r in records) == sorted(LOGGERS_USED_IN_REQUEST)
    formatter = RequestIdFormatter(LOG_FORMAT)
    for record in records:
        assert record.request_id == "shout-1"  # type: ignore[attr-defined]
        assert "request_id=shout-1 " in formatter.format(record)


async def test_log_lines_outside_requests_say_so(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    logging.getLogger("vermilion.test").info("between requests")
    (record,) = [r for r in caplog.records if r.getMessage() == "between requests"]
    assert "request_id=- " in RequestIdFormatter(LOG_FORMAT).format(record)


def test_formatter_copes_with_records_made_elsewhere() -> None:
    record = logging.makeLogRecord({"msg": "from another process", "levelno": 20, "levelname": "INFO"})
    del record.__dict__["request_id"]
    assert "request_id=- from another process" in RequestIdFormatter(LOG_FORMAT).format(record)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    uvicorn_saved = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, (handlers, propagate) in uvicorn_saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate


def test_configure_logging_is_idempotent_and_honours_the_level(
    settings: Settings, restore_logging: None
) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    for _ in range(3):
        configure_logging(settings)
    configure_logging(settings.model_copy(update={"log_level": "warning"}))
    assert len(root.handlers) in (before, before + 1)
    assert sum(type(h).__name__ == "_StderrHandler" for h in root.handlers) == 1
    assert root.level == logging.WARNING
    factory = logging.getLogRecordFactory()
    configure_logging(settings)
    assert logging.getLogRecordFactory() is factory
    assert root.level == logging.INFO


def test_uvicorns_own_handlers_give_way(
    settings: Settings, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Installs uvicorn's own handlers, as `uvicorn api.app:app` does before it imports the app.
    uvicorn.Config(app="api.app:app", log_level="info")
    configure_logging(settings)
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.endswith("INFO uvicorn.error request_id=- Application startup complete.")


def test_uvicorn_no_access_log_stays_silent(settings: Settings, restore_logging: None) -> None:
    uvicorn.Config(app="api.app:app", log_level="info", access_log=False)
    configure_logging(settings)
    access = logging.getLogger("uvicorn.access")
    assert access.handlers == [] and access.propagate is False


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is listening."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


async def test_uvicorn_access_log_carries_the_request_id(
    db: str, settings: Settings, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The order of a real start: uvicorn configures its logging, then builds the app.
    config = uvicorn.Config(app="api.app:app", log_level="info", lifespan="off")
    config.app = create_app(settings, manage_database=False)
    server = _Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(server.ready.wait(), 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            response = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"X-Request-ID": "over-tcp"}
            )
    finally:
        server.should_exit = True
        await serving
        sock.close()
    assert response.headers["X-Request-ID"] == "over-tcp"
    access = [line for line in capsys.readouterr().err.splitlines() if "uvicorn.access" in line]
    assert len(access) == 1
    assert "request_id=over-tcp " in access[0] and '"POST /graphql HTTP/1.1" 200' in access[0]


async def test_websocket_connections_get_a_request_id(
    logging_app: api.app.Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sent = await websocket_session(
        logging_app,
        {"X-Request-ID": "ws-1"},
        [{"type": "connection_init"}, {"type": "subscribe", "id": "1", "payload": {"query": "{ shout }"}}],
    )
    accept = sent[0]
    assert accept["type"] == "websocket.accept"
    assert (b"x-request-id", b"ws-1") in accept["headers"]
    frames = [json.loads(m.get("bytes") or m["text"]) for m in sent[1:] if m["type"] == "websocket.send"]
    assert {"type": "next", "id": "1", "payload": {"data": {"shout": "ok"}}} in frames
    records = [r for r in caplog.records if r.getMessage().startswith("shouting")]
    assert records and all(r.request_id == "ws-1" for r in records)  # type: ignore[attr-defined]


async def websocket_session(
    app: api.app.Starlette, headers: dict[str, str], frames: list[dict[str, object]]
) -> list[Message]:
    """Drives one graphql-transport-ws connection at the ASGI level; returns what the app sent."""
    incoming: list[Message] = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "text": json.dumps(frame)} for frame in frames]
    sent: list[Message] = []
    completed = asyncio.Event()

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        await asyncio.wait_for(completed.wait(), 10)  # the client leaves once its operation is done
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)
        if b'"complete"' in (message.get("bytes") or message.get("text", "").encode()):
            completed.set()

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"sec-websocket-protocol", b"graphql-transport-ws"),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "subprotocols": ["graphql-transport-ws"],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
        "extensions": {},
    }
    await app(scope, receive, send)
    return sent
