"""GraphQL types and mutations of notifications."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from core.ids import decode_global_id, to_global_id
from models import Notification, NotificationKind
from schema.context import Info
from schema.errors import UserError, returns_errors
from schema.relay import Node
from schema.social.types import CommentType
from social.notifications import mark_read

if TYPE_CHECKING:
    from schema.notes.types import NoteType
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
NotificationKindEnum = strawberry.enum(
    NotificationKind,
    name="NotificationKind",
    description="What someone did: LIKE, COLLECT, COMMENT, REPLY or FOLLOW.",
)


@strawberry.type(name="Notification", description="Someone engaged with you or your note.")
class NotificationType(Node):
    row: strawberry.Private[Notification]
    kind: NotificationKindEnum  # type: ignore[valid-type]
    created_at: datetime
    read: bool

    @classmethod
    def from_row(cls, row: Notification) -> NotificationType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Notification", row.id)),
            kind=row.kind,
            created_at=row.created_at,
            read=row.read_at is not None,
        )

    @strawberry.field
    async def actor(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.actor_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The note concerned; null for follows or when the note was deleted.")
    async def note(self, info: Info) -> NoteRef | None:
        from schema.notes.types import NoteType

        note_id = self.row.note_id  # type: ignore[attr-defined]
        row = await info.context.loaders.note_by_id.load(note_id) if note_id else None
        return NoteType.from_row(row) if row else None

    @strawberry.field(description="The comment or reply, for COMMENT and REPLY; null once deleted.")
    async def comment(self, info: Info) -> CommentType | None:
        comment_id = self.row.comment_id  # type: ignore[attr-defined]
        row = await info.context.loaders.comment_by_id.load(comment_id) if comment_id else None
        return CommentType.from_row(row) if row else None


@strawberry.type
class NotificationsMarkReadPayload:
    unread_count: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark these notifications read, or all of them when `ids` is omitted.")
    @returns_errors
    async def notifications_mark_read(
        self, info: Info, ids: list[strawberry.ID] | None = None
    ) -> NotificationsMarkReadPayload:
        user_id = info.context.require_viewer_id()
        pks = (
            [decode_global_id(g, "Notification", ("ids", i)) for i, g in enumerate(ids)]
            if ids is not None
            else None
        )
        return NotificationsMarkReadPayload(
            unread_count=await mark_read(
                user_id=user_id, notification_ids=pks, audience=await info.context.audience()
            )
        )
