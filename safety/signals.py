"""Signals from commerce that put subjects in the moderation queue: rules, not models.

The fake-review rule (`review_without_purchase_by_newer_account`) is a fixed rule, not a trained model:
a review note is flagged when its author's account was created after the product it reviews *and* the
author has no purchase of that product (no order counting as a sale — PAID, FULFILLED or
PARTIALLY_REFUNDED — with a line of it). A reviewer who was around before the product, or who bought
it here, is never flagged. The rule opens the review's ModerationCase (source FAKE_REVIEW_RULE), or
adds its evidence to the case reports already opened; it never hides anything itself — a moderator
decides. It runs when a note becomes a review (the noteCreate and noteUpdate mutations) and over every
existing review with `vermilion moderation scan-reviews`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from commerce.states import SOLD
from core.outages import database_unreachable
from core.sql import aware_datetime, fetch_all, model_from_row, placeholders, select_list
from models import CaseSource, CaseStatus, ModerationCase, SubjectKind
from safety.queue import Subject, open_case

log = logging.getLogger(__name__)

FAKE_REVIEW_RULE = "review_without_purchase_by_newer_account"
SCAN_BATCH = 500

_SOLD_SQL = ", ".join(f"'{s.value}'" for s in SOLD)
# A review note with what the rule needs: its author's and product's ages, whether the author bought the
# product, and the note's case when it has one; the WHERE clause is the caller's.
_REVIEWS = (
    "SELECT n.id AS note_id, n.author_id AS author_id, n.review_product_id AS product_id, "
    "u.created_at AS account_created_at, p.created_at AS product_created_at, "
    "EXISTS (SELECT 1 FROM order_lines l JOIN orders o ON o.id = l.order_id "
    f"  WHERE o.buyer_id = n.author_id AND l.product_id = n.review_product_id AND o.status IN ({_SOLD_SQL})"
    f") AS bought, {select_list(ModerationCase, 'c', 'c_')} "
    "FROM notes n JOIN users u ON u.id = n.author_id JOIN products p ON p.id = n.review_product_id "
    f"LEFT JOIN moderation_cases c ON c.subject_kind = '{SubjectKind.NOTE.value}' AND c.subject_id = n.id "
    "WHERE n.deleted_at IS NULL AND "
)


@dataclass(frozen=True)
class ReviewFacts:
    """What the fake-review rule looks at for one review note."""

    note_id: int
    author_id: int
    product_id: int
    account_created_at: datetime
    product_created_at: datetime
    bought: bool
    case: ModerationCase | None = None


@dataclass(frozen=True)
class ScanReport:
    reviews: int
    flagged: int


def is_suspect_review(facts: ReviewFacts) -> bool:
    """The rule: an account newer than the product, with no purchase of it."""
    return not facts.bought and facts.account_created_at > facts.product_created_at


def signal_of(facts: ReviewFacts) -> dict[str, Any]:
    """The evidence a flagged case carries, for the moderator to weigh."""
    return {
        "rule": FAKE_REVIEW_RULE,
        "product_id": facts.product_id,
        "account_created_at": facts.account_created_at.isoformat(),
        "product_created_at": facts.product_created_at.isoformat(),
    }


async def flag_fake_reviews(note_ids: Sequence[int]) -> list[int]:
    """Apply the rule to these notes (those that are live reviews); the ids of the notes flagged now.

    One statement reads them all; a note flagged costs one more to write its evidence on its case (two
    when the case is new). Idempotent: a note whose case already carries this rule's signal for the same
    product is left as it is, even after a moderator resolved that case. Moderators find the cases the
    rule opened with `moderationQueue(source: FAKE_REVIEW_RULE)`."""
    if not note_ids:
        return []
    rows = await fetch_all(
        _REVIEWS + f"n.review_product_id IS NOT NULL AND n.id IN ({placeholders(len(note_ids))})",
        list(note_ids),
    )
    return await _flag([_facts(r) for r in rows])


async def check_new_review(note_id: int) -> None:
    """The rule on a note that just became a review (called after the note was stored).

    The note is saved whatever happens here: when the database cannot be reached, the check is
    skipped (the next `scan-reviews` makes it) rather than telling the client its note failed."""
    try:
        await flag_fake_reviews([note_id])
    except Exception as exc:
        if not database_unreachable(exc):
            raise
        log.warning("review %s saved but not checked by the fake-review rule: %s", note_id, exc)


async def scan_reviews(*, batch: int = SCAN_BATCH) -> ScanReport:
    """The rule over every live review, oldest first, `batch` notes a statement."""
    after, reviews, flagged = 0, 0, 0
    while True:
        rows = await fetch_all(
            _REVIEWS + "n.review_product_id IS NOT NULL AND n.id > $1 ORDER BY n.id LIMIT $2", [after, batch]
        )
        if not rows:
            return ScanReport(reviews, flagged)
        reviews += len(rows)
        flagged += len(await _flag([_facts(r) for r in rows]))
        after = int(rows[-1]["note_id"])


def _facts(row: dict[str, Any]) -> ReviewFacts:
    return ReviewFacts(
        note_id=int(row["note_id"]),
        author_id=int(row["author_id"]),
        product_id=int(row["product_id"]),
        account_created_at=aware_datetime(row["account_created_at"]),
        product_created_at=aware_datetime(row["product_created_at"]),
        bought=bool(row["bought"]),
        case=model_from_row(ModerationCase, row, "c_") if row["c_id"] is not None else None,
    )


async def _flag(reviews: Sequence[ReviewFacts]) -> list[int]:
    flagged = []
    for facts in reviews:
        if is_suspect_review(facts) and await _open_case(facts):
            flagged.append(facts.note_id)
    return flagged


def _already_flagged(case: ModerationCase, facts: ReviewFacts) -> bool:
    signal = case.signal or {}
    return signal.get("rule") == FAKE_REVIEW_RULE and signal.get("product_id") == facts.product_id


async def _open_case(facts: ReviewFacts) -> bool:
    """Open the note's case with the rule's signal, or add the signal to the case it has (reopening it
    when resolved: this is evidence no moderator has seen). False when the case already had it."""
    if facts.case is None:
        # Made the way reports make cases: one per subject, race-safe (a report winning the race to open
        # it keeps its source, and the evidence joins its case).
        case_id, _ = await open_case(
            Subject(SubjectKind.NOTE, facts.note_id), facts.author_id, source=CaseSource.FAKE_REVIEW_RULE
        )
    elif _already_flagged(facts.case, facts):
        return False
    else:
        case_id = facts.case.id
    await ModerationCase.filter(id=case_id).update(
        signal=signal_of(facts), status=CaseStatus.OPEN, resolved_at=None, updated_at=datetime.now(UTC)
    )
    return True
