"""Relay plumbing: the Node interface, keyset connections that page both ways, and page info."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from tortoise.expressions import Q

from core.cursors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest, encode_cursor
from core.sql import dialect, fetch_rows, model_from_row, select_list
from schema.loaders import person_columns, prime_person

T = TypeVar("T")
R = TypeVar("R")

# The paging arguments every list takes, described once so each list documents them the same way.
First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return from the start (or from `after`): 0–{MAX_PAGE_SIZE}, "
        f"{DEFAULT_PAGE_SIZE} when neither `first` nor `last` is given. Outside that range the field is "
        "refused with OUT_OF_RANGE; together with `last` or `before`, with INVALID."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Start after this cursor: the `pageInfo.endCursor` of the previous page of the same "
        "list. Omit for the first page. A malformed cursor, or one given with `before` or `last`, is "
        "refused with INVALID."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to return counting back from `before` (or from the end of the list): "
        f"0–{MAX_PAGE_SIZE}, the same range as `first`; {DEFAULT_PAGE_SIZE} when only `before` is given. "
        "The page is still in list order. Outside that range the field is refused with OUT_OF_RANGE; "
        "together with `first` or `after`, with INVALID."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="End before this cursor: the `pageInfo.startCursor` of the page that follows, to page "
        "backwards with `last`. A malformed cursor, or one given with `after` or `first`, is refused with "
        "INVALID."
    ),
]


@strawberry.interface(description="An object with a globally unique id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Globally unique, opaque id: pass it back as it is (to `node(id:)` or an ID argument); "
        "never parse or build one."
    )


@strawberry.type(description="Where a page sits in its list, and the cursors to page on in either direction.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when items follow this page: ask for them with `after: endCursor`. Exact both "
        "ways: paging backwards, true when anything follows `before`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor to pass as `after` for the next page; null when the page read nothing."
    )
    has_previous_page: bool = strawberry.field(
        default=False,
        description="True when items come before this page: ask for them with `last` and "
        "`before: startCursor`. False on a list's first page; paging forwards with `after`, true when "
        "anything precedes the cursor.",
    )
    start_cursor: str | None = strawberry.field(
        default=None,
        description="The cursor to pass as `before` for the page before this one; null when the page read "
        "nothing.",
    )


@strawberry.type(description="One item of a page, with the cursor of its position in the list.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque position of this item; pass it as `after` to continue after it, or as `before` "
        "to page back from it."
    )
    node: T = strawberry.field(description="The item itself.")


Count = int | Callable[[], Awaitable[int]] | None


@strawberry.type(
    description="A page of a list, in keyset order; page on with `first`/`after: endCursor`, back with "
    "`last`/`before: startCursor`."
)
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The page's items in list order, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether items precede or follow this page, and the cursors to get them."
    )
    # The list's size: a stored counter, or a count made only when a client selects `totalCount`.
    count: strawberry.Private[Count] = None

    @strawberry.field(
        description="How many items the whole list has (all pages). Each list's description says where it "
        "comes from; null on lists where counting would mean reading them whole."
    )
    async def total_count(self) -> int | None:
        if callable(self.count):
            return await self.count()
        return self.count

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


@dataclass
class KeysetPage:
    """The rows of one page in list order, and whether rows precede and follow it."""

    rows: list[Any]
    has_next: bool
    has_previous: bool = False


def build_connection(
    rows: Sequence[R] | KeysetPage,
    has_next: bool | None,
    to_node: Callable[[R], Any],
    key: Callable[[R], Any] = lambda row: row.id,  # type: ignore[attr-defined]
    total_count: Count = None,
) -> Connection[Any]:
    """A connection from one page of rows (or a `KeysetPage`); each cursor encodes its row's position."""
    page = rows if isinstance(rows, KeysetPage) else KeysetPage(list(rows), bool(has_next))
    edges = [Edge(cursor=encode_cursor(key(row)), node=to_node(row)) for row in page.rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            end_cursor=edges[-1].cursor if edges else None,
            start_cursor=edges[0].cursor if edges else None,
        ),
        count=total_count,
    )


def empty_connection(total_count: Count = None) -> Connection[Any]:
    """A list with nothing in it, whichever page is asked for."""
    return build_connection(KeysetPage([], False), None, lambda row: row, total_count=total_count)


