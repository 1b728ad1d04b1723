"""GraphQL types of moderation: the queue's cases, the log's entries, appeals, and the moderation state a
note, comment or product shows its author.

Everything here is read by staff (the queue) or by the person concerned (their own content, decisions and
appeals); the roots and fields that lead here check which. A page of cases costs the same statements
whatever its size: the subjects (one per kind on the page), the people, the first reports and the history
of every case are each read in one statement for the page (`schema.execution.batched`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from core.cursors import PageRequest, page_request
from core.errors import Forbidden
from core.ids import to_global_id
from core.sql import fetch_rows, model_from_row, placeholders
from models import (
    Appeal,
    Comment,
    ModerationAction,
    ModerationCase,
    ModerationState,
    Note,
    NotificationKind,
    Product,
    Report,
    SubjectKind,
)
from safety.appeals import appealable_until
from safety.roles import is_staff
from schema.context import Info
from schema.execution import batched
from schema.loaders import load_all
from schema.relay import (
    OLDEST_FIRST,
    After,
    Before,
    Connection,
    First,
    KeysetPage,
    Last,
    Node,
    build_connection,
    keyset_window,
)
from schema.safety.moderation_enums import (
    ActionKindEnum,
    AppealStatusEnum,
    CaseSourceEnum,
    CaseStatusEnum,
    ModerationStateEnum,
    ReportCategoryEnum,
    SubjectKindEnum,
)
from schema.safety.reports_types import ReportType, subject_global_id
from social.accounts import UNTIL_LIFTED
from social.policy import is_self

if TYPE_CHECKING:
    from schema.social.notifications import NotificationType
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]


async def viewer_is_staff(info: Info) -> bool:
    """Whether the signed-in person is a moderator or an admin (their row is in the request's loader
    already: no statement)."""
    viewer_id = info.context.viewer_id
    if viewer_id is None:
        return False
    viewer = await info.context.loaders.user_by_id.load(viewer_id)
    return viewer is not None and is_staff(viewer.role)


async def require_staff_viewer(info: Info) -> int:
    """The signed-in staff member's id: UNAUTHENTICATED when anonymous, FORBIDDEN for anyone else."""
    viewer_id = info.context.require_viewer_id()
    if not await viewer_is_staff(info):
        raise Forbidden("Only moderators and admins may do this.")
    return viewer_id


async def _people(info: Info, ids: Sequence[int | None]) -> list[UserType | None]:
    from schema.users.types import UserType

    wanted = [i for i in ids if i is not None]
    found = dict(zip(wanted, await load_all(info.context.loaders.user_by_id, wanted), strict=True))
    return [UserType.from_row(found[i]) if i is not None and found.get(i) else None for i in ids]


def _people_at(
    attribute: str, *, staff_only: bool = False
) -> Callable[..., Awaitable[list[UserType | None]]]:
    """A batch resolver (`schema.execution.batched`): the person `row.<attribute>` of each source names,
    null where it names none; with `staff_only`, null throughout for anyone but staff."""

    async def people(sources: list[Any], info: Info) -> list[UserType | None]:
        if staff_only and not await viewer_is_staff(info):
            return [None] * len(sources)
        return await _people(info, [getattr(source.row, attribute) for source in sources])

    people.__name__ = f"people_at_{attribute}"
    return people


async def first_pages(model: type[Any], parent: str, parent_ids: list[int], size: int) -> list[KeysetPage]:
    """The first `size` rows (oldest first) under each parent, in one windowed statement."""
    if not parent_ids:
        return []
    distinct = sorted(set(parent_ids))
    rows = await fetch_rows(
        f"SELECT ranked.* FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.{parent} ORDER BY t.id) AS rn"
        f" FROM {model._meta.db_table} t WHERE t.{parent} IN ({placeholders(len(distinct))})) ranked"
        f" WHERE ranked.rn <= ${len(distinct) + 1} ORDER BY ranked.id",
        [*distinct, size + 1],
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[parent]].append(model_from_row(model, row))
    return [KeysetPage(grouped[p][:size], len(grouped[p]) > size) for p in parent_ids]


async def child_pages(
    model: type[Any], parent: str, parent_ids: list[int], request: PageRequest
) -> list[KeysetPage]:
    """A page of each parent's rows, oldest first: the first pages together in one statement; from a
    cursor or backwards (a client paging through one parent), one keyset read each."""
    cursor = request.id_cursor()
    if request.backward or cursor is not None:
        return [
            await keyset_window(
                model.filter(**{parent: p}), request, None if cursor is None else (cursor,), OLDEST_FIRST
            )
            for p in parent_ids
        ]
    return await first_pages(model, parent, parent_ids, request.size)


# --- what the author sees ------------------------------------------------------------------------------


