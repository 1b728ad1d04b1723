"""GraphiQL works in a real browser with no network: headless Chromium against the app under uvicorn."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import TEST_SECRET

# A hard limit well above the ~4 s a healthy run takes, so a hung browser cannot stall the suite.
pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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

fd, url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]

async def migrate():
    await Tortoise.init(config=tortoise_config(url))
    await apply_migrations()
    await Tortoise.close_connections()

asyncio.run(migrate())
settings = Settings(VERMILION_DATABASE_URL=url, VERMILION_SECRET_KEY=secret, VERMILION_ENV="development")
config = uvicorn.Config(create_app(settings), log_level="warning")
uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Base URL of the app running under uvicorn on 127.0.0.1, on a port no one else holds."""
    # The test binds the port and hands the socket over, so there is no window for another process to take it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    db_url = f"sqlite://{tmp_path / 'vermilion.sqlite3'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(sock.fileno()), db_url, TEST_SECRET],
        cwd=ROOT,
        pass_fds=[sock.fileno()],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
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


def test_graphiql_runs_a_query_offline(server: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (scripts/lib/chromium.sh: ensure_chromium installs it)")
    from playwright.sync_api import Route, expect, sync_playwright

    remote: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def only_local(route: Route) -> None:
        # Anything not aimed at the app is recorded and refused, so the page behaves as it would offline.
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            remote.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.route("**/*", only_local)
            page.on("websocket", lambda ws: None if "//127.0.0.1:" in ws.url else remote.append(ws.url))
            page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
            page.on("response", lambda r: None if r.ok else failed.append(f"{r.url}: HTTP {r.status}"))
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                page.goto(f"{server}/graphql", wait_until="load")
                # Present only once React, GraphiQL and the explorer plugin all loaded and rendered.
                editor = page.locator(".graphiql-query-editor .CodeMirror")
                editor.click()
                page.keyboard.press("Control+A")
                page.keyboard.press("Delete")
                # CodeMirror closes the brace itself; typing "}" steps over it.
                page.keyboard.type("{ __typename }")
                page.keyboard.press("Escape")  # dismiss the autocompletion hint, if any
                expect(editor).to_contain_text("{ __typename }")
                page.locator("button.graphiql-execute-button").click()
                expect(page.locator(".graphiql-response")).to_contain_text(
                    re.compile(r'"__typename":\s*"Query"')
                )
                assert not remote, f"page reached outside 127.0.0.1: {remote}"
                assert not failed, f"requests failed: {failed}"
                assert not errors, f"page errors: {errors}"
            except BaseException:
                shot = tmp_path / "graphiql-failure.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot: {shot}; remote={remote} failed={failed} errors={errors}")
                raise
        finally:
            browser.close()
