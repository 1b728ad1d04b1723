"""GraphQL enums of reports, the moderation queue, moderators' decisions, appeals and roles."""

from __future__ import annotations

from models import (
    AppealStatus,
    CaseSource,
    CaseStatus,
    ModerationActionKind,
    ModerationState,
    ReportCategory,
    ReportStatus,
    Role,
    SubjectKind,
)
from safety.moderation import Decision
from schema.enums import described_enum

RoleEnum = described_enum(
    Role,
    name="Role",
    description="What a person may do beyond using the app: moderators and admins are staff.",
    values={
        "USER": "Everyone.",
        "MODERATOR": "Works the moderation queue: decides reports and appeals.",
        "ADMIN": "A moderator who also grants roles and acts on other admins.",
    },
)
ModerationStateEnum = described_enum(
    ModerationState,
    name="ModerationState",
    description="What a moderator decided about a note, comment or product.",
    values={
        "NONE": "Nothing: shown as usual.",
        "HIDDEN": "Out of sight for everyone but its author, who sees the reason; may be restored.",
        "REMOVED": "Taken down for breaking the rules; its author still sees it, with the reason, and may "
        "appeal.",
        "DELISTED": "A product that can no longer be bought or shown (counterfeit, prohibited).",
    },
)
SubjectKindEnum = described_enum(
    SubjectKind,
    name="ModerationSubjectKind",
    description="What a report, a case or a decision is about. A review is a NOTE.",
    values={
        "NOTE": "A note (a product review included).",
        "COMMENT": "A comment or reply.",
        "USER": "A person's account.",
        "PRODUCT": "A merchant's product.",
    },
)
ReportCategoryEnum = described_enum(
    ReportCategory,
    name="ReportCategory",
    description="Why something is reported.",
    values={
        "SPAM": "Spam, scams or unsolicited advertising.",
        "HARASSMENT": "Harassment, bullying or threats aimed at someone.",
        "HATE": "Hate speech against a group.",
        "MISLEADING": "Misleading or false information.",
        "COUNTERFEIT": "A counterfeit product, or one passed off as another brand's.",
        "PROHIBITED_ITEM": "Something that may not be sold here.",
        "FAKE_REVIEW": "A review not written from a real purchase or use.",
        "IP": "Someone else's work used without permission (copyright, trademark).",
        "OTHER": "Something else: say what in the comment.",
    },
)
ReportStatusEnum = described_enum(
    ReportStatus,
    name="ReportStatus",
    description="Where a report is.",
    values={
        "OPEN": "Waiting in the moderation queue.",
        "RESOLVED": "A moderator decided; `outcome` says what.",
    },
)
CaseStatusEnum = described_enum(
    CaseStatus,
    name="ModerationCaseStatus",
    description="Where a case of the moderation queue is.",
    values={
        "OPEN": "Waiting for a decision: it has open reports, or a rule flagged it.",
        "RESOLVED": "Decided; a new report opens it again.",
    },
)
CaseSourceEnum = described_enum(
    CaseSource,
    name="ModerationCaseSource",
    description="How a case reached the queue.",
    values={
        "REPORTS": "People reported the subject (or a moderator acted on it unreported).",
        "FAKE_REVIEW_RULE": "The fake-review rule flagged a review: by an account created after the product, "
        "with no purchase of it (`signal` holds the evidence).",
    },
)
ActionKindEnum = described_enum(
    ModerationActionKind,
    name="ModerationActionKind",
    description="An entry of the moderation log: a moderator's decision, or what the system recorded.",
    values={
        "DISMISS": "The reports were dismissed: nothing breaks the rules.",
        "HIDE": "The note or comment was hidden from everyone but its author.",
        "REMOVE": "The note or comment was taken down for breaking the rules.",
        "RESTORE": "Hidden, removed or delisted content was brought back.",
        "WARN": "The person was warned.",
        "SUSPEND": "The account was suspended: no sign-in, its content withheld (`expiresAt`: until when).",
        "UNSUSPEND": "A suspension was lifted.",
        "DELIST_PRODUCT": "The product was delisted: it can no longer be bought or shown.",
        "APPEAL_APPROVED": "An appeal was approved and the decision appealed undone.",
        "APPEAL_REJECTED": "An appeal was rejected: the decision stands.",
        "ASSIGN": "The case was given to a moderator (or taken back).",
        "ROLE_GRANTED": "The person's role changed (`reason` says from what to what).",
    },
)
DecisionEnum = described_enum(
    Decision,
    name="ModerationDecision",
    description="What a moderator decides about a subject. HIDE and REMOVE take notes and comments, "
    "DELIST_PRODUCT products, RESTORE any content; WARN, SUSPEND and UNSUSPEND a person, or content "
    "(acting on its owner); DISMISS any subject with open reports. Anything else is INVALID.",
    values={
        "DISMISS": "Close the reports: nothing breaks the rules. The owner is not told.",
        "HIDE": "Hide the note or comment from everyone but its author (who sees the reason).",
        "REMOVE": "Take the note or comment down for breaking the rules (its author sees it, with the "
        "reason).",
        "RESTORE": "Bring hidden, removed or delisted content back.",
        "WARN": "Warn the person (or the content's owner); nothing else changes.",
        "SUSPEND": "Suspend the person (or the content's owner) for `durationDays`, or until lifted: they "
        "cannot sign in, their tokens stop working, their content is withheld and their products cannot be "
        "bought.",
        "UNSUSPEND": "Lift a suspension: the person can sign in and their content returns.",
        "DELIST_PRODUCT": "Delist the product: it can no longer be bought or shown.",
    },
)
AppealStatusEnum = described_enum(
    AppealStatus,
    name="AppealStatus",
    description="Where an appeal is.",
    values={
        "PENDING": "Waiting for a moderator other than the one who decided.",
        "APPROVED": "Approved: the decision was undone.",
        "REJECTED": "Rejected: the decision stands.",
    },
)
