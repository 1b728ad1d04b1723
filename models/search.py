"""The search index: one document per searchable thing, holding its text already cut into tokens."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class SearchKind(StrEnum):
    NOTE = "NOTE"
    USER = "USER"
    PRODUCT = "PRODUCT"
    TOPIC = "TOPIC"


class SearchDocument(Model):
    """`head` (title, name, topics) and `body` are space-separated tokens from `search.text.index_text`.

    The full-text index over them is not a model field: on PostgreSQL a generated `tsv` tsvector column with a
    GIN index, on SQLite an FTS5 table kept in step by triggers (see `search.schema`).
    """

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(SearchKind, max_length=8)
    object_id = fields.IntField()
    head = fields.TextField()
    body = fields.TextField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "search_documents"
        unique_together = (("kind", "object_id"),)