# --- keyset pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeysetOrder:
    """A list's order: its key columns, most significant first, all ascending or all descending."""

    fields: tuple[str, ...] = ("id",)
    descending: bool = True

    def key(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, name) for name in self.fields)

    def order_by(self, *, reverse: bool = False) -> list[str]:
        down = self.descending != reverse
        return [f"-{name}" if down else name for name in self.fields]

    def beyond(self, position: tuple[Any, ...], *, later: bool, inclusive: bool = False) -> Q:
        """Rows after `position` in list order (before it: `later=False`); `inclusive` adds its own row."""
        op = "lt" if self.descending == later else "gt"
        alternatives = []
        for i, name in enumerate(self.fields):
            # (a, b) beyond (x, y): a beyond x, or a = x and b beyond y.
            condition: dict[str, Any] = {self.fields[j]: position[j] for j in range(i)}
            last = i == len(self.fields) - 1
            condition[f"{name}__{op}{'e' if inclusive and last else ''}"] = position[i]
            alternatives.append(Q(**condition))
        return Q(*alternatives, join_type="OR")


NEWEST_FIRST = KeysetOrder()
OLDEST_FIRST = KeysetOrder(descending=False)


# Reads rows beyond the cursor — `(later, inclusive)`, or None for no bound — in list order or reversed,
# up to a limit; and tells whether any row lies beyond it (`later`), for the two ways a list is stored.
ReadRows = Callable[[tuple[bool, bool] | None, bool, int], Awaitable[list[Any]]]
AnyBeyond = Callable[[bool], Awaitable[bool]]


async def _keyset_page(
    read: ReadRows,
    any_beyond: AnyBeyond,
    key: Callable[[Any], tuple[Any, ...]],
    request: PageRequest,
    position: tuple[Any, ...] | None,
) -> KeysetPage:
    """One page either way from `position` (the decoded cursor), exact both ways.

    Backwards, the opposite order is read (`last` + 1 rows, one more from a cursor) and reversed. From a
    cursor, the row at the cursor is read too: when it is still there it proves the list goes on beyond
    the cursor (rows before an `after`, after a `before`) with no second statement; only when it has gone
    since (deleted, now hidden) does one indexed `LIMIT 1` read settle it. Without a cursor: one
    statement.
    """
    size, backward = request.size, request.backward
    if position is None:
        rows = await read(None, backward, size + 1)
        page, more = rows[:size], len(rows) > size
        if backward:
            return KeysetPage(page[::-1], has_next=False, has_previous=more)
        return KeysetPage(page, has_next=more)
    # Forwards the page lies after the cursor; backwards before it (read in reverse, nearest first).
    ahead = not backward
    rows = await read((ahead, True), backward, size + 2)
    anchored = bool(rows) and key(rows[0]) == tuple(position)
    if anchored:
        rows = rows[1:]
    page, more = rows[:size], len(rows) > size
    behind = anchored or await any_beyond(not ahead)
    if backward:
        return KeysetPage(page[::-1], has_next=behind, has_previous=more)
    return KeysetPage(page, has_next=more, has_previous=behind)


async def keyset_window(
    queryset: Any,
    request: PageRequest,
    position: tuple[Any, ...] | None,
    order: KeysetOrder = NEWEST_FIRST,
) -> KeysetPage:
    """One page of `queryset` in `order`, either way from `position` (see `_keyset_page`)."""

    async def read(beyond: tuple[bool, bool] | None, reverse: bool, limit: int) -> list[Any]:
        rows = queryset
        if beyond is not None and position is not None:
            rows = rows.filter(order.beyond(position, later=beyond[0], inclusive=beyond[1]))
        return list(await rows.order_by(*order.order_by(reverse=reverse)).limit(limit))

    async def any_beyond(later: bool) -> bool:
        assert position is not None
        return bool(await queryset.filter(order.beyond(position, later=later)).limit(1).exists())

    return await _keyset_page(read, any_beyond, order.key, request, position)


async def keyset_connection(
    queryset: Any,
    request: PageRequest,
    to_node: Callable[[Any], Any],
    *,
    total_count: Count = None,
    order: KeysetOrder = NEWEST_FIRST,
) -> Connection[Any]:
    """A page of an id-ordered list as a connection."""
    cursor = request.id_cursor()
    page = await keyset_window(queryset, request, None if cursor is None else (cursor,), order)
    return build_connection(page, None, to_node, total_count=total_count)


