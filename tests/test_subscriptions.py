"""Subscriptions over a real WebSocket (graphql-transport-ws), on one server and across two sharing Redis."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.live_server import live_server, next_message, open_socket, subscribe

pytestmark = pytest.mark.timeout(120)
REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def gql(
    base: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        body = (
            await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        ).json()
    assert "errors" not in body, body
    return body["data"]


async def sign_up(base: str, handle: str) -> dict[str, Any]:
    data = await gql(
        base,
        "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } errors { code } } }",
        {"i": {"email": f"{handle}@example.com", "password": "correct horse", "handle": handle}},
    )
    return data["signUp"]


LIKES = "subscription($n: ID!) { noteLikeCount(noteId: $n) { noteId likeCount } }"
COMMENTS = "subscription($n: ID!) { noteCommentAdded(noteId: $n) { body author { handle } note { commentCount viewerHasLiked } } }"
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount } errors { code } } }"
UNLIKE = "mutation($n: ID!) { noteUnlike(noteId: $n) { note { likeCount } errors { code } } }"


async def _note(base: str, token: str) -> str:
    data = await gql(
        base, 'mutation { noteCreate(input: {title: "直播中"}) { note { id } errors { code } } }', token=token
    )
    return str(data["noteCreate"]["note"]["id"])


async def test_like_counts_and_comments_arrive_live(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        author = await sign_up(base, "streamer")
        fan = await sign_up(base, "watcher")
        note_id = await _note(base, author["token"])

        ws = await open_socket(base, {"Authorization": f"Bearer {fan['token']}"})
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, "likes", LIKES, {"n": note_id})
        await subscribe(ws, "comments", COMMENTS, {"n": note_id})
        first = await next_message(ws)
        assert first == {
            "id": "likes",
            "type": "next",
            "payload": {"data": {"noteLikeCount": {"noteId": note_id, "likeCount": 0}}},
        }

        await gql(base, LIKE, {"n": note_id}, fan["token"])
        assert (await next_message(ws))["payload"]["data"]["noteLikeCount"]["likeCount"] == 1
        await gql(base, UNLIKE, {"n": note_id}, fan["token"])
        assert (await next_message(ws))["payload"]["data"]["noteLikeCount"]["likeCount"] == 0

        await gql(base, LIKE, {"n": note_id}, fan["token"])
        assert (await next_message(ws))["payload"]["data"]["noteLikeCount"]["likeCount"] == 1
        await gql(
            base,
            "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { errors { code } } }",
            {"i": {"noteId": note_id, "body": "来了来了"}},
            author["token"],
        )
        event = await next_message(ws)
        assert event["id"] == "comments"
        # the connection is signed in as the fan: viewer state is theirs, counters are current
        assert event["payload"]["data"]["noteCommentAdded"] == {
            "body": "来了来了",
            "author": {"handle": "streamer"},
            "note": {"commentCount": 1, "viewerHasLiked": True},
        }
        await ws.close()


async def test_bad_tokens_are_refused_and_unknown_notes_error(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        ws = await open_socket(base, {"Authorization": "Bearer not-a-token"})
        with pytest.raises(ConnectionClosed) as closed:
            await next_message(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

        anonymous = await open_socket(base)
        assert (await next_message(anonymous))["type"] == "connection_ack"
        await subscribe(anonymous, "x", LIKES, {"n": "Tm90ZTo5OTk5"})
        message = await next_message(anonymous)
        assert message["type"] in ("error", "next")
        text = json.dumps(message)
        assert "Note not found" in text
        await anonymous.close()


async def test_events_cross_workers_through_redis(tmp_path: Path) -> None:
    database = f"sqlite://{tmp_path / 'shared.sqlite3'}"
    env = {"VERMILION_REDIS_URL": REDIS_URL}
    with live_server(database, env=env) as first, live_server(database, migrate=False, env=env) as second:
        author = await sign_up(second, "author2")
        fan = await sign_up(second, "fan2")
        note_id = await _note(second, author["token"])

        ws = await open_socket(first)
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, "likes", LIKES, {"n": note_id})
        assert (await next_message(ws))["payload"]["data"]["noteLikeCount"]["likeCount"] == 0
        # the like is written through the other worker; the event reaches this one via Redis
        await gql(second, LIKE, {"n": note_id}, fan["token"])
        assert (await next_message(ws))["payload"]["data"]["noteLikeCount"]["likeCount"] == 1
        await ws.close()


async def test_websocket_origins_follow_the_allowed_list(tmp_path: Path) -> None:
    env = {"VERMILION_ALLOWED_ORIGINS": "https://app.example.com"}
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}", env=env) as base:
        url = base.replace("http", "ws", 1) + "/graphql"
        allowed = await connect(url, subprotocols=["graphql-transport-ws"], origin="https://app.example.com")  # type: ignore[list-item,arg-type]
        await allowed.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await next_message(allowed))["type"] == "connection_ack"
        await allowed.close()
        with pytest.raises(InvalidStatus) as refused:  # the handshake itself is refused
            ws = await connect(url, subprotocols=["graphql-transport-ws"], origin="https://evil.example")  # type: ignore[list-item,arg-type]
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await next_message(ws)
        assert "403" in str(refused.value), refused.value
        # In development a frontend's dev server on this machine may subscribe too (any port).
        local = await connect(url, subprotocols=["graphql-transport-ws"], origin="http://localhost:3000")  # type: ignore[list-item,arg-type]
        await local.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await next_message(local))["type"] == "connection_ack"
        await local.close()
        with pytest.raises(InvalidStatus):
            await connect(url, subprotocols=["graphql-transport-ws"], origin="http://localhost.evil.example")  # type: ignore[list-item,arg-type]
