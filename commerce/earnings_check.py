"""The check that creators' earnings agree with the orders they were earned on (beside commerce/ledger.py's
`ledger_mismatches`): run after every commerce test, and by hand on a live database."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from commerce.commissions import commission_on
from commerce.earnings import due_of, line_paid, reversal_targets
from models import EarningEntry, EarningKind, Order, OrderLine, Payout, PayoutStatus, Refund, RefundStatus

K = EarningKind
_COLUMNS = ("pending", "available", "in_payout", "paid_out")


def _moves(entry: EarningEntry) -> tuple[int, int, int, int]:
    return (entry.pending, entry.available, entry.in_payout, entry.paid_out)


def _entry_shape(entry: EarningEntry) -> str | None:
    """What is wrong with one entry's columns for its kind, or None."""
    p, a, i, o = _moves(entry)
    allowed = {
        K.COMMISSION: p > 0 and a == i == o == 0,
        K.REVERSAL: p <= 0 and a <= 0 and i == o == 0 and -(p + a) <= due_of(entry.detail),
        K.RELEASE: p == -a and p <= 0 and i == o == 0,
    }
    if entry.kind in allowed:
        ok = allowed[entry.kind]
    else:  # payouts move money between balances: never create or destroy it
        ok = p == 0 and a + i + o == 0 and entry.payout_id is not None  # type: ignore[attr-defined]
    return None if ok else f"entry {entry.id} ({entry.kind}): moves {p}/{a}/{i}/{o}"


async def earnings_mismatches() -> list[str]:
    """Everything about creators' earnings that disagrees with the rules (empty when all agree):
    - each entry moves money as its kind may (a commission adds to PENDING, a release moves PENDING to
      AVAILABLE, a reversal takes from them no more than it was due, payouts only move money);
    - each line of a paid order with a creator has one commission, of rate × what the line was paid,
      going to that creator; no other line has one;
    - what the line's reversals were due adds up to what its order's refunds and returns reverse
      (commerce/earnings.py: reversal_targets), and the line never holds less than nothing;
    - no creator's balance in any currency is below zero, and their balances add up to their commissions
      less what reversals took;
    - each payout's entries move its amount: AVAILABLE to IN_PAYOUT when asked, IN_PAYOUT to PAID_OUT when
      paid, back to AVAILABLE when cancelled.
    Orders with a refund still in flight are skipped, as the payment ledger's check does."""
    problems: list[str] = []
    entries = list(await EarningEntry.all().order_by("id"))
    problems += [p for p in map(_entry_shape, entries) if p is not None]

    by_line: dict[int, list[EarningEntry]] = defaultdict(list)
    totals: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    net: dict[tuple[int, str], int] = defaultdict(int)
    for entry in entries:
        key = (entry.creator_id, entry.currency)  # type: ignore[attr-defined]
        for n, value in enumerate(_moves(entry)):
            totals[key][n] += value
        if entry.kind in (K.COMMISSION, K.REVERSAL):
            net[key] += sum(_moves(entry))
        if entry.order_line_id is not None:  # type: ignore[attr-defined]
            by_line[entry.order_line_id].append(entry)  # type: ignore[attr-defined]
    for (creator, currency), sums in sorted(totals.items()):
        for name, value in zip(_COLUMNS, sums, strict=True):
            if value < 0:
                problems.append(f"creator {creator} {currency}: {name} {value} is below zero")
        if sum(sums) != net[(creator, currency)]:
            problems.append(
                f"creator {creator} {currency}: balances {sum(sums)}, commissions less reversals "
                f"{net[(creator, currency)]}"
            )

    in_flight = {
        str(o) for o in await Refund.filter(status=RefundStatus.PENDING).values_list("order_id", flat=True)
    }
    paid_orders = {str(o.id): o for o in await Order.filter(paid_at__isnull=False).only("id", "currency")}
    lines = list(await OrderLine.filter(commission_creator_id__isnull=False))
    orders_to_check: set[UUID] = set()
    for line in lines:
        order_key = str(line.order_id)  # type: ignore[attr-defined]
        mine = by_line.pop(line.id, [])
        commissions = [e for e in mine if e.kind == K.COMMISSION]
        order = paid_orders.get(order_key)
        expected = commission_on(line_paid(line), line.commission_basis_points) if order else 0
        got = [(e.creator_id, e.pending, e.currency) for e in commissions]  # type: ignore[attr-defined]
        want = [(line.commission_creator_id, expected, order.currency)] if order and expected else []
        if got != want:
            problems.append(f"line {line.id}: commissions {got}, expected {want}")
        held = [sum(e.pending for e in mine), sum(e.available for e in mine)]
        if min(held) < 0:
            problems.append(f"line {line.id}: holds {held[0]} pending and {held[1]} available")
        if order is not None and order_key not in in_flight:
            orders_to_check.add(line.order_id)  # type: ignore[attr-defined]
    for leftover, mine in sorted(by_line.items()):
        problems.append(f"line {leftover}: {len(mine)} entries but no commission terms")

    due: dict[int, int] = defaultdict(int)
    for entry in entries:
        if entry.kind == K.REVERSAL:
            due[entry.order_line_id] += due_of(entry.detail)  # type: ignore[attr-defined]
    for order_id in sorted(orders_to_check, key=str):
        for target in await reversal_targets(order_id):
            if due[target.line_id] != target.reversed:
                problems.append(
                    f"line {target.line_id}: reversals were due {due[target.line_id]}, the refunds and "
                    f"returns reverse {target.reversed} of {target.commission}"
                )

    problems += await _payout_mismatches(entries)
    return problems


async def _payout_mismatches(entries: list[EarningEntry]) -> list[str]:
    moved: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for entry in entries:
        if entry.payout_id is not None:  # type: ignore[attr-defined]
            for n, value in enumerate(_moves(entry)):
                moved[entry.payout_id][n] += value  # type: ignore[attr-defined]
    problems = []
    for payout in await Payout.all().order_by("id"):
        amount = payout.amount_minor_units
        expected = {
            PayoutStatus.REQUESTED: [0, -amount, amount, 0],
            PayoutStatus.PAID: [0, -amount, 0, amount],
            PayoutStatus.CANCELLED: [0, 0, 0, 0],
        }[payout.status]
        if moved.pop(payout.id, [0, 0, 0, 0]) != expected:
            problems.append(f"payout {payout.id} ({payout.status}, {amount}): its entries disagree")
    problems += [f"entries of payout {p} that does not exist" for p in sorted(moved)]
    return problems
