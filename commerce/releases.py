"""Releasing creators' earnings: a line's commission moves from PENDING to AVAILABLE once its return window
has closed (a periodic job, idempotent: one RELEASE per line, `commerce.earnings.record`).

A line may be released when
- it was delivered (its parcel's `delivered_at`) more than RETURN_WINDOW ago — the buyer can no longer ask
  to return it — or, never marked delivered, it was paid more than UNDELIVERED_RELEASE ago;
- no return of it is open (requested, approved, or received and not yet refunded);
- its creator is not out (suspended, leaving or deleted: `social.sessions.is_out`). Their earnings are
  frozen, not lost: they stay PENDING and are released by the first run after the creator is back.
What a later refund or return takes back then comes from AVAILABLE (commerce/earnings.py: reverse_order).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise.transactions import in_transaction

from commerce.earnings import line_reference, line_states, record
from commerce.returns import RETURN_WINDOW
from models import (
    EarningEntry,
    EarningKind,
    Order,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    ShipmentStatus,
    User,
)
from social.sessions import is_out

# A line never marked delivered is released this long after payment: the return window after a delivery
# that would have taken up to a month.
UNDELIVERED_RELEASE = RETURN_WINDOW + timedelta(days=30)
# How often the server runs the job (it reads every commission not yet released of orders paid more than
# RETURN_WINDOW ago); `vermilion earnings release` runs it at once.
RELEASE_INTERVAL_SECONDS = 3600
# Commission entries looked at per statement.
BATCH = 500
# Returns whose units may still be refunded.
UNSETTLED_RETURNS = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)


@dataclass
class ReleaseReport:
    released: int = 0  # lines released by this run
    amounts: dict[str, int] = field(default_factory=dict)  # currency → minor units released
    frozen: int = 0  # lines due but held: their creator is suspended, leaving or deleted
    waiting: int = 0  # lines whose window is open, or with an open return


@dataclass(frozen=True)
class _Candidate:
    line_id: int
    order_id: UUID
    creator_id: int


async def release_due(*, now: datetime | None = None) -> ReleaseReport:
    """Release every line whose time has come (safe to run again, and from many workers at once)."""
    now = now or datetime.now(UTC)
    report = ReleaseReport()
    last_id = 0
    while True:
        # Commissions of orders paid before the earliest a window can close, not yet released.
        entries = list(
            await EarningEntry.filter(
                kind=EarningKind.COMMISSION, id__gt=last_id, order__paid_at__lte=now - RETURN_WINDOW
            )
            .order_by("id")
            .limit(BATCH)
            .only("id", "order_line_id", "order_id", "creator_id", "reference")
        )
        if not entries:
            return report
        last_id = entries[-1].id
        released = set(
            await EarningEntry.filter(
                kind=EarningKind.RELEASE, reference__in=[e.reference for e in entries]
            ).values_list("reference", flat=True)
        )
        candidates = [
            _Candidate(e.order_line_id, e.order_id, e.creator_id)  # type: ignore[attr-defined]
            for e in entries
            if e.reference not in released
        ]
        for order_id, line_ids in (await _due(candidates, now, report)).items():
            await _release(order_id, line_ids, report)
        if len(entries) < BATCH:
            return report


async def _due(candidates: list[_Candidate], now: datetime, report: ReleaseReport) -> dict[UUID, list[int]]:
    """Order → its lines that may be released now (four statements for the batch)."""
    if not candidates:
        return {}
    order_ids = sorted({c.order_id for c in candidates}, key=str)
    paid_at = dict(await Order.filter(id__in=order_ids).values_list("id", "paid_at"))
    delivered: dict[int, datetime] = {}
    for shipment in await Shipment.filter(order_id__in=order_ids, status=ShipmentStatus.DELIVERED):
        for line_id in shipment.lines or {}:
            moment = shipment.delivered_at
            if moment is not None and (int(line_id) not in delivered or moment > delivered[int(line_id)]):
                delivered[int(line_id)] = moment
    returning = _lines_of(await ReturnRequest.filter(order_id__in=order_ids, status__in=UNSETTLED_RETURNS))
    creators = {u.id: u for u in await User.filter(id__in=sorted({c.creator_id for c in candidates}))}
    due: dict[UUID, list[int]] = defaultdict(list)
    for c in candidates:
        at = delivered.get(c.line_id)
        window_closed = (
            at + RETURN_WINDOW < now
            if at is not None
            else paid_at[c.order_id] is not None and paid_at[c.order_id] + UNDELIVERED_RELEASE < now
        )
        if not window_closed or c.line_id in returning:
            report.waiting += 1
        elif c.creator_id not in creators or is_out(creators[c.creator_id], now):
            report.frozen += 1
        else:
            due[c.order_id].append(c.line_id)
    return due


def _lines_of(returns: list[ReturnRequest]) -> set[int]:
    return {int(line_id) for ret in returns for line_id in ret.lines or {}}


async def _release(order_id: UUID, line_ids: list[int], report: ReleaseReport) -> None:
    """Move what each line still has pending to available, under the order's row lock (as reversals are
    taken), unless a return of it was opened meanwhile."""
    async with in_transaction():
        order = await Order.filter(id=order_id).select_for_update().get()
        returning = _lines_of(await ReturnRequest.filter(order_id=order_id, status__in=UNSETTLED_RETURNS))
        states = await line_states([i for i in line_ids if i not in returning])
        entries = await EarningEntry.filter(kind=EarningKind.COMMISSION, order_line_id__in=list(states)).only(
            "order_line_id", "creator_id", "note_id"
        )
        releases = []
        for entry in entries:
            line_id = entry.order_line_id  # type: ignore[attr-defined]
            amount = states[line_id].pending
            releases.append(
                EarningEntry(
                    creator_id=entry.creator_id,  # type: ignore[attr-defined]
                    kind=EarningKind.RELEASE,
                    currency=order.currency,
                    pending=-amount,
                    available=amount,
                    order_id=order_id,
                    order_line_id=line_id,
                    note_id=entry.note_id,
                    reference=line_reference(line_id),
                    detail="the return window closed",
                )
            )
            report.released += 1
            report.amounts[order.currency] = report.amounts.get(order.currency, 0) + amount
        await record(releases)
