"""reportCreate: anyone signed in reports a note (a review is a note), a comment, a person or a product."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.errors import DomainError, ErrorCode, FieldLike
from core.ids import parse_global_id
from core.ratelimit import Action
from models import ReportCategory
from safety.queue import Subject
from safety.reports import SUBJECT_TYPES, file_report
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.safety.moderation_enums import ReportCategoryEnum
from schema.safety.reports_types import ReportType
from schema.throttle import throttle

_KINDS = {type_name: kind for kind, type_name in SUBJECT_TYPES.items()}


def decode_subject(global_id: str, field: FieldLike = "subject_id") -> Subject:
    """The subject a Note, Comment, User or Product id names; INVALID for any other id."""
    parsed = parse_global_id(global_id)
    kind = _KINDS.get(parsed[0]) if parsed is not None else None
    if parsed is None or kind is None:
        raise DomainError(ErrorCode.INVALID, "Not a Note, Comment, User or Product id.", field)
    return Subject(kind, parsed[1])


@strawberry.input(description="What is reported, and why.")
class ReportCreateInput:
    subject_id: strawberry.ID = strawberry.field(
        description="A Note (a review is a note), Comment, User or Product id; not yourself or your own "
        "content."
    )
    category: ReportCategoryEnum = strawberry.field(description="Why.")  # type: ignore[valid-type]
    comment: str = strawberry.field(
        default="", description="Anything the moderators should know, up to 1,000 characters."
    )


@strawberry.type(description="The result of reportCreate.")
class ReportCreatePayload:
    report: ReportType | None = strawberry.field(
        default=None, description="The report, OPEN in the moderation queue; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class ReportMutation:
    @strawberry.mutation(
        description="Report something to the moderators. One open report per person and subject "
        "(ALREADY_REPORTED until a moderator decides); every report on a subject joins its one case, and "
        "reports never act by themselves. Yourself or your own content is INVALID. 30 reports per person "
        "per hour (RATE_LIMITED)."
    )
    @returns_errors
    async def report_create(
        self, info: Info, input: Annotated[ReportCreateInput, strawberry.argument(description="The report.")]
    ) -> ReportCreatePayload:
        reporter_id = info.context.require_viewer_id()
        subject = decode_subject(input.subject_id)
        await throttle(info, Action.REPORT, per_user=True)
        report = await file_report(
            reporter_id=reporter_id,
            subject=subject,
            category=ReportCategory(input.category),
            comment=input.comment,
        )
        return ReportCreatePayload(report=ReportType.from_row(report, subject.kind, subject.id))
