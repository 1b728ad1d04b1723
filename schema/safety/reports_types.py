"""The Report type: one person's report of a note, comment, person or product."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from core.ids import to_global_id
from models import Report, SubjectKind
from safety.reports import SUBJECT_TYPES
from schema.context import Info
from schema.safety.moderation_enums import (
    ActionKindEnum,
    ReportCategoryEnum,
    ReportStatusEnum,
    SubjectKindEnum,
)
from social.policy import is_self

if TYPE_CHECKING:
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]


def subject_global_id(kind: SubjectKind | str, subject_id: int) -> strawberry.ID:
    return strawberry.ID(to_global_id(SUBJECT_TYPES[SubjectKind(kind)], subject_id))


@strawberry.type(
    name="Report",
    description="A report of a note, comment, person or product. Its reporter sees it in `viewer.reports`; "
    "staff see it in its case.",
)
class ReportType:
    row: strawberry.Private[Report]
    id: strawberry.ID = strawberry.field(
        description="The report's global id (reportIds of moderationAction)."
    )
    category: ReportCategoryEnum = strawberry.field(description="Why it was reported.")  # type: ignore[valid-type]
    comment: str = strawberry.field(
        description="What the reporter added, up to 1,000 characters; may be empty."
    )
    status: ReportStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="OPEN until a moderator decides."
    )
    outcome: ActionKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="What the moderator decided (DISMISS: nothing breaks the rules); null while open."
    )
    subject_kind: SubjectKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What was reported."
    )
    subject_id: strawberry.ID = strawberry.field(
        description="The global id of what was reported (a Note, Comment, User or Product id)."
    )
    created_at: datetime = strawberry.field(description="When the report was made.")
    resolved_at: datetime | None = strawberry.field(description="When a moderator decided; null while open.")

    @classmethod
    def from_row(cls, row: Report, subject_kind: SubjectKind, subject_id: int) -> ReportType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Report", row.id)),
            category=row.category,
            comment=row.comment,
            status=row.status,
            outcome=row.outcome,
            subject_kind=subject_kind,
            subject_id=subject_global_id(subject_kind, subject_id),
            created_at=row.created_at,
            resolved_at=row.resolved_at,
        )

    @strawberry.field(
        description="Who reported it: shown to staff and to the reporter; null for anyone else, and once the "
        "reporter's account is gone."
    )
    async def reporter(self, info: Info) -> UserRef | None:
        from schema.safety.moderation_types import viewer_is_staff
        from schema.users.types import UserType

        reporter_id: int | None = self.row.reporter_id  # type: ignore[attr-defined]
        if reporter_id is None:
            return None
        if not is_self(reporter_id, info.context.viewer_id) and not await viewer_is_staff(info):
            return None
        user = await info.context.loaders.user_by_id.load(reporter_id)
        return UserType.from_row(user) if user is not None else None
