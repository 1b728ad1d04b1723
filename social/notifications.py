"""Notifications: written in the same transaction as the action that causes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from core.errors import DomainError, ErrorCode
from models import Notification, NotificationKind
from social.policy import Audience, notification_filter

MAX_MARK_READ = 100

# Kinds that an actor can repeat on the same object (like, unlike, like …): notified once.
_ONCE = {NotificationKind.LIKE, NotificationKind.COLLECT, NotificationKind.FOLLOW}


async def notify(
    *,
    recipient_id: int,
    actor_id: int,
    kind: NotificationKind,
    note_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """Record a notification; nobody is notified of their own actions."""
    if recipient_id == actor_id:
        return
    if (
        kind in _ONCE
        and await Notification.filter(
            recipient_id=recipient_id, actor_id=actor_id, kind=kind, note_id=note_id
        ).exists()
    ):
        return
    await Notification.create(
        recipient_id=recipient_id, actor_id=actor_id, kind=kind, note_id=note_id, comment_id=comment_id
    )


async def mark_read(
    *, user_id: int, notification_ids: Sequence[int] | None, audience: Audience | None = None
) -> int:
    """Mark some (or, with None, all) of a user's notifications read; returns how many remain unread."""
    if notification_ids is not None and len(notification_ids) > MAX_MARK_READ:
        raise DomainError(ErrorCode.TOO_MANY, f"At most {MAX_MARK_READ} ids at once.", "ids")
    query = Notification.filter(recipient_id=user_id, read_at=None)
    if notification_ids is not None:
        query = query.filter(id__in=list(notification_ids))
    await query.update(read_at=datetime.now(UTC))
    return await unread_count(user_id, audience)


async def unread_count(user_id: int, audience: Audience | None = None) -> int:
    """Unread notifications the person may see (`audience`: theirs, by default with nothing hidden)."""
    visible = notification_filter(user_id, audience or Audience(viewer_id=user_id))
    return await Notification.filter(visible, read_at=None).count()
