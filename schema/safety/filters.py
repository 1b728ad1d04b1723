"""Keyword filters: filterCreate, filterDelete, the viewer's filters, and applying them to a page.

A filter hides the items that match it (HIDE) from the surfaces of its contexts, or leaves them with
`filtered` set (WARN) so a client shows a warning instead. It is applied to the rows a page has already
read (`screen_notes`, `screen_comments`, `screen_notifications`): no statement per item, and the page's
cursors stay those of the rows read, so a page may come back shorter than `first` but paging on neither
repeats nor skips anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import strawberry

from core.ids import decode_global_id, to_global_id
from models import ContentFilter
from models.safety import FilterAction, FilterContext
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.loaders import load_all
from social.filters import (
    MAX_FILTERS,
    FilterHit,
    Screen,
    create_filter,
    delete_filter,
    filters_in_force,
    screen,
)

if TYPE_CHECKING:
    from schema.notes.types import NoteType
    from schema.social.notifications import NotificationType
    from schema.social.types import CommentType

FilterContextEnum = described_enum(
    FilterContext,
    name="FilterContext",
    description="Where a keyword filter applies.",
    values={
        "FEED": "The following feed and the discovery feed.",
        "SEARCH": "Search results (notes).",
        "COMMENTS": "A note's comments and their replies.",
        "NOTIFICATIONS": "Your notification list and its live updates (matched through the note or "
        "comment an entry is about).",
    },
)

FilterActionEnum = described_enum(
    FilterAction,
    name="FilterAction",
    description="What a keyword filter does to what matches it.",
    values={
        "HIDE": "Leave it out, silently.",
        "WARN": "Keep it, with `filtered` set, so the app can show a warning in its place.",
    },
)

# Why a phrase matches what it matches, said once for the input and the type.
PHRASE_RULES = (
    "Matched the way search reads text: Traditional and Simplified Chinese, full-width and ordinary "
    "letters and any case are the same (護膚 = 护肤); Chinese, Japanese and Korean match anywhere inside "
    "the text (口红 hides 这款口红色号); other words match whole, in any grammatical form (lipstick hides "
    '"Lipsticks", but "and" never hides "sand"), and several words must appear together, in order.'
)


@strawberry.type(name="Filter", description="A keyword filter of yours: a phrase you do not want to see.")
class FilterType:
    id: strawberry.ID = strawberry.field(description="The Filter id, for filterDelete.")
    phrase: str = strawberry.field(description=f"The phrase as you typed it. {PHRASE_RULES}")
    contexts: list[FilterContextEnum] = strawberry.field(  # type: ignore[valid-type]
        description="Where it applies."
    )
    action: FilterActionEnum = strawberry.field(  # type: ignore[valid-type]
        description="Hide what matches, or show it behind a warning."
    )
    expires_at: datetime | None = strawberry.field(
        description="When it stops applying; null: until you delete it."
    )
    created_at: datetime = strawberry.field(description="When you created it.")

    @classmethod
    def from_row(cls, row: ContentFilter) -> FilterType:
        return cls(
            id=strawberry.ID(to_global_id("Filter", row.id)),
            phrase=row.phrase,
            contexts=[FilterContext(c) for c in row.contexts or []],
            action=FilterAction(row.action),
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


@strawberry.type(
    description="The filter of yours an item matched, with WARN: show a warning naming the phrase (and a way "
    "to see the item anyway) instead of the item."
)
class FilteredBy:
    filter_id: strawberry.ID = strawberry.field(description="The Filter id.")
    phrase: str = strawberry.field(description="The filter's phrase, as you typed it.")

    @classmethod
    def of(cls, hit: FilterHit | None) -> FilteredBy | None:
        if hit is None:
            return None
        return cls(filter_id=strawberry.ID(to_global_id("Filter", hit.filter_id)), phrase=hit.phrase)


FILTERED_DESCRIPTION = (
    "The filter of yours this matched, with WARN: show a warning instead of it. Set where a filter's "
    "context applies (a feed, search, a note's comments, your notifications); null when nothing matched, "
    "and elsewhere."
)


@strawberry.input(description="A keyword filter.")
class FilterCreateInput:
    phrase: str = strawberry.field(
        description=f"1–100 characters, with at least one letter, digit, Chinese character or emoji. "
        f"{PHRASE_RULES}"
    )
    contexts: list[FilterContextEnum] = strawberry.field(  # type: ignore[valid-type]
        description="Where it applies: at least one."
    )
    action: FilterActionEnum = strawberry.field(  # type: ignore[valid-type]
        default=FilterAction.HIDE, description="Hide what matches (the default), or show it behind a warning."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When it stops applying, in the future (a time without a zone is UTC); null: until you "
        "delete it.",
    )


@strawberry.type(description="The result of filterCreate.")
class FilterCreatePayload:
    filter: FilterType | None = strawberry.field(
        default=None, description="The new filter; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of filterDelete.")
class FilterDeletePayload:
    deleted_filter_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the deleted filter; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class FilterMutation:
    @strawberry.mutation(
        description=f"Stop seeing a phrase: what matches it is hidden, or shown behind a warning, on the "
        f"surfaces you choose, from your next request on. At most {MAX_FILTERS} filters in force (TOO_MANY); "
        "expired ones are deleted and do not count."
    )
    @returns_errors
    async def filter_create(
        self, info: Info, input: Annotated[FilterCreateInput, strawberry.argument(description="The filter.")]
    ) -> FilterCreatePayload:
        row = await create_filter(
            owner_id=info.context.require_viewer_id(),
            phrase=input.phrase,
            contexts=input.contexts,
            action=input.action,
            expires_at=input.expires_at,
        )
        info.context.loaders.forget_audience()  # the rest of this operation applies it already
        return FilterCreatePayload(filter=FilterType.from_row(row))

    @strawberry.mutation(description="Delete one of your filters: what it hid shows again.")
    @returns_errors
    async def filter_delete(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Filter id.")]
    ) -> FilterDeletePayload:
        await delete_filter(
            owner_id=info.context.require_viewer_id(), filter_id=decode_global_id(id, "Filter", "id")
        )
        info.context.loaders.forget_audience()
        return FilterDeletePayload(deleted_filter_id=id)


async def viewer_filters(owner_id: int) -> list[FilterType]:
    """`User.filters`: the filters in force, newest first (expired ones are left out)."""
    return [FilterType.from_row(row) for row in await filters_in_force(owner_id)]


# --- applying filters to a page --------------------------------------------------------------------------

N = TypeVar("N")


async def _screen(info: Info, context: FilterContext) -> Screen:
    """The viewer's filters of `context` (none for anonymous requests), read with the session."""
    audience = await info.context.audience()
    return screen(audience.filters, context, audience.viewer_id)