@strawberry.type(
    description="A moderator's decision on a note, comment or product, as its author and staff see it."
)
class ModerationStatus:
    state: ModerationStateEnum = strawberry.field(description="What was decided; NONE when nothing.")  # type: ignore[valid-type]
    reason: str = strawberry.field(
        description="Why, as the moderator wrote it; empty when nothing was decided."
    )
    withheld: bool = strawberry.field(
        description="True while only its author sees it: moderated, or the author's account is suspended or "
        "being deleted."
    )


async def moderation_status(
    info: Info, row: Note | Comment | Product, owner_id: int
) -> ModerationStatus | None:
    """The moderation state of `row` for its owner and for staff; None for anyone else."""
    if not is_self(owner_id, info.context.viewer_id) and not await viewer_is_staff(info):
        return None
    return ModerationStatus(
        state=ModerationState(row.moderation), reason=row.moderation_reason, withheld=row.withheld
    )


# --- notifications -------------------------------------------------------------------------------------


@strawberry.type(
    description="The decision a MODERATION, REPORT_RESOLVED or APPEAL_RESOLVED notification is about. A "
    "reporter is told the outcome only: `actionId`, `reason`, `expiresAt` and `appealableUntil` are null "
    "for REPORT_RESOLVED."
)
class NotificationModeration:
    action: ActionKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What was decided (APPEAL_APPROVED / APPEAL_REJECTED for APPEAL_RESOLVED)."
    )
    subject_kind: SubjectKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What it was about."
    )
    action_id: strawberry.ID | None = strawberry.field(
        description="The decision's id, to appeal it with appealCreate (MODERATION only)."
    )
    reason: str | None = strawberry.field(description="Why, as the moderator wrote it; null for a reporter.")
    expires_at: datetime | None = strawberry.field(
        description="SUSPEND: when the suspension ends; null until lifted, and for other decisions."
    )
    appealable_until: datetime | None = strawberry.field(
        description="Until when the decision can be appealed (20 days); null when it cannot be (or for a "
        "reporter)."
    )


def _expires(action: ModerationAction) -> datetime | None:
    until = action.expires_at
    return None if until is None or until.year >= UNTIL_LIFTED.year else until


def notification_moderation(kind: NotificationKind, action: ModerationAction) -> NotificationModeration:
    affected = kind is not NotificationKind.REPORT_RESOLVED
    return NotificationModeration(
        action=action.action,
        subject_kind=action.subject_kind,
        action_id=strawberry.ID(to_global_id("ModerationAction", action.id)) if affected else None,
        reason=action.reason if affected else None,
        expires_at=_expires(action) if affected else None,
        appealable_until=appealable_until(action) if kind is NotificationKind.MODERATION else None,
    )


async def notification_moderations(
    notifications: list[NotificationType], info: Info
) -> list[NotificationModeration | None]:
    """The decisions a page of notifications is about, in one statement."""
    ids = [n.row.moderation_action_id for n in notifications if n.row.moderation_action_id is not None]
    actions = {a.id: a for a in await ModerationAction.filter(id__in=ids)} if ids else {}
    result: list[NotificationModeration | None] = []
    for n in notifications:
        action = actions.get(n.row.moderation_action_id) if n.row.moderation_action_id is not None else None
        result.append(notification_moderation(NotificationKind(n.row.kind), action) if action else None)
    return result


# --- the log -------------------------------------------------------------------------------------------


_moderators = _people_at("moderator_id", staff_only=True)
_targets = _people_at("target_user_id", staff_only=True)


