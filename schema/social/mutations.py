"""Mutations on boards and comments."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.ids import decode_global_id
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.social.types import BoardType, CommentType
from social.comments import create_comment, delete_comment
from social.engagement import create_board
from social.events import publish_comment


@strawberry.input(description="A new board.")
class BoardCreateInput:
    name: str = strawberry.field(description="The board's name, 1–50 characters.")
    description: str | None = strawberry.field(
        default=None, description="What the board collects, up to 500 characters."
    )
    is_private: bool = strawberry.field(default=False, description="True to keep the board to yourself.")


@strawberry.input(description="A comment on a note, or a reply in one of its threads.")
class CommentCreateInput:
    note_id: strawberry.ID = strawberry.field(description="The Note commented on.")
    body: str = strawberry.field(description="The text, 1–1000 characters.")
    reply_to_id: strawberry.ID | None = strawberry.field(
        default=None, description="Reply to this comment (a root, or a reply in the same thread)."
    )


@strawberry.type(description="The result of boardCreate.")
class BoardCreatePayload:
    board: BoardType | None = strawberry.field(default=None, description="The new board; null when refused.")
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of commentCreate.")
class CommentCreatePayload:
    comment: CommentType | None = strawberry.field(
        default=None, description="The new comment or reply; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of commentDelete.")
class CommentDeletePayload:
    deleted_comment_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The id of the deleted comment, to drop it (and a root's replies) from caches; null when "
        "refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class SocialMutation:
    @strawberry.mutation(
        description="Create a board to collect notes into; private boards are only yours to see."
    )
    @returns_errors
    async def board_create(
        self, info: Info, input: Annotated[BoardCreateInput, strawberry.argument(description="The board.")]
    ) -> BoardCreatePayload:
        board = await create_board(
            owner_id=info.context.require_viewer_id(),
            name=input.name,
            description=input.description,
            is_private=input.is_private,
        )
        return BoardCreatePayload(board=BoardType.from_row(board))

    @strawberry.mutation(description="Comment on a note, or reply to a comment.")
    @returns_errors
    async def comment_create(
        self,
        info: Info,
        input: Annotated[CommentCreateInput, strawberry.argument(description="The comment.")],
    ) -> CommentCreatePayload:
        author = info.context.require_viewer_id()
        reply_to = (
            decode_global_id(input.reply_to_id, "Comment", "reply_to_id")
            if input.reply_to_id is not None
            else None
        )
        comment = await create_comment(
            author_id=author,
            note_id=decode_global_id(input.note_id, "Note", "note_id"),
            body=input.body,
            reply_to_id=reply_to,
        )
        info.context.loaders.note_by_id.clear(comment.note_id)  # type: ignore[attr-defined]
        await publish_comment(info.context.broker, comment.note_id, comment.id)  # type: ignore[attr-defined]
        return CommentCreatePayload(comment=CommentType.from_row(comment))

    @strawberry.mutation(
        description="Delete a comment (yours, or any on your note); a root takes its replies."
    )
    @returns_errors
    async def comment_delete(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The Comment id.")]
    ) -> CommentDeletePayload:
        comment = await delete_comment(
            comment_id=decode_global_id(id, "Comment", "id"), editor_id=info.context.require_viewer_id()
        )
        info.context.loaders.note_by_id.clear(comment.note_id)  # type: ignore[attr-defined]
        return CommentDeletePayload(deleted_comment_id=id)