async def screen_notes(info: Info, context: FilterContext, notes: Sequence[NoteType]) -> list[NoteType]:
    """`notes` without those a HIDE filter of `context` matches; the rest carry any WARN filter they match.
    The viewer's own notes are never filtered.

    Topics are part of a note's text: with notes to judge, a page's topics are read in one statement
    through the request's loader (a page that shows them reads them once either way); without, nothing
    is read."""
    judge = await _screen(info, context)
    judged = [n for n in notes if judge.judges(n.row.author_id)]  # type: ignore[attr-defined]
    if not judged:
        return list(notes)
    topics = await load_all(info.context.loaders.topics_by_note_id, [n.row.id for n in judged])
    hits = {
        id(note): judge.note(note.row, [t.name for t in its_topics])
        for note, its_topics in zip(judged, topics, strict=True)
    }
    return _kept(notes, hits)


async def screen_comments(info: Info, comments: Sequence[CommentType]) -> list[CommentType]:
    """`comments` without those a HIDE filter of COMMENTS matches (by their body); the rest carry any WARN
    match. The viewer's own comments are never filtered."""
    judge = await _screen(info, FilterContext.COMMENTS)
    if not judge.filters:
        return list(comments)
    return _kept(comments, {id(comment): judge.comment(comment.row) for comment in comments})


