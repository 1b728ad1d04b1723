"""Root fields of the moderation queue and appeals (staff only), and the lists a person has of their own
reports, appeals and the decisions taken about them (`viewer { reports appeals moderationActions }`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from tortoise.expressions import Q

from core.cursors import PageRequest, bad_cursor, decode_cursor, page_request
from core.ids import MAX_INT_KEY, parse_global_id
from models import (
    Appeal,
    AppealStatus,
    CaseSource,
    CaseStatus,
    ModerationAction,
    ModerationActionKind,
    ModerationCase,
    Report,
    ReportCategory,
    SubjectKind,
)
from safety.queue import queue_filter
from schema.context import Info
from schema.relay import (
    OLDEST_FIRST,
    After,
    Before,
    Connection,
    First,
    KeysetOrder,
    Last,
    build_connection,
    keyset_connection,
    keyset_window,
)
from schema.safety.moderation_enums import (
    AppealStatusEnum,
    CaseSourceEnum,
    CaseStatusEnum,
    ReportCategoryEnum,
)
from schema.safety.moderation_types import (
    AppealType,
    ModerationActionType,
    ModerationCaseType,
    require_staff_viewer,
)
from schema.safety.reports_types import ReportType


@dataclass(frozen=True)
class MostReportedFirst(KeysetOrder):
    """The queue's order: most open reports first, then the longest waiting (oldest case) first."""

    fields: tuple[str, ...] = ("open_report_count", "id")

    def order_by(self, *, reverse: bool = False) -> list[str]:
        return ["open_report_count", "-id"] if reverse else ["-open_report_count", "id"]

    def beyond(self, position: tuple[Any, ...], *, later: bool, inclusive: bool = False) -> Q:
        count, case_id = position
        equal = "e" if inclusive else ""
        if later:  # fewer open reports, or as many and opened later
            return Q(open_report_count__lt=count) | Q(open_report_count=count, **{f"id__gt{equal}": case_id})
        return Q(open_report_count__gt=count) | Q(open_report_count=count, **{f"id__lt{equal}": case_id})


MOST_REPORTED_FIRST = MostReportedFirst()


def _case_key(row: ModerationCase) -> str:
    return f"{row.open_report_count}:{row.id}"


def _case_position(request: PageRequest) -> tuple[int, int] | None:
    if request.cursor is None:
        return None
    (key,) = decode_cursor(request.cursor, argument=request.cursor_argument)
    count, _, case_id = str(key).partition(":")
    if not (
        count.isdigit() and case_id.isdigit() and int(count) <= MAX_INT_KEY and int(case_id) <= MAX_INT_KEY
    ):
        raise bad_cursor(request.cursor_argument)
    return int(count), int(case_id)


# Decisions a person sees about themselves: what was decided, never the bookkeeping (assignments) or
# reports against them that came to nothing.
_SHOWN_TO_TARGET = [
    kind
    for kind in ModerationActionKind
    if kind not in (ModerationActionKind.ASSIGN, ModerationActionKind.DISMISS)
]


async def viewer_reports(info: Info, reporter_id: int, request: PageRequest) -> Connection[ReportType]:
    """The reports a person made, newest first, with their outcome."""
    query = Report.filter(reporter_id=reporter_id)
    cursor = request.id_cursor()
    page = await keyset_window(query.select_related("case"), request, None if cursor is None else (cursor,))
    return build_connection(
        page,
        None,
        lambda row: ReportType.from_row(row, SubjectKind(row.case.subject_kind), row.case.subject_id),
        total_count=query.count,
    )


async def viewer_appeals(info: Info, appellant_id: int, request: PageRequest) -> Connection[AppealType]:
    """A person's appeals, newest first."""
    query = Appeal.filter(appellant_id=appellant_id)
    return await keyset_connection(query, request, AppealType.from_row, total_count=query.count)


async def viewer_moderation_actions(
    info: Info, user_id: int, request: PageRequest
) -> Connection[ModerationActionType]:
    """The decisions taken about a person, newest first."""
    query = ModerationAction.filter(target_user_id=user_id, action__in=_SHOWN_TO_TARGET)
    return await keyset_connection(query, request, ModerationActionType.from_row, total_count=query.count)


@strawberry.type
class ModerationQuery:
    @strawberry.field(
        description="The moderation queue (moderators and admins; FORBIDDEN for anyone else): one case per "
        "reported or flagged subject, most open reports first, then the longest waiting. Cases move as "
        "reports arrive, so a case may show on two pages; `totalCount` is counted when asked for."
    )
    async def moderation_queue(
        self,
        info: Info,
        status: Annotated[
            CaseStatusEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="OPEN (the default) or RESOLVED cases; null for both."),
        ] = CaseStatus.OPEN,
        category: Annotated[
            ReportCategoryEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only cases whose most reported open category is this."),
        ] = None,
        source: Annotated[
            CaseSourceEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only cases that came from people's reports, or from a rule."),
        ] = None,
        assigned_to_me: Annotated[
            bool, strawberry.argument(description="Only the cases assigned to you.")
        ] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[ModerationCaseType]:
        viewer_id = await require_staff_viewer(info)
        request = page_request(first, after, last, before)
        position = _case_position(request)
        query = ModerationCase.filter(
            queue_filter(
                status=CaseStatus(status) if status is not None else None,
                category=ReportCategory(category) if category is not None else None,
                source=CaseSource(source) if source is not None else None,
                assignee_id=viewer_id if assigned_to_me else None,
            )
        )
        page = await keyset_window(query, request, position, MOST_REPORTED_FIRST)
        return build_connection(
            page, None, ModerationCaseType.from_row, key=_case_key, total_count=query.count
        )

    @strawberry.field(
        description="One case of the moderation queue by its id (staff only); null when there is none."
    )
    async def moderation_case(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A ModerationCase id.")],
    ) -> ModerationCaseType | None:
        await require_staff_viewer(info)
        parsed = parse_global_id(id)
        if parsed is None or parsed[0] != "ModerationCase":
            return None
        row = await ModerationCase.get_or_none(id=parsed[1])
        return ModerationCaseType.from_row(row) if row is not None else None

    @strawberry.field(
        description="Appeals for moderators to decide (staff only), oldest first: PENDING by default. "
        "`totalCount` is counted when asked for."
    )
    async def moderation_appeals(
        self,
        info: Info,
        status: Annotated[
            AppealStatusEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="PENDING (the default), APPROVED or REJECTED; null for all."),
        ] = AppealStatus.PENDING,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AppealType]:
        await require_staff_viewer(info)
        request = page_request(first, after, last, before)
        query = Appeal.filter(status=AppealStatus(status)) if status is not None else Appeal.all()
        return await keyset_connection(
            query, request, AppealType.from_row, total_count=query.count, order=OLDEST_FIRST
        )
