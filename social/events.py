"""Live events of the social half: published after the change commits, read by subscriptions.

Publishing is best effort (`core.pubsub.announce`): a lost event never turns the committed change into an
error.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

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


# --- notifications ---------------------------------------------------------------------------------------
# A notification is written by whichever rule causes it (a like, a comment, a payment settling), deep in
# that rule's transaction, where no broker is at hand. So `notify` and `mark_read` only note the change in
# this task's outbox; whoever runs the operation opens the outbox before it and publishes what it holds
# after the operation's transactions have committed (`flush_notification_changes`). Without an open
# outbox (the CLI, the seed) changes are not announced: nobody is listening to those processes.

_outbox: ContextVar[list[NotificationChange] | None] = ContextVar(
    "vermilion_notification_outbox", default=None
)


@dataclass(frozen=True)
class NotificationChange:
    """Someone's notifications changed: `notification_id` gained an activity, or (None) read state moved."""

    recipient_id: int
    notification_id: int | None = None


def notifications_channel(recipient_id: int) -> str:
    return f"vermilion:user:{recipient_id}:notifications"


def open_notification_outbox() -> None:
    """Start collecting this task's notification changes (the operation's start)."""
    _outbox.set([])


def note_notification_change(change: NotificationChange) -> None:
    """Remember a change for publishing after commit; a no-op when no outbox is open."""
    outbox = _outbox.get()
    if outbox is not None and change not in outbox:
        outbox.append(change)


async def flush_notification_changes(broker: Broker) -> None:
    """Publish, best effort, every change noted since the outbox opened, and close it.

    Called after the operation, so its transactions have committed. A change whose transaction rolled
    back is announced too: subscribers read the notification again and send nothing when it did not move.
    """
    changes = _outbox.get() or []
    _outbox.set(None)
    for change in changes:
        await announce(
            broker, notifications_channel(change.recipient_id), {"notificationId": change.notification_id}
        )
