"""Live updates on a note: its like count and new comments, over WebSocket (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from core.errors import NotFound
from core.ids import decode_global_id
from models import Comment, Note
from schema.context import Info
from schema.safety.filters import screen_comments
from schema.social.types import CommentType
from social.events import note_comments_channel, note_likes_channel
from social.policy import comment_filter, note_filter


@strawberry.type(description="A note's like count at a moment.")
class NoteLikeCount:
    note_id: strawberry.ID = strawberry.field(description="The Note id subscribed to.")
    like_count: int = strawberry.field(description="How many people like the note at this moment.")


# The note a subscription follows (both of them take it the same way).
FollowedNote = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The Note id; a note that does not exist or is hidden from you ends the subscription "
        "with a NOT_FOUND error."
    ),
]


@strawberry.type
class NoteSubscription:
    @strawberry.subscription(
        description="The note's like count now, then every time it changes. After a reconnect the first "
        "event is again the current count, so nothing missed is left stale."
    )
    async def note_like_count(
        self,
        info: Info,
        note_id: FollowedNote,
    ) -> AsyncGenerator[NoteLikeCount, None]:
        pk = decode_global_id(note_id, "Note", "note_id")
        async with info.context.broker.subscribe(note_likes_channel(pk)) as events:
            note = await Note.filter(note_filter(await info.context.audience()), id=pk).first()
            if note is None:
                raise NotFound("Note", "note_id")
            yield NoteLikeCount(note_id=note_id, like_count=note.like_count)
            async for event in events:
                # The audience and the note are read again per event on a connection: a note hidden since
                # (a block, a mute, a moderator) is no longer told.
                if await _still_visible(info, pk):
                    yield NoteLikeCount(note_id=note_id, like_count=int(event["likeCount"]))

    @strawberry.subscription(description="Each new comment or reply on the note, as it is posted.")
    async def note_comment_added(
        self,
        info: Info,
        note_id: FollowedNote,
    ) -> AsyncGenerator[CommentType, None]:
        pk = decode_global_id(note_id, "Note", "note_id")
        async with info.context.broker.subscribe(note_comments_channel(pk)) as events:
            note = await Note.filter(note_filter(await info.context.audience()), id=pk).first()
            if note is None:
                raise NotFound("Note", "note_id")
            async for event in events:
                audience = await info.context.audience()
                comment = await Comment.filter(comment_filter(audience), id=int(event["commentId"])).first()
                if comment is not None and await _still_visible(info, pk):
                    # The viewer's filters of COMMENTS, as on the list: hidden, or sent with `filtered`.
                    for shown in await screen_comments(info, [CommentType.from_row(comment)]):
                        yield shown


async def _still_visible(info: Info, note_id: int) -> bool:
    """Whether the subscriber may still see the note, read afresh (an event may come hours later)."""
    return await Note.filter(note_filter(await info.context.audience()), id=note_id).exists()
