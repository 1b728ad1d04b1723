"""Staff roles: who may work the moderation queue, and who may hand out roles.

Three roles (`models.Role`): USER, MODERATOR and ADMIN. Moderators and admins are staff: they see the
queue and act on reports. Only admins grant roles through the API; the command line
(`vermilion users grant-role`) grants them with no one signed in, to make the first admin. Every change
of role is written to the moderation log (ROLE_GRANTED), by whom and from what to what.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.validation import Checks
from models import ModerationAction, ModerationActionKind, Role, SubjectKind, User

STAFF = frozenset({Role.MODERATOR, Role.ADMIN})
MAX_REASON = 1000


def is_staff(role: Role | str | None) -> bool:
    return role is not None and Role(role) in STAFF


async def require_staff(user_id: int) -> User:
    """The staff member `user_id`, or FORBIDDEN for anyone else."""
    user = await User.get_or_none(id=user_id, deleted_at=None)
    if user is None or not is_staff(user.role):
        raise Forbidden("Only moderators and admins can do this.")
    return user


def refuse_unless_may_act_on(actor: User, target_id: int | None, target_role: Role | str | None) -> None:
    """Staff never act on themselves (nobody judges their own case), and only an admin acts on an admin."""
    if target_id is not None and target_id == actor.id:
        raise Forbidden("You cannot act on yourself or your own content; another moderator must.")
    if target_role is not None and Role(target_role) is Role.ADMIN and Role(actor.role) is not Role.ADMIN:
        raise Forbidden("Only an admin can act on an admin.")


async def grant_role(*, user_id: int, role: Role, granted_by: int | None, reason: str = "") -> User:
    """Give `user_id` the role `role`. `granted_by` must be an admin (None: the command line). Admins do
    not change their own role, so the last admin cannot leave the site without one by mistake. Granting
    the role someone already has changes nothing and logs nothing."""
    checks = Checks()
    note = checks.text("reason", reason, max_length=MAX_REASON, min_length=0, required=False) or ""
    checks.done()
    if granted_by is not None:
        granter = await User.get_or_none(id=granted_by, deleted_at=None)
        if granter is None or Role(granter.role) is not Role.ADMIN:
            raise Forbidden("Only admins can grant roles.")
        if granted_by == user_id:
            raise DomainError(ErrorCode.INVALID, "You cannot change your own role.", "user_id")
    target = await User.get_or_none(id=user_id, deleted_at=None)
    if target is None:
        raise NotFound("User", "user_id")
    previous = Role(target.role)
    if previous is role:
        return target
    async with in_transaction():
        # Conditional on the role read: of two concurrent grants, each logs the change it made.
        changed = await User.filter(id=user_id, role=previous).update(role=role)
        if not changed:
            raise DomainError(ErrorCode.INVALID, "The role changed meanwhile; try again.", "role")
        await ModerationAction.create(
            moderator_id=granted_by,
            target_user_id=user_id,
            subject_kind=SubjectKind.USER,
            subject_id=user_id,
            action=ModerationActionKind.ROLE_GRANTED,
            reason=f"{previous.value} → {role.value}" + (f": {note}" if note else ""),
        )
    return await User.get(id=user_id)


async def grant_role_by_handle(handle: str, role: Role) -> tuple[User, Role]:
    """The command line's grant (no one signed in): the person and the role they had before."""
    target = await User.get_or_none(handle=handle.strip().lstrip("@").casefold(), deleted_at=None)
    if target is None:
        raise NotFound("User", "handle", message=f"No account has the handle {handle!r}.")
    previous = Role(target.role)
    return await grant_role(user_id=target.id, role=role, granted_by=None), previous
