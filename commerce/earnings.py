"""The creators' earnings ledger: appending entries and reading balances (models/earnings.py).

Every step that moves earnings (a commission, its reversal, its release, a payout) appends entries here and
nowhere else; `record` ignores an entry whose (kind, reference) is already there, so a replayed step (a
webhook delivered twice, a job run again) moves nothing twice. Balances are sums of the entries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from uuid import UUID

from commerce.amounts import line_paid, merchant_parts
from commerce.commissions import MerchantPart, commission_on, held_shares, reversed_total
from core.sql import fetch_all
from models import (
    Order,
    OrderDeliveryGroup,
    OrderLine,
    OrderStatus,
    PaymentEvent,
    PaymentEventKind,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    User,
)
from models.earnings import EarningEntry, EarningKind


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


# --- commissions: an order is paid -----------------------------------------------------------------------


def line_reference(line_id: int) -> str:
    """The reference of a line's COMMISSION and of its RELEASE (one of each per line)."""
    return f"line-{line_id}"


async def credit_order(order: Order) -> None:
    """The order was just paid (call inside the transaction that made it PAID, only when that move won):
    each line bought from a note whose author earns on it credits the author its commission as PENDING.
    One read of the lines, one insert for all of them; nothing for a line without a creator or at 0."""
    lines = await OrderLine.filter(order_id=order.id, commission_creator_id__isnull=False)
    entries = []
    for line in lines:
        amount = commission_on(line_paid(line), line.commission_basis_points)
        if amount <= 0 or line.commission_creator_id is None:
            continue
        entries.append(
            EarningEntry(
                creator_id=line.commission_creator_id,
                kind=EarningKind.COMMISSION,
                currency=order.currency,
                pending=amount,
                order_id=order.id,
                order_line_id=line.id,
                note_id=line.source_note_id,  # type: ignore[attr-defined]
                reference=line_reference(line.id),
                detail=f"{line.commission_basis_points} bp of {line_paid(line)}",
            )
        )
    await record(entries)


# --- reversals: a refund or a return ---------------------------------------------------------------------

# A REVERSAL's detail starts with what it was due to take back: "due 120". What it took is in its columns;
# the difference had been paid out (or asked for) already and is not taken back.
_DUE = re.compile(r"^due (\d+)")
# A return's refund is made with the return's idempotency key (commerce/returns.py: _refund_key).
_RETURN_KEY = re.compile(r"^return-(\d+)(?:-retry-\d+)?$")


def due_of(entry_detail: str) -> int:
    found = _DUE.match(entry_detail or "")
    return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class LineTarget:
    """A commissioned line of an order: its creator, its commission, and how much of it the refunds and
    returns so far reverse in all (cumulative)."""

    line_id: int
    creator_id: int
    note_id: int | None
    commission: int
    reversed: int


async def reversal_targets(order_id: UUID) -> list[LineTarget]:
    """What the rules reverse on each commissioned line of the order, from the facts: the returns whose
    refund succeeded (or that needed none) take back their units' share of the line's commission; the
    merchant's other refunds that succeeded (orderRefund) and refunds made outside Vermilion take back the
    share of the merchant's part they refunded (commerce/commissions.py: kept_after, held_shares). A
    return's refund counts once, as a return, never again as an amount."""
    lines = list(await OrderLine.filter(order_id=order_id))
    if not any(line.commission_creator_id for line in lines):
        return []
    order = await Order.get(id=order_id)
    returns = {r.id: r for r in await ReturnRequest.filter(order_id=order_id)}
    returned_units: dict[int, int] = defaultdict(int)
    parts: dict[int, MerchantPart] = {}
    totals = merchant_parts(lines, await OrderDeliveryGroup.filter(order_id=order_id))
    counted: set[int] = {r.id for r in returns.values() if r.status == ReturnStatus.REFUNDED}
    refunded: dict[int, int] = defaultdict(int)
    for refund in await Refund.filter(order_id=order_id, status=RefundStatus.SUCCEEDED):
        merchant = refund.merchant_id  # type: ignore[attr-defined]
        key = _RETURN_KEY.match(refund.idempotency_key)
        ret = returns.get(int(key.group(1))) if key else None
        if ret is not None and ret.merchant_id == merchant:  # type: ignore[attr-defined]
            counted.add(ret.id)
        else:
            refunded[merchant] += refund.amount_minor_units
    returned_amount: dict[int, int] = defaultdict(int)
    for return_id in counted:
        ret = returns[return_id]
        returned_amount[ret.merchant_id] += ret.amount_minor_units  # type: ignore[attr-defined]
        for line_id, units in (ret.lines or {}).items():
            returned_units[int(line_id)] += int(units)
    for merchant, total in totals.items():
        parts[merchant] = MerchantPart(total, returned_amount[merchant], refunded[merchant])
    external = sum(
        int(a)  # type: ignore[call-overload]
        for a in await PaymentEvent.filter(
            order_id=order_id, kind=PaymentEventKind.EXTERNAL_REFUND
        ).values_list("amount_minor_units", flat=True)
    )
    shares = held_shares(parts, external)
    targets = []
    for line in lines:
        if line.commission_creator_id is None:
            continue
        commission = commission_on(line_paid(line), line.commission_basis_points)
        share = shares[line.merchant_id]  # type: ignore[attr-defined]
        if order.status == OrderStatus.REFUNDED:
            share = Fraction(0)
        targets.append(
            LineTarget(
                line_id=line.id,
                creator_id=line.commission_creator_id,
                note_id=line.source_note_id,  # type: ignore[attr-defined]
                commission=commission,
                reversed=reversed_total(
                    commission,
                    quantity=line.quantity,
                    returned=min(returned_units[line.id], line.quantity),
                    held=share,
                ),
            )
        )
    return targets


