"""Mutations on notes: write, edit, delete, like and collect."""

from __future__ import annotations

import logging
from typing import Annotated

import strawberry

from core.ids import decode_global_id
from core.outages import database_unreachable
from safety.signals import check_new_review
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.notes.types import NoteKindEnum, NoteType
from schema.social.types import BoardType
from social.engagement import collect_note, like_note, uncollect_note, unlike_note
from social.events import publish_like_count
from social.notes import NoteChanges, Review, create_note, delete_note, update_note

log = logging.getLogger(__name__)


@strawberry.input(description="A review of one product: whole stars from 1 to 5.")
class ReviewInput:
    product_id: strawberry.ID = strawberry.field(
        description="The Product reviewed: not one you sell, and one review per person per product "
        "(ALREADY_REVIEWED). It is tagged in the note too."
    )
    rating: int = strawberry.field(description="Whole stars, 1–5.")


@strawberry.input(description="A new note.")
class NoteCreateInput:
    title: str = strawberry.field(description="The headline, 1–100 characters.")
    body: str = strawberry.field(default="", description="The text, up to 5000 characters; may be empty.")
    kind: NoteKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="Inferred from the media when omitted: none → TEXT, a video → VIDEO, else IMAGE.",
    )
    topics: list[str] = strawberry.field(
        default_factory=list,
        description="Hashtags, with or without #, up to 10 of 1–64 characters; duplicates count once.",
    )
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Product ids to tag, in display order, up to 10."
    )
    review: ReviewInput | None = strawberry.field(
        default=None, description="Makes the note a review of one product; omit for an ordinary note."
    )
    media_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Uploaded media (mediaUploadCreate), in display order: 1–18 pictures for IMAGE, one "
        "video for VIDEO, none for TEXT. Each must be your own and READY (MEDIA_NOT_READY), and not on "
        "another note.",
    )
    media: list[str] = strawberry.field(
        default_factory=list,
        description="Image or video URLs (http or https), in order: at least one for IMAGE (up to 18), "
        "exactly one for VIDEO, none for TEXT. Not with `mediaIds`.",
        deprecation_reason="Upload the files (mediaUploadCreate) and pass `mediaIds`.",
    )


@strawberry.input(description="Only the fields given change.")
class NoteUpdateInput:
    title: str | None = strawberry.field(default=None, description="A new headline, 1–100 characters.")
    body: str | None = strawberry.field(default=None, description="New text, up to 5000 characters.")
    topics: list[str] | None = strawberry.field(
        default=None, description="The hashtags, replacing the current ones (up to 10; [] removes all)."
    )
    product_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The tagged products, replacing the current ones (up to 10)."
    )
    review: ReviewInput | None = strawberry.field(
        default=None, description="Make the note a review, or change its product or rating."
    )
    remove_review: bool = strawberry.field(
        default=False, description="True turns a review back into an ordinary note."
    )
    media_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Uploaded media replacing the note's media, in order; they must suit the note's kind. "
        "Media the note no longer shows are deleted.",
    )
    media: list[str] | None = strawberry.field(
        default=None,
        description="The media URLs, replacing the current ones; they must suit the note's kind.",
        deprecation_reason="Upload the files (mediaUploadCreate) and pass `mediaIds`.",
    )


@strawberry.type(description="The result of noteCreate.")
class NoteCreatePayload:
    note: NoteType | None = strawberry.field(
        default=None, description="The note as posted; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of noteUpdate.")
class NoteUpdatePayload:
    note: NoteType | None = strawberry.field(
        default=None, description="The note as it is after the edit; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of noteDelete.")
class NoteDeletePayload:
    deleted_note_id: strawberry.ID | None = strawberry.field(
        default=None, description="The id of the deleted note, to drop it from caches; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of noteLike and noteUnlike.")
class NoteLikePayload:
    note: NoteType | None = strawberry.field(
        default=None, description="The note with its fresh likeCount and viewerHasLiked; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of noteCollect and noteUncollect.")
class NoteCollectPayload:
    note: NoteType | None = strawberry.field(
        default=None,
        description="The note with its fresh collectCount and viewerHasCollected; null when refused.",
    )
    board: BoardType | None = strawberry.field(
        default=None,
        description="For noteCollect, the board the note is in now; null for noteUncollect and when refused.",
    )
    errors: list[UserError] = payload_errors()


def _review(review: ReviewInput | None) -> Review | None:
    if review is None:
        return None
    return Review(
        product_id=decode_global_id(review.product_id, "Product", ("review", "product_id")),
        rating=review.rating,
    )


