"""Creators' earnings for the demo, so `viewer.earnings` of the demo creator (`xiaohong`) shows every state.

The demo merchant (`shop`) pays creators DEMO_COMMISSION (15 %) by default, set before the demo orders are
written, so their lines carry the terms checkout would have stored (demo/orders.py) and the notes tagging
the shop's goods carry `Note.disclosure`. Besides the demo shopper's orders, shoppers bought from the
creator's notes over the months before the world's present (`now`, the seeding day: demo.clock): EXTRA_SALES,
the older ones shipped and delivered, the last two paid but not yet shipped.

The ledger is written as the rules would have written it by `now`, through `commerce.earnings.record`
and in time order: a COMMISSION when each order was paid; a RELEASE when its return window closed (30 days
after delivery, 60 after payment when never shipped — commerce/releases.py) if that was before
`now`; the first time AVAILABLE reached the minimum payout (commerce/payouts.py) the creator asked a
moment later and the payout was PAID three days after; the next time, they asked again and that payout is
still REQUESTED. What was released after stays AVAILABLE, and the two recent orders PENDING — until the
server's hourly release job (wall clock) finds their window closed; it releases them then, as it would
any creator's (`release_due(now=now)` finds nothing to do). `earnings_mismatches()` holds for all of it
(tests/test_seed.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from commerce.commissions import commission_on
from commerce.earnings import line_paid, line_reference
from commerce.payouts import minimum_payout, open_key
from commerce.releases import UNDELIVERED_RELEASE
from commerce.returns import RETURN_WINDOW
from demo.orders import DemoSale, demo_purchases, write_order
from models import EarningEntry, EarningKind, Note, Payout, PayoutStatus, User

DEMO_COMMISSION = 1500  # basis points: the demo merchant's default commission
# Days before the world's present each extra sale was paid; the last two (within the return window)
# are not shipped.
EXTRA_SALES = (112, 104, 97, 90, 83, 76, 69, 62, 9, 4)
UNSHIPPED = 2
PAID_AFTER = timedelta(days=3)  # how long the admin took to pay the first payout
ASKED_AFTER = timedelta(hours=1)  # how long after a release the creator asked


async def set_demo_commission(connection: BaseDBAsyncClient) -> None:
    """The demo merchant's default commission (before the orders: their lines keep the rate in force)."""
    await (
        User.filter(handle="shop")
        .using_db(connection)
        .update(default_commission_basis_points=DEMO_COMMISSION)
    )


async def write_demo_sales(connection: BaseDBAsyncClient, *, now: datetime) -> list[DemoSale]:
    """Shoppers' paid orders from the demo creator's notes, besides the demo shopper's (demo/orders.py),
    each by someone who neither wrote the note nor reviewed the product (so no review becomes verified)."""
    purchases = await demo_purchases(connection)
    if not purchases:
        return []
    excluded = {"xiaohong", "shop", "moderator"}
    people = [u for u in await User.all().order_by("id").using_db(connection) if u.handle not in excluded]
    reviewers: dict[int, set[int]] = {}
    for note in (
        await Note.filter(review_product_id__isnull=False)
        .using_db(connection)
        .only("author_id", "review_product_id")
    ):
        reviewers.setdefault(note.review_product_id or 0, set()).add(note.author_id)  # type: ignore[attr-defined]
    sales = []
    for index, days in enumerate(EXTRA_SALES):
        note, product, variant = purchases[index % len(purchases)]
        paid_at = max(now - timedelta(days=days, hours=index), note.created_at + timedelta(hours=3))
        buyers = [p for p in people if p.id not in reviewers.get(product.id, set())] or people
        sales.append(
            await write_order(
                connection,
                key=f"sale-{index}",
                buyer=buyers[(index * 7) % len(buyers)],
                note=note,
                product=product,
                variant=variant,
                quantity=1 + index % 3,
                paid_at=paid_at,
                fulfilled=index < len(EXTRA_SALES) - UNSHIPPED,
            )
        )
    return sales


@dataclass
class _Step:
    at: datetime
    entry: EarningEntry
    currency: str = ""
    amount: int = 0


