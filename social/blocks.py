"""Blocks and mutes: who keeps whom out of sight, and the one read that tells a request about it.

A block works both ways: the two people stop seeing each other's profile, notes, comments, boards and
products, follows between them end, and neither can follow, like, collect, comment on or reply to the
other's content. A mute is one-sided and silent: the muter stops seeing the muted person's notes, comments
and notifications; the muted person notices nothing and may still interact.

What a viewer must not see is read with the session (`social.sessions`): the columns below join the one
statement every signed-in request already runs, so block, mute and filter state costs no statement of its
own, whatever a page holds.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode
from core.sql import dialect
from models import Block, Follow, Mute, User
from social.counters import shift_follow_counts
from social.filters import ActiveFilter, active_filters

# A person blocks or mutes at most this many people each: every request of theirs carries the lists.
MAX_BLOCKS = 10_000
MAX_MUTES = 10_000

_RELATIONS = (
    "SELECT 'b' AS k, blocked_id AS v FROM blocks WHERE blocker_id = u.id"
    " UNION ALL SELECT 'r', blocker_id FROM blocks WHERE blocked_id = u.id"
    " UNION ALL SELECT 'm', muted_id FROM mutes WHERE muter_id = u.id"
)
_COLUMNS = {
    "postgres": (
        f"(SELECT string_agg(x.k || x.v::text, ',') FROM ({_RELATIONS}) x) AS safety_relations,"
        " (SELECT json_agg(json_build_array(f.id, f.phrase, f.contexts, f.action, f.expires_at))"
        " FROM content_filters f WHERE f.owner_id = u.id) AS safety_filters"
    ),
    "sqlite": (
        f"(SELECT group_concat(x.k || x.v, ',') FROM ({_RELATIONS}) x) AS safety_relations,"
        " (SELECT json_group_array(json_array(f.id, f.phrase, json(f.contexts), f.action, f.expires_at))"
        " FROM content_filters f WHERE f.owner_id = u.id) AS safety_filters"
    ),
}


def safety_columns(database: str | None = None) -> str:
    """Select-list items, on the users table aliased `u`, that read the person's blocks (both ways),
    mutes and keyword filters: added to a statement that reads the user anyway. `database`: "postgres"
    or "sqlite" (default: the current connection's)."""
    return _COLUMNS[database or dialect()]


@dataclass(frozen=True)
class SafetyState:
    """What `safety_columns` read for one person."""

    blocked_ids: frozenset[int]  # blocked by them, or blocking them
    muted_ids: frozenset[int]
    filters: tuple[ActiveFilter, ...]


def safety_state(row: Mapping[str, Any]) -> SafetyState:
    """The state in a row that selected `safety_columns`."""
    blocked: set[int] = set()
    muted: set[int] = set()
    for item in (row["safety_relations"] or "").split(","):
        if not item:
            continue
        (muted if item[0] == "m" else blocked).add(int(item[1:]))
    raw = row["safety_filters"]
    rows: Sequence[Any] = (json.loads(raw) if isinstance(raw, str) else raw) or ()
    return SafetyState(frozenset(blocked), frozenset(muted), active_filters(rows))


class Blocked(DomainError):
    """An action between two people one of whom blocked the other."""

    def __init__(self, field: Any = None) -> None:
        super().__init__(ErrorCode.BLOCKED, "You cannot do this: one of you has blocked the other.", field)


async def is_blocked_between(a: int, b: int) -> bool:
    """Whether either of the two blocked the other."""
    if a == b:
        return False
    return await Block.filter(Q(blocker_id=a, blocked_id=b) | Q(blocker_id=b, blocked_id=a)).exists()


async def refuse_if_blocked(actor_id: int, owner_id: int, field: Any = None) -> None:
    """BLOCKED when `actor_id` and `owner_id` (whose content or account is acted on) are in a block."""
    if await is_blocked_between(actor_id, owner_id):
        raise Blocked(field)


async def _target(user_id: int, target_id: int) -> User:
    if target_id == user_id:
        raise DomainError(ErrorCode.INVALID, "You cannot block or mute yourself.", "user_id")
    target = await User.get_or_none(id=target_id, deleted_at=None)
    if target is None:
        raise DomainError(ErrorCode.NOT_FOUND, "No such user.", "user_id")
    return target


async def block(user_id: int, target_id: int) -> User:
    """`user_id` blocks `target_id`: follows between them end (counters kept exact), both stop seeing each
    other. Blocking twice is a no-op."""
    target = await _target(user_id, target_id)
    async with in_transaction():
        if await Block.filter(blocker_id=user_id, blocked_id=target_id).exists():
            return target
        if await Block.filter(blocker_id=user_id).count() >= MAX_BLOCKS:
            raise DomainError(ErrorCode.TOO_MANY, f"You can block at most {MAX_BLOCKS} people.", "user_id")
        try:
            await Block.create(blocker_id=user_id, blocked_id=target_id)
        except IntegrityError:
            return target  # the same block made at the same moment: once is enough
        for follower, followee in ((user_id, target_id), (target_id, user_id)):
            if await Follow.filter(follower_id=follower, followee_id=followee).delete():
                await shift_follow_counts(follower, followee, -1)
    return target


async def unblock(user_id: int, target_id: int) -> User:
    """Lift `user_id`'s block of `target_id` (follows are not restored). Unblocking someone never
    blocked is a no-op."""
    target = await _target(user_id, target_id)
    await Block.filter(blocker_id=user_id, blocked_id=target_id).delete()
    return target


async def mute(user_id: int, target_id: int) -> User:
    """`user_id` stops seeing `target_id`'s content; nothing else changes. Muting twice is a no-op."""
    target = await _target(user_id, target_id)
    if await Mute.filter(muter_id=user_id, muted_id=target_id).exists():
        return target
    if await Mute.filter(muter_id=user_id).count() >= MAX_MUTES:
        raise DomainError(ErrorCode.TOO_MANY, f"You can mute at most {MAX_MUTES} people.", "user_id")
    with contextlib.suppress(IntegrityError):  # the same mute made at the same moment: once is enough
        await Mute.create(muter_id=user_id, muted_id=target_id)
    return target


async def unmute(user_id: int, target_id: int) -> User:
    target = await _target(user_id, target_id)
    await Mute.filter(muter_id=user_id, muted_id=target_id).delete()
    return target
