"""Every surface that returns notes, comments, people or boards goes through the visibility policy.

The schema is enumerated, and every field that can return one of those objects must name a case here (or
a reason why it needs none), so a new field that bypasses `social.policy` fails this module. Each case
runs its query as a client would, once with nothing hidden (the author's content must appear: the case
can fail) and once with `audience_for` hiding that author (it must vanish, the control author's stays).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from core.ids import parse_global_id
from core.settings import Settings
from schema import build_schema
from social import policy
from tests.conftest import TEST_SECRET, GraphQLClient
from tests.factories import create_note, create_product, sign_up
from tests.live_server import ROOT, SERVER, migrated_sqlite
from tests.loopback import serve_on_loopback
from tests.test_subscriptions import gql, next_message, open_socket, subscribe

GUARDED = {"Note", "Comment", "User", "Board"}
# Root arguments that name a guarded object: such a field tells about it even when it returns a scalar.
GUARDED_ARGUMENTS = {"noteId", "commentId", "userId", "boardId"}


# --- (a) the schema's surfaces --------------------------------------------------------------------------


def _contains(
    schema: GraphQLSchema,
    output: GraphQLOutputType,
    guarded: frozenset[str] | set[str] = GUARDED,
    seen: frozenset[str] = frozenset(),
) -> bool:
    """The type can carry a guarded object: itself, a union or interface member, or inside a page."""
    named = get_named_type(output)
    if named.name in guarded:
        return True
    if isinstance(named, GraphQLUnionType):
        return any(member.name in guarded for member in named.types)
    if isinstance(named, GraphQLInterfaceType):
        return any(t.name in guarded for t in schema.get_possible_types(named))
    if isinstance(named, GraphQLObjectType) and _is_page(named.name) and named.name not in seen:
        return any(_contains(schema, f.type, guarded, seen | {named.name}) for f in named.fields.values())
    return False


def _is_page(type_name: str) -> bool:
    return type_name.endswith(("Connection", "Edge"))


def schema_surfaces(guarded: frozenset[str] | set[str] = GUARDED) -> set[str]:
    """`Type.field` of every field that can return a note, comment, person or board (or the `guarded` types
    given; pages are looked into, their own edges/nodes fields belong to the field that returns the page)."""
    settings = Settings(VERMILION_SECRET_KEY=TEST_SECRET)
    schema = build_schema(settings)._schema
    found: set[str] = set()
    for name, named in schema.type_map.items():
        if name.startswith("__") or not isinstance(named, GraphQLObjectType) or _is_page(name):
            continue
        for field_name, field in named.fields.items():
            names_one = name in ("Query", "Subscription") and GUARDED_ARGUMENTS & set(field.args)
            if _contains(schema, field.type, guarded) or names_one:
                found.add(f"{name}.{field_name}")
    return found


@dataclass(frozen=True)
class Exempt:
    """A surface with no case of its own, and why the policy still governs it."""

    why: str


OWN = Exempt("the viewer's own object, just created or edited by them")
SELF = Exempt("the viewer themselves (is_self)")
COUNTERPARTY = Exempt(
    "a commerce counterparty, non-null and shown with the product or order (commerce.policy decides the order)"
)

# Surface → the case (below) whose query selects it, or an exemption.
SURFACES: dict[str, str | Exempt] = {
    "Query.node": "node",
    "Query.note": "note",
    "Query.user": "user",
    "Query.board": "board",
    "Query.viewer": SELF,
    "Query.followingFeed": "followingFeed",
    "Query.discoverFeed": "discoverFeed",
    "Query.search": "search",
    "Subscription.noteLikeCount": "subscriptions",
    "Subscription.noteCommentAdded": "subscriptions",
    "Topic.notes": "topic",
    "Product.reviews": "product",
    "Product.merchant": "merchantProfile",
    "User.notes": "merchantProfile",
    "User.boards": "merchantProfile",
    "User.followers": "followers",
    "User.following": "following",
    "Board.notes": "board",
    "Board.owner": "board",
    "Note.author": "followingFeed",
    "Note.comments": "comments",
    "Comment.author": "comments",
    "Comment.replies": "comments",
    "Comment.replyTo": "comments",
    "Comment.note": "commentNote",
    "Notification.actor": "notifications",
    "Notification.actors": "notifications",
    "Notification.note": "notifications",
    "Notification.comment": "notifications",
    "CartLine.sourceNote": "cart",
    "OrderLine.sourceNote": Exempt("loaded by load_note, the loader Query.note's case proves"),
    "EarningEntry.note": Exempt("loaded by load_note, the loader Query.note's case proves"),
    "OrderLine.merchant": COUNTERPARTY,
    "DeliveryGroup.merchant": COUNTERPARTY,
    "CartDiscount.merchant": COUNTERPARTY,
    "OrderDeliveryGroup.merchant": COUNTERPARTY,
    "Shipment.merchant": COUNTERPARTY,
    "ReturnRequest.merchant": COUNTERPARTY,
    "Order.buyer": COUNTERPARTY,
    "NoteLikePayload.note": "noteLike",
    "NoteCollectPayload.note": Exempt("fresh_note, the same loader noteLike's case proves"),
    "NoteSignalPayload.note": Exempt("fresh_note, the same loader noteLike's case proves"),
    "NoteCollectPayload.board": OWN,
    "NoteCreatePayload.note": OWN,
    "NoteUpdatePayload.note": OWN,
    "BoardCreatePayload.board": OWN,
    "CommentCreatePayload.comment": OWN,
    "AuthPayload.user": SELF,
    "ViewerUpdatePayload.user": SELF,
    "User.blockedUsers": Exempt("the viewer's own list of whom they blocked (null on anyone else)"),
    "User.mutedUsers": Exempt("the viewer's own list of whom they muted (null on anyone else)"),
    "UserRelationPayload.user": Exempt("the person just blocked, unblocked, muted or unmuted by id"),
    "RoleGrantPayload.user": Exempt("an admin's grant: the person whose role changed (staff see everyone)"),
    # Moderation records: shown to staff (who must see what was reported, whoever blocked whom) and to the
    # person a record concerns, never to the public (schema/safety: require_staff_viewer, is_self).
    "ModerationCase.subject": Exempt("staff only: the subject under review"),
    "ModerationCase.owner": Exempt("staff only: the subject's owner"),
    "ModerationCase.assignee": Exempt("staff only: a moderator"),
    "ModerationAction.moderator": Exempt("staff only (null for the person affected)"),
    "ModerationAction.targetUser": Exempt("staff, and the person affected themselves"),
    "Report.reporter": Exempt("staff, and the reporter themselves"),
    "Appeal.appellant": Exempt("staff, and the appellant themselves"),
    "UserFollowPayload.user": Exempt(
        "the person just followed or unfollowed by id; refusing that action is social.engagement's rule"
    ),
}


def test_every_surface_of_the_schema_has_a_case() -> None:
    surfaces = schema_surfaces()
    missing = sorted(surfaces - SURFACES.keys())
    assert not missing, f"fields returning notes, comments, people or boards with no case: {missing}"
    stale = sorted(SURFACES.keys() - surfaces)
    assert not stale, f"cases for fields the schema no longer has: {stale}"
    for surface, case in SURFACES.items():
        if isinstance(case, Exempt):
            continue
        assert case in CASES or case == "subscriptions", (surface, case)
        field = surface.split(".")[1]
        query = SUBSCRIPTION_QUERIES if case == "subscriptions" else CASES[case].query
        assert field in query, f"the case {case!r} does not select {surface}"


def test_the_enumeration_sees_through_pages_and_unions() -> None:
    surfaces = schema_surfaces()
    # A connection (Topic.notes), a union page (search), the Node interface, a bare reference.
    assert {"Topic.notes", "Query.search", "Query.node", "Comment.author"} <= surfaces
    assert "Query.trendingTopics" not in surfaces and "Product.variants" not in surfaces


# --- (b) every case, through the API --------------------------------------------------------------------


@dataclass
class World:
    viewer: dict[str, Any]
    hidden: dict[str, Any]  # the author whose content is hidden
    control: dict[str, Any]  # an author who stays visible
    ids: dict[str, str]  # global ids by name

    def pk(self, name: str) -> int:
        parsed = parse_global_id(self.ids[name])
        assert parsed is not None
        return parsed[1]


@dataclass(frozen=True)
class Case:
    query: str
    variables: Callable[[World], dict[str, Any]]
    hidden: tuple[str, ...]  # ids (World.ids keys) of the hidden author's objects the answer shows
    shown: tuple[str, ...] = ()  # ids of the control author's objects, shown either way
    anonymous: bool = False


def _ids(*names: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {n: w.ids[n] for n in names}


NOTE_FIELDS = "id author { id } comments(first: 10) { edges { node { id author { id } } } }"

CASES: dict[str, Case] = {
    "node": Case(
        "query($hNote: ID!, $hUser: ID!, $hComment: ID!, $hBoard: ID!, $cNote: ID!) {"
        " a: node(id: $hNote) { id } b: node(id: $hUser) { id } c: node(id: $hComment) { id }"
        " d: node(id: $hBoard) { id } e: node(id: $cNote) { id } }",
        _ids("hNote", "hUser", "hComment", "hBoard", "cNote"),
        hidden=("hNote", "hUser", "hComment", "hBoard"),
        shown=("cNote",),
    ),
    "note": Case(
        "query($hNote: ID!, $cNote: ID!) { a: note(id: $hNote) { id } b: note(id: $cNote) { id } }",
        _ids("hNote", "cNote"),
        hidden=("hNote",),
        shown=("cNote",),
    ),
    "user": Case(
        'query { a: user(handle: "vishidden") { id } b: user(handle: "@viscontrol") { id } }',
        lambda w: {},
        hidden=("hUser",),
        shown=("cUser",),
    ),
    "board": Case(
        "query($hBoard: ID!, $vBoard: ID!) { a: board(id: $hBoard) { id owner { id } }"
        " b: board(id: $vBoard) { id notes(first: 10) { nodes { id } } } }",
        _ids("hBoard", "vBoard"),
        hidden=("hBoard", "hUser", "hNote"),
        shown=("cNote",),
    ),
    "followingFeed": Case(
        f"{{ followingFeed(first: 10) {{ edges {{ node {{ {NOTE_FIELDS} }} }} }} }}",
        lambda w: {},
        hidden=("hNote", "hUser"),
        shown=("cNote", "cUser"),
    ),
    "discoverFeed": Case(
        'query { discoverFeed(first: 10, interests: ["琉璃"], seed: 3) { edges { node { id author { id } } } } }',
        lambda w: {},
        hidden=("hNote", "hUser"),
        shown=("cNote",),
        anonymous=True,
    ),
    "search": Case(
        'query { notes: search(query: "琉璃灯", type: NOTE) { nodes { ... on Note { id } } }'
        ' latest: search(query: "琉璃灯", type: NOTE, sort: LATEST) { edges { node { ... on Note { id } } } }'
        ' people: search(query: "琉璃", type: USER) { nodes { ... on User { id } } } }',
        lambda w: {},
        hidden=("hNote", "hUser"),
        shown=("cNote", "cUser"),
    ),
    "topic": Case(
        'query { topic(name: "#琉璃") { notes(first: 10) { nodes { id } } } }',
        lambda w: {},
        hidden=("hNote",),
        shown=("cNote",),
    ),
    "product": Case(
        "query($product: ID!) { product(id: $product) { reviews(first: 10) { nodes { id } } } }",
        _ids("product"),
        hidden=("hNote",),
        shown=("cNote",),
    ),
    "merchantProfile": Case(
        # The hidden author reached through a relation that is never null: their lists stay empty.
        "query($hProduct: ID!, $product: ID!) {"
        " a: product(id: $hProduct) { merchant { notes(first: 10) { nodes { id } } boards { nodes { id } } } }"
        " b: product(id: $product) { reviews { nodes { author { notes { nodes { id } } } } } } }",
        _ids("hProduct", "product"),
        hidden=("hNote", "hBoard"),
        shown=("cNote",),
    ),
    "followers": Case(
        "{ viewer { followers(first: 10) { nodes { id } } } }",
        lambda w: {},
        hidden=("hUser",),
        shown=("cUser",),
    ),
    "following": Case(
        "{ viewer { following(first: 10) { edges { node { id } } } } }",
        lambda w: {},
        hidden=("hUser",),
        shown=("cUser",),
    ),
    "comments": Case(
        "query($cNote: ID!) { note(id: $cNote) { comments(first: 10) { nodes { id author { id }"
        " replies(first: 10) { nodes { id author { id } replyTo { id } } } } } } }",
        _ids("cNote"),
        hidden=("hComment", "hReply", "hUser"),
        shown=("cReply", "cUser"),
    ),
    "commentNote": Case(
        "query($cOnH: ID!, $cReply: ID!) { a: node(id: $cOnH) { ... on Comment { id note { id } } }"
        " b: node(id: $cReply) { ... on Comment { note { id } } } }",
        _ids("cOnH", "cReply"),
        hidden=("hNote",),
        shown=("cOnH", "cNote"),
    ),
    "notifications": Case(
        "{ viewer { unreadNotificationCount notifications(first: 20) { nodes { id actor { id }"
        " actors { nodes { id } } note { id } comment { id } } } } }",
        lambda w: {},
        hidden=("hUser", "hReply"),
        shown=("cUser",),
    ),
    "cart": Case(
        "query($cart: ID!) { cart(id: $cart) { lines { sourceNote { id } } } }",
        _ids("cart"),
        hidden=("hNote",),
        shown=("cNote",),
    ),
    "noteLike": Case(
        "mutation($hNote: ID!, $cNote: ID!) { a: noteLike(noteId: $hNote) { note { id } }"
        " b: noteLike(noteId: $cNote) { note { id } } }",
        _ids("hNote", "cNote"),
        hidden=("hNote",),
        shown=("cNote",),
    ),
}


async def _mutate(client: GraphQLClient, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = await client.data(query, variables, token=token)
    (payload,) = data.values()
    assert payload.get("errors", []) == [], payload
    return payload  # type: ignore[no-any-return]


async def _comment(
    client: GraphQLClient, token: str, note: str, body: str, reply_to: str | None = None
) -> str:
    payload = await _mutate(
        client,
        token,
        "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { id } errors { code } } }",
        {"i": {"noteId": note, "body": body, "replyToId": reply_to}},
    )
    return str(payload["comment"]["id"])


async def build_world(client: GraphQLClient) -> World:
    """A viewer who follows, is followed by, collected from and is notified by two authors, who wrote,
    reviewed, commented and replied alike; one of them will be hidden."""
    viewer = await sign_up(client, "visviewer")
    hidden = await sign_up(client, "vishidden", displayName="琉璃 Hidden")
    control = await sign_up(client, "viscontrol", displayName="琉璃 Control")
    merchant = await sign_up(client, "vismerchant")
    product = await create_product(client, merchant["token"])
    own_product = await create_product(
        client,
        hidden["token"],
        title="Hidden shop item",
        variants=[{"sku": "HID-1", "name": "one", "priceMinorUnits": 100, "currency": "CNY", "stock": 5}],
    )
    review = {"productId": product["id"], "rating": 5}
    h_note = await create_note(client, hidden["token"], title="琉璃灯 hidden", topics=["琉璃"], review=review)
    c_note = await create_note(
        client, control["token"], title="琉璃灯 control", topics=["琉璃"], review=review
    )
    follow = "mutation($u: ID!) { userFollow(userId: $u) { errors { code } } }"
    for a, b in ((viewer, hidden), (viewer, control), (hidden, viewer), (control, viewer)):
        await _mutate(client, a["token"], follow, {"u": b["user"]["id"]})
    collect = "mutation($n: ID!) { noteCollect(noteId: $n) { board { id } errors { code } } }"
    for note in (h_note, c_note):
        v_board = (await _mutate(client, viewer["token"], collect, {"n": note["id"]}))["board"]["id"]
    h_board = await _mutate(
        client,
        hidden["token"],
        'mutation { boardCreate(input: {name: "灯"}) { board { id } errors { code } } }',
        {},
    )
    v_root = await _comment(client, viewer["token"], c_note["id"], "好看")
    h_reply = await _comment(client, hidden["token"], c_note["id"], "谢谢", v_root)
    c_reply = await _comment(client, control["token"], c_note["id"], "同意", h_reply)
    h_comment = await _comment(client, hidden["token"], c_note["id"], "我也有")
    c_on_h = await _comment(client, control["token"], h_note["id"], "在哪买")
    lines = [
        {"variantId": product["variants"][0]["id"], "quantity": 1, "sourceNoteId": h_note["id"]},
        {"variantId": own_product["variants"][0]["id"], "quantity": 1, "sourceNoteId": c_note["id"]},
    ]
    cart = await _mutate(
        client,
        viewer["token"],
        "mutation($i: CartCreateInput!) { cartCreate(input: $i) { cart { id } errors { code } } }",
        {"i": {"lines": lines}},
    )
    return World(
        viewer=viewer,
        hidden=hidden,
        control=control,
        ids={
            "hUser": hidden["user"]["id"],
            "cUser": control["user"]["id"],
            "hNote": h_note["id"],
            "cNote": c_note["id"],
            "product": product["id"],
            "hProduct": own_product["id"],
            "vBoard": v_board,
            "hBoard": h_board["board"]["id"],
            "hComment": h_comment,
            "hReply": h_reply,
            "cReply": c_reply,
            "cOnH": c_on_h,
            "cart": cart["cart"]["id"],
        },
    )


@pytest.fixture
def hidden_authors(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Authors the policy hides from everyone (as a block does), for as long as the test fills this set:
    both ways an audience is made, read on its own (`audience_for`) or with the session (`audience_of`)."""
    hidden: set[int] = set()

    async def audience_for(viewer_id: int | None) -> policy.Audience:
        return policy.Audience(viewer_id=viewer_id, blocked_ids=frozenset(hidden))

    def audience_of(viewer: Any, state: Any = None) -> policy.Audience:
        return policy.Audience(viewer_id=viewer.id if viewer else None, blocked_ids=frozenset(hidden))

    monkeypatch.setattr(policy, "audience_for", audience_for)
    monkeypatch.setattr(policy, "audience_of", audience_of)
    return hidden


