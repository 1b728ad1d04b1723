"""Comments in two levels: roots on a note, and replies in a root's thread."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import Forbidden, NotFound
from core.retry import retry_on_conflict
from core.validation import Checks
from models import Comment, Note, NotificationKind
from social.blocks import refuse_if_blocked
from social.engagement import live_note
from social.notifications import notify
from social.policy import can_delete_comment

MAX_COMMENT = 1000


@retry_on_conflict
async def create_comment(*, author_id: int, note_id: int, body: str, reply_to_id: int | None) -> Comment:
    checks = Checks()
    text = checks.text("body", body, max_length=MAX_COMMENT)
    checks.done()
    note = await live_note(note_id, author_id)
    root_id = None
    target = None
    if reply_to_id is not None:
        target = await Comment.get_or_none(id=reply_to_id, note_id=note_id, deleted_at=None)
        if target is None:
            raise NotFound("The comment you reply to", "reply_to_id")
        if target.withheld and target.author_id != author_id:  # type: ignore[attr-defined]
            raise NotFound("The comment you reply to", "reply_to_id")
        await refuse_if_blocked(author_id, target.author_id, "reply_to_id")  # type: ignore[attr-defined]
        root_id = target.root_id or target.id  # type: ignore[attr-defined]
    async with in_transaction():
        comment = await Comment.create(
            note_id=note_id, author_id=author_id, body=text, root_id=root_id, reply_to_id=reply_to_id
        )
        await Note.filter(id=note_id).update(comment_count=F("comment_count") + 1)
        if root_id is not None:
            await Comment.filter(id=root_id).update(reply_count=F("reply_count") + 1)
        note_author = note.author_id  # type: ignore[attr-defined]
        if target is not None:
            await notify(
                recipient_id=target.author_id,  # type: ignore[attr-defined]
                actor_id=author_id,
                kind=NotificationKind.REPLY,
                note_id=note_id,
                comment_id=comment.id,
            )
        if target is None or target.author_id != note_author:  # type: ignore[attr-defined]
            await notify(
                recipient_id=note_author,
                actor_id=author_id,
                kind=NotificationKind.COMMENT,
                note_id=note_id,
                comment_id=comment.id,
            )
    return comment


@retry_on_conflict
async def delete_comment(*, comment_id: int, editor_id: int) -> Comment:
    """The comment's author or the note's author may delete; a root takes its replies with it."""
    comment = await Comment.get_or_none(id=comment_id, deleted_at=None)
    if comment is None:
        raise NotFound("Comment", "id")
    note = await Note.get(id=comment.note_id)  # type: ignore[attr-defined]
    if not can_delete_comment(comment, note, editor_id):
        raise Forbidden("Only the comment's author or the note's author can delete it.", "id")
    now = datetime.now(UTC)
    async with in_transaction():
        removed = await Comment.filter(id=comment.id, deleted_at=None).update(deleted_at=now)
        if not removed:
            return comment
        if comment.root_id is None:  # type: ignore[attr-defined]
            replies = await Comment.filter(root_id=comment.id, deleted_at=None).update(deleted_at=now)
            await Comment.filter(id=comment.id).update(reply_count=0)
            removed += replies
        else:
            await Comment.filter(id=comment.root_id).update(  # type: ignore[attr-defined]
                reply_count=F("reply_count") - 1
            )
        await Note.filter(id=note.id).update(comment_count=F("comment_count") - removed)
    return comment