async def screen_notifications(info: Info, entries: Sequence[NotificationType]) -> list[NotificationType]:
    """`entries` without those a HIDE filter of NOTIFICATIONS matches, by what they are about: the comment
    of a COMMENT or REPLY entry; the note of another entry, when it is not the viewer's own (so in effect
    never today: likes, collects and sales are of one's own notes). The rest carry any WARN match. Comments
    and notes are read through the request's loaders, one statement each for the page (shared with the
    entries' `comment` and `note` fields), and only when a filter applies."""
    judge = await _screen(info, FilterContext.NOTIFICATIONS)
    if not judge.filters or not entries:
        return list(entries)
    loaders = info.context.loaders
    comment_ids = [e.row.comment_id for e in entries if e.row.comment_id]  # type: ignore[attr-defined]
    comments = dict(zip(comment_ids, await load_all(loaders.comment_by_id, comment_ids), strict=True))
    note_ids = [
        e.row.note_id  # type: ignore[attr-defined]
        for e in entries
        if not e.row.comment_id and e.row.note_id  # type: ignore[attr-defined]
    ]
    notes = dict(zip(note_ids, await load_all(loaders.note_by_id, note_ids), strict=True))
    hits: dict[int, FilterHit | None] = {}
    for entry in entries:
        comment_id, note_id = entry.row.comment_id, entry.row.note_id  # type: ignore[attr-defined]
        if comment_id:
            comment = comments.get(comment_id)
            hits[id(entry)] = judge.comment(comment) if comment is not None else None
        else:
            # A note's topics are left out here: an entry shows none, and they would cost a statement.
            note = notes.get(note_id)
            hits[id(entry)] = judge.note(note) if note is not None else None
    return _kept(entries, hits)


class _Screened(Protocol):
    """What the screens set on the items they keep (NoteType, CommentType, NotificationType)."""

    filter_hit: FilterHit | None


S = TypeVar("S", bound=_Screened)


def _kept(items: Sequence[S], hits: dict[int, FilterHit | None]) -> list[S]:
    """`items` less those their hit (keyed by `id(item)`) hides; the others get theirs (a WARN, or none)."""
    kept: list[S] = []
    for item in items:
        hit = hits.get(id(item))
        if hit is not None and hit.hides:
            continue
        item.filter_hit = hit
        kept.append(item)
    return kept


def keep_edges(edges: Sequence[N], kept: Sequence[Any]) -> list[N]:
    """The edges of a page whose nodes a screen kept, in their order."""
    ids = {id(node) for node in kept}
    return [edge for edge in edges if id(edge.node) in ids]  # type: ignore[attr-defined]


class _Page(Protocol):
    """A page whose edges hold screened nodes: a `Connection`, the discovery feed's or search's."""

    edges: Any


P = TypeVar("P", bound=_Page)


async def screened_notes(info: Info, context: FilterContext, page: P) -> P:
    """`page` less the notes a HIDE filter of `context` matches (`screen_notes`); its page info stays that of
    the rows read, so paging on from it neither repeats nor skips."""
    page.edges = keep_edges(page.edges, await screen_notes(info, context, [e.node for e in page.edges]))
    return page


async def screened_comments(info: Info, page: P) -> P:
    """`page` less the comments a HIDE filter of COMMENTS matches (`screen_comments`)."""
    page.edges = keep_edges(page.edges, await screen_comments(info, [e.node for e in page.edges]))
    return page


async def screened_notifications(info: Info, page: P) -> P:
    """`page` less the entries a HIDE filter of NOTIFICATIONS matches (`screen_notifications`)."""
    page.edges = keep_edges(page.edges, await screen_notifications(info, [e.node for e in page.edges]))
    return page
