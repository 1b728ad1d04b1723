"""Notes (posts), the topics they carry and the products they tag."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from models.safety import ModerationState

if TYPE_CHECKING:
    from models.catalog import Product
    from models.users import User


class NoteKind(StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    TEXT = "TEXT"


class Topic(Model):
    id = fields.IntField(primary_key=True)
    # Normalised hashtag text (see social.topics.normalize_topic_name): "#护肤" and "护肤" are one topic.
    name = fields.CharField(max_length=64, unique=True)
    note_count = fields.IntField(default=0)
    view_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "topics"


class Note(Model):
    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="notes", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NoteKind, max_length=8)
    title = fields.CharField(max_length=100)
    body = fields.TextField()
    language = fields.CharField(max_length=8, default="und")
    # The note's media in order, on its row so that a page of notes needs no statement for them: uploaded
    # media as what media.attach.snapshot keeps of them (they are attached in note_media), or, for notes
    # posted before uploads, URLs.
    media: fields.Field[list[Any]] = fields.JSONField(default=list)
    review_product: fields.ForeignKeyNullableRelation["Product"] = fields.ForeignKeyField(
        "models.Product", related_name="review_notes", null=True, on_delete=fields.SET_NULL
    )
    review_rating = fields.SmallIntField(null=True)
    like_count = fields.IntField(default=0)
    collect_count = fields.IntField(default=0)
    comment_count = fields.IntField(default=0)
    # Times the discovery feed served it, and times it was opened: the denominators of quality.
    impression_count = fields.IntField(default=0)
    view_count = fields.IntField(default=0)
    # A moderator's decision and its reason (shown to the author alone), and whether the row is withheld
    # from everyone but its author: moderated, or its author suspended or leaving. `social.policy` reads
    # only `withheld`, one column every visibility filter can test.
    moderation = fields.CharEnumField(ModerationState, max_length=8, default=ModerationState.NONE)
    moderation_reason = fields.CharField(max_length=1000, default="")
    withheld = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Soft delete: orders and carts keep pointing at the note they were bought from.
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notes"
        # Lists are newest first by id (ids grow with creation time), keyset-paged.
        indexes = (("author_id", "id"), ("review_product_id", "id"), ("created_at",))


class NoteTopic(Model):
    id = fields.IntField(primary_key=True)
    note: fields.ForeignKeyRelation[Note] = fields.ForeignKeyField(
        "models.Note", related_name="topic_links", on_delete=fields.CASCADE
    )
    topic: fields.ForeignKeyRelation[Topic] = fields.ForeignKeyField(
        "models.Topic", related_name="note_links", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "note_topics"
        unique_together = (("note_id", "topic_id"),)
        indexes = (("topic_id", "note_id"),)


class NoteProduct(Model):
    id = fields.IntField(primary_key=True)
    note: fields.ForeignKeyRelation[Note] = fields.ForeignKeyField(
        "models.Note", related_name="product_links", on_delete=fields.CASCADE
    )
    product: fields.ForeignKeyRelation["Product"] = fields.ForeignKeyField(
        "models.Product", related_name="note_links", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)

    class Meta:
        table = "note_products"
        unique_together = (("note_id", "product_id"),)
        indexes = (("product_id", "note_id"),)
