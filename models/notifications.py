"""Notifications: one row per entry of a person's list, and one activity row per thing that happened.

A `Notification` is what the list shows: a *group* in Mastodon's sense (API v2 grouped notifications).
Likes of one note form one group, collects of it another, however many people act; every other kind is
a group of one. Its `group_key` names it (unique per recipient), so the write that notifies finds and
updates it in the same transaction as the like, and the list is read by `position` alone — no GROUP BY
over a thousand rows per page. Each `NotificationActivity` records one actor's action in a group: the
actors a client shows ("小红 and 11 others") and the proof that someone was already told (a like after
an unlike notifies once).
"""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.commerce import Order
    from models.notes import Note
    from models.social import Comment
    from models.users import User


class NotificationKind(StrEnum):
    LIKE = "LIKE"
    COLLECT = "COLLECT"
    COMMENT = "COMMENT"
    REPLY = "REPLY"
    FOLLOW = "FOLLOW"
    ORDER_PAID = "ORDER_PAID"
    ORDER_FULFILLED = "ORDER_FULFILLED"
    ORDER_REFUNDED = "ORDER_REFUNDED"
    SALE = "SALE"
    NOTE_SALE = "NOTE_SALE"
    # A moderator acted on the recipient's account or content (the action says what and why).
    MODERATION = "MODERATION"
    # A report the recipient made was resolved (the action says how).
    REPORT_RESOLVED = "REPORT_RESOLVED"
    # The recipient's appeal was decided.
    APPEAL_RESOLVED = "APPEAL_RESOLVED"
    # The recipient's data export is ready to download.
    EXPORT_READY = "EXPORT_READY"
    # A parcel of the recipient's order shipped or was delivered.
    SHIPMENT_UPDATED = "SHIPMENT_UPDATED"
    # A return changed: requested (to the merchant), approved, rejected, received, refunded (to the buyer).
    RETURN_UPDATED = "RETURN_UPDATED"


class Notification(Model):
    """One entry of a person's notification list (a group of one or more activities)."""

    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    # What makes activities one entry: "LIKE:note:12", "COMMENT:comment:40", "ORDER_PAID:order:<uuid>".
    group_key = fields.CharField(max_length=128)
    kind = fields.CharEnumField(NotificationKind, max_length=16)
    # The most recent actor; null for what nobody did (a payment settling).
    actor: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="caused_notifications", null=True, on_delete=fields.CASCADE
    )
    note: fields.ForeignKeyNullableRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    comment: fields.ForeignKeyNullableRelation["Comment"] = fields.ForeignKeyField(
        "models.Comment", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    order: fields.ForeignKeyNullableRelation["Order"] = fields.ForeignKeyField(
        "models.Order", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    # The moderation action a MODERATION, REPORT_RESOLVED or APPEAL_RESOLVED entry is about.
    moderation_action_id = fields.IntField(null=True)
    # How many activities (people, for grouped kinds) the entry holds.
    actor_count = fields.IntField(default=0)
    # The id of the entry's latest activity: the list's order, newest activity first, and its cursor.
    position = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)  # the first activity
    updated_at = fields.DatetimeField(null=True)  # the latest activity
    read_at = fields.DatetimeField(null=True)  # null: unread (new activity makes an entry unread again)

    class Meta:
        table = "notifications"
        unique_together = (("recipient_id", "group_key"),)
        # The list, newest activity first; unread counts per recipient.
        indexes = (("recipient_id", "position"), ("recipient_id", "read_at"))


class NotificationActivity(Model):
    """One thing that happened within a notification: who did it, and when."""

    id = fields.IntField(primary_key=True)
    notification: fields.ForeignKeyRelation[Notification] = fields.ForeignKeyField(
        "models.Notification", related_name="activities", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="notification_activities", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification_activities"
        # One activity per person and entry (told once); an entry's actors, most recent first.
        unique_together = (("notification_id", "actor_id"),)
        indexes = (("notification_id", "id"),)
