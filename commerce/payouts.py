"""Creators' payouts: a creator asks for their AVAILABLE balance in one currency to be paid out; an admin
pays it (and says so on the command line) or it is sent as a Stripe Connect transfer; it may be cancelled.

Every step is one conditional move of the payout's status and one ledger entry (commerce/earnings.py:
`record`, referenced `payout-<id>-…`), in one transaction:
- asked (`request_payout`): the whole AVAILABLE balance → IN_PAYOUT (PAYOUT_REQUESTED), under the creator's
  row lock — the lock a reversal takes before it reads AVAILABLE (commerce/earnings.py: reverse_order), so
  the two never both spend the same amount. At most one open payout per creator and currency: checked under
  the lock, and the payout's unique `open_key` holds it even without one (SQLite has no row locks);
- paid (`mark_paid`, `transfer_payout`): IN_PAYOUT → PAID_OUT (PAYOUT_PAID);
- cancelled (`cancel_payout`): IN_PAYOUT → AVAILABLE (PAYOUT_CANCELLED).
A payout moves from REQUESTED once (`UPDATE … WHERE status = 'REQUESTED'`): paying it twice pays once.
`commerce/earnings_check.py` checks that each payout's entries move exactly its amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from commerce.earnings import Balance, balances, record
from commerce.errors import EarningsFrozen, PayoutBelowMinimum, PayoutOpen
from commerce.money import CURRENCY_EXPONENTS, normalize_currency
from commerce.payments import PaymentProviderError, Transfers
from core.errors import DomainError, ErrorCode, NotFound
from models import EarningEntry, EarningKind, Payout, PayoutStatus, User
from social.sessions import is_out

# The smallest payout per currency, in major units (a bank transfer costs the platform a fee; a minimum
# keeps payouts worth it). Turned into minor units with the currency's exponent (commerce/money.py).
MINIMUM_PAYOUT: dict[str, Decimal] = {
    "CNY": Decimal(100), "USD": Decimal(100), "EUR": Decimal(100), "GBP": Decimal(100),
    "HKD": Decimal(500), "TWD": Decimal(3000), "SGD": Decimal(100), "AUD": Decimal(150),
    "CAD": Decimal(150), "CHF": Decimal(100), "MYR": Decimal(300), "THB": Decimal(3000),
    "NZD": Decimal(150), "MOP": Decimal(500), "JPY": Decimal(10000), "KRW": Decimal(100000),
    "VND": Decimal(2000000),
}  # fmt: skip
MAX_REFERENCE = 255
# Marks a payout whose Stripe transfer was started (in `stripe_transfer_id` until the transfer's id
# replaces it): nobody may mark it paid or cancel it meanwhile, and a retry sends the same transfer.
TRANSFER_STARTED = "started:"


def minimum_payout(currency: str) -> int:
    """The smallest payout in `currency`, in minor units."""
    return int(MINIMUM_PAYOUT[currency].scaleb(CURRENCY_EXPONENTS[currency]))


def open_key(creator_id: int, currency: str) -> str:
    """Unique while a payout of the creator in the currency is open; cleared when it is settled."""
    return f"{creator_id}:{currency}"


async def request_payout(*, creator_id: int, currency: str) -> Payout:
    """Move the creator's whole AVAILABLE balance in `currency` into a new payout (REQUESTED). Refused,
    changing nothing, for an unknown currency (INVALID_CURRENCY), a creator who is suspended or leaving
    (EARNINGS_FROZEN), one whose payout in that currency is still open (PAYOUT_OPEN), or less available
    than the minimum (PAYOUT_BELOW_MINIMUM)."""
    code = normalize_currency(currency)
    if code is None or code not in MINIMUM_PAYOUT:
        raise DomainError(
            ErrorCode.INVALID_CURRENCY, f"{currency!r} is not a currency Vermilion pays in.", "currency"
        )
    try:
        async with in_transaction():
            creator = await User.filter(id=creator_id).select_for_update().get()
            if is_out(creator):
                raise EarningsFrozen()
            if await Payout.filter(
                creator_id=creator_id, currency=code, status=PayoutStatus.REQUESTED
            ).exists():
                raise PayoutOpen(code)
            available = (await balances(creator_id)).get(code, Balance(code)).available
            minimum = minimum_payout(code)
            if available < minimum:
                raise PayoutBelowMinimum(available=available, minimum=minimum, currency=code)
            payout = await Payout.create(
                creator_id=creator_id,
                currency=code,
                amount_minor_units=available,
                open_key=open_key(creator_id, code),
            )
            await record(
                [_entry(payout, EarningKind.PAYOUT_REQUESTED, available=-available, in_payout=available)]
            )
    except IntegrityError as exc:  # another request opened one first (no row lock on SQLite)
        raise PayoutOpen(code) from exc
    return payout


@dataclass(frozen=True)
class Settled:
    """A payout after an admin's step, and whether this step moved it (False: it already had)."""

    payout: Payout
    changed: bool


