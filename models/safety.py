"""Trust and safety: blocks and mutes, keyword filters, reports grouped into moderation cases, the
moderators' append-only action log, appeals, and data exports."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.users import User


class Role(StrEnum):
    USER = "USER"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


class ModerationState(StrEnum):
    """What a moderator decided about one note, comment or product."""

    NONE = "NONE"
    # Out of sight for everyone but its author, who sees the state and the reason; may be restored.
    HIDDEN = "HIDDEN"
    # Taken down for breaking the rules; the author still sees it with the reason (and may appeal).
    REMOVED = "REMOVED"
    # A product that can no longer be bought or shown (counterfeit, prohibited).
    DELISTED = "DELISTED"


class SubjectKind(StrEnum):
    """What a report or a moderation action is about. A review is a note that reviews a product."""

    NOTE = "NOTE"
    COMMENT = "COMMENT"
    USER = "USER"
    PRODUCT = "PRODUCT"


class ReportCategory(StrEnum):
    SPAM = "SPAM"
    HARASSMENT = "HARASSMENT"
    HATE = "HATE"
    MISLEADING = "MISLEADING"
    COUNTERFEIT = "COUNTERFEIT"
    PROHIBITED_ITEM = "PROHIBITED_ITEM"
    FAKE_REVIEW = "FAKE_REVIEW"
    IP = "IP"
    OTHER = "OTHER"


class ReportStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class CaseSource(StrEnum):
    """How a case reached the queue: people reported it, or a rule flagged it."""

    REPORTS = "REPORTS"
    FAKE_REVIEW_RULE = "FAKE_REVIEW_RULE"


class ModerationActionKind(StrEnum):
    DISMISS = "DISMISS"
    HIDE = "HIDE"
    REMOVE = "REMOVE"
    RESTORE = "RESTORE"
    WARN = "WARN"
    SUSPEND = "SUSPEND"
    UNSUSPEND = "UNSUSPEND"
    DELIST_PRODUCT = "DELIST_PRODUCT"
    # Written by the system, never chosen by a moderator: an appeal granted undoes its action.
    APPEAL_APPROVED = "APPEAL_APPROVED"
    APPEAL_REJECTED = "APPEAL_REJECTED"
    ASSIGN = "ASSIGN"
    ROLE_GRANTED = "ROLE_GRANTED"


class AppealStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class FilterAction(StrEnum):
    HIDE = "HIDE"
    WARN = "WARN"


class FilterContext(StrEnum):
    FEED = "FEED"
    SEARCH = "SEARCH"
    COMMENTS = "COMMENTS"
    NOTIFICATIONS = "NOTIFICATIONS"


class ExportStatus(StrEnum):
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"


class Block(Model):
    """The blocker never sees the blocked person again, who can no longer see or reach the blocker."""

    id = fields.IntField(primary_key=True)
    blocker: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="blocks_made", on_delete=fields.CASCADE
    )
    blocked: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="blocks_received", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "blocks"
        unique_together = (("blocker_id", "blocked_id"),)
        indexes = (("blocked_id", "blocker_id"),)


class Mute(Model):
    """The muter stops seeing the muted person's content, and the muted person is never told."""

    id = fields.IntField(primary_key=True)
    muter: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="mutes_made", on_delete=fields.CASCADE
    )
    muted: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="mutes_received", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mutes"
        unique_together = (("muter_id", "muted_id"),)


class ContentFilter(Model):
    """A phrase a person does not want to see, in some contexts, hidden or behind a warning."""

    id = fields.IntField(primary_key=True)
    owner: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="content_filters", on_delete=fields.CASCADE
    )
    phrase = fields.CharField(max_length=100)
    # FilterContext names.
    contexts: fields.Field[list[str]] = fields.JSONField(default=list)
    action = fields.CharEnumField(FilterAction, max_length=8, default=FilterAction.HIDE)
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "content_filters"
        indexes = (("owner_id", "id"),)


