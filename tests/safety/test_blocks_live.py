"""Blocks and mutes on live subscriptions, over a real WebSocket (graphql-transport-ws): what a block or
mute hides never arrives as an event, even on a subscription opened before it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import live_server, next_message, open_socket, subscribe
from tests.test_subscriptions import gql, sign_up

pytestmark = pytest.mark.timeout(120)

COMMENTS = "subscription($n: ID!) { noteCommentAdded(noteId: $n) { body author { handle } } }"
NOTIFICATIONS = "subscription { notificationAdded { kind actor { handle } } }"
COMMENT = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { errors { code } } }"
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }"


async def _note(base: str, token: str, title: str) -> str:
    data = await gql(
        base,
        "mutation($t: String!) { noteCreate(input: {title: $t}) { note { id } errors { code } } }",
        {"t": title},
        token=token,
    )
    return str(data["noteCreate"]["note"]["id"])


async def test_blocked_and_muted_people_never_reach_a_live_subscription(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        alice, bob, carol, dave = [await sign_up(base, h) for h in ("alice", "bob", "carol", "dave")]
        carol_note = await _note(base, carol["token"], "carol 直播")
        alice_note = await _note(base, alice["token"], "alice 日常")

        ws = await open_socket(base, {"Authorization": f"Bearer {alice['token']}"})
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, "comments", COMMENTS, {"n": carol_note})
        await subscribe(ws, "inbox", NOTIFICATIONS, {})

        # Blocked and muted after the subscriptions were opened: they apply to them at once.
        block = "mutation($u: ID!) { userBlock(userId: $u) { errors { code } } }"
        mute = "mutation($u: ID!) { userMute(userId: $u) { errors { code } } }"
        assert (await gql(base, block, {"u": bob["user"]["id"]}, alice["token"]))["userBlock"]["errors"] == []
        assert (await gql(base, mute, {"u": dave["user"]["id"]}, alice["token"]))["userMute"]["errors"] == []

        for person, body in ((bob, "bob 说"), (dave, "dave 说"), (carol, "carol 说")):
            await gql(base, COMMENT, {"i": {"noteId": carol_note, "body": body}}, person["token"])
        event = await next_message(ws)
        # bob's and dave's comments were published first; the first event alice gets is carol's.
        assert event["id"] == "comments"
        assert event["payload"]["data"]["noteCommentAdded"] == {
            "body": "carol 说",
            "author": {"handle": "carol"},
        }

        # dave (muted) may still like alice's note, silently; bob (blocked) may not; carol's like arrives.
        assert (await gql(base, LIKE, {"n": alice_note}, dave["token"]))["noteLike"]["errors"] == []
        refused = await gql(base, LIKE, {"n": alice_note}, bob["token"])
        assert refused["noteLike"]["errors"] == [{"code": "BLOCKED"}]
        assert (await gql(base, LIKE, {"n": alice_note}, carol["token"]))["noteLike"]["errors"] == []
        event = await next_message(ws)
        assert event["id"] == "inbox"
        assert event["payload"]["data"]["notificationAdded"]["actor"] == {"handle": "carol"}
        await ws.close()
