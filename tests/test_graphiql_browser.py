"""GraphiQL works in a real browser with no network: headless Chromium against the app under uvicorn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.live_server import live_server

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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with live_server(f"sqlite://{tmp_path / 'vermilion.sqlite3'}") as base:
        yield base


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
                # An autocompletion hint may swallow the space before "}": the spacing is not the point.
                expect(editor).to_contain_text(re.compile(r"\{\s*__typename\s*\}"))
                page.locator("button.graphiql-execute-button").click()
                expect(page.locator(".graphiql-response")).to_contain_text(
                    re.compile(r'"__typename":\s*"Query"')
                )
                assert not remote, f"page reached outside 127.0.0.1: {remote}"
                assert not failed, f"requests failed: {failed}"
                assert not errors, f"page errors: {errors}"
            except BaseException as failure:
                shot = tmp_path / "graphiql-failure.png"
                page.screenshot(path=str(shot), full_page=True)
                failure.add_note(f"screenshot: {shot}; remote={remote} failed={failed} errors={errors}")
                raise
        finally:
            browser.close()