class ModerationCase(Model):
    """One subject in the moderation queue: every report on it (however many) joins this one case."""

    id = fields.IntField(primary_key=True)
    subject_kind = fields.CharEnumField(SubjectKind, max_length=8)
    subject_id = fields.IntField()
    # The person the subject belongs to (a note's author, a product's merchant, the user reported).
    subject_owner: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="cases_about", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(CaseStatus, max_length=8, default=CaseStatus.OPEN)
    source = fields.CharEnumField(CaseSource, max_length=20, default=CaseSource.REPORTS)
    # Open reports now, and every report ever made on the subject.
    open_report_count = fields.IntField(default=0)
    report_count = fields.IntField(default=0)
    # The category most reported among the open reports (the queue filters on it).
    top_category = fields.CharEnumField(ReportCategory, max_length=16, null=True)
    # Why a rule flagged it (the rule's name and its evidence), for a case a rule opened.
    signal: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    assignee: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="assigned_cases", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "moderation_cases"
        unique_together = (("subject_kind", "subject_id"),)
        indexes = (("status", "open_report_count", "id"), ("status", "top_category", "id"))


class Report(Model):
    """One person's report of one subject, filed into the subject's case."""

    id = fields.IntField(primary_key=True)
    reporter: fields.ForeignKeyNullableRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="reports_made", null=True, on_delete=fields.SET_NULL
    )
    case: fields.ForeignKeyRelation[ModerationCase] = fields.ForeignKeyField(
        "models.ModerationCase", related_name="reports", on_delete=fields.CASCADE
    )
    category = fields.CharEnumField(ReportCategory, max_length=16)
    comment = fields.CharField(max_length=1000, default="")
    status = fields.CharEnumField(ReportStatus, max_length=8, default=ReportStatus.OPEN)
    # The case id while the report is open, null once resolved: unique with the reporter, so a person has
    # at most one open report per subject, enforced by the database (nulls never collide).
    open_case_id = fields.IntField(null=True)
    outcome = fields.CharEnumField(ModerationActionKind, max_length=16, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reports"
        unique_together = (("reporter_id", "open_case_id"),)
        indexes = (("case_id", "id"), ("reporter_id", "id"))


class ModerationAction(Model):
    """The append-only audit log: every moderation decision, role grant and appeal outcome, never changed
    or deleted (the moderator's and the affected person's ids are kept even after they leave)."""

    id = fields.IntField(primary_key=True)
    case_id = fields.IntField(null=True)
    moderator_id = fields.IntField(null=True)
    target_user_id = fields.IntField(null=True)
    subject_kind = fields.CharEnumField(SubjectKind, max_length=8)
    subject_id = fields.IntField()
    action = fields.CharEnumField(ModerationActionKind, max_length=16)
    reason = fields.CharField(max_length=1000, default="")
    report_ids: fields.Field[list[int]] = fields.JSONField(default=list)
    duration_days = fields.IntField(null=True)
    # A suspension's end (null: until lifted).
    expires_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_actions"
        indexes = (("case_id", "id"), ("target_user_id", "id"), ("moderator_id", "created_at"))


class Appeal(Model):
    """A person's appeal of an action taken against them: one per action, decided by another moderator."""

    id = fields.IntField(primary_key=True)
    action: fields.OneToOneRelation[ModerationAction] = fields.OneToOneField(
        "models.ModerationAction", related_name="appeal", on_delete=fields.CASCADE
    )
    appellant: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="appeals", on_delete=fields.CASCADE
    )
    text = fields.CharField(max_length=2000)
    status = fields.CharEnumField(AppealStatus, max_length=8, default=AppealStatus.PENDING)
    resolver_id = fields.IntField(null=True)
    resolution = fields.CharField(max_length=1000, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "appeals"
        indexes = (("status", "id"),)


class DataExport(Model):
    """A person's archive of their data, built by a job and downloadable until it expires."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation["User"] = fields.ForeignKeyField(
        "models.User", related_name="data_exports", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(ExportStatus, max_length=8, default=ExportStatus.PENDING)
    # The storage key of the archive, and a random token that signs its download link.
    storage_key = fields.CharField(max_length=255, null=True)
    token = fields.CharField(max_length=32, unique=True)
    byte_size = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    ready_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "data_exports"
        indexes = (("user_id", "id"), ("expires_at",))