def _media_ids(ids: list[strawberry.ID]) -> list[int]:
    return [decode_global_id(g, "Media", ("media_ids", i)) for i, g in enumerate(ids)]


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
    async def note_create(
        self, info: Info, input: Annotated[NoteCreateInput, strawberry.argument(description="The note.")]
    ) -> NoteCreatePayload:
        author = info.context.require_viewer_id()
        note = await create_note(
            author_id=author,
            kind=input.kind,
            title=input.title,
            body=input.body,
            topics=input.topics,
            product_ids=_product_ids(input.product_ids),
            media=input.media,
            media_ids=_media_ids(input.media_ids),
            review=_review(input.review),
        )
        info.context.loaders.user_by_id.clear(author)
        if input.review is not None:
            await check_new_review(note.id)  # the fake-review rule (safety/signals.py)
        return NoteCreatePayload(note=await fresh_note(info, note.id))

    @strawberry.mutation(description="Edit your note; fields left out stay as they are.")
    @returns_errors
    async def note_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Note id; it must be yours.")],
        input: Annotated[NoteUpdateInput, strawberry.argument(description="The fields to change.")],
    ) -> NoteUpdatePayload:
        editor = info.context.require_viewer_id()
        changes = NoteChanges(
            title=input.title,
            body=input.body,
            topics=input.topics,
            product_ids=_product_ids(input.product_ids) if input.product_ids is not None else None,
            media=input.media,
            media_ids=_media_ids(input.media_ids) if input.media_ids is not None else None,
            review=_review(input.review),
            remove_review=input.remove_review,
        )
        note = await update_note(
            note_id=decode_global_id(id, "Note", "id"), editor_id=editor, changes=changes
        )
        if input.review is not None and not input.remove_review:
            await check_new_review(note.id)  # a review of a (new) product: the fake-review rule
        return NoteUpdatePayload(note=await fresh_note(info, note.id))

    @strawberry.mutation(description="Delete your note.")
    @returns_errors
    async def note_delete(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Note id; it must be yours.")],
    ) -> NoteDeletePayload:
        editor = info.context.require_viewer_id()
        note = await delete_note(note_id=decode_global_id(id, "Note", "id"), editor_id=editor)
        info.context.loaders.note_by_id.clear(note.id)
        return NoteDeletePayload(deleted_note_id=id)

    @strawberry.mutation(description="Like a note; liking twice counts once.")
    @returns_errors
    async def note_like(
        self, info: Info, note_id: Annotated[strawberry.ID, strawberry.argument(description="The Note id.")]
    ) -> NoteLikePayload:
        note = await like_note(
            user_id=info.context.require_viewer_id(), note_id=decode_global_id(note_id, "Note", "note_id")
        )
        return await _liked(info, note.id)

    @strawberry.mutation(description="Take back your like; a no-op when you had not liked the note.")
    @returns_errors
    async def note_unlike(
        self, info: Info, note_id: Annotated[strawberry.ID, strawberry.argument(description="The Note id.")]
    ) -> NoteLikePayload:
        note = await unlike_note(
            user_id=info.context.require_viewer_id(), note_id=decode_global_id(note_id, "Note", "note_id")
        )
        return await _liked(info, note.id)

    @strawberry.mutation(
        description="Collect a note into one of your boards (your default board when none is given)."
    )
    @returns_errors
    async def note_collect(
        self,
        info: Info,
        note_id: Annotated[strawberry.ID, strawberry.argument(description="The Note id.")],
        board_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="One of your boards; omit for your default board. A note already collected "
                "moves here."
            ),
        ] = None,
    ) -> NoteCollectPayload:
        user = info.context.require_viewer_id()
        board = decode_global_id(board_id, "Board", "board_id") if board_id is not None else None
        note, board_row = await collect_note(
            user_id=user, note_id=decode_global_id(note_id, "Note", "note_id"), board_id=board
        )
        info.context.loaders.board_by_id.clear(board_row.id)
        fresh_board = await info.context.loaders.board_by_id.load(board_row.id)
        return NoteCollectPayload(note=await fresh_note(info, note.id), board=BoardType.from_row(fresh_board))

    @strawberry.mutation(
        description="Take the note out of your boards; a no-op when you had not collected it."
    )
    @returns_errors
    async def note_uncollect(
        self, info: Info, note_id: Annotated[strawberry.ID, strawberry.argument(description="The Note id.")]
    ) -> NoteCollectPayload:
        note = await uncollect_note(
            user_id=info.context.require_viewer_id(), note_id=decode_global_id(note_id, "Note", "note_id")
        )
        return NoteCollectPayload(note=await fresh_note(info, note.id))
