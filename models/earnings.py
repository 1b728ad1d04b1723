"""Creators' earnings: commissions on the sales their notes bring, an append-only ledger, and payouts.

An entry moves minor units of one currency between a creator's four balances: PENDING (earned, the return
window still open), AVAILABLE (may be paid out), IN_PAYOUT (asked for, not yet paid) and PAID_OUT. A
balance is the sum of its column over the creator's entries; entries are never changed or deleted, and
(kind, reference) is unique, so a step replayed records nothing twice.
"""

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.commerce import Order, OrderLine
    from models.users import User


class EarningKind(StrEnum):
    COMMISSION = "COMMISSION"  # a paid line brought from a note: + pending
    REVERSAL = "REVERSAL"  # a refund or return of such a line: - pending, or - available once released
    RELEASE = "RELEASE"  # the return window closed: pending to available
    PAYOUT_REQUESTED = "PAYOUT_REQUESTED"  # available to in payout
    PAYOUT_PAID = "PAYOUT_PAID"  # in payout to paid out
    PAYOUT_CANCELLED = "PAYOUT_CANCELLED"  # in payout back to available (a failed transfer, cancelled)


class EarningEntry(Model):
    """One movement of a creator's earnings between balances (columns are signed deltas)."""

    id = fields.IntField(primary_key=True)
    creator: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="earning_entries", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(EarningKind, max_length=16)
    currency = fields.CharField(max_length=3)
    pending = fields.BigIntField(default=0)
    available = fields.BigIntField(default=0)
    in_payout = fields.BigIntField(default=0)
    paid_out = fields.BigIntField(default=0)
    # What the entry is about: the order line it earns on (commissions, reversals, releases), the payout.
    order: fields.ForeignKeyNullableRelation["Order"] = fields.ForeignKeyField(
        "models.Order", related_name="earning_entries", null=True, on_delete=fields.RESTRICT
    )
    order_line: fields.ForeignKeyNullableRelation["OrderLine"] = fields.ForeignKeyField(
        "models.OrderLine", related_name="earning_entries", null=True, on_delete=fields.RESTRICT
    )
    note_id = fields.IntField(null=True)
    payout: fields.ForeignKeyNullableRelation["Payout"] = fields.ForeignKeyField(
        "models.Payout", related_name="entries", null=True, on_delete=fields.RESTRICT
    )
    # Makes the step idempotent, e.g. line-12 for a commission, refund-7-line-12 for its reversal.
    reference = fields.CharField(max_length=100)
    detail = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "earning_entries"
        unique_together = (("kind", "reference"),)
        indexes = (("creator_id", "currency", "id"), ("order_line_id",))


class PayoutStatus(StrEnum):
    REQUESTED = "REQUESTED"  # the creator asked; an admin (or a Stripe Connect transfer) pays it
    PAID = "PAID"
    CANCELLED = "CANCELLED"  # the amount went back to available


class Payout(Model):
    """A creator's request to be paid their available earnings in one currency."""

    id = fields.IntField(primary_key=True)
    creator: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="payouts", on_delete=fields.RESTRICT
    )
    currency = fields.CharField(max_length=3)
    amount_minor_units = fields.BigIntField()
    status = fields.CharEnumField(PayoutStatus, max_length=9, default=PayoutStatus.REQUESTED)
    # Set while the payout is open (creator and currency), null once settled: unique, so a creator has at
    # most one open payout per currency however many requests race.
    open_key = fields.CharField(max_length=40, null=True, unique=True)
    # The admin's payment reference, or the Stripe transfer id.
    reference = fields.CharField(max_length=255, default="")
    stripe_transfer_id = fields.CharField(max_length=255, null=True, unique=True)
    requested_at = fields.DatetimeField(auto_now_add=True)
    settled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "payouts"
        indexes = (("creator_id", "id"), ("status", "id"))
