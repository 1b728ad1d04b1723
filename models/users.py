"""People: shoppers, creators and merchants are all users."""

from tortoise import fields
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    # Stored case-folded so that lookups and the unique constraint ignore case.
    email = fields.CharField(max_length=254, unique=True)
    handle = fields.CharField(max_length=30, unique=True)
    display_name = fields.CharField(max_length=50)
    bio = fields.CharField(max_length=500, default="")
    avatar_url = fields.CharField(max_length=2048, null=True)
    languages: fields.Field[list[str]] = fields.JSONField(default=list)
    # Topic names chosen at onboarding: the discovery feed's cold start.
    interests: fields.Field[list[str]] = fields.JSONField(default=list)
    password_hash = fields.CharField(max_length=255)
    # Denormalised counters, changed in the same transaction as the rows they count.
    follower_count = fields.IntField(default=0)
    following_count = fields.IntField(default=0)
    note_count = fields.IntField(default=0)
    likes_and_collects_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"

    def __str__(self) -> str:
        return f"@{self.handle}"
