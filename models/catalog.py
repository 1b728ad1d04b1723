"""Products that merchants sell and notes tag."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.safety import ModerationState

if TYPE_CHECKING:
    from models.users import User


class Product(Model):
    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="products", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    # Review aggregates: average rating = rating_sum / review_count.
    review_count = fields.IntField(default=0)
    rating_sum = fields.IntField(default=0)
    # A moderator's decision and its reason (shown to the author alone), and whether the row is withheld
    # from everyone but its merchant: moderated, or its merchant suspended or leaving. `social.policy` reads
    # only `withheld`, one column every visibility filter can test.
    moderation = fields.CharEnumField(ModerationState, max_length=8, default=ModerationState.NONE)
    moderation_reason = fields.CharField(max_length=1000, default="")
    withheld = fields.BooleanField(default=False)
    # What a creator whose note sold it earns, in basis points of the paid amount (0-5000); null: the
    # merchant's default (users.default_commission_basis_points).
    creator_commission_basis_points = fields.SmallIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "products"
        indexes = (("merchant_id", "id"),)


class ProductVariant(Model):
    id = fields.IntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="variants", on_delete=fields.CASCADE
    )
    sku = fields.CharField(max_length=64)
    name = fields.CharField(max_length=100)
    # Money in integer minor units (cents, fen) plus ISO 4217 currency, as Stripe expects.
    price_minor_units = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    stock = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "product_variants"
        unique_together = (("product_id", "sku"),)
