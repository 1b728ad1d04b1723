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
