"""Live events of the social half: published after the change commits, read by subscriptions.

Publishing is best effort (`core.pubsub.announce`): a lost event never turns the committed change into an
error.
"""

from __future__ import annotations

from core.pubsub import Broker, announce


def note_likes_channel(note_id: int) -> str:
    return f"vermilion:note:{note_id}:likes"


def note_comments_channel(note_id: int) -> str:
    return f"vermilion:note:{note_id}:comments"


async def publish_like_count(broker: Broker, note_id: int, like_count: int) -> None:
    """Tell subscribers a note's like count changed; called after the like or unlike has committed."""
    await announce(broker, note_likes_channel(note_id), {"likeCount": like_count})


async def publish_comment(broker: Broker, note_id: int, comment_id: int) -> None:
    """Tell subscribers a comment was posted on a note; called after it has committed."""
    await announce(broker, note_comments_channel(note_id), {"commentId": comment_id})
