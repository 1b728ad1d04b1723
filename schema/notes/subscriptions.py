"""Live updates on a note: its like count and new comments, over WebSocket (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from core.errors import not_found
from core.ids import decode_global_id
from models import Comment, Note
from schema.context import Info
from schema.social.types import CommentType
from social.events import note_comments_channel, note_likes_channel


@strawberry.type(description="A note's like count at a moment.")
class NoteLikeCount:
    note_id: strawberry.ID
    like_count: int


@strawberry.type
class NoteSubscription:
    @strawberry.subscription(
        description="The note's like count now, then every time it changes. After a reconnect the first "
        "event is again the current count, so nothing missed is left stale."
    )
    async def note_like_count(
        self, info: Info, note_id: strawberry.ID
    ) -> AsyncGenerator[NoteLikeCount, None]:
        pk = decode_global_id(note_id, "Note", "noteId")
        async with info.context.broker.subscribe(note_likes_channel(pk)) as events:
            note = await Note.get_or_none(id=pk, deleted_at=None)
            if note is None:
                raise not_found("Note", "noteId")
            yield NoteLikeCount(note_id=note_id, like_count=note.like_count)
            async for event in events:
                yield NoteLikeCount(note_id=note_id, like_count=int(event["likeCount"]))

    @strawberry.subscription(description="Each new comment or reply on the note, as it is posted.")
    async def note_comment_added(
        self, info: Info, note_id: strawberry.ID
    ) -> AsyncGenerator[CommentType, None]:
        pk = decode_global_id(note_id, "Note", "noteId")
        async with info.context.broker.subscribe(note_comments_channel(pk)) as events:
            if not await Note.filter(id=pk, deleted_at=None).exists():
                raise not_found("Note", "noteId")
            async for event in events:
                comment = await Comment.get_or_none(id=int(event["commentId"]), deleted_at=None)
                if comment is not None:
                    yield CommentType.from_row(comment)
