"""Keyword filters on live updates, through a real server and WebSocket: a comment or notification a HIDE
filter matches never arrives, one a WARN filter matches arrives with `filtered`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_server import live_server, next_message, open_socket, subscribe
from tests.test_subscriptions import LIKES, _note, gql, sign_up

pytestmark = pytest.mark.timeout(120)

COMMENTS = "subscription($n: ID!) { noteCommentAdded(noteId: $n) { body filtered { phrase } } }"
ADDED = "subscription { notificationAdded { kind comment { body } filtered { phrase } } }"
COMMENT = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { errors { code } } }"
FILTER = "mutation($i: FilterCreateInput!) { filterCreate(input: $i) { errors { code } } }"


async def test_live_comments_and_notifications_follow_the_filters(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        reader = await sign_up(base, "reader")
        writer = await sign_up(base, "writer")
        theirs = await _note(base, writer["token"])
        mine = await _note(base, reader["token"])
        for phrase, action in (("廣告", "HIDE"), ("剧透", "WARN")):
            made = await gql(
                base,
                FILTER,
                {"i": {"phrase": phrase, "contexts": ["COMMENTS", "NOTIFICATIONS"], "action": action}},
                reader["token"],
            )
            assert made["filterCreate"]["errors"] == []

        ws = await open_socket(base, {"Authorization": f"Bearer {reader['token']}"})
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, "comments", COMMENTS, {"n": theirs})
        await subscribe(ws, "added", ADDED, {})
        # Subscribed after the two, and answering at once: when its first event arrives, both listen.
        await subscribe(ws, "likes", LIKES, {"n": theirs})
        assert (await next_message(ws))["id"] == "likes"
        for note, body in (
            (theirs, "今天的广告位"),
            (theirs, "大结局剧透"),
            (mine, "加我领广告福利"),
            (mine, "剧透一下"),
        ):
            await gql(base, COMMENT, {"i": {"noteId": note, "body": body}}, writer["token"])
        events = sorted([await next_message(ws) for _ in range(2)], key=lambda e: str(e["id"]))
        assert [(e["id"], e["payload"]["data"]) for e in events] == [
            (
                "added",
                {
                    "notificationAdded": {
                        "kind": "COMMENT",
                        "comment": {"body": "剧透一下"},
                        "filtered": {"phrase": "剧透"},
                    }
                },
            ),
            ("comments", {"noteCommentAdded": {"body": "大结局剧透", "filtered": {"phrase": "剧透"}}}),
        ]
        await ws.close()
