"""Commissions: what a creator earns when a shopper buys from their note.

Terms (written down in README "Creators earn from the notes that sell"):
- A merchant sets a rate per product (`creator_commission_basis_points`, 0-5,000 basis points) or a default
  for all of theirs (`default_commission_basis_points`); a product's own rate wins, even 0.
- The rate in force at checkout is stored on the order line with the creator it goes to: the author of
  the line's source note, except when that author is the buyer (a self-purchase) or the merchant (their
  own product) — then nothing is earned, whatever the rate.
- The commission is the line's paid amount (after its discount share) × the rate, rounded down to a whole
  minor unit, so a creator is never paid more than the rate says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

MAX_COMMISSION_BASIS_POINTS = 5_000
BASIS_POINTS = 10_000


def effective_rate(product_rate: int | None, merchant_default: int) -> int:
    """The rate a product pays creators: its own when set, else its merchant's default."""
    return merchant_default if product_rate is None else product_rate


def commission_terms(
    *, rate: int, note_author_id: int | None, buyer_id: int | None, merchant_id: int
) -> tuple[int, int | None]:
    """(rate, creator) stored on an order line: (0, None) without a source note, for a self-purchase, for
    the merchant's own note, or at a zero rate."""
    if note_author_id is None or rate <= 0 or note_author_id in (buyer_id, merchant_id):
        return 0, None
    return rate, note_author_id


def commission_on(paid_minor_units: int, rate: int) -> int:
    """What `rate` basis points of a paid amount come to, rounded down (never below zero)."""
    return max(paid_minor_units, 0) * rate // BASIS_POINTS


# --- reversal: what a refund or return takes back ---------------------------------------------------------


def kept_after(commission: int, *, quantity: int, returned: int, held: Fraction = Fraction(1)) -> int:
    """What a creator keeps of a line's `commission` once `returned` of its `quantity` units came back and
    `held` (0–1) is the share of the rest of its merchant's part the buyer has not been refunded:
    ⌊commission × (quantity − returned) / quantity × held⌋ — one floor of the exact product, so it never
    goes below zero, never above the commission, and only falls as more is returned or refunded."""
    if quantity <= 0 or not 0 <= returned <= quantity:
        raise ValueError(f"{returned} returned of a line of {quantity}")
    held = min(max(held, Fraction(0)), Fraction(1))
    exact = Fraction(max(commission, 0) * (quantity - returned), quantity) * held
    return exact.numerator // exact.denominator


def reversed_total(commission: int, *, quantity: int, returned: int, held: Fraction = Fraction(1)) -> int:
    """How much of the commission is reversed in all (cumulative): the commission less what is kept. A
    return of k more units after r reverses reversed_total(r + k) − reversed_total(r), so the parts of a
    line returned or refunded in several steps add up to the whole commission exactly."""
    return max(commission, 0) - kept_after(commission, quantity=quantity, returned=returned, held=held)


@dataclass(frozen=True)
class MerchantPart:
    """One merchant's part of a paid order, in minor units: what the buyer paid for it (`total`: lines less
    discount shares, plus shipping less its discount), what returns of its lines refunded (`returned`)
    and what the merchant refunded besides (`refunded`, orderRefund)."""

    total: int
    returned: int = 0
    refunded: int = 0

    @property
    def after_returns(self) -> int:
        return self.total - self.returned

    @property
    def held(self) -> int:
        """What the buyer still has paid for this part."""
        return max(self.after_returns - self.refunded, 0)


def held_shares(parts: Mapping[int, MerchantPart], external: int = 0) -> dict[int, Fraction]:
    """Merchant id → the share (0–1) of their part, after returns, that is still paid: their own refunds
    come off their part; refunds made outside Vermilion (`external`, the Stripe dashboard) belong to no
    merchant and come off every part in proportion to what each still holds. When the whole order is
    refunded every share is 0."""
    still = sum(p.held for p in parts.values())
    outside = Fraction(1) if still <= 0 else max(Fraction(0), 1 - Fraction(max(external, 0), still))
    shares: dict[int, Fraction] = {}
    for merchant_id, part in parts.items():
        if part.after_returns <= 0:
            mine = Fraction(0) if part.refunded > 0 or external > 0 else Fraction(1)
        else:
            mine = Fraction(part.held, part.after_returns)
        shares[merchant_id] = mine * outside if still > 0 else Fraction(0)
    return shares
