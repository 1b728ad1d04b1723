"""Mutations on notes: write, edit, delete, like and collect."""

from __future__ import annotations

import logging

import strawberry

from core.ids import decode_global_id
from core.outages import database_unreachable
from schema.context import Info
from schema.errors import UserError, returns_errors
from schema.notes.types import NoteKindEnum, NoteType
from schema.social.types import BoardType
from social.engagement import collect_note, like_note, uncollect_note, unlike_note
from social.events import publish_like_count
from social.notes import NoteChanges, Review, create_note, delete_note, infer_kind, update_note

log = logging.getLogger(__name__)


@strawberry.input(description="A review of one product: whole stars from 1 to 5.")
class ReviewInput:
    product_id: strawberry.ID
    rating: int


@strawberry.input
class NoteCreateInput:
    title: str
    body: str = ""
    kind: NoteKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Inferred from `media` when omitted: none → TEXT, a video URL → VIDEO, else IMAGE.",
    )
    topics: list[str] = strawberry.field(default_factory=list, description="Hashtags, with or without #.")
    product_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    review: ReviewInput | None = None
    media: list[str] = strawberry.field(default_factory=list, description="Image or video URLs, in order.")


@strawberry.input(description="Only the fields given change.")
class NoteUpdateInput:
    title: str | None = None
    body: str | None = None
    topics: list[str] | None = None
    product_ids: list[strawberry.ID] | None = None
    review: ReviewInput | None = None
    remove_review: bool = False
    media: list[str] | None = None


@strawberry.type
class NoteCreatePayload:
    note: NoteType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NoteUpdatePayload:
    note: NoteType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NoteDeletePayload:
    deleted_note_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NoteLikePayload:
    note: NoteType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NoteCollectPayload:
    note: NoteType | None = None
    board: BoardType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _review(review: ReviewInput | None) -> Review | None:
    if review is None:
        return None
    return Review(
        product_id=decode_global_id(review.product_id, "Product", ("review", "product_id")),
        rating=review.rating,
    )


def _product_ids(ids: list[strawberry.ID]) -> list[int]:
    return [decode_global_id(g, "Product", ("product_ids", i)) for i, g in enumerate(ids)]


async def fresh_note(info: Info, note_id: int) -> NoteType | None:
    """The note re-read after a write, with this request's caches for it dropped.

    The write is committed by now: when the database cannot be reached to read it back, the payload
    carries no note rather than an error, which would tell the client the change failed."""
    loaders = info.context.loaders
    for loader in (loaders.note_by_id, loaders.viewer_note_state, loaders.topics_by_note_id,
                   loaders.products_by_note_id):  # fmt: skip
        loader.clear(note_id)
    try:
        row = await loaders.note_by_id.load(note_id)
    except Exception as exc:
        if not database_unreachable(exc):
            raise
        log.warning("note %s saved but not read back: %s", note_id, exc)
        loaders.note_by_id.clear(note_id)
        return None
    return NoteType.from_row(row) if row else None


async def _liked(info: Info, note_id: int) -> NoteLikePayload:
    note = await fresh_note(info, note_id)
    if note is not None:
        await publish_like_count(info.context.broker, note_id, note.like_count)
    return NoteLikePayload(note=note)


@strawberry.type
class NoteMutation:
    @strawberry.mutation(description="Post a note; a review must rate a product you don't sell.")
    @returns_errors
    async def note_create(self, info: Info, input: NoteCreateInput) -> NoteCreatePayload:
        author = info.context.require_viewer_id()
        note = await create_note(
            author_id=author,
            kind=input.kind or infer_kind(input.media),
            title=input.title,
            body=input.body,
            topics=input.topics,
            product_ids=_product_ids(input.product_ids),
            media=input.media,
            review=_review(input.review),
        )
        info.context.loaders.user_by_id.clear(author)
        return NoteCreatePayload(note=await fresh_note(info, note.id))

    @strawberry.mutation(description="Edit your note; fields left out stay as they are.")
    @returns_errors
    async def note_update(self, info: Info, id: strawberry.ID, input: NoteUpdateInput) -> NoteUpdatePayload:
        editor = info.context.require_viewer_id()
        changes = NoteChanges(
            title=input.title,
            body=input.body,
            topics=input.topics,
            product_ids=_product_ids(input.product_ids) if input.product_ids is not None else None,
            media=input.media,
            review=_review(input.review),
            remove_review=input.remove_review,
        )
        note = await update_note(
            note_id=decode_global_id(id, "Note", "id"), editor_id=editor, changes=changes
        )
        return NoteUpdatePayload(note=await fresh_note(info, note.id))

    @strawberry.mutation(description="Delete your note.")
    @returns_errors
    async def note_delete(self, info: Info, id: strawberry.ID) -> NoteDeletePayload:
        editor = info.context.require_viewer_id()
        note = await delete_note(note_id=decode_global_id(id, "Note", "id"), editor_id=editor)
        info.context.loaders.note_by_id.clear(note.id)
        return NoteDeletePayload(deleted_note_id=id)

    @strawberry.mutation(description="Like a note; liking twice counts once.")
    @returns_errors
    async def note_like(self, info: Info, note_id: strawberry.ID) -> NoteLikePayload:
        note = await like_note(
            user_id=info.context.require_viewer_id(), note_id=decode_global_id(note_id, "Note", "note_id")
        )
        return await _liked(info, note.id)

    @strawberry.mutation
    @returns_errors
    async def note_unlike(self, info: Info, note_id: strawberry.ID) -> NoteLikePayload:
        note = await unlike_note(
            user_id=info.context.require_viewer_id(), note_id=decode_global_id(note_id, "Note", "note_id")
        )
        return await _liked(info, note.id)

    @strawberry.mutation(
        description="Collect a note into one of your boards (your default board when none is given)."
    )
    @returns_errors
    async def note_collect(
        self, info: Info, note_id: strawberry.ID, board_id: strawberry.ID | None = None
    ) -> NoteCollectPayload:
        user = info.context.require_viewer_id()
        board = decode_global_id(board_id, "Board", "board_id") if board_id is not None else None
        note, board_row = await collect_note(
            user_id=user, note_id=decode_global_id(note_id, "Note", "note_id"), board_id=board
        )
        info.context.loaders.board_by_id.clear(board_row.id)
        fresh_board = await info.context.loaders.board_by_id.load(board_row.id)
        return NoteCollectPayload(note=await fresh_note(info, note.id), board=BoardType.from_row(fresh_board))

    @strawberry.mutation
    @returns_errors
    async def note_uncollect(self, info: Info, note_id: strawberry.ID) -> NoteCollectPayload:
        note = await uncollect_note(
            user_id=info.context.require_viewer_id(), note_id=decode_global_id(note_id, "Note", "note_id")
        )
        return NoteCollectPayload(note=await fresh_note(info, note.id))