async def _appeals_of(entries: list[ModerationActionType], info: Info) -> list[AppealType | None]:
    ids = [e.row.id for e in entries]
    found = {a.action_id: a for a in await Appeal.filter(action_id__in=ids)} if ids else {}  # type: ignore[attr-defined]
    return [AppealType.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(
    name="ModerationAction",
    description="An entry of the append-only moderation log: a decision and its reason. Staff see every "
    "entry (a case's `history`); a person sees the decisions taken about them (`viewer.moderationActions`).",
)
class ModerationActionType:
    row: strawberry.Private[ModerationAction]
    id: strawberry.ID = strawberry.field(description="The entry's global id (appealCreate's actionId).")
    action: ActionKindEnum = strawberry.field(description="What was decided or recorded.")  # type: ignore[valid-type]
    reason: str = strawberry.field(description="Why, as the moderator wrote it.")
    subject_kind: SubjectKindEnum = strawberry.field(description="What it was about.")  # type: ignore[valid-type]
    subject_id: strawberry.ID = strawberry.field(
        description="The global id of what it was about (a Note, Comment, User or Product id)."
    )
    duration_days: int | None = strawberry.field(
        description="SUSPEND: the days it lasts; null until lifted, and for other decisions."
    )
    expires_at: datetime | None = strawberry.field(
        description="SUSPEND: when the suspension ends; null until lifted, and for other decisions."
    )
    appealable_until: datetime | None = strawberry.field(
        description="Until when the decision can be appealed (20 days after it); null when it cannot be."
    )
    report_count: int = strawberry.field(description="How many reports the decision resolved.")
    created_at: datetime = strawberry.field(description="When it was decided.")

    @classmethod
    def from_row(cls, row: ModerationAction) -> ModerationActionType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("ModerationAction", row.id)),
            action=row.action,
            reason=row.reason,
            subject_kind=row.subject_kind,
            subject_id=subject_global_id(row.subject_kind, row.subject_id),
            duration_days=row.duration_days,
            expires_at=_expires(row),
            appealable_until=appealable_until(row),
            report_count=len(row.report_ids or []),
            created_at=row.created_at,
        )

    @strawberry.field(
        description="The staff member who decided; null for anyone but staff, and for what the command line "
        "did (a role granted there).",
        metadata=batched(_moderators),
    )
    async def moderator(self, info: Info) -> UserRef | None:
        return (await _moderators([self], info))[0]

    @strawberry.field(
        description="The person affected (the owner of the content); staff only, null for anyone else.",
        metadata=batched(_targets),
    )
    async def target_user(self, info: Info) -> UserRef | None:
        return (await _targets([self], info))[0]

    @strawberry.field(description="The appeal of this decision, once made.", metadata=batched(_appeals_of))
    async def appeal(self, info: Info) -> AppealType | None:
        return (await _appeals_of([self], info))[0]


# --- appeals -------------------------------------------------------------------------------------------


async def _appealed(appeals: list[AppealType], info: Info) -> list[ModerationActionType]:
    ids = [a.row.action_id for a in appeals]  # type: ignore[attr-defined]
    found = {a.id: a for a in await ModerationAction.filter(id__in=ids)} if ids else {}
    return [ModerationActionType.from_row(found[i]) for i in ids]


async def _appellants(appeals: list[AppealType], info: Info) -> list[UserType | None]:
    staff = await viewer_is_staff(info)
    ids = [a.row.appellant_id for a in appeals]  # type: ignore[attr-defined]
    return await _people(info, [i if staff or is_self(i, info.context.viewer_id) else None for i in ids])


@strawberry.type(
    name="Appeal",
    description="A person's appeal of a decision taken about them, decided by a moderator other than the one "
    "who took it.",
)
class AppealType:
    row: strawberry.Private[Appeal]
    id: strawberry.ID = strawberry.field(description="The appeal's global id (appealResolve's appealId).")
    text: str = strawberry.field(description="What the person wrote, up to 2,000 characters.")
    status: AppealStatusEnum = strawberry.field(description="PENDING until decided.")  # type: ignore[valid-type]
    resolution: str = strawberry.field(description="The deciding moderator's note; empty while pending.")
    created_at: datetime = strawberry.field(description="When the appeal was made.")
    resolved_at: datetime | None = strawberry.field(description="When it was decided; null while pending.")

    @classmethod
    def from_row(cls, row: Appeal) -> AppealType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Appeal", row.id)),
            text=row.text,
            status=row.status,
            resolution=row.resolution,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
        )

    @strawberry.field(description="The decision appealed.", metadata=batched(_appealed))
    async def action(self, info: Info) -> ModerationActionType:
        return (await _appealed([self], info))[0]

    @strawberry.field(
        description="Who appealed: staff and the appellant see it; null for anyone else.",
        metadata=batched(_appellants),
    )
    async def appellant(self, info: Info) -> UserRef | None:
        return (await _appellants([self], info))[0]


# --- the queue -----------------------------------------------------------------------------------------


async def _subjects(cases: list[ModerationCaseType], info: Info) -> list[Node | None]:
    """Each case's subject as staff see it: withheld content too (that is what they judge), deleted
    content not. One statement per kind of subject on the page."""
    from schema.catalog.types import ProductType
    from schema.notes.types import NoteType
    from schema.social.types import CommentType

    wanted: dict[SubjectKind, list[int]] = defaultdict(list)
    for case in cases:
        wanted[SubjectKind(case.row.subject_kind)].append(case.row.subject_id)
    found: dict[tuple[SubjectKind, int], Node] = {}
    builders: dict[SubjectKind, tuple[Any, Any]] = {
        SubjectKind.NOTE: (Note.filter(deleted_at=None), NoteType.from_row),
        SubjectKind.COMMENT: (Comment.filter(deleted_at=None), CommentType.from_row),
        SubjectKind.PRODUCT: (Product.all(), ProductType.from_row),
    }
    for kind, ids in wanted.items():
        if kind is SubjectKind.USER:
            for user_id, person in zip(ids, await _people(info, ids), strict=True):
                if person is not None and person.row.deleted_at is None:
                    found[(kind, user_id)] = person
            continue
        query, build = builders[kind]
        for row in await query.filter(id__in=ids):
            found[(kind, row.id)] = build(row)
    return [found.get((SubjectKind(c.row.subject_kind), c.row.subject_id)) for c in cases]


