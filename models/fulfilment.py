"""Selling like a store: shipping rates per merchant, discount codes, shipments with tracking, returns.

A cart is split into one delivery group per merchant (merchants ship their own goods); each group is priced
by one of its merchant's rates for the shipping address's country, and may carry one of its merchant's
discount codes. The order keeps what was chosen (`OrderDeliveryGroup`), so later edits of rates and codes
never rewrite what was bought. All amounts are integer minor units in the order's currency.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.commerce import Order, Refund
    from models.users import User


class ShippingRate(Model):
    """How a merchant ships to some countries, for how much, and how fast."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="shipping_rates", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    # ISO 3166-1 alpha-2 codes, upper case.
    countries: fields.Field[list[str]] = fields.JSONField(default=list)
    price_minor_units = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    # A merchant's group whose goods come to at least this much ships free with this rate (null: never).
    free_over_minor_units = fields.BigIntField(null=True)
    min_delivery_days = fields.SmallIntField()
    max_delivery_days = fields.SmallIntField()
    # Archived rates are offered no more; orders keep their own copy of what they chose.
    archived_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "shipping_rates"
        indexes = (("merchant_id", "id"),)


class DiscountKind(StrEnum):
    PERCENT = "PERCENT"  # value: basis points of the discounted lines (1–10,000)
    FIXED = "FIXED"  # value: minor units off the discounted lines, in the code's currency
    FREE_SHIPPING = "FREE_SHIPPING"  # the merchant's group ships free


class DiscountCode(Model):
    """A merchant's code. Codes are stored upper case (a shopper's code matches whatever its case) and
    unique across the site, so a code names one merchant."""

    id = fields.IntField(primary_key=True)
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="discount_codes", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=32, unique=True)
    kind = fields.CharEnumField(DiscountKind, max_length=16)
    value = fields.BigIntField(default=0)
    currency = fields.CharField(max_length=3, null=True)
    min_subtotal_minor_units = fields.BigIntField(default=0)
    starts_at = fields.DatetimeField(null=True)
    ends_at = fields.DatetimeField(null=True)
    # Null: unlimited. `uses` counts reserved and spent uses together (released ones are given back), so
    # one conditional update keeps it within `usage_limit` however many shoppers check out at once.
    usage_limit = fields.IntField(null=True)
    per_customer_limit = fields.IntField(null=True)
    uses = fields.IntField(default=0)
    # Restricted to these products of the merchant (empty: all of the merchant's products).
    product_ids: fields.Field[list[int]] = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "discount_codes"
        indexes = (("merchant_id", "id"),)


class RedemptionStatus(StrEnum):
    RESERVED = "RESERVED"  # taken at checkoutStart, with the stock
    USED = "USED"  # the order was paid
    RELEASED = "RELEASED"  # given back with the stock (cancelled, expired, failed payment)


class DiscountRedemption(Model):
    """One use of a code by one order, reserved and released with the order's stock."""

    id = fields.IntField(primary_key=True)
    code: fields.ForeignKeyRelation[DiscountCode] = fields.ForeignKeyField(
        "models.DiscountCode", related_name="redemptions", on_delete=fields.RESTRICT
    )
    order: fields.ForeignKeyRelation["Order"] = fields.ForeignKeyField(
        "models.Order", related_name="redemptions", on_delete=fields.CASCADE
    )
    # Who used it: the signed-in buyer, else the order's email (per-customer limits count both).
    customer: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="redemptions", null=True, on_delete=fields.SET_NULL
    )
    customer_email = fields.CharField(max_length=254)
    status = fields.CharEnumField(RedemptionStatus, max_length=8, default=RedemptionStatus.RESERVED)
    amount_minor_units = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "discount_redemptions"
        unique_together = (("code_id", "order_id"),)
        indexes = (("code_id", "status"), ("customer_email", "code_id"))


class OrderDeliveryGroup(Model):
    """One merchant's part of an order: the rate chosen and what shipping and discounts came to."""

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation["Order"] = fields.ForeignKeyField(
        "models.Order", related_name="delivery_groups", on_delete=fields.CASCADE
    )
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="delivery_groups", on_delete=fields.RESTRICT
    )
    rate_id = fields.IntField(null=True)
    rate_name = fields.CharField(max_length=100, default="")
    min_delivery_days = fields.SmallIntField(null=True)
    max_delivery_days = fields.SmallIntField(null=True)
    subtotal_minor_units = fields.BigIntField(default=0)
    shipping_minor_units = fields.BigIntField(default=0)
    # Discounts on the group's lines (allocated to them) and on its shipping.
    discount_minor_units = fields.BigIntField(default=0)
    shipping_discount_minor_units = fields.BigIntField(default=0)
    discount_code = fields.CharField(max_length=32, null=True)

    class Meta:
        table = "order_delivery_groups"
        unique_together = (("order_id", "merchant_id"),)


class ShipmentStatus(StrEnum):
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class Shipment(Model):
    """A parcel a merchant sent: some or all of their lines of an order, with its tracking."""

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation["Order"] = fields.ForeignKeyField(
        "models.Order", related_name="shipments", on_delete=fields.CASCADE
    )
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="shipments", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(ShipmentStatus, max_length=10, default=ShipmentStatus.SHIPPED)
    tracking_number = fields.CharField(max_length=100, default="")
    carrier = fields.CharField(max_length=100, default="")
    # Order line id → quantity in this parcel.
    lines: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    shipped_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "shipments"
        indexes = (("order_id", "id"), ("merchant_id", "id"))


class ReturnStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"


class ReturnRequest(Model):
    """A buyer's return of some of one merchant's lines, refunded through the refund path once received."""

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation["Order"] = fields.ForeignKeyField(
        "models.Order", related_name="returns", on_delete=fields.CASCADE
    )
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="returns_received", on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(ReturnStatus, max_length=10, default=ReturnStatus.REQUESTED)
    reason = fields.CharField(max_length=1000, default="")
    merchant_note = fields.CharField(max_length=1000, default="")
    # Order line id → quantity returned; and what those quantities were paid (after discounts).
    lines: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    amount_minor_units = fields.BigIntField(default=0)
    restock = fields.BooleanField(default=False)
    refund: fields.ForeignKeyNullableRelation["Refund"] = fields.ForeignKeyField(
        "models.Refund", related_name="returns", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)
    received_at = fields.DatetimeField(null=True)

    class Meta:
        table = "return_requests"
        indexes = (("order_id", "id"), ("merchant_id", "status", "id"))
