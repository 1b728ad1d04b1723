"""Notifications: someone liked, collected or commented on your note, replied to you, or followed you."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.notes import Note
    from models.social import Comment
    from models.users import User


class NotificationKind(StrEnum):
    LIKE = "LIKE"
    COLLECT = "COLLECT"
    COMMENT = "COMMENT"
    REPLY = "REPLY"
    FOLLOW = "FOLLOW"


class Notification(Model):
    id = fields.IntField(primary_key=True)
    recipient: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="caused_notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=8)
    note: fields.ForeignKeyNullableRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    comment: fields.ForeignKeyNullableRelation["Comment"] = fields.ForeignKeyField(
        "models.Comment", related_name="notifications", null=True, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notifications"
        # Newest first per recipient; unread counts per recipient.
        indexes = (("recipient_id", "id"), ("recipient_id", "read_at"), ("actor_id", "kind", "note_id"))
