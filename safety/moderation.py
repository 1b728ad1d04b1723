"""Moderators' decisions: dismiss reports, hide, remove or restore content, delist a product, warn,
suspend or lift a suspension — each written to the append-only log and told to the people concerned.

One decision is one transaction: the log entry (`ModerationAction`, never updated or deleted), its effect
(the content's moderation state and `withheld` flag through `safety.withholding`; a suspension with
every session ended), the reports it resolves, the case's counters and status, and the notifications —
to the person affected, with the reason, and to each reporter, with the outcome only.

Which decision fits which subject: HIDE and REMOVE take notes and comments, DELIST_PRODUCT products,
RESTORE any content; WARN, SUSPEND and UNSUSPEND a person, or content, acting on its owner; DISMISS any
subject with open reports. Staff never act on themselves, and only an admin acts on an admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode
from core.validation import Checks
from models import (
    CaseStatus,
    ModerationAction,
    ModerationActionKind,
    ModerationCase,
    ModerationState,
    NotificationKind,
    Report,
    ReportStatus,
    SubjectKind,
    User,
)
from safety.queue import CONTENT, Subject, SubjectFacts, open_case, subject_facts, top_category
from safety.roles import MAX_REASON, refuse_unless_may_act_on, require_staff
from safety.withholding import refresh_owner, set_moderation
from social.accounts import UNTIL_LIFTED
from social.notifications import notify
from social.sessions import end_all_sessions

# The longest suspension with an end; longer is "until lifted" (no durationDays).
MAX_SUSPENSION_DAYS = 3650
# Reports one decision may name.
MAX_REPORT_IDS = 100


class Decision(StrEnum):
    """What a moderator may decide (the log also holds what the system writes: appeals, assignments)."""

    DISMISS = "DISMISS"
    HIDE = "HIDE"
    REMOVE = "REMOVE"
    RESTORE = "RESTORE"
    WARN = "WARN"
    SUSPEND = "SUSPEND"
    UNSUSPEND = "UNSUSPEND"
    DELIST_PRODUCT = "DELIST_PRODUCT"


_ALL = frozenset(SubjectKind)
_FITS: dict[Decision, frozenset[SubjectKind]] = {
    Decision.DISMISS: _ALL,
    Decision.HIDE: frozenset({SubjectKind.NOTE, SubjectKind.COMMENT}),
    Decision.REMOVE: frozenset({SubjectKind.NOTE, SubjectKind.COMMENT}),
    Decision.RESTORE: frozenset(CONTENT),
    Decision.DELIST_PRODUCT: frozenset({SubjectKind.PRODUCT}),
    Decision.WARN: _ALL,
    Decision.SUSPEND: _ALL,
    Decision.UNSUSPEND: _ALL,
}
# The moderation state each content decision leaves.
CONTENT_STATES: dict[Decision, ModerationState] = {
    Decision.HIDE: ModerationState.HIDDEN,
    Decision.REMOVE: ModerationState.REMOVED,
    Decision.DELIST_PRODUCT: ModerationState.DELISTED,
    Decision.RESTORE: ModerationState.NONE,
}
# Decisions that act on the owner of the subject rather than on the subject itself.
ON_OWNER = frozenset({Decision.WARN, Decision.SUSPEND, Decision.UNSUSPEND})


def _check(
    subject: Subject, decision: Decision, reason: str, report_ids: Sequence[int], duration_days: int | None
) -> str:
    """The reason, cleaned; every input problem at once."""
    checks = Checks()
    text = checks.text("reason", reason, max_length=MAX_REASON) or ""
    if subject.kind not in _FITS[decision]:
        checks.fail(
            "action",
            ErrorCode.INVALID,
            f"{decision.value} does not apply to a {subject.kind.value.lower()}.",
        )
    if duration_days is not None:
        if decision is not Decision.SUSPEND:
            checks.fail("duration_days", ErrorCode.INVALID, "Only a suspension has a duration.")
        elif not 1 <= duration_days <= MAX_SUSPENSION_DAYS:
            checks.fail(
                "duration_days",
                ErrorCode.OUT_OF_RANGE,
                f"A suspension lasts 1–{MAX_SUSPENSION_DAYS} days; without durationDays, until lifted.",
            )
    checks.count("report_ids", report_ids, maximum=MAX_REPORT_IDS)
    checks.done()
    return text


def _refuse_pointless(decision: Decision, facts: SubjectFacts) -> None:
    """INVALID for a decision that would change nothing (and mislead the log)."""
    state = CONTENT_STATES.get(decision)
    if state is not None and facts.state is state:
        already = "not moderated" if state is ModerationState.NONE else state.value.lower()
        raise DomainError(ErrorCode.INVALID, f"It is {already} already.", "action")
    if decision is Decision.UNSUSPEND and not facts.owner_suspended:
        raise DomainError(ErrorCode.INVALID, "The account is not suspended.", "action")


async def _reports_to_resolve(case_id: int, report_ids: Sequence[int]) -> list[Report]:
    """The open reports named (all of the case's open reports when none are); INVALID for a report that
    is not an open report of this case."""
    if not report_ids:
        return list(await Report.filter(open_case_id=case_id).order_by("id"))
    found = {r.id: r for r in await Report.filter(id__in=list(report_ids))}
    checks = Checks()
    for i, report_id in enumerate(report_ids):
        report = found.get(report_id)
        if report is None or report.open_case_id != case_id:
            checks.fail(("report_ids", i), ErrorCode.INVALID, "Not an open report of this subject.")
    checks.done()
    return [found[r] for r in dict.fromkeys(report_ids)]


async def _apply(decision: Decision, facts: SubjectFacts, reason: str, expires_at: datetime | None) -> None:
    """The decision's effect on the content or its owner (in the caller's transaction)."""
    state = CONTENT_STATES.get(decision)
    if state is not None:
        model, _ = CONTENT[facts.subject.kind]
        await set_moderation(model, facts.subject.id, state, "" if state is ModerationState.NONE else reason)
    elif decision is Decision.SUSPEND:
        await User.filter(id=facts.owner_id).update(suspended_until=expires_at, suspension_reason=reason)
        await end_all_sessions(user_id=facts.owner_id)
        await refresh_owner(facts.owner_id)
    elif decision is Decision.UNSUSPEND:
        await User.filter(id=facts.owner_id).update(suspended_until=None, suspension_reason="")
        await refresh_owner(facts.owner_id)


def _links(subject: Subject) -> tuple[int | None, int | None]:
    """The note and the comment a notification about `subject` points at."""
    note_id = subject.id if subject.kind is SubjectKind.NOTE else None
    comment_id = subject.id if subject.kind is SubjectKind.COMMENT else None
    return note_id, comment_id


async def take_action(
    *,
    moderator_id: int,
    subject: Subject,
    decision: Decision,
    reason: str,
    report_ids: Sequence[int] = (),
    duration_days: int | None = None,
) -> ModerationAction:
    """A moderator's decision on `subject`, resolving the reports named (all its open reports when none
    are); the log entry it wrote. A case with no report left open is RESOLVED."""
    moderator = await require_staff(moderator_id)
    text = _check(subject, decision, reason, report_ids, duration_days)
    facts = await subject_facts(subject)
    refuse_unless_may_act_on(moderator, facts.owner_id, facts.owner_role)
    _refuse_pointless(decision, facts)
    now = datetime.now(UTC)
    expires_at = None
    if decision is Decision.SUSPEND:
        expires_at = now + timedelta(days=duration_days) if duration_days is not None else UNTIL_LIFTED
    async with in_transaction():
        # A subject nobody reported gets its case too: the decision then has a history to join.
        case_id, _ = await open_case(subject, facts.owner_id)
        reports = await _reports_to_resolve(case_id, report_ids)
        if decision is Decision.DISMISS and not reports:
            raise DomainError(ErrorCode.INVALID, "There are no open reports to dismiss.", "action")
        action = await ModerationAction.create(
            case_id=case_id,
            moderator_id=moderator.id,
            target_user_id=facts.owner_id,
            subject_kind=subject.kind,
            subject_id=subject.id,
            action=ModerationActionKind(decision.value),
            reason=text,
            report_ids=[r.id for r in reports],
            duration_days=duration_days,
            expires_at=expires_at,
        )
        await _apply(decision, facts, text, expires_at)
        resolved = 0
        if reports:
            resolved = await Report.filter(id__in=[r.id for r in reports], status=ReportStatus.OPEN).update(
                status=ReportStatus.RESOLVED,
                open_case_id=None,
                outcome=ModerationActionKind(decision.value),
                resolved_at=now,
            )
        await ModerationCase.filter(id=case_id).update(
            open_report_count=F("open_report_count") - resolved,
            top_category=await top_category(case_id),
            subject_owner_id=facts.owner_id,
        )
        # Resolved once no report is left open (a decision may name some reports and leave others).
        await ModerationCase.filter(id=case_id, open_report_count__lte=0).update(
            status=CaseStatus.RESOLVED, resolved_at=now
        )
        note_id, comment_id = _links(subject)
        if decision is not Decision.DISMISS:  # dismissed reports were never the owner's concern
            await notify(
                recipient_id=facts.owner_id,
                actor_id=None,
                kind=NotificationKind.MODERATION,
                moderation_action_id=action.id,
                note_id=note_id,
                comment_id=comment_id,
            )
        for reporter_id in dict.fromkeys(r.reporter_id for r in reports):  # type: ignore[attr-defined]
            if reporter_id is not None and reporter_id != facts.owner_id:
                await notify(
                    recipient_id=reporter_id,
                    actor_id=None,
                    kind=NotificationKind.REPORT_RESOLVED,
                    moderation_action_id=action.id,
                    note_id=note_id,
                    comment_id=comment_id,
                )
    return action
