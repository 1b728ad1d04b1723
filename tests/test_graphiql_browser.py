"""GraphiQL works in a real browser with no network: headless Chromium against the app under uvicorn."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
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
                # GraphiQL re-reads the operations of the document a moment after an edit; until then it
                # would still run one of the example operations it opened with.
                page.wait_for_timeout(800)
                page.keyboard.press("Control+Enter")
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


def test_graphiql_opens_on_vermilions_operations_and_signs_in_with_the_token(server: str) -> None:
    import json

    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{server}/graphql", wait_until="load")
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            # The README's operations instead of GraphiQL's welcome text (CodeMirror renders only the
            # visible lines: the document is read through its API).
            expect(editor).to_contain_text("mutation SignIn")
            document = page.evaluate(
                "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
            )
            for operation in ("query Feed", "query Search", "mutation AddToCart", "mutation Checkout"):
                assert operation in document
            # Sign up (a fresh server has no demo accounts): the document set through the editor's API.
            sign_up = (
                'mutation SignUp { signUp(input: {email: "mei@example.com", password: "correct horse", '
                'handle: "mei"}) { token errors { code } } }'
            )
            page.evaluate(
                "text => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text)",
                sign_up,
            )
            page.wait_for_timeout(800)  # the document's operations are re-read a moment after an edit
            page.locator("button.graphiql-execute-button").click()
            expect(page.locator(".graphiql-response")).to_contain_text('"token"')
            answer = page.evaluate(
                "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
            )
            token = json.loads(answer)
            # The Headers tab now holds the token, so the next operation runs signed in.
            page.get_by_text("Headers", exact=True).click()
            expected = {"Authorization": "Bearer " + token["data"]["signUp"]["token"]}
            # The editors' contents (query, variables, headers, response): one of them holds the header.
            contents = page.evaluate(
                "[...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror.getValue())"
            )
            assert json.dumps(expected, indent=2) in contents, contents
        finally:
            browser.close()


def test_graphiql_subscribes_over_websocket_and_shows_a_like_as_it_arrives(server: str) -> None:
    import httpx
    from playwright.sync_api import expect, sync_playwright

    def post(query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = httpx.post(
            f"{server}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=10
        ).json()
        assert "errors" not in body, body
        return dict(body["data"])

    def sign_up(handle: str) -> str:
        account = {"email": f"{handle}@example.com", "password": "correct horse", "handle": handle}
        query = "mutation($i: SignUpInput!) { signUp(input: $i) { token errors { code } } }"
        return str(post(query, {"i": account})["signUp"]["token"])

    author, fan = sign_up("author"), sign_up("fan")
    note = post('mutation { noteCreate(input: {title: "直播中"}) { note { id } } }', {}, author)
    note_id = note["noteCreate"]["note"]["id"]

    sockets: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.on("websocket", lambda ws: sockets.append(ws.url))
            page.goto(f"{server}/graphql", wait_until="load")
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            expect(editor).to_contain_text("mutation SignIn")  # GraphiQL has rendered
            page.evaluate(
                "text => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text)",
                f'subscription Likes {{ noteLikeCount(noteId: "{note_id}") {{ likeCount }} }}',
            )
            page.wait_for_timeout(800)  # the document's operations are re-read a moment after an edit
            page.locator("button.graphiql-execute-button").click()
            response = page.locator(".graphiql-response")
            # The count now: the subscription is running over the socket (its first event says so).
            expect(response).to_contain_text(re.compile(r'"likeCount":\s*0'))

            like = "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount } errors { code } } }"
            assert post(like, {"n": note_id}, fan)["noteLike"]["note"] == {"likeCount": 1}
            # The like made elsewhere arrives in the open page.
            expect(response).to_contain_text(re.compile(r'"likeCount":\s*1'))
        finally:
            browser.close()

    assert sockets == [server.replace("http", "ws", 1) + "/graphql"]