async def _answer(client: GraphQLClient, world: World, case: Case) -> str:
    token = None if case.anonymous else world.viewer["token"]
    body = await client.execute(case.query, case.variables(world), token=token, anonymous=case.anonymous)
    assert "errors" not in body, body["errors"]
    return json.dumps(body["data"], ensure_ascii=False)


async def test_each_surface_hides_what_the_policy_hides(
    client: GraphQLClient, hidden_authors: set[int]
) -> None:
    world = await build_world(client)
    failures: list[str] = []
    for name, case in CASES.items():
        # given nothing hidden, the hidden author's objects are there (so the case can fail)
        seen = await _answer(client, world, case)
        failures += [
            f"{name}: {m} missing before hiding" for m in case.hidden + case.shown if world.ids[m] not in seen
        ]
        # when the policy hides that author, none of them is left, and the control author stays
        hidden_authors.add(world.pk("hUser"))
        seen = await _answer(client, world, case)
        hidden_authors.clear()
        failures += [f"{name}: {m} still shown" for m in case.hidden if world.ids[m] in seen]
        failures += [f"{name}: {m} missing while hiding" for m in case.shown if world.ids[m] not in seen]
    assert not failures, failures


async def test_hidden_notifications_leave_the_unread_count(
    client: GraphQLClient, hidden_authors: set[int]
) -> None:
    world = await build_world(client)
    query = "{ viewer { unreadNotificationCount } }"
    before = (await client.data(query, token=world.viewer["token"]))["viewer"]["unreadNotificationCount"]
    hidden_authors.add(world.pk("hUser"))
    after = (await client.data(query, token=world.viewer["token"]))["viewer"]["unreadNotificationCount"]
    # the hidden author followed the viewer and replied to their comment: two notifications fewer
    assert (before, after) == (before, before - 2) and before >= 3