async def mark_paid(*, payout_id: int, reference: str) -> Settled:
    """An admin paid the payout outside Vermilion (a bank transfer, …) and says so with its reference:
    REQUESTED → PAID, IN_PAYOUT → PAID_OUT. Already PAID: nothing changes (`changed` False); CANCELLED, or
    a Stripe transfer under way: INVALID_TRANSITION."""
    text = reference.strip()
    if not text:
        raise DomainError(ErrorCode.REQUIRED, "Say how it was paid: a reference is required.", "reference")
    if len(text) > MAX_REFERENCE:
        raise DomainError(
            ErrorCode.TOO_LONG, f"A reference is at most {MAX_REFERENCE} characters.", "reference"
        )
    return await _settle(payout_id, PayoutStatus.PAID, reference=text)


async def cancel_payout(*, payout_id: int) -> Settled:
    """The payout will not be paid: REQUESTED → CANCELLED, its amount back to AVAILABLE (the creator may ask
    again). Already CANCELLED: nothing changes; PAID, or a Stripe transfer under way: INVALID_TRANSITION."""
    return await _settle(payout_id, PayoutStatus.CANCELLED, reference="")


async def _settle(
    payout_id: int, target: PayoutStatus, *, reference: str, transfer_id: str | None = None
) -> Settled:
    async with in_transaction():
        payout = await Payout.get_or_none(id=payout_id)
        if payout is None:
            raise NotFound("Payout", "payout_id", message=f"There is no payout {payout_id}.")
        if target is PayoutStatus.CANCELLED:
            # Money goes back to AVAILABLE: under the creator's lock, as every move of AVAILABLE.
            await User.filter(id=payout.creator_id).select_for_update().only("id")  # type: ignore[attr-defined]
        # The one conditional move: of racing steps, exactly one finds the payout REQUESTED.
        # A payout whose transfer was started is settled by that transfer only.
        if transfer_id is not None:
            this_one = Payout.filter(id=payout_id, stripe_transfer_id=payout.stripe_transfer_id)
        else:
            this_one = Payout.filter(id=payout_id, stripe_transfer_id__isnull=True)
        moved = await this_one.filter(status=PayoutStatus.REQUESTED).update(
            status=target,
            open_key=None,
            reference=reference,
            settled_at=datetime.now(UTC),
            **({"stripe_transfer_id": transfer_id} if transfer_id is not None else {}),
        )
        payout = await Payout.get(id=payout_id)
        if not moved:
            if payout.status is target:
                return Settled(payout, changed=False)
            if payout.status is PayoutStatus.REQUESTED:
                raise DomainError(
                    ErrorCode.INVALID_TRANSITION,
                    f"A Stripe transfer of payout {payout_id} is under way: run `vermilion payouts transfer "
                    f"{payout_id}` again to finish it.",
                    "payout_id",
                )
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Payout {payout_id} is already {payout.status.value}.",
                "payout_id",
            )
        amount = payout.amount_minor_units
        if target is PayoutStatus.PAID:
            entry = _entry(
                payout, EarningKind.PAYOUT_PAID, in_payout=-amount, paid_out=amount, detail=reference
            )
        else:
            entry = _entry(payout, EarningKind.PAYOUT_CANCELLED, in_payout=-amount, available=amount)
        await record([entry])
    return Settled(payout, changed=True)


