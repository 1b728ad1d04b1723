"""Appeals: the person a decision was taken against asks another moderator to look again.

One appeal per action, within 20 days of it, of a decision that took something away (HIDE, REMOVE,
DELIST_PRODUCT, WARN, SUSPEND). A moderator other than the one who decided resolves it: approving undoes the
decision (the content is restored, the suspension lifted) unless a later decision replaced it, and either
way the outcome goes to the log (APPEAL_APPROVED / APPEAL_REJECTED) and to the appellant.

A suspended person cannot sign in, so they appeal with their email and password instead of a token
(`appellant_by_credentials`); without an action named, the appeal is of the suspension in force.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.validation import Checks
from models import (
    Appeal,
    AppealStatus,
    ModerationAction,
    ModerationActionKind,
    ModerationState,
    NotificationKind,
    SubjectKind,
    User,
)
from safety.moderation import CONTENT_STATES, Decision
from safety.queue import CONTENT, Subject, subject_facts
from safety.roles import MAX_REASON, refuse_unless_may_act_on, require_staff
from safety.withholding import refresh_owner, set_moderation
from social.accounts import check_credentials
from social.notifications import notify
from social.sessions import is_suspended

APPEAL_WINDOW = timedelta(days=20)
MAX_TEXT = 2000
APPEALABLE = frozenset(
    {
        ModerationActionKind.HIDE,
        ModerationActionKind.REMOVE,
        ModerationActionKind.DELIST_PRODUCT,
        ModerationActionKind.WARN,
        ModerationActionKind.SUSPEND,
    }
)


# The state each appealable content decision left, which approving its appeal undoes.
_STATES_SET = {
    ModerationActionKind(decision.value): state
    for decision, state in CONTENT_STATES.items()
    if decision is not Decision.RESTORE
}


def appealable_until(action: ModerationAction) -> datetime | None:
    """The end of the window to appeal `action`; None for a decision that cannot be appealed."""
    if ModerationActionKind(action.action) not in APPEALABLE:
        return None
    return action.created_at + APPEAL_WINDOW


def _closed(message: str) -> DomainError:
    return DomainError(ErrorCode.APPEAL_CLOSED, message, "action_id")


async def appellant_by_credentials(*, email: str, password: str) -> User:
    """The person these credentials prove, suspended or not (INVALID_CREDENTIALS otherwise)."""
    return await check_credentials(email=email, password=password)


async def _current_suspension(user: User) -> ModerationAction:
    """The decision behind the person's suspension in force."""
    if not is_suspended(user):
        raise DomainError(ErrorCode.REQUIRED, "Name the decision you appeal (actionId).", "action_id")
    action = (
        await ModerationAction.filter(target_user_id=user.id, action=ModerationActionKind.SUSPEND)
        .order_by("-id")
        .first()
    )
    if action is None:
        raise NotFound("Moderation action", "action_id")
    return action


async def create_appeal(*, appellant: User, action_id: int | None, text: str) -> Appeal:
    """`appellant` appeals the decision `action_id` (None: their suspension in force)."""
    checks = Checks()
    body = checks.text("text", text, max_length=MAX_TEXT) or ""
    checks.done()
    if action_id is None:
        action = await _current_suspension(appellant)
    else:
        found = await ModerationAction.get_or_none(id=action_id)
        # Someone else's decision is nobody else's business: not told apart from none at all.
        if found is None or found.target_user_id != appellant.id:
            raise NotFound("Moderation action", "action_id")
        action = found
    until = appealable_until(action)
    if until is None:
        raise DomainError(ErrorCode.INVALID, "This decision cannot be appealed.", "action_id")
    if until < datetime.now(UTC):
        raise _closed(f"The {APPEAL_WINDOW.days} days to appeal this decision have passed.")
    if await Appeal.filter(action_id=action.id).exists():
        raise _closed("This decision has been appealed already.")
    try:
        return await Appeal.create(action_id=action.id, appellant_id=appellant.id, text=body)
    except IntegrityError as exc:  # the same appeal sent twice at once: the first one stands
        raise _closed("This decision has been appealed already.") from exc


async def _undo(action: ModerationAction) -> None:
    """Reverse `action`, unless a later decision replaced it (the content's state or the suspension in
    force is no longer the one it set)."""
    kind = ModerationActionKind(action.action)
    if kind is ModerationActionKind.SUSPEND:
        user = await User.get(id=action.target_user_id)
        until, set_until = user.suspended_until, action.expires_at
        if until is not None and set_until is not None and abs(until - set_until) < timedelta(seconds=1):
            await User.filter(id=user.id).update(suspended_until=None, suspension_reason="")
            await refresh_owner(user.id)
        return
    state = _STATES_SET.get(kind)
    subject_kind = SubjectKind(action.subject_kind)
    if state is None or subject_kind not in CONTENT:
        return  # a warning: nothing to reverse but the record, which the approval itself is
    facts = await subject_facts(Subject(subject_kind, action.subject_id))
    if facts.state is state:
        model, _ = CONTENT[subject_kind]
        await set_moderation(model, action.subject_id, ModerationState.NONE, "")


async def resolve_appeal(*, resolver_id: int, appeal_id: int, approve: bool, note: str) -> Appeal:
    """Decide an appeal: approving undoes the decision appealed. Never by the moderator who decided."""
    resolver = await require_staff(resolver_id)
    checks = Checks()
    text = checks.text("note", note, max_length=MAX_REASON) or ""
    checks.done()
    appeal = await Appeal.get_or_none(id=appeal_id)
    if appeal is None:
        raise NotFound("Appeal", "appeal_id")
    action = await ModerationAction.get(id=appeal.action_id)  # type: ignore[attr-defined]
    if action.moderator_id == resolver.id:
        raise Forbidden("Another moderator must decide an appeal of your own decision.", "appeal_id")
    appellant = await User.get(id=appeal.appellant_id)  # type: ignore[attr-defined]
    refuse_unless_may_act_on(resolver, appellant.id, appellant.role)
    now = datetime.now(UTC)
    status = AppealStatus.APPROVED if approve else AppealStatus.REJECTED
    async with in_transaction():
        decided = await Appeal.filter(id=appeal_id, status=AppealStatus.PENDING).update(
            status=status, resolver_id=resolver.id, resolution=text, resolved_at=now
        )
        if not decided:
            raise DomainError(ErrorCode.INVALID, "This appeal has been decided already.", "appeal_id")
        if approve:
            await _undo(action)
        outcome = await ModerationAction.create(
            case_id=action.case_id,
            moderator_id=resolver.id,
            target_user_id=appellant.id,
            subject_kind=action.subject_kind,
            subject_id=action.subject_id,
            action=ModerationActionKind.APPEAL_APPROVED if approve else ModerationActionKind.APPEAL_REJECTED,
            reason=text,
        )
        await notify(
            recipient_id=appellant.id,
            actor_id=None,
            kind=NotificationKind.APPEAL_RESOLVED,
            moderation_action_id=outcome.id,
        )
    return await Appeal.get(id=appeal_id)
