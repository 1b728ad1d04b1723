"""Live notifications through a real server and a real graphql-transport-ws client (gql): entries as they
change, the unread count as it moves, and nothing for anonymous connections."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from gql import Client
from gql.transport.websockets import WebsocketsTransport

from tests.live_server import live_server, next_message, open_socket, subscribe
from tests.test_realtime_clients import _request
from tests.test_subscriptions import LIKE, _note, sign_up
from tests.test_subscriptions import gql as post

pytestmark = pytest.mark.timeout(120)

ADDED = """subscription { notificationAdded { id kind read actorCount groupKey actor { handle }
  actors(first: 2) { nodes { handle } } note { title } } }"""
COUNT = "subscription { unreadNotificationCount }"
MARK = "mutation { notificationsMarkRead { unreadCount errors { code } } }"


async def _next(subscription: Any) -> Any:
    return await asyncio.wait_for(anext(subscription), timeout=10)


def _transport(base: str, token: str) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=base.replace("http", "ws", 1) + "/graphql",
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"Authorization": f"Bearer {token}"},
    )


async def test_entries_and_the_unread_count_arrive_live(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        author = await sign_up(base, "xiaohong")
        fans = [await sign_up(base, f"fan{i}") for i in range(3)]
        note_id = await _note(base, author["token"])

        async with Client(transport=_transport(base, author["token"])) as session:
            added = session.subscribe(_request(ADDED))
            waiting = asyncio.ensure_future(_next(added))
            counts = session.subscribe(_request(COUNT))
            # The count comes at once; notificationAdded, asked for first on the same connection, is
            # listening by then (both pass the same steps before subscribing, in the order they came).
            assert await _next(counts) == {"unreadNotificationCount": 0}

            await post(base, LIKE, {"n": note_id}, fans[0]["token"])
            entry = (await waiting)["notificationAdded"]
            assert (entry["kind"], entry["read"], entry["actorCount"], entry["actor"]) == (
                "LIKE",
                False,
                1,
                {"handle": "fan0"},
            )
            assert entry["note"] == {"title": "直播中"}
            assert await _next(counts) == {"unreadNotificationCount": 1}

            # someone joins the entry: it comes again, as it is now; the count (entries) stays
            await post(base, LIKE, {"n": note_id}, fans[1]["token"])
            again = (await _next(added))["notificationAdded"]
            assert (again["id"], again["actorCount"]) == (entry["id"], 2)
            assert again["actors"]["nodes"] == [{"handle": "fan1"}, {"handle": "fan0"}]

            # marking read is told; a like on the read entry makes it unread again
            assert (await post(base, MARK, token=author["token"]))["notificationsMarkRead"][
                "unreadCount"
            ] == 0
            assert await _next(counts) == {"unreadNotificationCount": 0}
            await post(base, LIKE, {"n": note_id}, fans[2]["token"])
            third = (await _next(added))["notificationAdded"]
            assert (third["id"], third["actorCount"], third["read"]) == (entry["id"], 3, False)
            assert await _next(counts) == {"unreadNotificationCount": 1}

            # a like after an unlike tells nobody again: the next event is a new follower's entry
            await post(base, "mutation($n: ID!) { noteUnlike(noteId: $n) { errors { code } } }", {"n": note_id},
                       fans[0]["token"])  # fmt: skip
            await post(base, LIKE, {"n": note_id}, fans[0]["token"])
            await post(
                base,
                "mutation($u: ID!) { userFollow(userId: $u) { errors { code } } }",
                {"u": author["user"]["id"]},
                fans[0]["token"],
            )
            follow = (await _next(added))["notificationAdded"]
            assert (follow["kind"], follow["actor"]) == ("FOLLOW", {"handle": "fan0"})
            assert await _next(counts) == {"unreadNotificationCount": 2}


async def test_anonymous_connections_are_refused_with_unauthenticated(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        ws = await open_socket(base)
        assert (await next_message(ws))["type"] == "connection_ack"
        for op_id, query in (("added", ADDED), ("count", COUNT)):
            await subscribe(ws, op_id, query, {})
            message = await next_message(ws)
            while message["type"] == "complete":  # the end of the operation refused before
                message = await next_message(ws)
            assert message["id"] == op_id and message["type"] in ("error", "next"), message
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED", json.dumps(message)
        await ws.close()


async def test_subscriptions_are_priced_by_what_they_select(tmp_path: Path) -> None:
    # The default budget: a subscription that asks for a hundred people of each entry, each with a
    # hundred notes, is refused before it starts; a sample of actors is cheap.
    budget = {"VERMILION_QUERY_COST_BUDGET": "1000"}
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}", env=budget) as base:
        author = await sign_up(base, "priced")
        ws = await open_socket(base, {"Authorization": f"Bearer {author['token']}"})
        assert (await next_message(ws))["type"] == "connection_ack"
        bomb = "subscription { notificationAdded { actors(first: 100) { nodes { notes(first: 100) { nodes { id } } } } } }"
        await subscribe(ws, "bomb", bomb, {})
        answer = await next_message(ws)
        assert answer["payload"]["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY", answer
        assert await next_message(ws) == {"id": "bomb", "type": "complete"}
        await subscribe(ws, "count", COUNT, {})
        assert (await next_message(ws))["payload"] == {"data": {"unreadNotificationCount": 0}}
        await ws.close()