_owners = _people_at("subject_owner_id")
_assignees = _people_at("assignee_id")


async def _reports(
    cases: list[ModerationCaseType],
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[ReportType]]:
    request = page_request(first, after, last, before)
    pages = await child_pages(Report, "case_id", [c.row.id for c in cases], request)
    return [
        build_connection(page, None, _report_of(case.row), total_count=case.row.report_count)
        for case, page in zip(cases, pages, strict=True)
    ]


def _report_of(case: ModerationCase) -> Callable[[Report], ReportType]:
    return lambda row: ReportType.from_row(row, SubjectKind(case.subject_kind), case.subject_id)


async def _history(
    cases: list[ModerationCaseType],
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[ModerationActionType]]:
    request = page_request(first, after, last, before)
    pages = await child_pages(ModerationAction, "case_id", [c.row.id for c in cases], request)
    return [build_connection(page, None, ModerationActionType.from_row) for page in pages]


@strawberry.type(
    name="ModerationCase",
    description="One subject of the moderation queue with every report on it, however many: fifty reports "
    "of one note are one case with `reportCount` 50. Staff only.",
)
class ModerationCaseType:
    row: strawberry.Private[ModerationCase]
    id: strawberry.ID = strawberry.field(description="The case's global id (moderationCaseAssign's caseId).")
    subject_kind: SubjectKindEnum = strawberry.field(description="What the case is about.")  # type: ignore[valid-type]
    subject_id: strawberry.ID = strawberry.field(
        description="The global id of the subject (a Note, Comment, User or Product id): moderationAction's "
        "subjectId."
    )
    status: CaseStatusEnum = strawberry.field(description="OPEN while it waits for a decision.")  # type: ignore[valid-type]
    source: CaseSourceEnum = strawberry.field(description="How it reached the queue.")  # type: ignore[valid-type]
    report_count: int = strawberry.field(description="Every report ever made on the subject.")
    open_report_count: int = strawberry.field(
        description="Reports waiting for a decision: the queue's order."
    )
    top_category: ReportCategoryEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The category most reported among the open reports; null when none is open."
    )
    signal: JSON = strawberry.field(
        description="Why a rule flagged it: the rule's name and its evidence (FAKE_REVIEW_RULE); {} for "
        "reports."
    )
    created_at: datetime = strawberry.field(description="When the case was opened.")
    updated_at: datetime = strawberry.field(description="When a report or a decision last changed it.")
    resolved_at: datetime | None = strawberry.field(description="When it was last resolved; null while open.")

    @classmethod
    def from_row(cls, row: ModerationCase) -> ModerationCaseType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("ModerationCase", row.id)),
            subject_kind=row.subject_kind,
            subject_id=subject_global_id(row.subject_kind, row.subject_id),
            status=row.status,
            source=row.source,
            report_count=row.report_count,
            open_report_count=row.open_report_count,
            top_category=row.top_category,
            signal=cast(JSON, row.signal or {}),
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
        )

    @strawberry.field(
        description="The subject itself (a Note, Comment, User or Product), hidden or not: staff judge what "
        "others no longer see. Null once deleted.",
        metadata=batched(_subjects),
    )
    async def subject(self, info: Info) -> Node | None:
        return (await _subjects([self], info))[0]

    @strawberry.field(
        description="Whose the subject is: the author, the merchant, or the person reported.",
        metadata=batched(_owners),
    )
    async def owner(self, info: Info) -> UserRef | None:
        return (await _owners([self], info))[0]

    @strawberry.field(
        description="The staff member the case is assigned to; null when nobody.",
        metadata=batched(_assignees),
    )
    async def assignee(self, info: Info) -> UserRef | None:
        return (await _assignees([self], info))[0]

    @strawberry.field(
        description="The reports, oldest first, open and resolved; `totalCount` is `reportCount`.",
        metadata=batched(_reports),
    )
    async def reports(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[ReportType]:
        return (await _reports([self], info, first, after, last, before))[0]

    @strawberry.field(
        description="The case's entries of the moderation log, oldest first: decisions, assignments, appeal "
        "outcomes.",
        metadata=batched(_history),
    )
    async def history(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[ModerationActionType]:
        return (await _history([self], info, first, after, last, before))[0]
