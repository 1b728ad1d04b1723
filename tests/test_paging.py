"""Paging both ways on every connection (Relay Cursor Connections): `first`/`after` forwards, `last`/`before`
backwards, exact `hasPreviousPage`/`hasNextPage` at both ends, `totalCount`, and coded refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce.catalog import VariantSpec, create_product
from core.ids import to_global_id
from feed.candidates import CandidatePlan
from feed.service import discover_page, discover_page_before
from feed.snapshots import TableSnapshots
from models import Board, Cart, NoteKind, Order, OrderLine, ProductVariant, User
from social.accounts import sign_up
from social.comments import create_comment, delete_comment
from social.engagement import collect_note, create_board, follow_user
from social.notes import Review, create_note, delete_note
from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient

PAGE = (
    "totalCount edges { cursor node { %s } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
)
ARGS = "first: $first, after: $after, last: $last, before: $before"
VARS = "$first: Int, $after: String, $last: Int, $before: String"
NODE_ID = "id"
RESULT_ID = "... on Note { id } ... on User { id } ... on Product { id } ... on Topic { id }"


def _by_id(type_name: str, field: str, node: str = NODE_ID) -> str:
    return f"query({VARS}, $id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ conn: {field}({ARGS}) {{ {PAGE % node} }} }} }} }}"


@dataclass
class World:
    writer: User
    reader: User
    merchant: User
    notes: list[int]  # the writer's notes, oldest first
    reviews: list[int]  # review notes of the product, oldest first
    product: int
    board: int  # the reader's board holding the writer's notes, collected oldest first
    writer_boards: list[int]  # oldest first, the private one last
    comments: list[int]  # root comments on notes[0], oldest first
    replies: list[int]  # replies to comments[0], oldest first
    fans: list[int]  # users who followed the writer, in that order
    following: list[int]  # whom the reader followed, in that order
    orders: list[str]  # the reader's order ids, in list order (newest first)
    sales: list[str]  # the merchant's, in list order

    def token(self, user: User) -> str:
        return issue_token(user_id=user.id, secret_key=TEST_SECRET, ttl_seconds=600)


async def _user(handle: str) -> User:
    return await sign_up(
        email=f"{handle}@example.com", password="password1", handle=handle, display_name=None
    )


@pytest.fixture
async def world(db: str) -> World:
    writer, reader, merchant = await _user("writer"), await _user("reader"), await _user("merchant")
    notes = [
        (
            await create_note(
                author_id=writer.id, kind=NoteKind.TEXT, title=f"quokka {n}", body="body", topics=["翻页"]
            )
        ).id
        for n in range(7)
    ]
    product = await create_product(
        merchant_id=merchant.id,
        title="Lamp",
        description=None,
        variants=[VariantSpec(sku="L1", name="one", price_minor_units=1000, currency="CNY", stock=9)],
    )
    fans = [await _user(f"fan{i}") for i in range(7)]
    reviews = [
        (
            await create_note(
                author_id=fan.id,
                kind=NoteKind.TEXT,
                title=f"review {i}",
                body="",
                review=Review(product_id=product.id, rating=4),
            )
        ).id
        for i, fan in enumerate(fans[:5])
    ]
    for fan in fans:
        await follow_user(follower_id=fan.id, followee_id=writer.id)
    following = [writer.id, *[fan.id for fan in fans]]
    for followee in following:
        await follow_user(follower_id=reader.id, followee_id=followee)
    board = await create_board(owner_id=reader.id, name="Saved", description=None, is_private=False)
    for note_id in notes:
        await collect_note(user_id=reader.id, note_id=note_id, board_id=board.id)
    writer_boards = [b.id for b in await Board.filter(owner_id=writer.id).order_by("id")]  # the default one
    for i in range(6):
        made = await create_board(owner_id=writer.id, name=f"b{i}", description=None, is_private=i == 5)
        writer_boards.append(made.id)
    comments = [
        (await create_comment(author_id=fans[i].id, note_id=notes[0], body=f"c{i}", reply_to_id=None)).id
        for i in range(7)
    ]
    replies = [
        (
            await create_comment(
                author_id=fans[i].id, note_id=notes[0], body=f"r{i}", reply_to_id=comments[0]
            )
        ).id
        for i in range(6)
    ]
    orders, sales = await _orders(reader, merchant, product.id)
    return World(
        writer, reader, merchant, notes, reviews, product.id, board.id, writer_boards, comments, replies,
        [fan.id for fan in fans], following, orders, sales,
    )  # fmt: skip


async def _orders(buyer: User, merchant: User, product_id: int) -> tuple[list[str], list[str]]:
    """7 orders of `buyer`, the last four made at the same moment (the keyset's tie-break is the id); the
    merchant sold in the first 5."""
    variant = await ProductVariant.get(product_id=product_id)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    made: list[Order] = []
    for i in range(7):
        cart = await Cart.create(owner_id=buyer.id)
        order = await Order.create(
            cart_id=cart.id, buyer_id=buyer.id, idempotency_key=f"k{i}", email="r@example.com",
            shipping_address={}, currency="CNY", total_minor_units=1000, reserved_until=base,
        )  # fmt: skip
        stamp = base + timedelta(minutes=min(i, 3))  # orders 3, 4, 5 and 6 share a moment
        await Order.filter(id=order.id).update(created_at=stamp)
        order.created_at = stamp
        made.append(order)
        if i < 5:
            await OrderLine.create(
                order_id=order.id, variant_id=variant.id, product_id=product_id, merchant_id=merchant.id,
                product_title="Lamp", variant_name="one", sku="L1", quantity=1, unit_price_minor_units=1000,
            )  # fmt: skip
    newest_first = sorted(made, key=lambda o: (o.created_at, o.id), reverse=True)
    ids = [to_global_id("Order", o.id) for o in newest_first]
    sold = {to_global_id("Order", o.id) for o in made[:5]}
    return ids, [i for i in ids if i in sold]


def _note_ids(ids: list[int]) -> list[str]:
    return [to_global_id("Note", i) for i in ids]


@dataclass
class Case:
    query: str
    variables: dict[str, Any]
    token: str | None
    expected: list[str] | None  # ids in list order; None when the order is the ranking's own
    total: int | None
    members: set[str] | None = None  # for ranked lists: what the list holds, in some order


def _cases(w: World) -> dict[str, Case]:
    writer, reader = w.token(w.writer), w.token(w.reader)
    user = to_global_id("User", w.writer.id)
    search = f'query({VARS}, $sort: SearchSort!) {{ conn: search(query: "quokka", sort: $sort, {ARGS}) {{ {PAGE % RESULT_ID} }} }}'
    relaxed = f'query({VARS}) {{ conn: search(query: "quokka xylophone", {ARGS}) {{ {PAGE % RESULT_ID} }} }}'
    newest = _note_ids(w.notes[::-1])
    # notes[0] is the most commented (and every note was collected once): first by popularity.
    popular = _note_ids([w.notes[0], *w.notes[:0:-1]])
    return {
        "User.notes": Case(_by_id("User", "notes"), {"id": user}, None, newest, 7),
        "User.boards (owner)": Case(
            _by_id("User", "boards"),
            {"id": user},
            writer,
            [to_global_id("Board", b) for b in w.writer_boards[::-1]],
            7,
        ),
        "User.boards (others: no private board)": Case(
            _by_id("User", "boards"),
            {"id": user},
            None,
            [to_global_id("Board", b) for b in w.writer_boards[-2::-1]],
            6,
        ),
        "User.followers": Case(  # the fans, then the reader, most recent first
            _by_id("User", "followers"),
            {"id": user},
            None,
            [to_global_id("User", f) for f in [w.reader.id, *w.fans[::-1]]],
            8,
        ),
        "User.following": Case(
            _by_id("User", "following"),
            {"id": to_global_id("User", w.reader.id)},
            None,
            [to_global_id("User", f) for f in w.following[::-1]],
            8,
        ),
        "User.orders": Case(
            _by_id("User", "orders"), {"id": to_global_id("User", w.reader.id)}, reader, w.orders, 7
        ),
        "User.salesOrders": Case(
            _by_id("User", "salesOrders"),
            {"id": to_global_id("User", w.merchant.id)},
            w.token(w.merchant),
            w.sales,
            5,
        ),
        "Topic.notes": Case(
            f'query({VARS}) {{ topic(name: "翻页") {{ conn: notes({ARGS}) {{ {PAGE % NODE_ID} }} }} }}',
            {},
            None,
            newest,
            7,
        ),
        "Product.reviews": Case(
            _by_id("Product", "reviews"),
            {"id": to_global_id("Product", w.product)},
            None,
            _note_ids(w.reviews[::-1]),
            5,
        ),
        "Board.notes": Case(
            _by_id("Board", "notes"), {"id": to_global_id("Board", w.board)}, None, newest, 7
        ),
        "Note.comments": Case(
            _by_id("Note", "comments"),
            {"id": to_global_id("Note", w.notes[0])},
            None,
            [to_global_id("Comment", c) for c in w.comments],
            7,
        ),
        "Comment.replies": Case(
            _by_id("Comment", "replies"),
            {"id": to_global_id("Comment", w.comments[0])},
            None,
            [to_global_id("Comment", c) for c in w.replies],
            6,
        ),
        "Query.followingFeed": Case(  # the writer's notes and the fans' reviews
            f"query({VARS}) {{ conn: followingFeed({ARGS}) {{ {PAGE % NODE_ID} }} }}",
            {},
            reader,
            _note_ids(w.reviews[::-1]) + newest,
            None,
        ),
        "Query.search RELEVANCE": Case(search, {"sort": "RELEVANCE"}, None, None, 7, set(_note_ids(w.notes))),
        "Query.search relaxed": Case(relaxed, {}, None, None, 7, set(_note_ids(w.notes))),
        "Query.search POPULAR": Case(search, {"sort": "POPULAR"}, None, popular, None),
        "Query.search LATEST": Case(search, {"sort": "LATEST"}, None, newest, None),
    }


CASES = [
    "User.notes", "User.boards (owner)", "User.boards (others: no private board)", "User.followers",
    "User.following", "User.orders", "User.salesOrders", "Topic.notes", "Product.reviews", "Board.notes",
    "Note.comments", "Comment.replies", "Query.followingFeed", "Query.search RELEVANCE", "Query.search relaxed",
    "Query.search POPULAR", "Query.search LATEST",
]  # fmt: skip


def _conn(data: Any) -> dict[str, Any]:
    """The one connection aliased `conn` in a response."""
    if isinstance(data, dict):
        if "conn" in data:
            return data["conn"]  # type: ignore[no-any-return]
        for value in data.values():
            found = _conn(value)
            if found is not None:
                return found
    return None  # type: ignore[return-value]


async def _page(client: GraphQLClient, case: Case, **paging: Any) -> dict[str, Any]:
    variables = {**case.variables, **paging}
    data = await client.data(case.query, variables, token=case.token, anonymous=case.token is None)
    return _conn(data)


def _ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


@pytest.mark.parametrize("name", CASES)
async def test_pages_forwards_then_backwards_give_the_same_list(
    client: GraphQLClient, world: World, name: str
) -> None:
    case = _cases(world)[name]
    # Forwards, 3 at a time: 3 + 3 + 1 (or 3 + 3 for six, where the last full page must end the list).
    forwards: list[dict[str, Any]] = [await _page(client, case, first=3)]
    while forwards[-1]["pageInfo"]["hasNextPage"]:
        forwards.append(await _page(client, case, first=3, after=forwards[-1]["pageInfo"]["endCursor"]))
        assert len(forwards) < 10
    seen = [i for page in forwards for i in _ids(page)]
    if case.expected is not None:
        assert seen == case.expected
    else:
        assert len(seen) == len(set(seen)) and set(seen) == case.members
    assert [p["pageInfo"]["hasPreviousPage"] for p in forwards] == [False] + [True] * (len(forwards) - 1)
    assert all(p["pageInfo"]["startCursor"] == p["edges"][0]["cursor"] for p in forwards)
    assert all(p["pageInfo"]["endCursor"] == p["edges"][-1]["cursor"] for p in forwards)
    assert {p["totalCount"] for p in forwards} == {case.total}

    # Backwards from the end, 3 at a time, each page still in list order.
    backwards: list[dict[str, Any]] = [await _page(client, case, last=3)]
    while backwards[-1]["pageInfo"]["hasPreviousPage"]:
        cursor = backwards[-1]["pageInfo"]["startCursor"]
        backwards.append(await _page(client, case, last=3, before=cursor))
        assert len(backwards) < 10
    assert [i for page in reversed(backwards) for i in _ids(page)] == seen
    assert [p["pageInfo"]["hasNextPage"] for p in backwards] == [False] + [True] * (len(backwards) - 1)
    assert len(backwards[-1]["edges"]) == len(seen) - 3 * (len(backwards) - 1)  # the short page is the first
    assert {p["totalCount"] for p in backwards} == {case.total}

    # A cursor from either direction works in the other: back from the second forward page is the first.
    back = await _page(client, case, last=3, before=forwards[1]["pageInfo"]["startCursor"])
    assert _ids(back) == _ids(forwards[0])
    assert back["pageInfo"]["hasPreviousPage"] is False and back["pageInfo"]["hasNextPage"] is True
    on = await _page(client, case, first=2, after=backwards[-1]["pageInfo"]["endCursor"])
    assert _ids(on) == seen[len(_ids(backwards[-1])) :][:2]
    assert on["pageInfo"]["hasPreviousPage"] is True

    # The whole list in one page, either way: nothing before, nothing after.
    for whole in (await _page(client, case, first=100), await _page(client, case, last=100)):
        assert _ids(whole) == seen
        assert (whole["pageInfo"]["hasPreviousPage"], whole["pageInfo"]["hasNextPage"]) == (False, False)


async def test_after_and_before_stay_exact_when_the_cursors_own_row_is_gone(
    client: GraphQLClient, world: World
) -> None:
    # Given cursors of the writer's newest note and of the first root comment (the first items)
    case = _cases(world)["User.notes"]
    first = await _page(client, case, first=1)
    comments = _cases(world)["Note.comments"]
    first_comment = await _page(client, comments, first=1)
    # when both rows are deleted
    await delete_note(note_id=world.notes[-1], editor_id=world.writer.id)
    await delete_comment(comment_id=world.comments[0], editor_id=world.fans[0])
    # then nothing precedes what follows them,
    rest = await _page(client, case, first=3, after=first["pageInfo"]["endCursor"])
    assert _ids(rest) == _note_ids(world.notes[-2:-5:-1])
    assert rest["pageInfo"]["hasPreviousPage"] is False and rest["pageInfo"]["hasNextPage"] is True
    later = await _page(client, comments, first=2, after=first_comment["pageInfo"]["endCursor"])
    assert _ids(later) == [to_global_id("Comment", c) for c in world.comments[1:3]]
    assert later["pageInfo"]["hasPreviousPage"] is False
    # From a deleted cursor with rows on both sides, either way says so;
    gone = later["edges"][1]["cursor"]  # comments[2]
    await delete_comment(comment_id=world.comments[2], editor_id=world.fans[2])
    on = await _page(client, comments, first=2, after=gone)
    assert _ids(on) == [to_global_id("Comment", c) for c in world.comments[3:5]]
    assert on["pageInfo"]["hasPreviousPage"] is True
    back = await _page(client, comments, last=2, before=gone)
    assert _ids(back) == [to_global_id("Comment", world.comments[1])]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (False, True)
    # with nothing left on one side, that side says so.
    middle = await _page(client, case, first=2, after=rest["edges"][0]["cursor"])
    await delete_note(note_id=world.notes[-2], editor_id=world.writer.id)
    after_gone = await _page(client, case, first=2, after=rest["edges"][0]["cursor"])
    assert _ids(after_gone) == _ids(middle)
    assert after_gone["pageInfo"]["hasPreviousPage"] is False  # both notes before it are gone now
    before_gone = await _page(client, case, last=2, before=rest["edges"][0]["cursor"])
    assert _ids(before_gone) == [] and before_gone["pageInfo"]["hasNextPage"] is True
    assert before_gone["pageInfo"]["hasPreviousPage"] is False


REFUSALS: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"first": 2, "last": 2}, "INVALID", ["last"]),
    ({"after": "x", "before": "y"}, "INVALID", ["before"]),
    ({"first": 2, "before": "y"}, "INVALID", ["before"]),
    ({"last": 2, "after": "x"}, "INVALID", ["after"]),
    ({"last": 101}, "OUT_OF_RANGE", ["last"]),
    ({"last": -1}, "OUT_OF_RANGE", ["last"]),
    ({"first": 101}, "OUT_OF_RANGE", ["first"]),
    ({"last": 2, "before": "not-a-cursor"}, "INVALID", ["before"]),
]


async def test_bad_paging_arguments_are_refused_with_a_code_naming_the_argument(
    client: GraphQLClient, world: World
) -> None:
    cases = _cases(world)
    for name in CASES:
        case = cases[name]
        for paging, code, path in REFUSALS:
            body = await client.execute(case.query, {**case.variables, **paging}, token=case.token)
            extensions = [e["extensions"] for e in body.get("errors", [])]
            assert extensions == [{"code": code, "argumentPath": path}], (name, paging, body)


async def test_forward_pages_from_a_cursor_cost_no_extra_statement(
    client: GraphQLClient, world: World
) -> None:
    """The row at the cursor is read with the page: it answers hasPreviousPage without a second query."""
    for name in ("User.notes", "Note.comments", "Query.search LATEST", "User.orders"):
        case = _cases(world)[name]
        # Once first: search reads its per-process data (topic families, word counts) when first needed.
        await client.execute(case.query, {**case.variables, "first": 2}, token=case.token)
        start = await client.execute(case.query, {**case.variables, "first": 2}, token=case.token)
        cursor = _conn(start["data"])["pageInfo"]["endCursor"]
        on = await client.execute(
            case.query, {**case.variables, "first": 2, "after": cursor}, token=case.token
        )
        back = await client.execute(
            case.query, {**case.variables, "last": 2, "before": cursor}, token=case.token
        )
        assert _conn(on["data"])["pageInfo"]["hasPreviousPage"] is True
        counts = [r["extensions"]["sqlStatements"] for r in (start, on, back)]
        assert len(set(counts)) == 1, (name, counts)


# --- the discovery feed ------------------------------------------------------------------------------------

FEED = f"""query({VARS}) {{
  conn: discoverFeed({ARGS}, interests: ["翻页"], seed: 3) {{ {PAGE % NODE_ID} }}
}}"""


async def test_discover_feed_pages_back_through_its_session(client: GraphQLClient, world: World) -> None:
    case = Case(FEED, {}, None, None, None)
    forwards = [await _page(client, case, first=3)]
    while forwards[-1]["pageInfo"]["hasNextPage"]:
        forwards.append(await _page(client, case, first=3, after=forwards[-1]["pageInfo"]["endCursor"]))
        assert len(forwards) < 20
    seen = [i for page in forwards for i in _ids(page)]
    assert len(seen) == len(set(seen)) >= 7
    assert [p["pageInfo"]["hasPreviousPage"] for p in forwards] == [False] + [True] * (len(forwards) - 1)
    assert {p["totalCount"] for p in forwards} == {len(seen)}  # the session ranked them all at once

    # Back from the last note shown: every note before it, in the same order.
    last_cursor = next(p for p in reversed(forwards) if p["edges"])["pageInfo"]["endCursor"]
    backwards = [await _page(client, case, last=3, before=last_cursor)]
    while backwards[-1]["pageInfo"]["hasPreviousPage"]:
        backwards.append(await _page(client, case, last=3, before=backwards[-1]["pageInfo"]["startCursor"]))
        assert len(backwards) < 20
    assert [i for page in reversed(backwards) for i in _ids(page)] == seen[:-1]
    assert all(p["pageInfo"]["hasNextPage"] for p in backwards)
    assert {p["totalCount"] for p in backwards} == {len(seen)}


@pytest.mark.parametrize(
    ("paging", "code", "path"),
    [
        ({"last": 3}, "REQUIRED", ["before"]),
        ({"first": 3, "last": 3}, "INVALID", ["last"]),
        ({"last": 3, "before": "forged"}, "INVALID", ["before"]),
        ({"last": 101, "before": "forged"}, "OUT_OF_RANGE", ["last"]),
    ],
)
async def test_discover_feed_refuses_bad_backward_paging(
    client: GraphQLClient, db: str, paging: dict[str, Any], code: str, path: list[str]
) -> None:
    body = await client.execute(FEED, paging, anonymous=True)
    assert [e["extensions"] for e in body["errors"]] == [{"code": code, "argumentPath": path}]


async def test_discover_feed_cursor_of_another_viewer_is_refused_backwards(
    client: GraphQLClient, world: World
) -> None:
    mine = await client.data(FEED, {"first": 2}, token=world.token(world.reader))
    cursor = _conn(mine)["pageInfo"]["endCursor"]
    body = await client.execute(FEED, {"last": 1, "before": cursor}, token=world.token(world.writer))
    assert [e["extensions"] for e in body["errors"]] == [{"code": "INVALID", "argumentPath": ["before"]}]


async def test_discover_feed_pages_back_across_continued_snapshots(world: World) -> None:
    """Sessions continue with a fresh snapshot when one runs out; paging back walks the chain to its start.
    (The service itself: a snapshot of 4 notes, so the 12 notes take several.)"""
    small = CandidatePlan(snapshot_size=4)
    store, secret, viewer = TableSnapshots(), "paging-secret", world.merchant.id  # no history: popular notes

    async def no_interests() -> list[str]:
        return []

    seen: list[int] = []
    totals: list[int] = []
    after = last_served = None
    while True:
        page = await discover_page(
            viewer_id=viewer, onboarding=no_interests, first=3, after=after, secret=secret, snapshots=store,
            seed=1, plan=small,
        )  # fmt: skip
        assert page.has_previous is (after is not None)
        seen += [item.note_id for item in page.items]
        assert page.total_count is not None
        totals.append(page.total_count)
        last_served = page.items[-1].cursor if page.items else last_served
        if not page.has_next:
            break
        after = page.items[-1].cursor
    assert len(seen) == len(set(seen)) > 8  # three snapshots at least
    assert totals == sorted(totals) and totals[-1] == len(seen)
    assert all(total % 4 == 0 for total in totals[:-1])

    back: list[int] = []
    before = str(last_served)
    while True:
        older = await discover_page_before(
            viewer_id=viewer, last=5, before=before, secret=secret, snapshots=store
        )
        assert older.has_next
        back[:0] = [item.note_id for item in older.items]
        if not older.has_previous:
            break
        before = older.items[0].cursor
    assert back == seen[:-1]
