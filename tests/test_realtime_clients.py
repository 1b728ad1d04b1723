"""Subscriptions with a standard client nobody on the project wrote: gql (PyPI) over graphql-transport-ws.

graphql-transport-ws is a text protocol; a server that sends its messages as binary frames is refused by
gql ("Binary data received"), graphql-ws and browsers alike.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import GraphQLClient
from tests.live_clients import shop_server
from tests.live_server import live_server
from tests.shop import CHECKOUT_START, cart_with, checkout_input, ok, world
from tests.stripe_emulator import pay
from tests.test_subscriptions import COMMENTS, LIKE, LIKES, _note, sign_up
from tests.test_subscriptions import gql as post

pytestmark = pytest.mark.timeout(120)
ORDER_STATUS = "subscription($o: ID!) { orderStatus(orderId: $o) { status stockState paid { minorUnits } } }"
COMMENT = (
    "mutation($n: ID!, $b: String!) { commentCreate(input: {noteId: $n, body: $b}) { errors { code } } }"
)


def _request(document: str, **variables: Any) -> Any:
    request = gql(document)
    request.variable_values = variables
    return request


async def _next(subscription: Any) -> Any:
    return await asyncio.wait_for(anext(subscription), timeout=10)


async def test_gql_subscribes_to_likes_and_comments_over_graphql_transport_ws(tmp_path: Path) -> None:
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        author = await sign_up(base, "streamer")
        fan = await sign_up(base, "watcher")
        note_id = await _note(base, author["token"])
        transport = WebsocketsTransport(
            url=base.replace("http", "ws", 1) + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"Authorization": f"Bearer {fan['token']}"},
        )

        async with Client(transport=transport) as session:
            likes = session.subscribe(_request(LIKES, n=note_id))
            assert await _next(likes) == {"noteLikeCount": {"noteId": note_id, "likeCount": 0}}
            await post(base, LIKE, {"n": note_id}, fan["token"])
            assert (await _next(likes))["noteLikeCount"]["likeCount"] == 1

            comments = session.subscribe(_request(COMMENTS, n=note_id))
            waiting = asyncio.ensure_future(_next(comments))
            await asyncio.sleep(0.5)  # the subscription is registered before the comment is made
            await post(base, COMMENT, {"n": note_id, "b": "好看!"}, author["token"])
            comment = (await waiting)["noteCommentAdded"]
            for subscription in (likes, comments):
                await subscription.aclose()  # stopped, so the session closes without waiting

        assert comment["body"] == "好看!" and comment["author"] == {"handle": "streamer"}
        assert comment["note"] == {"commentCount": 1, "viewerHasLiked": True}


async def test_gql_watches_an_order_paid_by_the_webhook(db: str, stripe_base: str, tmp_path: Path) -> None:
    import httpx

    with shop_server(tmp_path, stripe_base) as base:
        async with httpx.AsyncClient(base_url=base, timeout=15) as http:
            live = GraphQLClient(http)
            w = await world(live, stock=5, price=12900)
            cart = await cart_with(live, w, 2)
            started = await ok(
                live, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
            )
        transport = WebsocketsTransport(
            url=base.replace("http", "ws", 1) + "/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"Authorization": f"Bearer {w.shopper['token']}"},
        )
        async with Client(transport=transport) as session:
            status = session.subscribe(_request(ORDER_STATUS, o=started["order"]["id"]))
            assert (await _next(status))["orderStatus"]["status"] == "PENDING_PAYMENT"
            # Paid as Stripe.js would; no checkoutComplete: the emulator's signed webhook settles it.
            assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
            paid = await _next(status)
            await status.aclose()  # stops the subscription, so the session closes without waiting

    assert paid == {"orderStatus": {"status": "PAID", "stockState": "SOLD", "paid": {"minorUnits": 25800}}}


async def test_a_subscription_over_http_streams_as_multipart_or_is_refused_with_a_code(
    tmp_path: Path,
) -> None:
    import httpx

    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}") as base:
        author = await sign_up(base, "streamer")
        note_id = await _note(base, author["token"])
        body = {"query": LIKES, "variables": {"n": note_id}}
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            plain = await http.post("/graphql", json=body)
            async with http.stream(
                "POST",
                "/graphql",
                json=body,
                headers={"Accept": "multipart/mixed;subscriptionSpec=1.0,application/json"},
            ) as stream:
                content_type = stream.headers["content-type"]
                received = ""
                async for chunk in stream.aiter_text():
                    received += chunk
                    if "noteLikeCount" in received:
                        break

    # Plain HTTP cannot carry a stream of events: a coded refusal, not a null in a non-null field.
    assert plain.status_code == 400
    assert plain.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Apollo Client's multipart subscriptions: the first event arrives in a part of the stream.
    assert content_type.startswith("multipart/mixed")
    assert '"noteLikeCount":{"noteId":"' + note_id + '","likeCount":0}' in received


async def test_a_costly_subscription_is_refused_before_it_starts(tmp_path: Path) -> None:
    from tests.live_server import next_message, open_socket, subscribe

    bomb = """subscription($n: ID!) { noteCommentAdded(noteId: $n) { note { comments(first: 100) {
      edges { node { author { notes(first: 100) { nodes { id title } } } } } } } } }"""
    budget = {"VERMILION_QUERY_COST_BUDGET": "1000"}  # the default (tests otherwise run with generous ones)
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}", env=budget) as base:
        author = await sign_up(base, "streamer")
        note_id = await _note(base, author["token"])
        ws = await open_socket(base, {"Authorization": f"Bearer {author['token']}"})
        assert (await next_message(ws))["type"] == "connection_ack"
        await subscribe(ws, "bomb", bomb, {"n": note_id})
        answer = await next_message(ws)
        await ws.close()

    # Each event would run the whole selection: priced like any operation (not charged to the bucket).
    assert answer["id"] == "bomb" and answer["type"] == "next"
    assert answer["payload"]["data"] is None
    assert answer["payload"]["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 10303,
        "budget": 1000,
    }
