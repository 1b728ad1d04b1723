"""Relay plumbing: the Node interface, keyset connections and page info."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from core.cursors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_id_cursor, encode_cursor, page_size

T = TypeVar("T")
R = TypeVar("R")

# The paging arguments every list takes, described once so each list documents them the same way.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return: 0–{MAX_PAGE_SIZE}, {DEFAULT_PAGE_SIZE} when omitted. Outside "
        "that range the field is refused with an OUT_OF_RANGE error."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor: the `pageInfo.endCursor` of the previous page of the same "
        "list. Omit for the first page. A malformed cursor is refused with an INVALID error."
    ),
]


@strawberry.interface(description="An object with a globally unique id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Globally unique, opaque id: pass it back as it is (to `node(id:)` or an ID argument); "
        "never parse or build one."
    )


@strawberry.type(description="Where a page sits in its list, and the cursor to ask for the next one.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when more items follow: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor to pass as `after` for the next page; null when there is nothing to "
        "continue from."
    )
    has_previous_page: bool = strawberry.field(
        default=False, description="Always false: lists page forwards only, from the first page."
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="The cursor of the page's first item; null when the page is empty."
    )


@strawberry.type(description="One item of a page, with the cursor of its position in the list.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of this item; pass it as `after` to continue after it."
    )
    node: T = strawberry.field(description="The item itself.")


@strawberry.type(description="A page of a list, in keyset order; ask for the next with `after: endCursor`.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The page's items in list order, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursor to get them."
    )
    total_count: int | None = strawberry.field(
        default=None,
        description="How many items the whole list has (all pages), where Vermilion keeps a count; null for "
        "lists without one.",
    )

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def build_connection(
    rows: Sequence[R],
    has_next: bool,
    to_node: Callable[[R], Any],
    key: Callable[[R], Any] = lambda row: row.id,  # type: ignore[attr-defined]
    total_count: int | None = None,
) -> Connection[Any]:
    """A connection from one page of rows; each cursor encodes its row's keyset position."""
    edges = [Edge(cursor=encode_cursor(key(row)), node=to_node(row)) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            end_cursor=edges[-1].cursor if edges else None,
            start_cursor=edges[0].cursor if edges else None,
        ),
        total_count=total_count,
    )


async def linked_connection(
    queryset: Any,
    first: int | None,
    after: str | None,
    *,
    target_id: Callable[[Any], int],
    loader: Any,
    to_node: Callable[[Any], Any],
    total_count: int | None = None,
) -> Connection[Any]:
    """A page of a link table (follows, collects) shown as the rows the links point at.

    Cursors are the links' ids, so the order is "most recently linked first"; a link whose target the
    loader does not return (gone, or not visible to this audience) is left out of the page.
    """
    links, more = await keyset_page(queryset, page_size(first), decode_id_cursor(after))
    targets = await loader.load_many([target_id(link) for link in links])
    pairs = [(link, target) for link, target in zip(links, targets, strict=True) if target is not None]
    connection = build_connection(
        pairs, more, lambda pair: to_node(pair[1]), key=lambda pair: pair[0].id, total_count=total_count
    )
    if links:
        # The next page starts after the last link read, shown or not: a page whose last links were
        # left out neither repeats nor restarts.
        connection.page_info.end_cursor = encode_cursor(links[-1].id)
    return connection


async def keyset_page(
    queryset: Any, first: int, after: int | None, *, descending: bool = True
) -> tuple[list[Any], bool]:
    """One page of an id-ordered queryset: up to `first` rows past `after`, and whether more follow."""
    if after is not None:
        queryset = queryset.filter(id__lt=after) if descending else queryset.filter(id__gt=after)
    rows = list(await queryset.order_by("-id" if descending else "id").limit(first + 1))
    return rows[:first], len(rows) > first
