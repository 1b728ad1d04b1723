"""Mutations of moderation: decisions, assigning cases, granting roles, and appeals."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.errors import DomainError, ErrorCode, Unauthenticated
from core.ids import decode_global_id
from core.ratelimit import Action
from models import ModerationCase, Role, User
from safety.appeals import appellant_by_credentials, create_appeal, resolve_appeal
from safety.moderation import Decision, take_action
from safety.queue import assign_case
from safety.roles import grant_role
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.safety.moderation_enums import DecisionEnum, RoleEnum
from schema.safety.moderation_types import (
    AppealType,
    ModerationActionType,
    ModerationCaseType,
    require_staff_viewer,
)
from schema.safety.reports import decode_subject
from schema.throttle import throttle
from schema.users.types import UserType


async def _count_decision(info: Info) -> int:
    """The staff member deciding (FORBIDDEN for anyone else), counted against their hourly limit of
    decisions: a moderator's, or an admin's larger one (RATE_LIMITED over it)."""
    viewer_id = await require_staff_viewer(info)
    viewer = await info.context.loaders.user_by_id.load(viewer_id)
    admin = viewer is not None and Role(viewer.role) is Role.ADMIN
    await throttle(info, Action.MODERATE_AS_ADMIN if admin else Action.MODERATE, per_user=True)
    return viewer_id


@strawberry.input(description="A moderator's decision about one subject.")
class ModerationActionInput:
    subject_id: strawberry.ID = strawberry.field(
        description="What the decision is about: a Note, Comment, User or Product id (a case's `subjectId`)."
    )
    action: DecisionEnum = strawberry.field(  # type: ignore[valid-type]
        description="What is decided; it must fit the subject (see ModerationDecision), else INVALID."
    )
    reason: str = strawberry.field(
        description="Why, 1–1,000 characters: told to the person affected (never to the reporters)."
    )
    report_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="The open reports of the subject this decision resolves (up to 100); all of its open "
        "reports when empty.",
    )
    duration_days: int | None = strawberry.field(
        default=None,
        description="SUSPEND only: 1–3,650 days; omit to suspend until lifted (UNSUSPEND).",
    )


@strawberry.type(description="The result of moderationAction.")
class ModerationActionPayload:
    action: ModerationActionType | None = strawberry.field(
        default=None, description="The decision as written to the moderation log; null when refused."
    )
    case: ModerationCaseType | None = strawberry.field(
        default=None, description="The subject's case after the decision; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="Who takes a case.")
class ModerationCaseAssignInput:
    case_id: strawberry.ID = strawberry.field(description="A ModerationCase id.")
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A moderator's or admin's User id; null takes the case back from whoever has it.",
    )


@strawberry.type(description="The result of moderationCaseAssign.")
class ModerationCaseAssignPayload:
    case: ModerationCaseType | None = strawberry.field(
        default=None, description="The case with its new assignee; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="A role for a person.")
class RoleGrantInput:
    user_id: strawberry.ID = strawberry.field(description="The person's User id (not your own).")
    role: RoleEnum = strawberry.field(description="Their new role; USER takes staff rights away.")  # type: ignore[valid-type]
    reason: str = strawberry.field(
        default="", description="Why, up to 1,000 characters, for the moderation log."
    )


@strawberry.type(description="The result of roleGrant.")
class RoleGrantPayload:
    user: UserType | None = strawberry.field(
        default=None, description="The person with their new role; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(
    description="An appeal of a decision taken about you. Signed in, name the decision (`actionId`). A "
    "suspended person cannot sign in: send no token and give `email` and `password` instead (checked, and "
    "limited, as signIn is); without `actionId` that appeals the suspension in force."
)
class AppealCreateInput:
    action_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The decision appealed: a ModerationAction id (MODERATION notifications and "
        "`viewer.moderationActions` carry it). Omit only to appeal your suspension with email and password.",
    )
    text: str = strawberry.field(description="Why the decision should be undone, 1–2,000 characters.")
    email: str | None = strawberry.field(
        default=None, description="Without a bearer token only: your account's email address."
    )
    password: str | None = strawberry.field(
        default=None, description="Without a bearer token only: your account's password."
    )


@strawberry.type(description="The result of appealCreate.")
class AppealCreatePayload:
    appeal: AppealType | None = strawberry.field(
        default=None, description="The appeal, PENDING for a moderator; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="A moderator's decision on an appeal.")
class AppealResolveInput:
    appeal_id: strawberry.ID = strawberry.field(description="An Appeal id.")
    approve: bool = strawberry.field(
        description="True undoes the decision appealed (the content restored, the suspension lifted); false "
        "lets it stand."
    )
    note: str = strawberry.field(description="Why, 1–1,000 characters: told to the appellant.")


@strawberry.type(description="The result of appealResolve.")
class AppealResolvePayload:
    appeal: AppealType | None = strawberry.field(
        default=None, description="The appeal, APPROVED or REJECTED; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class ModerationMutation:
    @strawberry.mutation(
        description="Decide about a reported (or any) subject (moderators and admins; FORBIDDEN for anyone "
        "else): the decision is written to the moderation log, resolves the reports named (all open ones "
        "when none are), tells the person affected why and each reporter the outcome. Never about "
        "yourself or your own content; only an admin acts on an admin. Each moderator has an hourly limit "
        "of decisions (60, an admin 300; RATE_LIMITED)."
    )
    @returns_errors
    async def moderation_action(
        self,
        info: Info,
        input: Annotated[ModerationActionInput, strawberry.argument(description="The decision.")],
    ) -> ModerationActionPayload:
        moderator_id = await _count_decision(info)
        subject = decode_subject(input.subject_id)
        report_ids = [
            decode_global_id(r, "Report", ("report_ids", i)) for i, r in enumerate(input.report_ids)
        ]
        action = await take_action(
            moderator_id=moderator_id,
            subject=subject,
            decision=Decision(input.action),
            reason=input.reason,
            report_ids=report_ids,
            duration_days=input.duration_days,
        )
        case = await ModerationCase.get(id=action.case_id)
        info.context.loaders.user_by_id.clear(action.target_user_id)
        return ModerationActionPayload(
            action=ModerationActionType.from_row(action), case=ModerationCaseType.from_row(case)
        )

    @strawberry.mutation(
        description="Assign a case to a moderator or admin, or take it back (staff only), logged as ASSIGN."
    )
    @returns_errors
    async def moderation_case_assign(
        self,
        info: Info,
        input: Annotated[
            ModerationCaseAssignInput, strawberry.argument(description="The case and its assignee.")
        ],
    ) -> ModerationCaseAssignPayload:
        moderator_id = await require_staff_viewer(info)
        case = await assign_case(
            moderator_id=moderator_id,
            case_id=decode_global_id(input.case_id, "ModerationCase", "case_id"),
            assignee_id=decode_global_id(input.assignee_id, "User", "assignee_id")
            if input.assignee_id is not None
            else None,
        )
        return ModerationCaseAssignPayload(case=ModerationCaseType.from_row(case))

    @strawberry.mutation(
        description="Give a person a role (admins only; FORBIDDEN for anyone else), logged as ROLE_GRANTED. "
        "Not your own role. The first admin is made on the command line: `vermilion users grant-role "
        "HANDLE admin`."
    )
    @returns_errors
    async def role_grant(
        self,
        info: Info,
        input: Annotated[RoleGrantInput, strawberry.argument(description="Who, and which role.")],
    ) -> RoleGrantPayload:
        admin_id = info.context.require_viewer_id()
        user_id = decode_global_id(input.user_id, "User", "user_id")
        user = await grant_role(
            user_id=user_id, role=Role(input.role), granted_by=admin_id, reason=input.reason
        )
        info.context.loaders.user_by_id.clear(user_id)
        return RoleGrantPayload(user=UserType.from_row(user))

    @strawberry.mutation(
        description="Appeal a decision taken about you, within 20 days, once per decision (APPEAL_CLOSED "
        "otherwise); HIDE, REMOVE, DELIST_PRODUCT, WARN and SUSPEND can be appealed. A suspended person, who "
        "cannot sign in, sends no token and gives `email` and `password` in the input instead."
    )
    @returns_errors
    async def appeal_create(
        self, info: Info, input: Annotated[AppealCreateInput, strawberry.argument(description="The appeal.")]
    ) -> AppealCreatePayload:
        action_id = (
            decode_global_id(input.action_id, "ModerationAction", "action_id")
            if input.action_id is not None
            else None
        )
        if info.context.viewer_id is not None:
            if input.email is not None or input.password is not None:
                raise DomainError(ErrorCode.INVALID, "Signed in, appeal without email and password.", "email")
            appellant = await User.get(id=info.context.viewer_id)
        else:
            if input.email is None or input.password is None:
                raise Unauthenticated()
            await throttle(info, Action.SIGN_IN, email=input.email)
            appellant = await appellant_by_credentials(email=input.email, password=input.password)
        appeal = await create_appeal(appellant=appellant, action_id=action_id, text=input.text)
        return AppealCreatePayload(appeal=AppealType.from_row(appeal))

    @strawberry.mutation(
        description="Decide an appeal (staff other than the moderator who took the decision; FORBIDDEN "
        "otherwise): approving undoes the decision, and the appellant is told either way. Counts against "
        "the hourly limit of decisions."
    )
    @returns_errors
    async def appeal_resolve(
        self,
        info: Info,
        input: Annotated[AppealResolveInput, strawberry.argument(description="The decision.")],
    ) -> AppealResolvePayload:
        resolver_id = await _count_decision(info)
        appeal = await resolve_appeal(
            resolver_id=resolver_id,
            appeal_id=decode_global_id(input.appeal_id, "Appeal", "appeal_id"),
            approve=input.approve,
            note=input.note,
        )
        info.context.loaders.user_by_id.clear(appeal.appellant_id)  # type: ignore[attr-defined]
        return AppealResolvePayload(appeal=AppealType.from_row(appeal))
