"""Live events of the social half: published after the change commits, read by subscriptions."""

from __future__ import annotations

from core.pubsub import Broker


def note_likes_channel(note_id: int) -> str:
    return f"vermilion:note:{note_id}:likes"


def note_comments_channel(note_id: int) -> str:
    return f"vermilion:note:{note_id}:comments"


async def publish_like_count(broker: Broker, note_id: int, like_count: int) -> None:
    """Tell subscribers a note's like count changed; called after the like or unlike has committed."""
    await broker.publish(note_likes_channel(note_id), {"likeCount": like_count})


async def publish_comment(broker: Broker, note_id: int, comment_id: int) -> None:
    """Tell subscribers a comment was posted on a note; called after it has committed."""
    await broker.publish(note_comments_channel(note_id), {"commentId": comment_id})
