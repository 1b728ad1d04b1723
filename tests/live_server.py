"""A real Vermilion server under uvicorn on 127.0.0.1, in its own process, for tests that need one
(browsers, WebSockets, several workers sharing Redis), and a graphql-transport-ws client for it."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
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


# Migrates one SQLite file in a process of its own (the test session's Tortoise state stays untouched).
MIGRATE = """
import asyncio, sys
from tortoise import Tortoise
from api.db import apply_migrations, tortoise_config

async def migrate():
    await Tortoise.init(config=tortoise_config(sys.argv[1]))
    await apply_migrations()
    await Tortoise.close_connections()

asyncio.run(migrate())
"""
_template: Path | None = None


def migrated_sqlite(url: str) -> bool:
    """Make the SQLite file `url` names a copy of a freshly migrated database; False for any other URL.

    Replaying the migrations costs some 10 CPU seconds (Tortoise re-renders its migration state at every
    operation): it is done once per test session, into a template every live server's file is copied from."""
    global _template
    path = url.removeprefix("sqlite://")
    if not url.startswith("sqlite://") or path == ":memory:":
        return False
    if _template is None:
        template = Path(tempfile.mkdtemp(prefix="vermilion-migrated-")) / "template.sqlite3"
        subprocess.run(
            [sys.executable, "-c", MIGRATE, f"sqlite://{template}"], cwd=ROOT, check=True, timeout=300
        )
        _template = template
    shutil.copyfile(_template, path)
    return True


@contextmanager
def live_server(
    database_url: str, *, migrate: bool = True, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Base URL of the app running under uvicorn on 127.0.0.1, on a port no one else holds."""
    # A SQLite file starts as a copy of the session's migrated template; another database migrates itself.
    migrate_here = migrate and not migrated_sqlite(database_url)
    with serve_on_loopback(
        "server",
        SERVER,
        [database_url, TEST_SECRET, "1" if migrate_here else "0"],
        lambda base: httpx.get(f"{base}/healthz", timeout=1).status_code == 200,
        # Importing the app alone takes seconds on a busy machine (jieba, Pillow, PyAV, graphql-core).
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
