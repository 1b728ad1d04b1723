"""A real Vermilion server under uvicorn on 127.0.0.1, in its own process, for tests that need one
(browsers, WebSockets, several workers sharing Redis), and a graphql-transport-ws client for it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import GENEROUS_LIMITS, TEST_SECRET
from tests.loopback import serve_on_loopback

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child: migrate a fresh SQLite file, then serve the app on the socket inherited from the test.
# A separate process keeps the server's Tortoise state away from the test session's.
SERVER = """
import asyncio, socket, sys
import uvicorn
from tortoise import Tortoise
from api.app import create_app
from api.db import apply_migrations, tortoise_config
from core.settings import Settings

fd, url, secret, migrate_first = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "1"

async def migrate():
    await Tortoise.init(config=tortoise_config(url))
    await apply_migrations()
    await Tortoise.close_connections()

if migrate_first:
    asyncio.run(migrate())
settings = Settings(VERMILION_DATABASE_URL=url, VERMILION_SECRET_KEY=secret, VERMILION_ENV="development")
config = uvicorn.Config(create_app(settings), log_level="warning")
uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])
"""


@contextmanager
def live_server(
    database_url: str, *, migrate: bool = True, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Base URL of the app running under uvicorn on 127.0.0.1, on a port no one else holds."""
    with serve_on_loopback(
        "server",
        SERVER,
        [database_url, TEST_SECRET, "1" if migrate else "0"],
        lambda base: httpx.get(f"{base}/healthz", timeout=1).status_code == 200,
        # Migrating a fresh file replays every migration through Tortoise's state (some 5 CPU seconds at
        # 0010, more on a busy machine) before the server answers.
        timeout=45,
        cwd=ROOT,
        # Generous rate limits, counted under a prefix of this server's own (Redis outlives test runs).
        env={
            **{k: str(v) for k, v in GENEROUS_LIMITS.items()},
            "VERMILION_RATE_LIMIT_PREFIX": uuid.uuid4().hex,
        }
        | (env or {}),
    ) as base:
        yield base


async def open_socket(base: str, params: dict[str, Any] | None = None) -> ClientConnection:
    """A graphql-transport-ws connection to the server at `base`, initialised with `params`."""
    ws = await connect(base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": params or {}}))
    return ws


async def next_message(ws: ClientConnection) -> dict[str, Any]:
    """The next message other than a ping (fails after 10 s of silence)."""
    while True:
        frame = await asyncio.wait_for(ws.recv(), timeout=10)
        # graphql-transport-ws is a text protocol: standard clients refuse binary frames.
        assert isinstance(frame, str), f"a binary frame: {frame!r}"
        message = json.loads(frame)
        if message["type"] != "ping":
            return message


async def subscribe(ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any]) -> None:
    await ws.send(
        json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})
    )
