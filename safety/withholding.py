"""The `withheld` flag of notes, comments and products: the one column every visibility filter tests.

A row is withheld (seen by its author alone) when a moderator hid, removed or delisted it, or when its
author is out: suspended, or leaving (deletion asked for). The flag is derived, never set by hand: these
two functions recompute it from the moderation state and the author, so lifting a suspension brings back
exactly the content no moderator took down, and restoring a note of a suspended author keeps it withheld.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import Comment, ModerationState, Note, Product, User
from social.sessions import is_out

__all__ = ["is_out", "refresh_owner", "set_moderation"]

# Each model with its owner column.
_OWNED = ((Note, "author_id"), (Comment, "author_id"), (Product, "merchant_id"))


async def refresh_owner(user_id: int) -> None:
    """Recompute `withheld` on everything `user_id` owns, after their suspension or deletion changed. Not
    for an account already purged: what is left of it (a root comment others replied to, kept as a
    "Deleted account" tombstone) stays as the purge left it."""
    user = await User.get(id=user_id)
    if user.deleted_at is not None:
        return
    out = is_out(user)
    async with in_transaction():
        for model, owner in _OWNED:
            condition: dict[str, Any] = {owner: user_id}
            mine = Q(**condition)
            if out:
                await model.filter(mine).update(withheld=True)
            else:
                await model.filter(mine & ~Q(moderation=ModerationState.NONE)).update(withheld=True)
                await model.filter(mine & Q(moderation=ModerationState.NONE)).update(withheld=False)


async def set_moderation(
    model: type[Note] | type[Comment] | type[Product], row_id: int, state: ModerationState, reason: str
) -> bool:
    """A moderator's decision on one row, with `withheld` recomputed; False when there is no such row."""
    owner = "merchant_id" if model is Product else "author_id"
    row = await model.get_or_none(id=row_id)
    if row is None:
        return False
    user = await User.get(id=getattr(row, owner))
    withheld = state is not ModerationState.NONE or is_out(user)
    await model.filter(id=row_id).update(moderation=state, moderation_reason=reason, withheld=withheld)
    return True
