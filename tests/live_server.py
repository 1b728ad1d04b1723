"""A real Vermilion server under uvicorn on 127.0.0.1, in its own process, for tests that need one
(browsers, WebSockets, several workers sharing Redis)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]

# Runs in the child: migrate a fresh SQLite file, then serve the app on the socket inherited from the test.
# A separate process keeps the server's Tortoise state away from the test session's.
SERVER = """
import asyncio, socket, sys
import uvicorn
from tortoise import Tortoise
from api.app import create_app
from api.db import apply_migrations, tortoise_config
from api.settings import Settings

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
    # The test binds the port and hands the socket over, so there is no window for another process to take it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER,
            str(sock.fileno()),
            database_url,
            TEST_SECRET,
            "1" if migrate else "0",
        ],
        cwd=ROOT,
        pass_fds=[sock.fileno()],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    sock.close()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before answering")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not become healthy within {timeout}s")
