"""People (shoppers, creators and merchants are all users) and what keeps their accounts safe."""

from tortoise import fields
from tortoise.models import Model

from models.safety import Role


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
    # Every bearer token carries the version current when it was issued; signing out everywhere, a password
    # change and a password reset bump it, so every older token stops working at once.
    session_version = fields.IntField(default=0)
    # Denormalised counters, changed in the same transaction as the rows they count.
    follower_count = fields.IntField(default=0)
    following_count = fields.IntField(default=0)
    note_count = fields.IntField(default=0)
    likes_and_collects_count = fields.IntField(default=0)
    role = fields.CharEnumField(Role, max_length=10, default=Role.USER)
    # A suspended account cannot sign in, its tokens stop working and its content is withheld until
    # `suspended_until` (far in the future for "until lifted"); the reason is told at sign-in.
    suspended_until = fields.DatetimeField(null=True)
    suspension_reason = fields.CharField(max_length=1000, default="")
    # Deletion asked for (`viewerDelete`): content withheld at once; signing in within the grace period
    # cancels it; after it, the account is scrubbed and `deleted_at` set (the row stays, so others'
    # replies and past orders still point somewhere: "deleted account").
    deletion_requested_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    # A merchant's commission for creators whose notes sell their products, in basis points (0-5000), where
    # a product sets none of its own.
    default_commission_basis_points = fields.SmallIntField(default=0)
    # A creator's Stripe Connect account, when payouts are transferred through Stripe.
    stripe_account_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"
        # The purge finds accounts whose grace period is over without reading every account.
        indexes = (("deletion_requested_at",),)

    def __str__(self) -> str:
        return f"@{self.handle}"


class RevokedToken(Model):
    """A bearer token signed out on its own (`signOut` on one device), kept until it would have expired."""

    # The token's `jti` claim.
    id = fields.CharField(max_length=32, primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField()

    class Meta:
        table = "revoked_tokens"
        indexes = (("expires_at",),)


class PasswordReset(Model):
    """A single-use password reset token, stored as its SHA-256: the database never holds one that works."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    # Set when the token is spent, or voided by a newer password: a token works once.
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_resets"
        indexes = (("expires_at",),)
