"""Carts, orders, payments and refunds.

Carts and orders have random UUID keys: their ids are the capability a guest holds (as with Shopify's
cart ids), so they must not be guessable. Everything money-related is integer minor units plus currency.
"""

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import uuid4

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.catalog import Product, ProductVariant
    from models.notes import Note
    from models.users import User


class CartStatus(StrEnum):
    OPEN = "OPEN"  # lines can change
    ORDERED = "ORDERED"  # checkout started: the cart became its one order and is frozen
    CLOSED = "CLOSED"  # the order was paid
    MERGED = "MERGED"  # a guest cart folded into its owner's cart at sign-in


class Cart(Model):
    id = fields.UUIDField(primary_key=True, default=uuid4)
    # Null for a guest cart; a signed-in shopper has at most one OPEN cart.
    owner: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="carts", null=True, on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(CartStatus, max_length=8, default=CartStatus.OPEN)
    # Fixed by the first line: one currency per cart.
    currency = fields.CharField(max_length=3, null=True)
    # Where it ships (cartShippingAddressSet): its country prices the delivery options.
    shipping_address: fields.Field[dict[str, str] | None] = fields.JSONField(null=True)
    # Per merchant (id as text): the shipping rate chosen, and the discount code applied.
    delivery_rate_ids: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    discount_code_ids: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "carts"
        indexes = (("owner_id", "status"),)


class CartLine(Model):
    id = fields.IntField(primary_key=True)
    cart: fields.ForeignKeyRelation[Cart] = fields.ForeignKeyField(
        "models.Cart", related_name="lines", on_delete=fields.CASCADE
    )
    variant: fields.ForeignKeyRelation["ProductVariant"] = fields.ForeignKeyField(
        "models.ProductVariant", related_name="cart_lines", on_delete=fields.CASCADE
    )
    quantity = fields.IntField()
    # The note the shopper bought from, so its creator sees what the note sold.
    source_note: fields.ForeignKeyNullableRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="cart_lines", null=True, on_delete=fields.SET_NULL
    )
    # The price when the line was added: a later price change is shown as a warning.
    unit_price_minor_units = fields.BigIntField()

    class Meta:
        table = "cart_lines"
        unique_together = (("cart_id", "variant_id"),)


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class StockState(StrEnum):
    RESERVED = "RESERVED"  # taken from variant stock, held until reserved_until
    RELEASED = "RELEASED"  # given back (payment failed, cancelled, expired)
    SOLD = "SOLD"  # the payment succeeded: the reservation became a sale
    SHORT = "SHORT"  # paid after the reservation was released and the stock was gone: refund or restock


class Order(Model):
    id = fields.UUIDField(primary_key=True, default=uuid4)
    # A cart becomes at most one order.
    cart: fields.OneToOneRelation[Cart] = fields.OneToOneField(
        "models.Cart", related_name="order", on_delete=fields.RESTRICT
    )
    buyer: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="orders", null=True, on_delete=fields.SET_NULL
    )
    idempotency_key = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254)
    shipping_address: fields.Field[dict[str, str]] = fields.JSONField()
    currency = fields.CharField(max_length=3)
    # total = subtotal + shipping − discounts (lines' and shipping's), never below zero.
    subtotal_minor_units = fields.BigIntField(default=0)
    shipping_minor_units = fields.BigIntField(default=0)
    discount_minor_units = fields.BigIntField(default=0)
    total_minor_units = fields.BigIntField()
    paid_minor_units = fields.BigIntField(default=0)
    # Refunds requested or done; a refund adds here before Stripe is called, so two refunds at once can
    # never together exceed what was paid.
    refunded_minor_units = fields.BigIntField(default=0)
    status = fields.CharEnumField(OrderStatus, max_length=20, default=OrderStatus.PENDING_PAYMENT)
    stock_state = fields.CharEnumField(StockState, max_length=8, default=StockState.RESERVED)
    reserved_until = fields.DatetimeField()
    # Why a person must look at this order (e.g. paid after its stock was sold to someone else).
    attention = fields.CharField(max_length=300, null=True)
    # BY_BUYER, BY_MERCHANT or RESERVATION_EXPIRED.
    cancel_reason = fields.CharField(max_length=20, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    paid_at = fields.DatetimeField(null=True)

    class Meta:
        table = "orders"
        indexes = (("buyer_id", "created_at"), ("status", "reserved_until"))


class OrderLine(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="lines", on_delete=fields.CASCADE
    )
    variant: fields.ForeignKeyRelation["ProductVariant"] = fields.ForeignKeyField(
        "models.ProductVariant", related_name="order_lines", on_delete=fields.RESTRICT
    )
    product: fields.ForeignKeyRelation["Product"] = fields.ForeignKeyField(
        "models.Product", related_name="order_lines", on_delete=fields.RESTRICT
    )
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="sold_lines", on_delete=fields.RESTRICT
    )
    source_note: fields.ForeignKeyNullableRelation["Note"] = fields.ForeignKeyField(
        "models.Note", related_name="order_lines", null=True, on_delete=fields.SET_NULL
    )
    # What was bought, as it was then: later catalogue edits do not rewrite history.
    product_title = fields.CharField(max_length=200)
    variant_name = fields.CharField(max_length=100)
    sku = fields.CharField(max_length=64)
    quantity = fields.IntField()
    unit_price_minor_units = fields.BigIntField()
    # The line's share of its merchant's discount (largest-remainder allocation: shares add up exactly).
    discount_minor_units = fields.BigIntField(default=0)
    shipped_quantity = fields.IntField(default=0)
    returned_quantity = fields.IntField(default=0)
    # The commission in force at purchase, and the creator it goes to (the source note's author), or 0 and
    # null when none applies (no note, the buyer's or the merchant's own note, no commission).
    commission_basis_points = fields.SmallIntField(default=0)
    commission_creator_id = fields.IntField(null=True)

    class Meta:
        table = "order_lines"
        indexes = (("merchant_id", "order_id"), ("source_note_id", "order_id"), ("product_id", "order_id"))


