"""The social graph: follows, likes, boards and collects, comments."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.safety import ModerationState

if TYPE_CHECKING:
    from models.notes import Note
    from models.users import User


class Follow(Model):
    id = fields.IntField(primary_key=True)
    follower: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="following_links", on_delete=fields.CASCADE
    )
    followee: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="follower_links", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follows"
        unique_together = (("follower_id", "followee_id"),)
        indexes = (("followee_id", "follower_id"),)


class Like(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="likes", on_delete=fields.CASCADE
    )
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="likes", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "likes"
        unique_together = (("user_id", "note_id"),)
        indexes = (("note_id", "user_id"),)


class Board(Model):
    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="boards", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=50)
    description = fields.CharField(max_length=500, default="")
    is_private = fields.BooleanField(default=False)
    # The board a collect lands in when the client names none; one per user.
    is_default = fields.BooleanField(default=False)
    note_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "boards"
        indexes = (("owner_id", "id"),)


class Collect(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="collects", on_delete=fields.CASCADE
    )
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="collects", on_delete=fields.CASCADE
    )
    board: fields.ForeignKeyRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="collects", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "collects"
        # A note is collected at most once per user, into one of their boards.
        unique_together = (("user_id", "note_id"),)
        indexes = (("board_id", "id"), ("note_id", "user_id"))


class Comment(Model):
    id = fields.IntField(primary_key=True)
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="comments", on_delete=fields.CASCADE
    )
    body = fields.CharField(max_length=1000)
    # Two levels: a root comment (root is null) and its replies; reply_to names the comment
    # a reply answers, which may itself be a reply in the same thread.
    root: fields.ForeignKeyNullableRelation["Comment"] = fields.ForeignKeyField(
        "models.Comment", related_name="replies", null=True, on_delete=fields.CASCADE
    )
    reply_to: fields.ForeignKeyNullableRelation["Comment"] = fields.ForeignKeyField(
        "models.Comment", related_name="answers", null=True, on_delete=fields.SET_NULL
    )
    reply_count = fields.IntField(default=0)
    # A moderator's decision and its reason (shown to the author alone), and whether the row is withheld
    # from everyone but its author: moderated, or its author suspended or leaving. `social.policy` reads
    # only `withheld`, one column every visibility filter can test.
    moderation = fields.CharEnumField(ModerationState, max_length=8, default=ModerationState.NONE)
    moderation_reason = fields.CharField(max_length=1000, default="")
    withheld = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "comments"
        indexes = (("note_id", "root_id", "id"), ("root_id", "id"), ("author_id", "created_at"))
