"""GraphQL types of creators' earnings (commerce/earnings.py): `viewer.earnings`, `viewer.earningEntries`
and, for merchants, `viewer.commissionsOwed`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.earnings import Balance, balances, commissions_owed
from core.cursors import PageRequest
from core.ids import to_global_id
from models import EarningEntry, EarningKind
from schema.context import Info
from schema.enums import described_enum
from schema.money import Money
from schema.relay import Connection, keyset_connection

if TYPE_CHECKING:
    from schema.notes.types import NoteType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]

EarningKindEnum = described_enum(
    EarningKind,
    name="EarningKind",
    description="What moved a creator's earnings.",
    values={
        "COMMISSION": "A shopper paid for goods bought from your note: the commission, PENDING.",
        "REVERSAL": "A refund or return of such goods took back its share of the commission (from PENDING, "
        "or from AVAILABLE once released; never what was already paid out).",
        "RELEASE": "The goods' return window closed: their commission moved from PENDING to AVAILABLE.",
        "PAYOUT_REQUESTED": "You asked to be paid: AVAILABLE moved to IN_PAYOUT.",
        "PAYOUT_PAID": "The payout was paid: IN_PAYOUT moved to PAID_OUT.",
        "PAYOUT_CANCELLED": "The payout was cancelled: its amount went back to AVAILABLE.",
    },
)


@strawberry.type(description="A creator's earnings in one currency.")
class EarningsBalance:
    currency: str = strawberry.field(description="ISO 4217 code, upper case.")
    pending: Money = strawberry.field(
        description="Earned, but the goods' return window is still open: a return or refund may take it back."
    )
    available: Money = strawberry.field(description="Released: yours to ask to be paid out.")
    in_payout: Money = strawberry.field(description="Asked to be paid out, not paid yet.")
    paid_out: Money = strawberry.field(description="Paid to you.")

    @classmethod
    def of(cls, b: Balance) -> EarningsBalance:
        return cls(
            currency=b.currency,
            pending=Money.of(b.pending, b.currency),
            available=Money.of(b.available, b.currency),
            in_payout=Money.of(b.in_payout, b.currency),
            paid_out=Money.of(b.paid_out, b.currency),
        )


@strawberry.type(
    description="What you earned from the notes that sold: each balance has one amount per currency you "
    "earned in, by currency code."
)
class Earnings:
    by_currency: list[EarningsBalance] = strawberry.field(
        description="Every balance of one currency together, by currency code."
    )

    @strawberry.field(description="Earned, the return window still open: one amount per currency.")
    def pending(self) -> list[Money]:
        return [b.pending for b in self.by_currency]

    @strawberry.field(description="Released and yours to be paid out: one amount per currency.")
    def available(self) -> list[Money]:
        return [b.available for b in self.by_currency]

    @strawberry.field(description="Asked to be paid out, not paid yet: one amount per currency.")
    def in_payout(self) -> list[Money]:
        return [b.in_payout for b in self.by_currency]

    @strawberry.field(description="Paid to you: one amount per currency.")
    def paid_out(self) -> list[Money]:
        return [b.paid_out for b in self.by_currency]


async def viewer_earnings(creator_id: int) -> Earnings:
    """The creator's balances (one statement)."""
    found = await balances(creator_id)
    return Earnings(by_currency=[EarningsBalance.of(b) for b in found.values()])


@strawberry.type(
    name="EarningEntry",
    description="One movement of your earnings between balances; amounts are signed (what the entry added "
    "to each balance, negative when it took from it).",
)
class EarningEntryType:
    row: strawberry.Private[EarningEntry]
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    kind: EarningKindEnum = strawberry.field(description="What moved the earnings.")  # type: ignore[valid-type]
    currency: str = strawberry.field(description="ISO 4217 code of every amount of the entry.")
    pending: Money = strawberry.field(description="What it added to (or, negative, took from) PENDING.")
    available: Money = strawberry.field(description="What it added to (or took from) AVAILABLE.")
    in_payout: Money = strawberry.field(description="What it added to (or took from) IN_PAYOUT.")
    paid_out: Money = strawberry.field(description="What it added to PAID_OUT.")
    created_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_row(cls, row: EarningEntry) -> EarningEntryType:
        currency = row.currency
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("EarningEntry", row.id)),
            kind=row.kind,
            currency=currency,
            pending=Money.of(row.pending, currency),
            available=Money.of(row.available, currency),
            in_payout=Money.of(row.in_payout, currency),
            paid_out=Money.of(row.paid_out, currency),
            created_at=row.created_at,
        )

    @strawberry.field(
        description="The note whose sale the entry is about (commissions, their reversals and releases); "
        "null for payouts, or when the note was deleted or is hidden from you."
    )
    async def note(self, info: Info) -> NoteRef | None:
        from schema.notes.types import load_note

        return await load_note(info, self.row.note_id)


async def earning_entry_connection(creator_id: int, request: PageRequest) -> Connection[EarningEntryType]:
    """The creator's entries, newest first (viewer.earningEntries)."""
    entries = EarningEntry.filter(creator_id=creator_id)
    return await keyset_connection(entries, request, EarningEntryType.from_row, total_count=entries.count)


@strawberry.type(description="What your sales owe creators in one currency, from commissions on your goods.")
class CommissionOwed:
    currency: str = strawberry.field(description="ISO 4217 code, upper case.")
    pending: Money = strawberry.field(
        description="Commissions still in the return window: a return or refund may still take them back."
    )
    released: Money = strawberry.field(
        description="Commissions released to creators (their return window closed), paid out or not."
    )
    reversed: Money = strawberry.field(description="Commissions your refunds and returns took back.")


@strawberry.type(description="What creators earn from your sales: the commissions your products pay.")
class CommissionsOwed:
    by_currency: list[CommissionOwed] = strawberry.field(description="One entry per currency, by code.")


async def merchant_commissions(merchant_id: int) -> CommissionsOwed:
    """What the merchant's lines earned creators (one statement)."""
    return CommissionsOwed(
        by_currency=[
            CommissionOwed(
                currency=c.currency,
                pending=Money.of(c.pending, c.currency),
                released=Money.of(c.released, c.currency),
                reversed=Money.of(c.reversed, c.currency),
            )
            for c in await commissions_owed(merchant_id)
        ]
    )
