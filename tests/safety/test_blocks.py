"""Blocks and mutes, through the API: every surface that returns notes, comments, people, products, boards or
notifications is listed here, tried by a blocker and by a bystander (who must see what the blocker must not,
so each check can fail), and the list is held equal to the schema's own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up
from tests.test_visibility_policy import schema_surfaces

BLOCK = "mutation($u: ID!) { userBlock(userId: $u) { user { handle } errors { code field } } }"
UNBLOCK = "mutation($u: ID!) { userUnblock(userId: $u) { user { handle } errors { code } } }"
MUTE = "mutation($u: ID!) { userMute(userId: $u) { user { handle viewerHasMuted } errors { code } } }"
FOLLOW = "mutation($u: ID!) { userFollow(userId: $u) { user { followerCount } errors { code field } } }"
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { note { likeCount } errors { code field } } }"
COLLECT = "mutation($n: ID!) { noteCollect(noteId: $n) { note { collectCount } errors { code field } } }"
COMMENT = """mutation($i: CommentCreateInput!) {
  commentCreate(input: $i) { comment { id } errors { code field } } }"""
BOARD = "mutation($i: BoardCreateInput!) { boardCreate(input: $i) { board { id } errors { code } } }"
COLLECT_INTO = """mutation($n: ID!, $b: ID!) {
  noteCollect(noteId: $n, boardId: $b) { errors { code } } }"""


@dataclass
class World:
    alice: dict[str, Any]  # blocks bob
    bob: dict[str, Any]
    carol: dict[str, Any]  # a bystander: sees everything, so each check can fail
    ids: dict[str, str] = field(default_factory=dict)


async def _ok(client: GraphQLClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    data = await client.data(query, variables, token=token)
    payload = next(iter(data.values()))
    assert payload["errors"] == [], payload["errors"]
    return payload  # type: ignore[no-any-return]


async def _world(client: GraphQLClient) -> World:
    w = World(await sign_up(client, "alice"), await sign_up(client, "bob"), await sign_up(client, "carol"))
    a, b, c = w.alice["token"], w.bob["token"], w.carol["token"]
    ids = w.ids
    ids["bob"], ids["alice"] = w.bob["user"]["id"], w.alice["user"]["id"]
    product = await create_product(client, b, title="Bob 防晒霜 sunscreen")
    ids["product"], ids["variant"] = product["id"], product["variants"][0]["id"]
    carol_product = await create_product(client, c, title="Carol 面霜 cream")
    ids["bob_note"] = (
        await create_note(
            client,
            b,
            title="bob 防晒 sunscreen",
            body="防晒 推荐",
            topics=["防晒"],
            productIds=[product["id"]],
        )
    )["id"]
    ids["carol_note"] = (await create_note(client, c, title="carol 防晒 diary", topics=["防晒"]))["id"]
    ids["alice_note"] = (await create_note(client, a, title="alice 日常"))["id"]
    # carol tags bob's product, and reviews it; bob reviews carol's product
    ids["carol_tags"] = (await create_note(client, c, title="carol 好物", productIds=[product["id"]]))["id"]
    ids["carol_review"] = (
        await create_note(client, c, title="carol 测评", review={"productId": product["id"], "rating": 4})
    )["id"]
    ids["bob_review"] = (
        await create_note(client, b, title="bob 测评", review={"productId": carol_product["id"], "rating": 2})
    )["id"]
    ids["carol_product"] = carol_product["id"]
    # comments: bob on carol's note, carol's reply to it, bob's reply in carol's own thread
    ids["bob_comment"] = (
        await _ok(client, COMMENT, {"i": {"noteId": ids["carol_note"], "body": "bob says hi"}}, b)
    )["comment"]["id"]
    ids["carol_root"] = (
        await _ok(client, COMMENT, {"i": {"noteId": ids["carol_note"], "body": "carol root"}}, c)
    )["comment"]["id"]
    ids["carol_reply_to_bob"] = (
        await _ok(
            client,
            COMMENT,
            {
                "i": {
                    "noteId": ids["carol_note"],
                    "body": "carol answers bob",
                    "replyToId": ids["bob_comment"],
                }
            },
            c,
        )
    )["comment"]["id"]
    ids["bob_reply"] = (
        await _ok(
            client,
            COMMENT,
            {"i": {"noteId": ids["carol_note"], "body": "bob in thread", "replyToId": ids["carol_root"]}},
            b,
        )
    )["comment"]["id"]
    ids["alice_comment"] = (
        await _ok(client, COMMENT, {"i": {"noteId": ids["carol_note"], "body": "alice here"}}, a)
    )["comment"]["id"]
    # boards: bob's own public board; carol's board holding bob's note
    ids["bob_board"] = (await _ok(client, BOARD, {"i": {"name": "bob picks"}}, b))["board"]["id"]
    await _ok(client, COLLECT_INTO, {"n": ids["carol_note"], "b": ids["bob_board"]}, b)
    ids["carol_board"] = (await _ok(client, BOARD, {"i": {"name": "carol picks"}}, c))["board"]["id"]
    await _ok(client, COLLECT_INTO, {"n": ids["bob_note"], "b": ids["carol_board"]}, c)
    # follows every way; bob and carol both like alice's note (one grouped notification for alice)
    for who, whom in ((a, "bob"), (b, "alice"), (c, "bob")):
        await _ok(client, FOLLOW, {"u": ids[whom]}, who)
    await _ok(client, LIKE, {"n": ids["alice_note"]}, b)
    await _ok(client, LIKE, {"n": ids["alice_note"]}, c)
    return w


def _nodes(connection: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [edge["node"] for edge in (connection or {}).get("edges", [])]


async def _q(client: GraphQLClient, token: str, query: str, **variables: Any) -> dict[str, Any]:
    return await client.data(query, variables, token=token)


# Each surface: what a viewer gets of bob's things through it (a set of ids, handles or titles).
Surface = Callable[[GraphQLClient, str, dict[str, str]], Awaitable[set[str]]]


async def _node_ids(client: GraphQLClient, token: str, ids: dict[str, str], keys: list[str]) -> set[str]:
    found = set()
    for key in keys:
        data = await _q(client, token, "query($id: ID!) { node(id: $id) { id } }", id=ids[key])
        if data["node"]:
            found.add(key)
    return found


async def s_node(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    keys = ["bob", "bob_note", "product", "variant", "bob_comment", "bob_reply", "bob_board", "bob_review"]
    return await _node_ids(client, token, ids, keys)


async def s_note(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(client, token, "query($id: ID!) { note(id: $id) { id } }", id=ids["bob_note"])
    return {"bob_note"} if data["note"] else set()


async def s_product(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(client, token, "query($id: ID!) { product(id: $id) { id } }", id=ids["product"])
    return {"product"} if data["product"] else set()


async def s_board(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(client, token, "query($id: ID!) { board(id: $id) { id } }", id=ids["bob_board"])
    return {"bob_board"} if data["board"] else set()


async def s_board_notes(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(
        client,
        token,
        "query($id: ID!) { board(id: $id) { notes(first: 10) { edges { node { id } } } } }",
        id=ids["carol_board"],
    )
    return {n["id"] for n in _nodes(data["board"]["notes"])} & {ids["bob_note"]}


async def s_board_owner(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    # A board is shown only with its owner: bob's board, and so its owner, is out of reach.
    data = await _q(
        client, token, "query($id: ID!) { board(id: $id) { owner { handle } } }", id=ids["bob_board"]
    )
    return {data["board"]["owner"]["handle"]} if data["board"] else set()


async def s_user(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(client, token, 'query { user(handle: "bob") { handle } }')
    return {"bob"} if data["user"] else set()


async def s_user_content(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """User.notes and User.boards: reached through bob's profile, which must be null."""
    data = await _q(
        client,
        token,
        'query { user(handle: "bob") { notes(first: 5) { edges { node { id } } } boards(first: 5) { edges { node { id } } } } }',
    )
    user = data["user"]
    return {n["id"] for n in _nodes(user["notes"]) + _nodes(user["boards"])} if user else set()


