"""The creators' earnings ledger: appending entries and reading balances (models/earnings.py).

Every step that moves earnings (a commission, its reversal, its release, a payout) appends entries here and
nowhere else; `record` ignores an entry whose (kind, reference) is already there, so a replayed step (a
webhook delivered twice, a job run again) moves nothing twice. Balances are sums of the entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.sql import fetch_all
from models.earnings import EarningEntry


@dataclass(frozen=True)
class Balance:
    """A creator's earnings in one currency, in minor units."""

    currency: str
    pending: int = 0
    available: int = 0
    in_payout: int = 0
    paid_out: int = 0


async def record(entries: list[EarningEntry]) -> None:
    """Append entries; one already recorded (same kind and reference) is ignored. `ON CONFLICT DO NOTHING`
    rather than catching the error: inside a PostgreSQL transaction a failed insert aborts the rest."""
    if entries:
        await EarningEntry.bulk_create(entries, ignore_conflicts=True)


async def balances(creator_id: int) -> dict[str, Balance]:
    """The creator's balances per currency (one statement)."""
    rows = await fetch_all(
        "SELECT currency, SUM(pending) AS pending, SUM(available) AS available, SUM(in_payout) AS in_payout, "
        "SUM(paid_out) AS paid_out FROM earning_entries WHERE creator_id = $1 "
        "GROUP BY currency ORDER BY currency",
        [creator_id],
    )
    return {
        str(r["currency"]): Balance(
            str(r["currency"]),
            int(r["pending"]),
            int(r["available"]),
            int(r["in_payout"]),
            int(r["paid_out"]),
        )
        for r in rows
    }