@dataclass(frozen=True)
class SqlList:
    """A list read with hand-written SQL, newest (highest id) first: the rows of `model` (table aliased
    `t`) meeting `condition`, whose parameters are `params` ($1 …). For the hottest lists (a feed, a
    product's reviews) the ORM's query building cost more than the statement."""

    model: type[Any]
    condition: str
    params: list[Any]
    # A loader of people (the request's user loader): each row's author (`t.author_id`) then comes in the
    # same statement and is put in it, so a page shown with its authors needs no statement for them.
    authors: Any = None
    # A statement giving author ids: only their rows are listed (the people someone follows). On
    # PostgreSQL each author's rows are read newest first from the (author_id, id) index, no more than a
    # page of them: reading every row of every author and sorting them all read 2,450 notes for a page
    # of 20 on the bench world (8–10 ms of the database's time).
    among_authors: str | None = None

    async def rows(self, beyond: tuple[str, int] | None, descending: bool, limit: int) -> list[Any]:
        params = list(self.params)
        where = self.condition
        if beyond is not None:
            params.append(beyond[1])
            where += f" AND t.id {beyond[0]} ${len(params)}"
        columns, join = select_list(self.model, "t"), ""
        if self.authors is not None:
            columns += ", " + person_columns()
            join = " JOIN users u ON u.id = t.author_id"
        table = self.model._meta.db_table
        order = f"ORDER BY t.id {'DESC' if descending else 'ASC'} LIMIT {int(limit)}"
        if self.among_authors is not None and dialect() == "postgres":
            rows = f"SELECT t.* FROM {table} t WHERE t.author_id = a.author_id AND {where} {order}"
            source = f"({self.among_authors}) a (author_id) CROSS JOIN LATERAL ({rows}) t{join}"
            statement = f"SELECT {columns} FROM {source} {order}"
        else:
            if self.among_authors is not None:
                where = f"t.author_id IN ({self.among_authors}) AND {where}"
            statement = f"SELECT {columns} FROM {table} t{join} WHERE {where} {order}"
        found = await fetch_rows(statement, params)
        if self.authors is not None:
            for row in found:
                prime_person(self.authors, row)
        return [model_from_row(self.model, row) for row in found]


async def sql_connection(
    source: SqlList, request: PageRequest, to_node: Callable[[Any], Any], *, total_count: Count = None
) -> Connection[Any]:
    """`keyset_connection` for a `SqlList`: the same pages, both ways, from the same statements."""
    cursor = request.id_cursor()

    def bound(later: bool, inclusive: bool) -> tuple[str, int] | None:
        # Newest first: rows later in the list have lower ids.
        return None if cursor is None else (("<" if later else ">") + ("=" if inclusive else ""), cursor)

    async def read(beyond: tuple[bool, bool] | None, reverse: bool, limit: int) -> list[Any]:
        return await source.rows(
            None if beyond is None else bound(*beyond), descending=not reverse, limit=limit
        )

    async def any_beyond(later: bool) -> bool:
        return bool(await source.rows(bound(later, False), descending=later, limit=1))

    page = await _keyset_page(
        read, any_beyond, lambda row: (row.id,), request, None if cursor is None else (cursor,)
    )
    return build_connection(page, None, to_node, total_count=total_count)


async def linked_connection(
    queryset: Any,
    request: PageRequest,
    *,
    target_id: Callable[[Any], int],
    loader: Any,
    to_node: Callable[[Any], Any],
    total_count: Count = None,
) -> Connection[Any]:
    """A page of a link table (follows, collects) shown as the rows the links point at.

    Cursors are the links' ids, so the order is "most recently linked first"; a link whose target the
    loader does not return (gone, or not visible to this audience) is left out of the page.
    """
    cursor = request.id_cursor()
    window = await keyset_window(queryset, request, None if cursor is None else (cursor,))
    links = window.rows
    targets = await loader.load_many([target_id(link) for link in links])
    pairs = [(link, target) for link, target in zip(links, targets, strict=True) if target is not None]
    connection = build_connection(
        KeysetPage(pairs, window.has_next, window.has_previous),
        None,
        lambda pair: to_node(pair[1]),
        key=lambda pair: pair[0].id,
        total_count=total_count,
    )
    if links:
        # The pages on either side start from the links read, shown or not: a page whose first or last
        # links were left out neither repeats nor restarts.
        connection.page_info.start_cursor = encode_cursor(links[0].id)
        connection.page_info.end_cursor = encode_cursor(links[-1].id)
    return connection
