"""Blocking and muting people: the mutations, and the viewer's lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from core.ids import decode_global_id
from models import User
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.users.types import UserType
from social.blocks import block, mute, unblock, unmute


@strawberry.type(description="The result of userBlock, userUnblock, userMute and userUnmute.")
class UserRelationPayload:
    user: UserType | None = strawberry.field(
        default=None, description="The person blocked, unblocked, muted or unmuted; null when refused."
    )
    errors: list[UserError] = payload_errors()


_PERSON = Annotated[strawberry.ID, strawberry.argument(description="The User id of the person.")]


@strawberry.type
class BlockMutation:
    @strawberry.mutation(
        description="Block a person: follows between you end both ways, neither of you sees the other's "
        "profile, notes, comments, boards or products anywhere, and neither can follow, like, collect, "
        "comment on or reply to the other's content (BLOCKED). They are not told, but they can tell. "
        "Blocking twice changes nothing."
    )
    @returns_errors
    async def user_block(self, info: Info, user_id: _PERSON) -> UserRelationPayload:
        return await _relate(info, user_id, block)

    @strawberry.mutation(description="Lift a block (follows are not restored); a no-op when there is none.")
    @returns_errors
    async def user_unblock(self, info: Info, user_id: _PERSON) -> UserRelationPayload:
        return await _relate(info, user_id, unblock)

    @strawberry.mutation(
        description="Mute a person: their notes, comments and notifications no longer reach you. Silent: "
        "they are not told and can still see and interact with your content. Muting twice changes nothing."
    )
    @returns_errors
    async def user_mute(self, info: Info, user_id: _PERSON) -> UserRelationPayload:
        return await _relate(info, user_id, mute)

    @strawberry.mutation(description="Stop muting a person; a no-op when they are not muted.")
    @returns_errors
    async def user_unmute(self, info: Info, user_id: _PERSON) -> UserRelationPayload:
        return await _relate(info, user_id, unmute)


async def _relate(
    info: Info, user_id: strawberry.ID, rule: Callable[[int, int], Awaitable[User]]
) -> UserRelationPayload:
    viewer = info.context.require_viewer_id()
    target = decode_global_id(user_id, "User", "user_id")
    user = await rule(viewer, target)
    # Visibility changed mid-request: the rest of this operation reads the viewer's new lists.
    info.context.loaders.forget_audience()
    info.context.loaders.viewer_follows.clear(target)
    info.context.loaders.user_by_id.clear(target)
    return UserRelationPayload(user=UserType.from_row(await info.context.loaders.user_by_id.load(user.id)))
