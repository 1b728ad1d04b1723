"""Reports: anyone signed in reports a note (a review is a note), a comment, a person or a product.

A report joins its subject's one case (`safety.queue`); the case's counters — open reports, reports ever,
the top category — change in the same transaction as the report. A person has at most one open report
per subject (the database enforces it: `reports` is unique on (reporter_id, open_case_id), and
`open_case_id` is cleared when the report is resolved, so once resolved they may report again). Reports
never act by themselves: fifty reports are one case with fifty reports, for a moderator to judge.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, NotFound
from core.validation import Checks
from models import CaseStatus, ModerationCase, Report, ReportCategory, SubjectKind
from safety.queue import Subject, open_case, subject_facts, top_category

MAX_COMMENT = 1000
# The API type of each subject kind: a subject's global id, in the API and in a person's data export.
SUBJECT_TYPES = {
    SubjectKind.NOTE: "Note",
    SubjectKind.COMMENT: "Comment",
    SubjectKind.USER: "User",
    SubjectKind.PRODUCT: "Product",
}


class AlreadyReported(DomainError):
    """The reporter's earlier report of this subject is still open."""

    def __init__(self, field: str = "subject_id") -> None:
        super().__init__(
            ErrorCode.ALREADY_REPORTED,
            "You already reported this; a moderator will look at it.",
            field,
        )


async def file_report(
    *, reporter_id: int, subject: Subject, category: ReportCategory, comment: str = ""
) -> Report:
    """Report `subject`; the report joins the subject's case (made, or reopened, as needed)."""
    checks = Checks()
    text = checks.text("comment", comment, max_length=MAX_COMMENT, min_length=0, required=False) or ""
    checks.done()
    facts = await subject_facts(subject)
    if facts.owner_id == reporter_id:
        raise DomainError(ErrorCode.INVALID, "You cannot report yourself or your own content.", "subject_id")
    if facts.withheld:
        # Out of sight for everyone but its owner: nobody else can have seen it to report it.
        raise NotFound(subject.kind.value.capitalize(), "subject_id")
    try:
        async with in_transaction():
            case_id, _ = await open_case(subject, facts.owner_id)
            if await Report.filter(reporter_id=reporter_id, open_case_id=case_id).exists():
                raise AlreadyReported()
            report = await Report.create(
                reporter_id=reporter_id,
                case_id=case_id,
                category=category,
                comment=text,
                open_case_id=case_id,
            )
            await ModerationCase.filter(id=case_id).update(
                open_report_count=F("open_report_count") + 1,
                report_count=F("report_count") + 1,
                top_category=await top_category(case_id),
                subject_owner_id=facts.owner_id,
                status=CaseStatus.OPEN,
                resolved_at=None,
            )
    except IntegrityError as exc:
        # The same person's report of the same subject, made at the same moment: the database kept one.
        raise AlreadyReported() from exc
    return report
