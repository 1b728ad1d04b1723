"""What the discovery feed records and precomputes: impressions, opens and "not interested" marks,
co-engagement neighbours, and feed sessions (snapshots) on the embedded default."""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.notes import Note
    from models.users import User


class FeedImpression(Model):
    """A note the feed served to someone (written in batches, after the response)."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="feed_impressions", on_delete=fields.CASCADE
    )
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="feed_impressions", on_delete=fields.CASCADE
    )
    served_at = fields.DatetimeField()

    class Meta:
        table = "feed_impressions"
        # "Already served to this person in the last 7 days?", per candidate.
        indexes = (("user_id", "note_id", "served_at"),)


class FeedEventKind(StrEnum):
    OPEN = "OPEN"
    NOT_INTERESTED = "NOT_INTERESTED"


class FeedEvent(Model):
    """Signals the social tables do not already hold: opens (noteView) and "not interested"."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="feed_events", on_delete=fields.CASCADE
    )
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="feed_events", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(FeedEventKind, max_length=16)
    created_at = fields.DatetimeField()

    class Meta:
        table = "feed_events"
        indexes = (("user_id", "created_at"), ("user_id", "note_id", "kind"))


class NoteNeighbour(Model):
    """Co-engagement: notes engaged with by the same people, precomputed by `vermilion feed rebuild`."""

    id = fields.BigIntField(primary_key=True)
    note: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="neighbour_links", on_delete=fields.CASCADE
    )
    neighbour: fields.ForeignKeyRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="neighbour_of_links", on_delete=fields.CASCADE
    )
    score = fields.FloatField()

    class Meta:
        table = "note_neighbours"
        indexes = (("note_id", "score"),)


class FeedSnapshot(Model):
    """A feed session's ranked note ids, so paging never repeats or skips (Redis holds them instead
    when configured)."""

    id = fields.CharField(max_length=40, primary_key=True)
    user_id = fields.IntField(null=True)
    document: fields.Field[dict[str, object]] = fields.JSONField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "feed_snapshots"
        indexes = (("expires_at",),)