class AttemptStatus(StrEnum):
    CREATING = "CREATING"  # claimed by one request, which is calling Stripe
    CREATED = "CREATED"  # the PaymentIntent exists
    FAILED = "FAILED"  # Stripe refused or could not be reached; a retry may claim it again
    REPLACED = "REPLACED"  # its payment was declined and a new checkout made a fresh PaymentIntent


class PaymentAttempt(Model):
    """One Stripe PaymentIntent of an order, created with its own random idempotency key."""

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="attempts", on_delete=fields.CASCADE
    )
    stripe_idempotency_key = fields.UUIDField(default=uuid4, unique=True)
    status = fields.CharEnumField(AttemptStatus, max_length=8, default=AttemptStatus.CREATING)
    claimed_at = fields.DatetimeField()
    payment_intent_id = fields.CharField(max_length=255, null=True, unique=True)
    client_secret = fields.CharField(max_length=255, null=True)
    amount_minor_units = fields.BigIntField()
    currency = fields.CharField(max_length=3)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_attempts"
        indexes = (("order_id", "id"),)


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Refund(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="refunds", on_delete=fields.CASCADE
    )
    merchant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="refunds_given", on_delete=fields.RESTRICT
    )
    amount_minor_units = fields.BigIntField()
    # The merchant's key: the same key on the same order is the same refund.
    idempotency_key = fields.CharField(max_length=200)
    stripe_idempotency_key = fields.UUIDField(default=uuid4, unique=True)
    stripe_refund_id = fields.CharField(max_length=255, null=True, unique=True)
    status = fields.CharEnumField(RefundStatus, max_length=9, default=RefundStatus.PENDING)
    failure = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refunds"
        unique_together = (("order_id", "idempotency_key"),)


class PaymentEventKind(StrEnum):
    PAYMENT_INTENT_CREATED = "PAYMENT_INTENT_CREATED"
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    REFUND_SUCCEEDED = "REFUND_SUCCEEDED"
    REFUND_FAILED = "REFUND_FAILED"
    # A refund made outside Vermilion (e.g. the Stripe dashboard), seen through charge.refunded.
    EXTERNAL_REFUND = "EXTERNAL_REFUND"
    # The steps of a return, at amount 0 (what its lines were paid is in `detail`): the money moves only in
    # its refund, REFUND_*.
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURN_APPROVED = "RETURN_APPROVED"
    RETURN_REJECTED = "RETURN_REJECTED"
    RETURN_RECEIVED = "RETURN_RECEIVED"


class PaymentEvent(Model):
    """The append-only payment ledger: rows are inserted, never updated or deleted.

    `(kind, reference)` is unique, so the same Stripe fact recorded twice (a webhook and
    checkoutComplete, or a replayed event) is one row."""

    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="payment_events", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(PaymentEventKind, max_length=24)
    amount_minor_units = fields.BigIntField(default=0)
    currency = fields.CharField(max_length=3)
    # The Stripe object the fact is about: PaymentIntent, refund or charge id.
    reference = fields.CharField(max_length=255)
    stripe_event_id = fields.CharField(max_length=255, null=True)
    detail = fields.CharField(max_length=300, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "payment_events"
        unique_together = (("kind", "reference"),)
        indexes = (("order_id", "id"),)


class StripeEvent(Model):
    """Every Stripe webhook event id processed, so a redelivery is recognised and changes nothing."""

    id = fields.CharField(max_length=255, primary_key=True)
    type = fields.CharField(max_length=100)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "stripe_events"