async def s_follows(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """User.followers and User.following, on carol's profile (carol follows bob)."""
    data = await _q(
        client,
        token,
        'query { user(handle: "carol") { following(first: 10) { edges { node { handle } } } } '
        'bob: user(handle: "alice") { followers(first: 10) { edges { node { handle } } } } }',
    )
    seen = {u["handle"] for u in _nodes(data["user"]["following"])}
    seen |= {u["handle"] for u in _nodes(data["bob"]["followers"])}
    return seen & {"bob"}


async def s_topic(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(
        client, token, 'query { topic(name: "防晒") { notes(first: 20) { edges { node { id } } } } }'
    )
    return {n["id"] for n in _nodes(data["topic"]["notes"])} & {ids["bob_note"]}


async def s_following_feed(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    data = await _q(client, token, "query { followingFeed(first: 20) { edges { node { id } } } }")
    return {n["id"] for n in _nodes(data["followingFeed"])} & {ids["bob_note"], ids["bob_review"]}


async def s_discover(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    seen: set[str] = set()
    after = None
    for _ in range(3):
        data = await _q(
            client,
            token,
            'query($after: String) { discoverFeed(first: 20, after: $after, interests: ["防晒"]) '
            "{ edges { node { id } } pageInfo { endCursor hasNextPage } } }",
            after=after,
        )
        seen |= {n["id"] for n in _nodes(data["discoverFeed"])}
        if not data["discoverFeed"]["pageInfo"]["hasNextPage"]:
            break
        after = data["discoverFeed"]["pageInfo"]["endCursor"]
    return seen & {ids["bob_note"], ids["bob_review"]}


async def s_search(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    found: set[str] = set()
    for query, kind in (("防晒", "NOTE"), ("bob", "USER"), ("sunscreen", "PRODUCT"), ("测评", "NOTE")):
        data = await _q(
            client,
            token,
            "query($q: String!, $t: SearchType!) { search(query: $q, type: $t, first: 20) "
            "{ edges { node { ... on Note { id } ... on User { id } ... on Product { id } } } } }",
            q=query,
            t=kind,
        )
        found |= {n["id"] for n in _nodes(data["search"])}
    return found & {ids["bob_note"], ids["bob"], ids["product"], ids["bob_review"]}


async def s_note_comments(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """Note.comments, Comment.replies, Comment.replyTo, Comment.author on carol's note."""
    data = await _q(
        client,
        token,
        "query($id: ID!) { note(id: $id) { comments(first: 20) { edges { node { id author { handle } "
        "replies(first: 20) { edges { node { id author { handle } replyTo { id } } } } } } } } }",
        id=ids["carol_note"],
    )
    seen: set[str] = set()
    for root in _nodes(data["note"]["comments"]):
        seen.add(root["id"])
        seen.add(root["author"]["handle"])
        for reply in _nodes(root["replies"]):
            seen |= {reply["id"], reply["author"]["handle"]}
            if reply["replyTo"]:
                seen.add(reply["replyTo"]["id"])
    return seen & {ids["bob_comment"], ids["bob_reply"], "bob"}


async def s_comment_note(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """Comment.note and Comment.replyTo of carol's comments that point at bob's."""
    data = await _q(
        client,
        token,
        "query($id: ID!) { node(id: $id) { ... on Comment { replyTo { id } note { id } } } }",
        id=ids["carol_reply_to_bob"],
    )
    reply_to = data["node"]["replyTo"]
    return {reply_to["id"]} & {ids["bob_comment"]} if reply_to else set()


async def s_note_products(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """Note.products and NoteReview.product: carol's notes about bob's product."""
    data = await _q(
        client,
        token,
        "query($t: ID!, $r: ID!) { t: note(id: $t) { products { id } } "
        "r: note(id: $r) { review { product { id } } } }",
        t=ids["carol_tags"],
        r=ids["carol_review"],
    )
    found = {p["id"] for p in data["t"]["products"]}
    if data["r"]["review"]["product"]:
        found.add(data["r"]["review"]["product"]["id"])
    return found & {ids["product"]}


async def s_product_reviews(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """Product.reviews (and Product.merchant, Product.variants of a visible product) on carol's product."""
    data = await _q(
        client,
        token,
        "query($id: ID!) { product(id: $id) { merchant { handle } reviews(first: 10) { edges { node { id } } } } }",
        id=ids["carol_product"],
    )
    return {n["id"] for n in _nodes(data["product"]["reviews"])} & {ids["bob_review"]}


async def s_notifications(client: GraphQLClient, token: str, ids: dict[str, str]) -> set[str]:
    """User.notifications, Notification.actor, actors, note and comment: the viewer's own list."""
    data = await _q(
        client,
        token,
        "query { viewer { notifications(first: 20) { edges { node { kind actorCount actor { handle } "
        "actors(first: 10) { edges { node { handle } } } note { id } comment { id } } } } } }",
    )
    seen: set[str] = set()
    for entry in _nodes(data["viewer"]["notifications"]):
        if entry["actor"]:
            seen.add(entry["actor"]["handle"])
        seen |= {u["handle"] for u in _nodes(entry["actors"])}
    return seen & {"bob"}


SURFACES: dict[str, Surface] = {
    "Query.node": s_node,
    "Query.note": s_note,
    "Query.product": s_product,
    "Query.board": s_board,
    "Query.user": s_user,
    "Query.followingFeed": s_following_feed,
    "Query.discoverFeed": s_discover,
    "Query.search": s_search,
    "Board.notes": s_board_notes,
    "Board.owner": s_board_owner,
    "Topic.notes": s_topic,
    "User.notes": s_user_content,
    "User.boards": s_user_content,
    "User.followers": s_follows,
    "User.following": s_follows,
    "Note.comments": s_note_comments,
    "Comment.replies": s_note_comments,
    "Comment.author": s_note_comments,
    "Comment.replyTo": s_comment_note,
    "Comment.note": s_comment_note,
    "Note.products": s_note_products,
    "NoteReview.product": s_note_products,
    "Product.reviews": s_product_reviews,
    "User.notifications": s_notifications,
    "Notification.actor": s_notifications,
    "Notification.actors": s_notifications,
}

# Surfaces with another rule, each said why.
EXEMPT = {
    # Only ever shows the author of a note or comment the viewer may see, or the merchant of a visible product.
    "Note.author": "follows its note",
    "Product.merchant": "follows its product",
    "Product.variants": "follows its product",
    "Notification.note": "the note loader applies the note rule",
    "Notification.comment": "the comment loader applies the comment rule",
    # One's own things: the viewer, their own blocked and muted lists.
    "Query.viewer": "the viewer themselves",
    "User.blockedUsers": "the viewer's own list of whom they blocked",
    "User.mutedUsers": "the viewer's own list of whom they muted",
    # A merchant's own codes (viewer.discountCodes, null on anyone else's profile): their own products.
    "DiscountCode.products": "the merchant's own products, on their own codes",
    # Orders and carts are records of purchases: they keep what was bought, and from whom.
    "CartLine.product": "a purchase record",
    "CartLine.variant": "a purchase record",
    "CartLine.sourceNote": "applies the note rule (commerce types)",
    "Order.buyer": "a purchase record",
    "OrderLine.product": "a purchase record",
    "OrderLine.sourceNote": "applies the note rule (commerce types)",
    # A creator's own earnings ledger (viewer.earningEntries, null on anyone else's profile).
    "EarningEntry.note": "applies the note rule (load_note)",
    "OrderLine.merchant": "a purchase record",
    "DeliveryGroup.merchant": "a purchase record: who sells the cart's items",
    "CartDiscount.merchant": "a purchase record: whose code discounts the cart's items",
    "OrderDeliveryGroup.merchant": "a purchase record",
    "Shipment.merchant": "a purchase record",
    "ReturnRequest.merchant": "a purchase record",
    # Live: tried over a real WebSocket in tests/safety/test_blocks_live.py.
    "Subscription.noteCommentAdded": "tests/safety/test_blocks_live.py",
    "Subscription.notificationAdded": "tests/safety/test_blocks_live.py",
    "Subscription.noteLikeCount": "the note rule at subscribe time and per event (test_visibility_policy.py)",
}

# Whole types with another rule: moderation records are shown to staff (who must see what was reported,
# whoever blocked whom) and to the person they concern, never to the public.
EXEMPT_TYPES = {
    "ModerationCase": "staff only",
    "ModerationAction": "staff, and the person it concerns",
    "Appeal": "staff, and the appellant",
    "Report": "staff, and the reporter",
}

_TARGETS = {"Note", "Comment", "User", "Product", "Board", "Notification", "ProductVariant"}


def block_surfaces() -> set[str]:
    """Every field that returns notes, comments, people, products, boards or notifications (directly, in a
    list, or through a page), mutation payloads and moderation records aside."""
    return {
        surface
        for surface in schema_surfaces(_TARGETS)
        if not surface.split(".")[0].endswith("Payload") and surface.split(".")[0] not in EXEMPT_TYPES
    }


def test_every_surface_of_the_schema_is_tried_or_exempt_with_a_reason() -> None:
    listed = set(SURFACES) | set(EXEMPT)
    surfaces = block_surfaces()
    assert surfaces - listed == set(), "a new surface: try it in SURFACES (or exempt it, saying why)"
    assert listed - surfaces == set(), "listed surfaces the schema no longer has"


async def test_a_block_hides_each_side_from_the_other_on_every_surface(client: GraphQLClient) -> None:
    w = await _world(client)
    ids = w.ids
    before = {name: await surface(client, w.alice["token"], ids) for name, surface in SURFACES.items()}
    assert all(before[name] for name in SURFACES if name not in ("User.followers", "User.following")), {
        name: seen for name, seen in before.items() if not seen
    }

    payload = await _ok(client, BLOCK, {"u": ids["bob"]}, w.alice["token"])
    assert payload["user"] == {"handle": "bob"}

    for name, surface in SURFACES.items():
        assert await surface(client, w.alice["token"], ids) == set(), f"{name} shows bob to alice"
        # The bystander still sees bob everywhere: the check would catch a surface that shows him.
        if name not in (
            "User.followers",
            "User.following",
            "User.notifications",
            "Notification.actor",
            "Notification.actors",
        ):
            assert await surface(client, w.carol["token"], ids), f"{name} hides bob from carol"

    # Follows ended both ways, counters exact.
    data = await _q(client, w.alice["token"], "query { viewer { followerCount followingCount } }")
    assert data["viewer"] == {"followerCount": 0, "followingCount": 0}
    assert await counter_mismatches() == []

    # And bob no longer sees alice, nor can reach her.
    assert (await _q(client, w.bob["token"], 'query { user(handle: "alice") { id } }'))["user"] is None
    assert (
        await _q(client, w.bob["token"], "query($id: ID!) { note(id: $id) { id } }", id=ids["alice_note"])
    )["note"] is None
    refusals: list[tuple[str, dict[str, Any]]] = [
        (FOLLOW, {"u": ids["alice"]}),
        (LIKE, {"n": ids["alice_note"]}),
        (COLLECT, {"n": ids["alice_note"]}),
        (COMMENT, {"i": {"noteId": ids["alice_note"], "body": "hi"}}),
        (COMMENT, {"i": {"noteId": ids["carol_note"], "body": "hi", "replyToId": ids["alice_comment"]}}),
    ]
    for query, variables in refusals:
        data = await client.data(query, variables, token=w.bob["token"])
        payload = next(iter(data.values()))
        assert [e["code"] for e in payload["errors"]] == ["BLOCKED"], (query, payload)
    # The blocker is refused the same way (a block works both ways) …
    data = await client.data(FOLLOW, {"u": ids["bob"]}, token=w.alice["token"])
    assert [e["code"] for e in data["userFollow"]["errors"]] == ["BLOCKED"]
    # … and the list is hers alone.
    data = await _q(
        client, w.alice["token"], "query { viewer { blockedUsers(first: 5) { edges { node { handle } } } } }"
    )
    assert [u["handle"] for u in _nodes(data["viewer"]["blockedUsers"])] == ["bob"]
    data = await _q(
        client,
        w.carol["token"],
        'query { user(handle: "alice") { blockedUsers(first: 5) { edges { node { id } } } } }',
    )
    assert data["user"]["blockedUsers"] is None

    # Unblocking brings bob's content back (follows stay ended).
    await _ok(client, UNBLOCK, {"u": ids["bob"]}, w.alice["token"])
    assert await s_note(client, w.alice["token"], ids) == {"bob_note"}
    assert await s_user(client, w.alice["token"], ids) == {"bob"}


async def test_a_mute_hides_content_from_the_muter_only_and_silently(client: GraphQLClient) -> None:
    w = await _world(client)
    ids = w.ids
    payload = await _ok(client, MUTE, {"u": ids["bob"]}, w.alice["token"])
    assert payload["user"] == {"handle": "bob", "viewerHasMuted": True}
    # alice follows bob still: his notes leave her following feed, his comments and notifications go.
    assert await s_following_feed(client, w.alice["token"], ids) == set()
    assert await s_note(client, w.alice["token"], ids) == set()
    assert await s_search(client, w.alice["token"], ids) & {ids["bob_note"]} == set()
    assert await s_note_comments(client, w.alice["token"], ids) == set()
    assert await s_notifications(client, w.alice["token"], ids) == set()
    assert await s_discover(client, w.alice["token"], ids) == set()
    # His profile stays visible (so he can be unmuted), and he notices nothing: he still sees and likes
    # her notes, and nothing is refused.
    assert await s_user(client, w.alice["token"], ids) == {"bob"}
    data = await client.data(LIKE, {"n": ids["alice_note"]}, token=w.bob["token"])
    assert data["noteLike"]["errors"] == []
    assert (await _q(client, w.bob["token"], 'query { user(handle: "alice") { viewerHasMuted } }'))[
        "user"
    ] == {"viewerHasMuted": False}
    # carol is not affected.
    assert await s_following_feed(client, w.carol["token"], ids) == {ids["bob_note"], ids["bob_review"]}


@pytest.mark.parametrize("action", [BLOCK, MUTE])
async def test_blocking_or_muting_yourself_or_no_one_is_refused(client: GraphQLClient, action: str) -> None:
    alice = await sign_up(client, "alice")
    data = await client.data(action, {"u": alice["user"]["id"]}, token=alice["token"])
    assert [e["code"] for e in next(iter(data.values()))["errors"]] == ["INVALID"]
    data = await client.data(action, {"u": "VXNlcjo5OTk5OTk="}, token=alice["token"])
    assert [e["code"] for e in next(iter(data.values()))["errors"]] == ["NOT_FOUND"]
    anonymous = await client.execute(action, {"u": alice["user"]["id"]}, anonymous=True)
    assert [e["code"] for e in next(iter(anonymous["data"].values()))["errors"]] == ["UNAUTHENTICATED"]
