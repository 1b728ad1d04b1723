"""Leaving with one's data: the archive of everything (viewerExportCreate, viewer.exports) and deleting
the account (viewerDelete; signing in within the grace period cancels it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from core.errors import DomainError, ErrorCode
from core.ids import to_global_id
from core.ratelimit import Action
from models import DataExport, ExportStatus, User
from safety.deletion import GRACE, purge_due_at, request_deletion
from safety.export import ARCHIVE_DAYS, exports_of, request_export
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.throttle import throttle
from social.policy import is_self

DataExportStatusEnum = described_enum(
    ExportStatus,
    name="DataExportStatus",
    description="Where an archive of your data is.",
    values={
        "PENDING": "Being built in the background; you are notified (EXPORT_READY) when it is ready.",
        "READY": f"Built: download it from `url` within {ARCHIVE_DAYS} days.",
        "FAILED": "Could not be built; ask for a new one.",
    },
)


@strawberry.type(
    name="DataExport",
    description="An archive of everything Vermilion holds about you, as one JSON file: profile, notes with "
    "their media, comments, likes, collects, boards, follows both ways, blocks and mutes, filters, "
    "products, orders, reports you made, appeals and moderation decisions about you.",
)
class DataExportType:
    row: strawberry.Private[DataExport]
    id: strawberry.ID = strawberry.field(description="The export's id.")
    status: DataExportStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="PENDING while it is built, then READY (or FAILED)."
    )
    byte_size: int | None = strawberry.field(description="The archive's size in bytes; null until READY.")
    created_at: datetime = strawberry.field(description="When you asked for it.")
    ready_at: datetime | None = strawberry.field(description="When it was built; null until READY.")
    expires_at: datetime | None = strawberry.field(
        description=f"After this ({ARCHIVE_DAYS} days after it was built) the archive is deleted and `url` "
        "stops working; null until READY."
    )

    @classmethod
    def from_row(cls, row: DataExport) -> DataExportType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("DataExport", row.id)),
            status=row.status,
            byte_size=row.byte_size,
            created_at=row.created_at,
            ready_at=row.ready_at,
            expires_at=row.expires_at,
        )

    @strawberry.field(
        description="Where to download the archive (GET; a JSON file), until `expiresAt`: a private link, "
        "signed for this archive alone — whoever holds it can download it, so keep it to yourself. Null "
        "until READY, once expired, and for anyone but you."
    )
    def url(self, info: Info) -> str | None:
        services = info.context.exports
        owner: int = self.row.user_id  # type: ignore[attr-defined]
        if services is None or not is_self(owner, info.context.viewer_id):
            return None
        return services.url(self.row)


async def viewer_exports(info: Info, user: User) -> list[DataExportType] | None:
    """`User.exports`: the person's own exports, newest first; None on anyone else's profile."""
    if not is_self(user.id, info.context.viewer_id):
        return None
    return [DataExportType.from_row(row) for row in await exports_of(user.id)]


@strawberry.type(description="The result of viewerExportCreate.")
class ViewerExportCreatePayload:
    export: DataExportType | None = strawberry.field(
        default=None,
        description="The export, PENDING while it is built (or the one already being built); null when "
        "refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="Your password, to confirm that the account should go.")
class ViewerDeleteInput:
    password: str = strawberry.field(description="Your password; a wrong one is INVALID_CREDENTIALS.")


@strawberry.type(description="The result of viewerDelete.")
class ViewerDeletePayload:
    deletion_scheduled_at: datetime | None = strawberry.field(
        default=None,
        description=f"When the account will be removed for good ({GRACE.days} days after you asked); "
        "signing in before then cancels it. Null when refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Ask for an archive of all your data. It is built in the background: follow "
        "`viewer.exports` or wait for the EXPORT_READY notification, then download it from "
        f"`DataExport.url` within {ARCHIVE_DAYS} days. While one is being built, asking again returns it; "
        "one new archive a day (TOO_MANY)."
    )
    @returns_errors
    async def viewer_export_create(self, info: Info) -> ViewerExportCreatePayload:
        viewer = info.context.require_viewer_id()
        services = info.context.exports
        if services is None:
            raise DomainError(ErrorCode.INVALID, "Data exports are not configured on this server.")
        export = await request_export(user_id=viewer, jobs=services.jobs)
        return ViewerExportCreatePayload(export=DataExportType.from_row(export))

    @strawberry.mutation(
        description=f"Delete your account. Every session ends at once and your notes, comments and "
        f"products disappear for everyone; signing in within {GRACE.days} days cancels the deletion and "
        "brings them back. After that, your content, likes, collects, boards, follows and media are "
        "removed for good (counts stay exact), your replies' threads stay under 'Deleted account', your "
        "email and handle become free, and your orders are kept for accounting without your name, address "
        "or email. Export your data first (viewerExportCreate): its link keeps working meanwhile."
    )
    @returns_errors
    async def viewer_delete(
        self,
        info: Info,
        input: Annotated[ViewerDeleteInput, strawberry.argument(description="Your password.")],
    ) -> ViewerDeletePayload:
        viewer = await info.context.loaders.user_by_id.load(info.context.require_viewer_id())
        # A password check like a sign-in's, throttled like one: a stolen token cannot guess passwords here.
        await throttle(info, Action.SIGN_IN, email=viewer.email)
        user = await request_deletion(user_id=viewer.id, password=input.password)
        info.context.loaders.user_by_id.clear(user.id)
        return ViewerDeletePayload(deletion_scheduled_at=purge_due_at(user))
