"""The JavaScript clients frontends use, unmodified, against a running server: graphql-ws (`createClient`
over `ws`) subscribing to likes, comments and an order's status, and Apollo Client 4 (HttpLink and
GraphQLWsLink split, InMemoryCache) signing in, querying, liking, subscribing, paging backwards and
reading the codes of the errors it is given. The scripts are in tests/clients/ (pinned in package.json,
installed by `npm ci`); each prints JSON lines that these tests read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import GraphQLClient
from tests.live_clients import node_script, shop_server, ws_url
from tests.shop import CHECKOUT_START, cart_with, checkout_input, gid, ok, world
from tests.stripe_emulator import pay
from tests.test_subscriptions import COMMENTS, LIKE, LIKES, _note, gql, sign_up

pytestmark = pytest.mark.timeout(120)

COMMENT = (
    "mutation($n: ID!, $b: String!) { commentCreate(input: {noteId: $n, body: $b}) { errors { code } } }"
)
ORDER_STATUS = "subscription($o: ID!) { orderStatus(orderId: $o) { status stockState paid { minorUnits } } }"
INVALID = "subscription($n: ID!) { noteLikeCount(noteId: $n) { likeCount nope } }"
NOTE_CREATE = "mutation($t: String!) { noteCreate(input: {title: $t}) { note { id } errors { code } } }"


def _of(label: str) -> Any:
    return lambda line: line.get("label") == label


def _events(lines: list[dict[str, Any]], label: str) -> list[Any]:
    return [line["next"] for line in lines if line.get("label") == label and "next" in line]


def _codes(lines: list[dict[str, Any]], label: str) -> list[str]:
    """The codes of the errors operation `label` ended with (in a `next` payload or an `error` message)."""
    [ended] = [line for line in lines if line.get("label") == label and "complete" not in line]
    errors = ended["next"]["errors"] if "next" in ended else ended["error"]
    return [error["extensions"]["code"] for error in errors]


async def test_graphql_ws_receives_likes_and_comments_made_over_http(
    db: str, stripe_base: str, tmp_path: Path
) -> None:
    with shop_server(tmp_path, stripe_base) as base:
        author = await sign_up(base, "streamer")
        fan = await sign_up(base, "watcher")
        note_id = await _note(base, author["token"])
        spec = {
            "url": ws_url(base),
            "connectionParams": {"Authorization": f"Bearer {fan['token']}"},
            "operations": [
                # Subscribed first: the server starts operations in the order they arrive, and this one
                # listens at its first step, while the like count answers only after reading the note.
                # So once the like count has answered, new comments reach this subscription.
                {"label": "comments", "query": COMMENTS, "variables": {"n": note_id}, "take": 1},
                {"label": "likes", "query": LIKES, "variables": {"n": note_id}, "take": 2},
                {"label": "missing", "query": LIKES, "variables": {"n": gid("Note", 987654)}, "take": 1},
            ],
        }
        async with node_script("graphql_ws_client.mjs", spec) as client:
            assert (await client.until(_of("likes")))["next"] == {
                "data": {"noteLikeCount": {"noteId": note_id, "likeCount": 0}}
            }
            await gql(base, LIKE, {"n": note_id}, fan["token"])
            await gql(base, COMMENT, {"n": note_id, "b": "好看!"}, author["token"])
            lines = await client.finished()

    assert lines[0] == {"connected": True}
    assert _events(lines, "likes")[1] == {"data": {"noteLikeCount": {"noteId": note_id, "likeCount": 1}}}
    assert _events(lines, "comments") == [
        {
            "data": {
                "noteCommentAdded": {
                    "body": "好看!",
                    "author": {"handle": "streamer"},
                    "note": {"commentCount": 1, "viewerHasLiked": True},
                }
            }
        }
    ]
    # A note that does not exist ends its subscription with a coded error.
    assert _codes(lines, "missing") == ["NOT_FOUND"]


async def test_graphql_ws_with_a_bad_token_is_closed_as_forbidden(
    db: str, stripe_base: str, tmp_path: Path
) -> None:
    with shop_server(tmp_path, stripe_base) as base:
        author = await sign_up(base, "streamer")
        note_id = await _note(base, author["token"])
        spec = {
            "url": ws_url(base),
            "connectionParams": {"Authorization": "Bearer not-a-real-token"},
            "operations": [{"label": "likes", "query": LIKES, "variables": {"n": note_id}, "take": 1}],
        }
        async with node_script("graphql_ws_client.mjs", spec) as client:
            lines = await client.finished()

    # The protocol's refusal of connection_init (no operation runs, so there is no GraphQL error to code).
    assert [line for line in lines if "label" in line] == [
        {"label": "likes", "error": {"code": 4403, "reason": "Forbidden"}}
    ]


async def test_graphql_ws_gets_a_coded_error_for_a_document_the_schema_refuses(
    db: str, stripe_base: str, tmp_path: Path
) -> None:
    with shop_server(tmp_path, stripe_base) as base:
        author = await sign_up(base, "streamer")
        note_id = await _note(base, author["token"])
        spec = {
            "url": ws_url(base),
            "operations": [{"label": "invalid", "query": INVALID, "variables": {"n": note_id}, "take": 1}],
        }
        async with node_script("graphql_ws_client.mjs", spec) as client:
            lines = await client.finished()

    assert [line["error"] for line in lines if "error" in line] == [
        [
            {
                "message": "Cannot query field 'nope' on type 'NoteLikeCount'.",
                "locations": [{"line": 1, "column": 63}],
                "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
            }
        ]
    ]


async def test_graphql_ws_sees_an_order_paid_by_the_webhook(
    db: str, stripe_base: str, tmp_path: Path
) -> None:
    with shop_server(tmp_path, stripe_base) as base:
        async with httpx.AsyncClient(base_url=base, timeout=15) as http:
            live = GraphQLClient(http)
            w = await world(live, stock=5, price=12900)
            cart = await cart_with(live, w, 2)
            started = await ok(
                live, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
            )
        order_id = started["order"]["id"]
        spec = {
            "url": ws_url(base),
            "connectionParams": {"Authorization": f"Bearer {w.shopper['token']}"},
            "operations": [
                {"label": "order", "query": ORDER_STATUS, "variables": {"o": order_id}, "take": 2}
            ],
        }
        async with node_script("graphql_ws_client.mjs", spec) as client:
            first = await client.until(_of("order"))
            assert first["next"]["data"]["orderStatus"]["status"] == "PENDING_PAYMENT"
            # Paid as Stripe.js would; no checkoutComplete: the emulator's signed webhook settles it.
            assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
            lines = await client.finished()

    assert _events(lines, "order")[1] == {
        "data": {"orderStatus": {"status": "PAID", "stockState": "SOLD", "paid": {"minorUnits": 25800}}}
    }


async def test_apollo_client_signs_in_likes_subscribes_pages_back_and_reads_error_codes(
    db: str, stripe_base: str, tmp_path: Path
) -> None:
    with shop_server(tmp_path, stripe_base) as base:
        author = await sign_up(base, "streamer")
        await sign_up(base, "watcher")
        notes = [
            (await gql(base, NOTE_CREATE, {"t": f"第{i}篇"}, author["token"]))["noteCreate"]["note"]["id"]
            for i in range(1, 6)
        ]
        spec = {
            "http": f"{base}/graphql",
            "ws": ws_url(base),
            "email": "watcher@example.com",
            "password": "correct horse",
            "noteId": notes[-1],
            "authorHandle": "streamer",
        }
        async with node_script("apollo_client.mjs", spec) as client:
            lines = await client.finished()

    steps = {line["step"]: line for line in lines if "step" in line}
    assert steps["signIn"] == {"step": "signIn", "handle": "watcher", "errors": []}
    note = {"__typename": "Note", "id": notes[-1], "title": "第5篇"}
    assert steps["query"]["data"] == {
        "viewer": {"__typename": "User", "handle": "watcher"},
        "note": note | {"likeCount": 0, "viewerHasLiked": False},
    }
    assert steps["subscription"]["event"]["noteLikeCount"]["likeCount"] == 0
    assert steps["mutation"]["data"]["noteLike"] == {
        "__typename": "NoteLikePayload",
        "note": {"__typename": "Note", "id": notes[-1], "likeCount": 1, "viewerHasLiked": True},
        "errors": [],
    }
    # The mutation's answer updated the normalised Note the earlier query reads.
    assert steps["cache"]["data"]["note"] == note | {"likeCount": 1, "viewerHasLiked": True}
    assert steps["subscription-update"]["event"]["noteLikeCount"]["likeCount"] == 1
    # Newest first: the last page is the two oldest notes; the page before it goes in front.
    assert steps["paging"]["titles"] == ["第2篇", "第1篇"]
    assert steps["paging"]["pageInfo"]["hasPreviousPage"] is True
    assert steps["paging-merged"]["titles"] == ["第4篇", "第3篇", "第2篇", "第1篇"]
    assert steps["paging-merged"]["pageInfo"]["hasPreviousPage"] is True
    # Every error reaches the application with a code it can branch on.
    assert steps["validation"]["error"] == {
        "kind": "CombinedGraphQLErrors",
        "codes": ["GRAPHQL_VALIDATION_FAILED"],
    }
    assert steps["bad-token"]["error"] == {
        "kind": "ServerError",
        "statusCode": 401,
        "codes": ["UNAUTHENTICATED"],
    }
    assert steps["field-error"]["error"] == {"kind": "CombinedGraphQLErrors", "codes": ["INVALID"]}
