"""Creators' payouts in the API: `payoutRequest` and `viewer.payouts` (the rules: commerce/payouts.py).
Paying and cancelling a payout are an admin's steps, on the command line (`vermilion payouts`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from commerce.money import format_amount
from commerce.payouts import minimum_payout, request_payout
from core.cursors import PageRequest
from core.ids import to_global_id
from models import Payout, PayoutStatus
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.money import Money
from schema.relay import Connection, keyset_connection

PayoutStatusEnum = described_enum(
    PayoutStatus,
    name="PayoutStatus",
    description="Where a payout is.",
    values={
        "REQUESTED": "You asked; it is on its way (its amount is IN_PAYOUT).",
        "PAID": "Paid to you (its amount is PAID_OUT); `reference` says how.",
        "CANCELLED": "It will not be paid: its amount went back to AVAILABLE, and you may ask again.",
    },
)


@strawberry.type(
    name="Payout",
    description="A payout of your AVAILABLE earnings in one currency, asked for with payoutRequest.",
)
class PayoutType:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    status: PayoutStatusEnum = strawberry.field(description="Where it is.")  # type: ignore[valid-type]
    amount: Money = strawberry.field(description="What it pays: everything available when you asked.")
    reference: str | None = strawberry.field(
        description="How it was paid (the bank transfer's reference, or the Stripe transfer's id); null "
        "until it is PAID."
    )
    requested_at: datetime = strawberry.field(description="When you asked.")
    settled_at: datetime | None = strawberry.field(
        description="When it was paid or cancelled; null while REQUESTED."
    )

    @classmethod
    def from_row(cls, row: Payout) -> PayoutType:
        return cls(
            id=strawberry.ID(to_global_id("Payout", row.id)),
            status=row.status,
            amount=Money.of(row.amount_minor_units, row.currency),
            reference=(row.reference or None) if row.status == PayoutStatus.PAID else None,
            requested_at=row.requested_at,
            settled_at=row.settled_at,
        )


async def payout_connection(creator_id: int, request: PageRequest) -> Connection[PayoutType]:
    """The creator's payouts, newest first (viewer.payouts)."""
    payouts = Payout.filter(creator_id=creator_id)
    return await keyset_connection(payouts, request, PayoutType.from_row, total_count=payouts.count)


MINIMUMS = ", ".join(f"{format_amount(minimum_payout(c), c)} {c}" for c in ("CNY", "USD", "JPY"))


@strawberry.input(description="Which of your balances to be paid.")
class PayoutRequestInput:
    currency: str = strawberry.field(description="ISO 4217 code of the balance (any case), e.g. CNY.")


@strawberry.type(description="The payout asked for, or why not.")
class PayoutRequestPayload:
    payout: PayoutType | None = strawberry.field(default=None, description="The new payout (REQUESTED).")
    errors: list[UserError] = payload_errors()


@strawberry.type
class PayoutMutation:
    @strawberry.mutation(
        description="Ask to be paid everything AVAILABLE in one currency: it moves to IN_PAYOUT in a new "
        "REQUESTED payout, which Vermilion pays to you (by bank transfer, or to your connected Stripe "
        f"account). Refused, nothing changed: below the minimum payout ({MINIMUMS} …: "
        "PAYOUT_BELOW_MINIMUM, `detail.minimum`), while a payout in that currency is still REQUESTED "
        "(PAYOUT_OPEN: one at a time per currency), while your account is suspended or being deleted "
        "(EARNINGS_FROZEN), an unknown currency (INVALID_CURRENCY), or not signed in."
    )
    @returns_errors
    async def payout_request(
        self,
        info: Info,
        input: Annotated[PayoutRequestInput, strawberry.argument(description="The currency.")],
    ) -> PayoutRequestPayload:
        payout = await request_payout(creator_id=info.context.require_viewer_id(), currency=input.currency)
        return PayoutRequestPayload(payout=PayoutType.from_row(payout))
