"""Driving real frontend clients against a real server: the server (with payments through localstripe,
whose signed webhooks reach it over HTTP), and the Node scripts of tests/clients/ run as frontends,
read line by line."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATABASE_URL, IS_POSTGRES
from tests.live_server import live_server
from tests.stripe_emulator import API_KEY, WEBHOOK_SECRET, register_webhook

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "tests" / "clients"
# Longer than any healthy step (well under a second), short enough that a hang fails the test quickly.
LINE_TIMEOUT = 20.0


@contextmanager
def shop_server(tmp_path: Path, stripe_base: str) -> Iterator[str]:
    """Base URL of a server whose payments go to the emulator, which delivers its webhooks to it.

    On PostgreSQL the server shares the test session's database (the `db` fixture empties it); on SQLite
    it gets its own file."""
    url = DATABASE_URL if IS_POSTGRES else f"sqlite://{tmp_path / 'clients.sqlite3'}"
    env = {
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": stripe_base,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "VERMILION_SWEEP_INTERVAL_SECONDS": "0",
    }
    with live_server(url, migrate=not IS_POSTGRES, env=env) as base:
        # One registration under this name, replaced by each test: events go to the running server only.
        register_webhook(stripe_base, url=f"{base}/webhooks/stripe", secret=WEBHOOK_SECRET, name="live-shop")
        yield base


def ws_url(base: str) -> str:
    return base.replace("http", "ws", 1) + "/graphql"


class NodeScript:
    """A script of tests/clients/ running under Node; `lines` holds every JSON line it printed so far."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.lines: list[dict[str, Any]] = []

    async def until(self, found: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first line (already printed or still to come) for which `found` is true."""
        for line in self.lines:
            if found(line):
                return line
        assert self.process.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), timeout=LINE_TIMEOUT)
            if not raw:
                await self.process.wait()
                stderr = (await self.process.stderr.read()).decode() if self.process.stderr else ""
                pytest.fail(f"{self.name} exited ({self.process.returncode}): {self.lines}\n{stderr}")
            line = json.loads(raw)
            self.lines.append(line)
            if line.get("timeout"):
                pytest.fail(f"{self.name} timed out: {line}; printed {self.lines}")
            if found(line):
                return line

    async def finished(self) -> list[dict[str, Any]]:
        """Every line, once the script printed `done` and exited 0."""
        await self.until(lambda line: line.get("done") is True)
        assert await asyncio.wait_for(self.process.wait(), timeout=LINE_TIMEOUT) == 0
        return self.lines


@asynccontextmanager
async def node_script(script: str, spec: dict[str, Any]) -> AsyncIterator[NodeScript]:
    """`node tests/clients/<script> <spec as JSON>`, stopped if still running when the block ends."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: the client tests run the frontends' JavaScript clients under Node")
    if not (ROOT / "node_modules" / "graphql-ws").is_dir():
        pytest.fail("node_modules is missing: run `npm ci` (scripts/test does)")
    process = await asyncio.create_subprocess_exec(
        node,
        str(CLIENTS / script),
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeScript(process, script)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
