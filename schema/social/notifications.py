"""GraphQL types and mutations of notifications."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from core.ids import decode_global_id, to_global_id
from models import Notification, NotificationKind
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.relay import Node
from schema.social.types import CommentType
from social.notifications import mark_read

if TYPE_CHECKING:
    from schema.notes.types import NoteType
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
NotificationKindEnum = described_enum(
    NotificationKind,
    name="NotificationKind",
    description="What someone did: LIKE, COLLECT, COMMENT, REPLY or FOLLOW.",
    values={
        "LIKE": "Liked your note (told once per person and note).",
        "COLLECT": "Collected your note into a board (told once per person and note).",
        "COMMENT": "Commented on your note, or replied to someone else's comment on it.",
        "REPLY": "Replied to your comment.",
        "FOLLOW": "Started following you (told once per person).",
    },
)


@strawberry.type(name="Notification", description="Someone engaged with you or your note.")
class NotificationType(Node):
    row: strawberry.Private[Notification]
    kind: NotificationKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What the actor did."
    )
    created_at: datetime = strawberry.field(description="When it happened.")
    read: bool = strawberry.field(description="True once marked read with notificationsMarkRead.")

    @classmethod
    def from_row(cls, row: Notification) -> NotificationType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Notification", row.id)),
            kind=row.kind,
            created_at=row.created_at,
            read=row.read_at is not None,
        )

    @strawberry.field(description="Who did it.")
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


@strawberry.type(description="The result of notificationsMarkRead.")
class NotificationsMarkReadPayload:
    unread_count: int | None = strawberry.field(
        default=None, description="How many of your notifications are still unread; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark these notifications read, or all of them when `ids` is omitted.")
    @returns_errors
    async def notifications_mark_read(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Notification ids, up to 100; ids that are not yours are ignored. Omit for all."
            ),
        ] = None,
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
