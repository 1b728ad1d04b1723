"""Root query fields of the social graph and catalogue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry

from commerce.cart import load_contents
from commerce.policy import can_use_cart, can_view_order
from core.cursors import page_request
from core.ids import parse_global_id, parse_uuid_global_id
from models import Media, Note, Notification, Order, ProductVariant, Topic, User
from models.safety import FilterContext
from schema.catalog.types import ProductType, ProductVariantType
from schema.commerce.types import CartType, OrderType
from schema.context import Info
from schema.media.types import MediaType
from schema.notes.types import NoteType, TopicType, load_note
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    SqlList,
    empty_connection,
    sql_connection,
)
from schema.safety.filters import screened_notes
from schema.social.notifications import NotificationType
from schema.social.types import BoardType, load_comment
from schema.users.types import UserType
from social.accounts import is_valid_handle, normalize_handle
from social.notifications import inbox_filter
from social.policy import can_view_board, can_view_product, can_view_user, note_sql
from social.topics import topic_name_or_none

# Longest `user(handle:)` argument read: a handle of 30 characters with an @, spaces and invisible marks.
MAX_HANDLE_ARGUMENT = 100


async def _note(info: Info, pk: int) -> Node | None:
    return await load_note(info, pk)


async def _user(info: Info, pk: int) -> Node | None:
    row = await info.context.loaders.user_by_id.load(pk)
    return UserType.from_row(row) if row and can_view_user(row, await info.context.audience()) else None


async def _product(info: Info, pk: int) -> Node | None:
    row = await info.context.loaders.product_by_id.load(pk)
    return ProductType.from_row(row) if row and can_view_product(row, await info.context.audience()) else None


async def _variant(info: Info, pk: int) -> Node | None:
    row = await ProductVariant.get_or_none(id=pk)
    if row is None:
        return None
    product = await info.context.loaders.product_by_id.load(row.product_id)  # type: ignore[attr-defined]
    visible = product is not None and can_view_product(product, await info.context.audience())
    return ProductVariantType.from_row(row) if visible else None


async def _topic(info: Info, pk: int) -> Node | None:
    row = await info.context.loaders.topic_by_id.load(pk)
    return TopicType.from_row(row) if row else None


async def _comment(info: Info, pk: int) -> Node | None:
    return await load_comment(info, pk)


async def _board(info: Info, pk: int) -> Node | None:
    row = await info.context.loaders.board_by_id.load(pk)
    return BoardType.from_row(row) if row and can_view_board(row, await info.context.audience()) else None


async def _notification(info: Info, pk: int) -> Node | None:
    viewer_id = info.context.viewer_id
    if viewer_id is None:
        return None
    # The rule of the list itself: an entry shows while anyone in it is visible (order events always).
    visible = inbox_filter(viewer_id, await info.context.audience())
    row = await Notification.filter(visible, id=pk).first()
    return NotificationType.from_row(row) if row else None


async def _media(info: Info, pk: int) -> Node | None:
    # Its owner sees it at every step; anyone else only once it is attached to something they can see
    # (an upload in progress is nobody else's business).
    row = await Media.get_or_none(id=pk)
    if row is None or (row.owner_id != info.context.viewer_id and row.attached_at is None):  # type: ignore[attr-defined]
        return None
    return MediaType.from_row(row)


# How each type of global id is fetched; each fetcher applies that type's rule from `social.policy` or
# `commerce.policy`.
_FETCHERS: dict[str, Callable[[Info, int], Awaitable[Node | None]]] = {
    "Note": _note,
    "User": _user,
    "Product": _product,
    "ProductVariant": _variant,
    "Topic": _topic,
    "Comment": _comment,
    "Board": _board,
    "Notification": _notification,
    "Media": _media,
}


async def _cart(info: Info, pk: UUID) -> Node | None:
    contents = await load_contents(pk)  # the cart and its lines in one read
    visible = contents is not None and can_use_cart(contents.cart, info.context.viewer_id)
    return CartType.of(contents) if contents is not None and visible else None


async def _order(info: Info, pk: UUID) -> Node | None:
    row = await Order.get_or_none(id=pk)
    visible = row is not None and await can_view_order(row, info.context.viewer_id)
    return OrderType.from_row(row) if row is not None and visible else None


# Types keyed by random UUIDs (their id is a guest's capability).
_UUID_FETCHERS: dict[str, Callable[[Info, UUID], Awaitable[Node | None]]] = {"Cart": _cart, "Order": _order}


async def resolve_node(info: Info, global_id: str, expected: str | None = None) -> Node | None:
    """Any object (or, with `expected`, one of that type) by its global id; null for unknown,
    deleted or invisible objects, and for ids of another type."""
    parsed = parse_global_id(global_id)
    if parsed is not None:
        fetch = _FETCHERS.get(parsed[0])
        if fetch is None or (expected is not None and parsed[0] != expected):
            return None
        return await fetch(info, parsed[1])
    by_uuid = parse_uuid_global_id(global_id)
    if by_uuid is None or (expected is not None and by_uuid[0] != expected):
        return None
    fetch_uuid = _UUID_FETCHERS.get(by_uuid[0])
    return await fetch_uuid(info, by_uuid[1]) if fetch_uuid else None


@strawberry.type
class SocialQuery:
    @strawberry.field(
        description="The signed-in person (the owner of the request's bearer token); null when anonymous."
    )
    async def viewer(self, info: Info) -> UserType | None:
        if info.context.viewer_id is None:
            return None
        user = await info.context.loaders.user_by_id.load(info.context.viewer_id)
        return UserType.from_row(user) if user else None

    @strawberry.field(
        description="Fetch any object by its global id; null when there is no such object, it was deleted, "
        "or you may not see it."
    )
    async def node(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="Any global id.")]
    ) -> Node | None:
        return await resolve_node(info, id)

    @strawberry.field(
        description="A note by id; null when it does not exist, was deleted or is hidden from you."
    )
    async def note(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A Note id.")]
    ) -> NoteType | None:
        return await resolve_node(info, id, "Note")  # type: ignore[return-value]

    @strawberry.field(description="A product by id, for anyone; null when there is no such product.")
    async def product(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A Product id.")]
    ) -> ProductType | None:
        return await resolve_node(info, id, "Product")  # type: ignore[return-value]

    @strawberry.field(
        description="A board; private boards are returned to their owner only (null for anyone else)."
    )
    async def board(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A Board id.")]
    ) -> BoardType | None:
        return await resolve_node(info, id, "Board")  # type: ignore[return-value]

    @strawberry.field(
        description="An order, for its buyer and the merchants of its lines (a guest order for whoever holds "
        "its id); null for anyone else."
    )
    async def order(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="An Order id.")]
    ) -> OrderType | None:
        return await resolve_node(info, id, "Order")  # type: ignore[return-value]

    @strawberry.field(
        description="A cart: a guest cart for whoever holds its id, a signed-in shopper's cart for its owner "
        "only; null otherwise."
    )
    async def cart(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="A Cart id.")]
    ) -> CartType | None:
        return await resolve_node(info, id, "Cart")  # type: ignore[return-value]

    @strawberry.field(
        description="A person by handle (case-insensitive, with or without @); null when no one has it."
    )
    async def user(
        self,
        info: Info,
        handle: Annotated[
            str, strawberry.argument(description='The handle, e.g. "lily_chen" or "@Lily_Chen".')
        ],
    ) -> UserType | None:
        # A handle no account can have (too long, other characters, NUL) finds no one without a query.
        name = normalize_handle(handle) if len(handle) <= MAX_HANDLE_ARGUMENT else ""
        if not is_valid_handle(name):
            return None
        row = await User.get_or_none(handle=name)
        return UserType.from_row(row) if row and can_view_user(row, await info.context.audience()) else None

    @strawberry.field(
        description="A topic by name; `#护肤`, `护肤` and ` 护肤 ` find the same topic. Null when there is "
        "no such topic (a topic is created by the first note that uses it)."
    )
    async def topic(
        self,
        name: Annotated[
            str,
            strawberry.argument(
                description="The topic's name as typed: case, a leading # and spaces do not matter."
            ),
        ],
    ) -> TopicType | None:
        topic_name = topic_name_or_none(name)
        if topic_name is None:
            return None
        row = await Topic.get_or_none(name=topic_name)
        return TopicType.from_row(row) if row else None

    @strawberry.field(
        description="Notes by the people the viewer follows, newest first; empty when anonymous. "
        "`totalCount` is null: no counter is kept for it, and counting would read every followed "
        "person's notes. Your keyword filters of FEED apply (HIDE leaves notes out, WARN sets `filtered`), "
        "so a page may hold fewer than `first` notes; its cursors continue where it ended all the same."
    )
    async def following_feed(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[NoteType]:
        request = page_request(first, after, last, before)
        request.id_cursor()  # a forged cursor is refused even when anonymous
        viewer_id = info.context.viewer_id
        if viewer_id is None:
            return empty_connection()
        params: list[Any] = [viewer_id]
        visible = note_sql(await info.context.audience(), "t", params)
        notes = SqlList(
            Note,
            visible,
            params,
            authors=info.context.loaders.user_by_id,
            among_authors="SELECT f.followee_id FROM follows f WHERE f.follower_id = $1",
        )
        return await screened_notes(
            info, FilterContext.FEED, await sql_connection(notes, request, NoteType.from_row)
        )
