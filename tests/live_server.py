"""A real Vermilion server under uvicorn on 127.0.0.1, in its own process, for tests that need one
(browsers, WebSockets, several workers sharing Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET
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
        timeout=15,
        cwd=ROOT,
        env=env,
    ) as base:
        yield base
