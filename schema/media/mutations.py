"""Mutations of uploads: ask for an upload URL, then say the file is there."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from core.errors import DomainError, ErrorCode
from core.ids import decode_global_id
from core.ratelimit import Action
from media.attach import set_alt_text
from media.service import MediaServices, complete_upload, create_upload
from models.media import MediaKind
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.media.types import MediaKindEnum, MediaType
from schema.throttle import throttle


@strawberry.input(description="What is about to be uploaded, as the client knows it.")
class MediaUploadCreateInput:
    kind: MediaKindEnum = strawberry.field(description="A picture or a video.")  # type: ignore[valid-type]
    content_type: str = strawberry.field(
        description='The file\'s type, e.g. "image/jpeg", "image/heic", "video/mp4". The bytes are checked '
        "again when the upload completes: a declared type proves nothing."
    )
    byte_size: int = strawberry.field(
        description="The file's exact size in bytes: at most 20 MB for a picture, 200 MB for a video "
        "(TOO_LARGE); the upload must send exactly this many."
    )
    filename: str = strawberry.field(
        default="", description="The file's name on the device, kept for its owner."
    )
    alt_text: str = strawberry.field(
        default="",
        description="A description for screen readers, up to 1,500 characters (mediaUpdate changes it).",
    )


@strawberry.type(
    description="Where and how to send the file: `method` to `url` with `headers` (PUT, the file as the "
    "body), or a form POST with `fields` and then the file. Valid until `expiresAt`."
)
class MediaUpload:
    id: strawberry.ID = strawberry.field(description="The Media id, for mediaUploadComplete.")
    url: str = strawberry.field(description="Where to send the file. It is not where the file will be read.")
    method: str = strawberry.field(description='"PUT" (the file as the request body) or "POST" (a form).')
    headers: JSON = strawberry.field(description="Headers to send with the file, name to value.")
    fields: JSON = strawberry.field(description="Form fields to send before the file (POST); {} for PUT.")
    expires_at: datetime = strawberry.field(description="After this, the URL refuses the file.")


@strawberry.type(description="The result of mediaUploadCreate.")
class MediaUploadCreatePayload:
    upload: MediaUpload | None = strawberry.field(
        default=None, description="Where to send the file; null when refused."
    )
    media: MediaType | None = strawberry.field(
        default=None, description="The new media, UPLOADING; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of mediaUpdate.")
class MediaUpdatePayload:
    media: MediaType | None = strawberry.field(default=None, description="The media now; null when refused.")
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of mediaUploadComplete.")
class MediaUploadCompletePayload:
    media: MediaType | None = strawberry.field(
        default=None,
        description="The media, PENDING while it is processed (follow `mediaStatus(id)`, or poll "
        "`node(id)`, until READY or FAILED); null when refused.",
    )
    errors: list[UserError] = payload_errors()


def _services(info: Info) -> MediaServices:
    services = info.context.media
    if services is None:
        raise DomainError(ErrorCode.INVALID, "Uploads are not configured on this server.")
    return services


@strawberry.type
class MediaMutation:
    @strawberry.mutation(
        description="Start an upload (a picture or a video): returns a URL to send the file to, straight to "
        "storage — files never pass through GraphQL. Then call mediaUploadComplete. Signed in only."
    )
    @returns_errors
    async def media_upload_create(
        self,
        info: Info,
        input: Annotated[MediaUploadCreateInput, strawberry.argument(description="The file to come.")],
    ) -> MediaUploadCreatePayload:
        owner = info.context.require_viewer_id()
        services = _services(info)
        await throttle(info, Action.MEDIA_UPLOAD, per_user=True)
        upload = await create_upload(
            owner,
            kind=MediaKind(input.kind),
            content_type=input.content_type,
            byte_size=input.byte_size,
            filename=input.filename,
            alt_text=input.alt_text,
            storage=services.storage,
            limits=services.limits,
        )
        ticket = upload.ticket
        media = MediaType.from_row(upload.media)
        return MediaUploadCreatePayload(
            upload=MediaUpload(
                id=media.id,
                url=ticket.url,
                method=ticket.method,
                headers=cast(JSON, ticket.headers),
                fields=cast(JSON, ticket.fields),
                expires_at=ticket.expires_at,
            ),
            media=media,
        )

    @strawberry.mutation(
        description="Say the file has been sent: it is checked (present, the declared size, really a picture "
        "or video of the kind asked for: TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UPLOAD_MISSING) and queued "
        "for processing. Completing again changes nothing."
    )
    @returns_errors
    async def media_upload_complete(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Media id mediaUploadCreate gave.")],
    ) -> MediaUploadCompletePayload:
        owner = info.context.require_viewer_id()
        services = _services(info)
        media = await complete_upload(
            owner,
            decode_global_id(id, "Media", "id"),
            storage=services.storage,
            limits=services.limits,
            jobs=services.jobs,
            broker=services.broker,
        )
        return MediaUploadCompletePayload(media=MediaType.from_row(media))

    @strawberry.mutation(
        description="Describe your media for screen readers (at any step, attached or not); notes showing it "
        "show the new text."
    )
    @returns_errors
    async def media_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A Media id of yours.")],
        alt_text: Annotated[str, strawberry.argument(description='Up to 1,500 characters; "" removes it.')],
    ) -> MediaUpdatePayload:
        owner = info.context.require_viewer_id()
        media = await set_alt_text(owner, decode_global_id(id, "Media", "id"), alt_text)
        return MediaUpdatePayload(media=MediaType.from_row(media))
