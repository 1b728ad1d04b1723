"""Notifications: written in the same transaction as the action that causes them, grouped as they are written.

Grouping follows Mastodon's grouped notifications (API v2: a `group_key`, a count, a sample of recent
accounts, most recent first), decided at write time so the list is read by one indexed column:

- Likes of one note are one entry and collects of it another ("小红 and 11 others liked your note"). They
  are grouped per kind, not together, because each entry then reads as one sentence with one verb, its
  count matches the note's own counter (`likeCount`, `collectCount`), and marking one read does not hide
  the other — the same split as Mastodon's favourites and boosts.
- Unlike Mastodon, a group never closes after a time span: the note has one likes entry for good, and a
  new like on an old, read entry makes it unread and brings it back to the top (RedNote's behaviour).
- Every other kind is an entry of its own: a follow (one per follower, told once), each comment and reply,
  and each order event.

`notify` is three statements in the caller's transaction: an upsert of the entry by `(recipient, group_key)`
(so two likes at once can never make two entries, and nothing raises inside the caller's transaction), an
activity row (`ON CONFLICT DO NOTHING`: somebody already told is not told again, a like after an unlike
notifies once), and the entry's bump — latest actor, actor count, `position`, unread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from tortoise import timezone
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from core.errors import DomainError, ErrorCode
from core.sql import fetch_all, uuid_param
from models import Notification, NotificationActivity, NotificationKind
from social.events import NotificationChange, note_notification_change
from social.policy import Audience, actor_filter, is_self, notification_filter

MAX_MARK_READ = 100

K = NotificationKind
# Kinds whose activities on one note form one entry.
GROUPED = frozenset({K.LIKE, K.COLLECT})
# Order events: nobody is notified of them but the buyer, the merchants and the creators concerned.
ORDER_KINDS = frozenset({K.ORDER_PAID, K.ORDER_FULFILLED, K.ORDER_REFUNDED, K.SALE, K.NOTE_SALE})
# Kinds about one moderation action: one entry per action and person told (the person affected, each
# reporter, the appellant).
MODERATION_KINDS = frozenset({K.MODERATION, K.REPORT_RESOLVED, K.APPEAL_RESOLVED})


def group_key(
    kind: NotificationKind,
    *,
    actor_id: int | None = None,
    note_id: int | None = None,
    comment_id: int | None = None,
    order_id: UUID | None = None,
    detail: str = "",
    moderation_action_id: int | None = None,
) -> str:
    """The key that makes activities one entry of a person's list (`detail` tells apart several
    entries of one kind about one order: the refund, the note that sold)."""
    if kind in GROUPED:
        return f"{kind}:note:{note_id}"
    if kind == K.FOLLOW:
        return f"{kind}:user:{actor_id}"  # one entry per follower: an unfollow and a re-follow tell once
    if kind in (K.COMMENT, K.REPLY):
        return f"{kind}:comment:{comment_id}"
    if kind in MODERATION_KINDS:
        return f"{kind}:action:{moderation_action_id}"
    if order_id is None:
        return f"{kind}:{detail}"  # about no order (an export ready: its detail names it)
    return f"{kind}:{order_id}" + (f":{detail}" if detail else "")


_UPSERT = (
    "INSERT INTO notifications (recipient_id, group_key, kind, actor_id, note_id, comment_id, order_id,"
    " moderation_action_id,"
    " actor_count, position, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $9, 0, 0, $8, $8)"
    # A no-op update rather than DO NOTHING: RETURNING then gives the id of an existing entry too, and
    # the entry's row is locked until the caller commits, so concurrent activities bump it one by one.
    " ON CONFLICT (recipient_id, group_key) DO UPDATE SET kind = excluded.kind RETURNING id"
)
_ACTIVITY = (
    "INSERT INTO notification_activities (notification_id, actor_id, created_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (notification_id, actor_id) DO NOTHING RETURNING id"
)
_BUMP = (
    "UPDATE notifications SET actor_id = $2, actor_count = actor_count + $5, position = $3, updated_at = $4,"
    " read_at = NULL WHERE id = $1"
)


async def notify(
    *,
    recipient_id: int,
    actor_id: int | None,
    kind: NotificationKind,
    note_id: int | None = None,
    comment_id: int | None = None,
    order_id: UUID | None = None,
    detail: str = "",
    moderation_action_id: int | None = None,
) -> None:
    """Record an activity in the recipient's list, in the caller's transaction; nobody is notified of
    their own actions, and nobody twice of the same person's like, collect or follow. Order events have
    the shop as their person; `actor_id` is None only for a guest's purchase (SALE). Noted for
    publishing after commit (`social.events`)."""
    if actor_id is not None and recipient_id == actor_id:
        return
    key = group_key(
        kind,
        actor_id=actor_id,
        note_id=note_id,
        comment_id=comment_id,
        order_id=order_id,
        detail=detail,
        moderation_action_id=moderation_action_id,
    )
    now = timezone.now()
    order = uuid_param(order_id) if order_id is not None else None
    (entry,) = await fetch_all(
        _UPSERT,
        [recipient_id, key, kind.value, actor_id, note_id, comment_id, order, now, moderation_action_id],
    )
    notification_id = int(entry["id"])
    activity = await fetch_all(_ACTIVITY, [notification_id, actor_id, now])
    if not activity:
        return  # this person is in the entry already
    people = 0 if actor_id is None else 1
    await fetch_all(_BUMP, [notification_id, actor_id, int(activity[0]["id"]), now, people])
    note_notification_change(NotificationChange(recipient_id, notification_id))


_LATEST_ACTIVITY = (
    "SELECT id, actor_id, created_at FROM notification_activities WHERE notification_id = $1"
    " ORDER BY id DESC LIMIT 1"
)
_PEOPLE = (
    "SELECT COUNT(*) AS n FROM notification_activities WHERE notification_id = $1 AND actor_id IS NOT NULL"
)


async def regroup(notification_id: int) -> None:
    """An entry after one of its activities went (an account purged): as `notify` would have left it
    without that activity — its latest actor, count and position from the activities left — and gone
    when none is left."""
    latest = await fetch_all(_LATEST_ACTIVITY, [notification_id])
    if not latest:
        await Notification.filter(id=notification_id).delete()
        return
    (people,) = await fetch_all(_PEOPLE, [notification_id])
    await Notification.filter(id=notification_id).update(
        actor_id=latest[0]["actor_id"],
        actor_count=int(people["n"]),
        position=int(latest[0]["id"]),
        updated_at=latest[0]["created_at"],
    )


# --- reading ---------------------------------------------------------------------------------------------


def inbox_filter(recipient_id: int, audience: Audience) -> Q:
    """The entries of a person's list this audience may see (`social.policy.notification_filter`, for
    entries). An entry stays while anyone in it is visible — the actor it shows is then the most recent
    visible one — and an entry without anyone (a guest's purchase) always stays. With nothing hidden this is
    exactly `notification_filter`: one indexed condition on the recipient."""
    visible = notification_filter(recipient_id, audience)
    if not is_self(recipient_id, audience.viewer_id) or not audience.hidden_author_ids:
        return visible
    seen = NotificationActivity.filter(
        actor_filter(audience), notification__recipient_id=recipient_id
    ).values("notification_id")
    return Q(recipient_id=recipient_id) & (Q(actor_id=None) | Q(id__in=Subquery(seen)))


def inbox(recipient_id: int, audience: Audience, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The person's entries as a queryset, for paging by `position` (newest activity first)."""
    query = Notification.filter(inbox_filter(recipient_id, audience))
    return query.filter(read_at=None) if unread_only else query


async def unread_count(user_id: int, audience: Audience | None = None) -> int:
    """Unread entries the person may see (`audience`: theirs, by default with nothing hidden): an entry of
    twelve likes counts once, as it shows once in the list."""
    visible = inbox_filter(user_id, audience or Audience(viewer_id=user_id))
    return await Notification.filter(visible, read_at=None).count()


async def latest_position(user_id: int) -> int:
    """The position of the person's most recent activity (0 when none): live updates start after it."""
    row = await Notification.filter(recipient_id=user_id).order_by("-position").first()
    return row.position if row else 0


async def mark_read(
    *, user_id: int, notification_ids: Sequence[int] | None, audience: Audience | None = None
) -> int:
    """Mark some (or, with None, all) of a user's entries read; returns how many remain unread."""
    if notification_ids is not None and len(notification_ids) > MAX_MARK_READ:
        raise DomainError(ErrorCode.TOO_MANY, f"At most {MAX_MARK_READ} ids at once.", "ids")
    query = Notification.filter(recipient_id=user_id, read_at=None)
    if notification_ids is not None:
        query = query.filter(id__in=list(notification_ids))
    if await query.update(read_at=datetime.now(UTC)):
        note_notification_change(NotificationChange(user_id))
    return await unread_count(user_id, audience)