async def test_paging_a_link_list_past_hidden_people_neither_repeats_nor_restarts(
    client: GraphQLClient, hidden_authors: set[int]
) -> None:
    world = await build_world(client)
    query = "query($after: String) { viewer { following(first: 1, after: $after) { nodes { handle } pageInfo { hasNextPage endCursor } } } }"
    hidden_authors.add(world.pk("hUser"))
    handles, after = [], None
    for _ in range(4):
        page = (await client.data(query, {"after": after}, token=world.viewer["token"]))["viewer"][
            "following"
        ]
        handles += [n["handle"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after is not None
    assert handles == ["viscontrol"]


# --- subscriptions, over a real WebSocket ----------------------------------------------------------------

SUBSCRIPTION_QUERIES = (
    "subscription($n: ID!) { noteLikeCount(noteId: $n) { likeCount } }"
    " subscription($n: ID!) { noteCommentAdded(noteId: $n) { body } }"
)
LIKES = "subscription($n: ID!) { noteLikeCount(noteId: $n) { likeCount } }"
COMMENTS = "subscription($n: ID!) { noteCommentAdded(noteId: $n) { body } }"
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }"
UNLIKE = "mutation($n: ID!) { noteUnlike(noteId: $n) { errors { code } } }"
COMMENT = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { errors { code } } }"

