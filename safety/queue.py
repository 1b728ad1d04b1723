"""The moderation queue: one case per subject (a note, a comment, a person or a product).

Every report on a subject joins the subject's one case, however many people report it, so mass reporting
adds to a count instead of flooding the queue. A case is opened by the first report (or by a rule, such
as the fake-review rule, or by a moderator acting on a subject nobody reported) and resolved by a
moderator's action; a new report reopens it. Cases are made race-safely: `INSERT … ON CONFLICT` on the
unique (subject_kind, subject_id), which on PostgreSQL also locks the case's row until the caller commits,
so concurrent reports of one subject update its counters one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.sql import fetch_all
from models import (
    CaseSource,
    CaseStatus,
    Comment,
    ModerationAction,
    ModerationActionKind,
    ModerationCase,
    ModerationState,
    Note,
    Product,
    ReportCategory,
    Role,
    SubjectKind,
    User,
)
from safety.roles import is_staff, require_staff
from social.sessions import is_suspended

# The content kinds, each with its model and the column naming its owner.
CONTENT: dict[SubjectKind, tuple[type[Note] | type[Comment] | type[Product], str]] = {
    SubjectKind.NOTE: (Note, "author_id"),
    SubjectKind.COMMENT: (Comment, "author_id"),
    SubjectKind.PRODUCT: (Product, "merchant_id"),
}


@dataclass(frozen=True)
class Subject:
    """What a report or an action is about."""

    kind: SubjectKind
    id: int


@dataclass(frozen=True)
class SubjectFacts:
    """A subject as it is now: whose it is, and (for content) its moderation state."""

    subject: Subject
    owner_id: int
    owner_role: Role
    # Content only (None for a person): the moderator's state, and whether only its owner sees it.
    state: ModerationState | None = None
    withheld: bool = False
    # Whether the owner is suspended now.
    owner_suspended: bool = False

    @property
    def is_content(self) -> bool:
        return self.subject.kind is not SubjectKind.USER


async def subject_facts(subject: Subject, field: str = "subject_id") -> SubjectFacts:
    """The subject with its owner; NOT_FOUND when it does not exist or was deleted."""
    if subject.kind is SubjectKind.USER:
        user = await User.get_or_none(id=subject.id, deleted_at=None)
        if user is None:
            raise NotFound("User", field)
        return SubjectFacts(subject, user.id, Role(user.role), owner_suspended=is_suspended(user))
    model, owner_column = CONTENT[subject.kind]
    row: Any = await model.get_or_none(id=subject.id)
    if row is None or getattr(row, "deleted_at", None) is not None:
        raise NotFound(subject.kind.value.capitalize(), field)
    owner = await User.get(id=getattr(row, owner_column))
    return SubjectFacts(
        subject,
        owner.id,
        Role(owner.role),
        state=ModerationState(row.moderation),
        withheld=bool(row.withheld),
        owner_suspended=is_suspended(owner),
    )


_OPEN_CASE = (
    "INSERT INTO moderation_cases (subject_kind, subject_id, subject_owner_id, status, source,"
    " open_report_count, report_count, signal, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, 0, 0, '{}', $6, $6)"
    # A no-op update rather than DO NOTHING: RETURNING then gives an existing case too, and on
    # PostgreSQL its row stays locked until the caller commits (concurrent reports update it in turn).
    " ON CONFLICT (subject_kind, subject_id) DO UPDATE SET updated_at = excluded.updated_at"
    " RETURNING id, status"
)


async def open_case(
    subject: Subject,
    owner_id: int | None,
    *,
    source: CaseSource = CaseSource.REPORTS,
    signal: dict[str, Any] | None = None,
) -> tuple[int, CaseStatus]:
    """The subject's case, made when it has none (OPEN, from `source`); its id and its status before
    this call. In the caller's transaction. A rule passes its `signal` (its name and evidence)."""
    rows = await fetch_all(
        _OPEN_CASE,
        [subject.kind.value, subject.id, owner_id, CaseStatus.OPEN.value, source.value, timezone.now()],
    )
    case_id, status = int(rows[0]["id"]), CaseStatus(rows[0]["status"])
    if signal is not None:
        await ModerationCase.filter(id=case_id).update(signal=signal)
    return case_id, status


async def top_category(case_id: int) -> ReportCategory | None:
    """The category most reported among a case's open reports (ties: the one reported first)."""
    rows = await fetch_all(
        "SELECT category, COUNT(*) AS n, MIN(id) AS first FROM reports WHERE open_case_id = $1"
        " GROUP BY category ORDER BY n DESC, first ASC LIMIT 1",
        [case_id],
    )
    return ReportCategory(rows[0]["category"]) if rows else None


def queue_filter(
    *,
    status: CaseStatus | None,
    category: ReportCategory | None = None,
    source: CaseSource | None = None,
    assignee_id: int | None = None,
) -> Q:
    """Cases of the queue with this status (None: any), top category, source and assignee."""
    condition: dict[str, Any] = {}
    if status is not None:
        condition["status"] = status
    if category is not None:
        condition["top_category"] = category
    if source is not None:
        condition["source"] = source
    if assignee_id is not None:
        condition["assignee_id"] = assignee_id
    return Q(**condition)


async def assign_case(*, moderator_id: int, case_id: int, assignee_id: int | None) -> ModerationCase:
    """Give a case to a staff member (None: nobody), logged as ASSIGN; the case keeps its status."""
    moderator = await require_staff(moderator_id)
    case = await ModerationCase.get_or_none(id=case_id)
    if case is None:
        raise NotFound("Moderation case", "case_id")
    assignee: User | None = None
    if assignee_id is not None:
        assignee = await User.get_or_none(id=assignee_id, deleted_at=None)
        if assignee is None:
            raise NotFound("User", "assignee_id")
        if not is_staff(assignee.role):
            raise DomainError(
                ErrorCode.INVALID, "Cases are assigned to moderators and admins.", "assignee_id"
            )
    if assignee_id is not None and case.subject_owner_id == assignee_id:  # type: ignore[attr-defined]
        raise Forbidden("A case never goes to the person it is about.", "assignee_id")
    async with in_transaction():
        await ModerationCase.filter(id=case_id).update(assignee_id=assignee_id, updated_at=timezone.now())
        await ModerationAction.create(
            case_id=case_id,
            moderator_id=moderator.id,
            target_user_id=None,
            subject_kind=case.subject_kind,
            subject_id=case.subject_id,
            action=ModerationActionKind.ASSIGN,
            reason=f"assigned to @{assignee.handle}" if assignee is not None else "unassigned",
        )
    return await ModerationCase.get(id=case_id)