@dataclass
class LineState:
    """A line's earnings as its entries say: still pending, released and not reversed, reversed so far."""

    pending: int = 0
    available: int = 0
    due: int = 0


async def line_states(line_ids: list[int]) -> dict[int, LineState]:
    """Line id → what its entries say (one statement)."""
    found: dict[int, LineState] = {i: LineState() for i in line_ids}
    if not line_ids:
        return found
    for entry in await EarningEntry.filter(order_line_id__in=line_ids).only(
        "order_line_id", "kind", "pending", "available", "detail"
    ):
        state = found[entry.order_line_id]  # type: ignore[attr-defined]
        state.pending += entry.pending
        state.available += entry.available
        if entry.kind == EarningKind.REVERSAL:
            state.due += due_of(entry.detail)
    return found


async def reverse_order(order_id: UUID, *, reference: str) -> None:
    """Bring the order's commissions in line with its refunds and returns: each line reverses what the rules
    reverse in all less what was reversed before (`reversal_targets`), from PENDING while it is pending,
    from AVAILABLE once released — never more than the line still holds there, nor more than the creator's
    available balance; what was already paid out (or is in a payout) is not taken back. Call it under the
    order's row lock, in the transaction that records the refund; `reference` names the step (refund-7)."""
    targets = [t for t in await reversal_targets(order_id) if t.reversed > 0]
    if not targets:
        return
    states = await line_states([t.line_id for t in targets])
    currency = (await Order.get(id=order_id)).currency
    wanted = [(t, t.reversed - states[t.line_id].due) for t in targets]
    wanted = [(t, due) for t, due in wanted if due > 0]
    if not wanted:
        return
    available: dict[int, int] = {}
    if any(due > states[t.line_id].pending for t, due in wanted):
        creators = sorted({t.creator_id for t, _ in wanted})
        # A payout request moves AVAILABLE too: the creator's row lock keeps the two from both taking it.
        await User.filter(id__in=creators).select_for_update().only("id")
        available = {c: (await balances(c)).get(currency, Balance(currency)).available for c in creators}
    entries = []
    for target, due in wanted:
        state = states[target.line_id]
        from_pending = min(due, max(state.pending, 0))
        from_available = min(
            due - from_pending, max(state.available, 0), max(available.get(target.creator_id, 0), 0)
        )
        if from_available:
            available[target.creator_id] -= from_available
        short = due - from_pending - from_available
        entries.append(
            EarningEntry(
                creator_id=target.creator_id,
                kind=EarningKind.REVERSAL,
                currency=currency,
                pending=-from_pending,
                available=-from_available,
                order_id=order_id,
                order_line_id=target.line_id,
                note_id=target.note_id,
                reference=f"{reference}-line-{target.line_id}",
                detail=f"due {due}" + (f"; {short} already paid out, not taken back" if short else ""),
            )
        )
    await record(entries)


# --- reads -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommissionsOwed:
    """What a merchant's sales owe creators in one currency: still PENDING (the return window is open, and
    a return or refund may still take it back), released (AVAILABLE to the creator, or already paid out to
    them: a payout pays a creator's whole balance, across merchants), and reversed by refunds and returns."""

    currency: str
    pending: int = 0
    released: int = 0
    reversed: int = 0


async def commissions_owed(merchant_id: int) -> list[CommissionsOwed]:
    """Per currency, what the merchant's lines earned creators (one statement)."""
    rows = await fetch_all(
        "SELECT e.currency AS currency, SUM(e.pending) AS pending, "
        "SUM(CASE WHEN e.kind = 'RELEASE' THEN e.available ELSE 0 END) AS released, "
        "SUM(CASE WHEN e.kind = 'REVERSAL' THEN -(e.pending + e.available) ELSE 0 END) AS reversed, "
        "SUM(CASE WHEN e.kind = 'REVERSAL' THEN e.available ELSE 0 END) AS released_reversed "
        "FROM earning_entries e JOIN order_lines l ON l.id = e.order_line_id "
        "WHERE l.merchant_id = $1 GROUP BY e.currency ORDER BY e.currency",
        [merchant_id],
    )
    return [
        CommissionsOwed(
            str(r["currency"]),
            int(r["pending"]),
            int(r["released"]) + int(r["released_reversed"]),
            int(r["reversed"]),
        )
        for r in rows
    ]