async def transfer_payout(*, payout_id: int, transfers: Transfers | None) -> Settled:
    """Pay the payout as a Stripe Connect transfer to the creator's connected account (`transfers` is None
    when Connect payouts are not configured: PAYMENTS_NOT_CONFIGURED). The payout is claimed first, so
    nobody marks it paid or cancels it while the transfer is on its way; the transfer's idempotency key is
    the payout's, so a retry after a crash or a provider error sends the same transfer, never a second one.
    A creator without a connected account, or who is suspended or leaving, is refused."""
    if transfers is None:
        raise DomainError(
            ErrorCode.PAYMENTS_NOT_CONFIGURED,
            "Connect payouts are off: set VERMILION_CONNECT_PAYOUTS=true and STRIPE_API_KEY.",
        )
    async with in_transaction():
        payout = await Payout.filter(id=payout_id).select_for_update().get_or_none()
        if payout is None:
            raise NotFound("Payout", "payout_id", message=f"There is no payout {payout_id}.")
        if payout.status is not PayoutStatus.REQUESTED:
            if payout.status is PayoutStatus.PAID:
                return Settled(payout, changed=False)
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"Payout {payout_id} is already {payout.status.value}.",
                "payout_id",
            )
        creator = await User.get(id=payout.creator_id)  # type: ignore[attr-defined]
        if not creator.stripe_account_id:
            raise DomainError(
                ErrorCode.INVALID,
                f"@{creator.handle} has no connected Stripe account: pay by hand (`payouts mark-paid`).",
                "payout_id",
            )
        if is_out(creator):
            raise EarningsFrozen()
        claim = payout.stripe_transfer_id or f"{TRANSFER_STARTED}{payout_id}"
        await Payout.filter(id=payout_id).update(stripe_transfer_id=claim)
        payout.stripe_transfer_id = claim
        destination = creator.stripe_account_id
    try:
        sent = await transfers.transfer(
            amount=payout.amount_minor_units,
            currency=payout.currency,
            destination=destination,
            metadata={"payout_id": str(payout_id), "creator_id": str(creator.id)},
            idempotency_key=f"vermilion-payout-{payout_id}",
        )
    except PaymentProviderError as exc:
        if not exc.retryable:  # refused for good: let the admin cancel it or pay it by hand
            await Payout.filter(id=payout_id, stripe_transfer_id=claim).update(stripe_transfer_id=None)
        raise
    return await _settle(payout_id, PayoutStatus.PAID, reference=sent.id, transfer_id=sent.id)


def _entry(
    payout: Payout,
    kind: EarningKind,
    *,
    available: int = 0,
    in_payout: int = 0,
    paid_out: int = 0,
    detail: str = "",
) -> EarningEntry:
    suffix = {
        EarningKind.PAYOUT_REQUESTED: "requested",
        EarningKind.PAYOUT_PAID: "paid",
        EarningKind.PAYOUT_CANCELLED: "cancelled",
    }[kind]
    return EarningEntry(
        creator_id=payout.creator_id,  # type: ignore[attr-defined]
        kind=kind,
        currency=payout.currency,
        available=available,
        in_payout=in_payout,
        paid_out=paid_out,
        payout_id=payout.id,
        reference=f"payout-{payout.id}-{suffix}",
        detail=detail[:300],
    )


@dataclass(frozen=True)
class PayoutRow:
    """A payout as the admin's list shows it."""

    payout: Payout
    handle: str


async def list_payouts(*, status: PayoutStatus | None = None, limit: int = 100) -> list[PayoutRow]:
    """Payouts oldest first (the longest waiting at the top), with their creator's handle (one statement)."""
    query = Payout.all() if status is None else Payout.filter(status=status)
    rows = await query.order_by("id").limit(limit).select_related("creator")
    return [PayoutRow(p, p.creator.handle) for p in rows]