# The server reads whom to hide from whom ({viewer id: [author ids]}) from a file on every audience it
# builds, so a test hides and shows an author while subscriptions stay open.
HIDING_SERVER = (
    """
import json, os
from social import policy

async def _audience_for(viewer_id):
    with open(os.environ["VERMILION_TEST_HIDDEN_FILE"]) as f:
        hidden = json.load(f).get(str(viewer_id), [])
    return policy.Audience(viewer_id=viewer_id, blocked_ids=frozenset(hidden))

policy.audience_for = _audience_for
"""
    + SERVER
)


async def test_subscriptions_check_the_policy_at_subscribe_time_and_per_event(tmp_path: Path) -> None:
    hidden_file = tmp_path / "hidden.json"
    hidden_file.write_text("{}")
    viewer_pk = 0

    def hide(*user_ids: int) -> None:
        """Hide these authors from the subscribing viewer only (the people acting see everything)."""
        hidden_file.write_text(json.dumps({str(viewer_pk): list(user_ids)}))

    database = f"sqlite://{tmp_path / 'live.sqlite3'}"
    migrated_sqlite(database)
    with serve_on_loopback(
        "server",
        HIDING_SERVER,
        [database, TEST_SECRET, "0"],
        lambda base: httpx.get(f"{base}/healthz", timeout=1).status_code == 200,
        timeout=45,
        cwd=ROOT,
        env={"VERMILION_TEST_HIDDEN_FILE": str(hidden_file)},
    ) as base:
        users = {}
        for handle in ("subviewer", "subhidden", "subcontrol"):
            users[handle] = (
                await gql(
                    base,
                    "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }",
                    {"i": {"email": f"{handle}@example.com", "password": "correct horse", "handle": handle}},
                )
            )["signUp"]
        viewer, hider, control = users["subviewer"], users["subhidden"], users["subcontrol"]
        hidden_pk = parse_global_id(hider["user"]["id"])[1]  # type: ignore[index]
        viewer_pk = parse_global_id(viewer["user"]["id"])[1]  # type: ignore[index]
        notes = {}
        for who in (hider, control):
            data = await gql(
                base, 'mutation { noteCreate(input: {title: "直播"}) { note { id } } }', token=who["token"]
            )
            notes[who["user"]["id"]] = data["noteCreate"]["note"]["id"]
        h_note, c_note = notes[hider["user"]["id"]], notes[control["user"]["id"]]

        ws = await open_socket(base, {"Authorization": f"Bearer {viewer['token']}"})
        assert (await next_message(ws))["type"] == "connection_ack"

        # given the author hidden, subscribing to their note is refused like an unknown note
        hide(hidden_pk)
        for op_id, query in (("refused-likes", LIKES), ("refused-comments", COMMENTS)):
            await subscribe(ws, op_id, query, {"n": h_note})
            refused = await next_message(ws)
            assert (refused["id"], refused["payload"]["errors"][0]["message"]) == (op_id, "Note not found.")
            assert await next_message(ws) == {"id": op_id, "type": "complete"}

        # given nothing hidden, the note's like count arrives
        hide()
        await subscribe(ws, "likes", LIKES, {"n": h_note})
        assert (await next_message(ws))["payload"]["data"]["noteLikeCount"]["likeCount"] == 0
        await subscribe(ws, "comments", COMMENTS, {"n": c_note})
        await gql(base, COMMENT, {"i": {"noteId": c_note, "body": "shown"}}, hider["token"])
        assert (await next_message(ws))["payload"]["data"]["noteCommentAdded"]["body"] == "shown"

        # when the author becomes hidden, their events stop: the like and the comment never arrive
        hide(hidden_pk)
        await gql(base, LIKE, {"n": h_note}, control["token"])
        await gql(base, COMMENT, {"i": {"noteId": c_note, "body": "never"}}, hider["token"])
        await gql(base, COMMENT, {"i": {"noteId": c_note, "body": "control"}}, control["token"])
        event = await next_message(ws)
        assert (event["id"], event["payload"]["data"]) == (
            "comments",
            {"noteCommentAdded": {"body": "control"}},
        )

        # shown again, the next change arrives (the first like was not queued somewhere)
        hide()
        await gql(base, UNLIKE, {"n": h_note}, control["token"])
        event = await next_message(ws)
        assert (event["id"], event["payload"]["data"]["noteLikeCount"]["likeCount"]) == ("likes", 0)
        await ws.close()