async def write_demo_earnings(
    connection: BaseDBAsyncClient, sales: list[DemoSale], *, now: datetime
) -> tuple[int, int]:
    """The ledger of the sales' commissions as of `now`, and the creators' payouts; (entries, payouts)."""
    steps: list[_Step] = []
    for sale in sales:
        line, order = sale.line, sale.order
        creator_id = line.commission_creator_id
        amount = commission_on(line_paid(line), line.commission_basis_points)
        if creator_id is None or amount <= 0 or order.paid_at is None:
            continue
        common = {
            "creator_id": creator_id,
            "currency": order.currency,
            "order_id": order.id,
            "order_line_id": line.id,
            "note_id": line.source_note_id,  # type: ignore[attr-defined]
            "reference": line_reference(line.id),
        }
        commission = EarningEntry(
            kind=EarningKind.COMMISSION,
            pending=amount,
            detail=f"{line.commission_basis_points} bp of {line_paid(line)}",
            created_at=order.paid_at,
            **common,
        )
        steps.append(_Step(order.paid_at, commission))
        closes = (
            sale.delivered_at + RETURN_WINDOW
            if sale.delivered_at is not None
            else order.paid_at + UNDELIVERED_RELEASE
        )
        if closes < now:
            release = EarningEntry(
                kind=EarningKind.RELEASE,
                pending=-amount,
                available=amount,
                detail="the return window closed",
                created_at=closes,
                **common,
            )
            steps.append(_Step(closes, release, order.currency, amount))
    steps.sort(key=lambda s: (s.at, s.entry.kind != EarningKind.COMMISSION))
    entries = [s.entry for s in steps]
    payouts = 0
    available: dict[tuple[int, str], int] = {}
    asked: dict[tuple[int, str], int] = {}
    for step in [s for s in steps if s.amount]:
        key = (step.entry.creator_id, step.currency)  # type: ignore[attr-defined]
        available[key] = available.get(key, 0) + step.amount
        asked_at = step.at + ASKED_AFTER
        if available[key] < minimum_payout(step.currency) or asked.get(key, 0) >= 2 or asked_at >= now:
            continue
        paid_at = asked_at + PAID_AFTER if asked.get(key, 0) == 0 else None
        if paid_at is not None and paid_at >= now:
            paid_at = None
        entries += await _payout(connection, key, available[key], asked_at, paid_at)
        asked[key] = asked.get(key, 0) + 1
        available[key] = 0
        payouts += 1
    entries.sort(key=lambda e: e.created_at)
    await EarningEntry.bulk_create(entries, using_db=connection)
    return len(entries), payouts


async def _payout(
    connection: BaseDBAsyncClient,
    key: tuple[int, str],
    amount: int,
    asked_at: datetime,
    paid_at: datetime | None,
) -> list[EarningEntry]:
    """A payout of `amount` asked for at `asked_at`, PAID at `paid_at` (None: REQUESTED), and its entries."""
    creator_id, currency = key
    payout = await Payout.create(
        creator_id=creator_id,
        currency=currency,
        amount_minor_units=amount,
        status=PayoutStatus.PAID if paid_at else PayoutStatus.REQUESTED,
        open_key=None if paid_at else open_key(creator_id, currency),
        reference=f"ICBC-DEMO-{asked_at:%Y%m%d}" if paid_at else "",
        requested_at=asked_at,
        settled_at=paid_at,
        using_db=connection,
    )
    common = {"creator_id": creator_id, "currency": currency, "payout_id": payout.id}
    entries = [
        EarningEntry(
            kind=EarningKind.PAYOUT_REQUESTED,
            available=-amount,
            in_payout=amount,
            reference=f"payout-{payout.id}-requested",
            created_at=asked_at,
            **common,
        )
    ]
    if paid_at:
        entries.append(
            EarningEntry(
                kind=EarningKind.PAYOUT_PAID,
                in_payout=-amount,
                paid_out=amount,
                reference=f"payout-{payout.id}-paid",
                detail=payout.reference,
                created_at=paid_at,
                **common,
            )
        )
    return entries
