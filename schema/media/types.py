"""The Media type: an uploaded picture or video, its processing status and the URLs of its files."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import strawberry

from core.ids import to_global_id
from media.attach import from_snapshot
from models.media import FailureReason, Media, MediaKind, MediaStatus, MediaVariant
from models.notes import NoteKind
from schema.context import Info
from schema.enums import described_enum
from schema.relay import Node
from social.notes import infer_kind

MediaKindEnum = described_enum(
    MediaKind,
    name="MediaKind",
    description="What an upload is.",
    values={
        "IMAGE": "A picture (JPEG, PNG, WebP, GIF, HEIC or AVIF).",
        "VIDEO": "A video (MP4, MOV or WebM).",
    },
)
MediaStatusEnum = described_enum(
    MediaStatus,
    name="MediaStatus",
    description="Where an upload is, from the upload URL to the processed files.",
    values={
        "UPLOADING": "Waiting for the file at the upload URL, then mediaUploadComplete.",
        "PENDING": "The file was checked; processing is queued or running.",
        "READY": "Processed: sizes, blurhash and the files' URLs are set; it can be attached.",
        "FAILED": "Refused or not processable: `failureReason` says why. Upload again.",
    },
)
MediaVariantEnum = described_enum(
    MediaVariant,
    name="MediaVariant",
    description="A processed size of a picture (of a video's poster frame too); never enlarged.",
    values={
        "THUMBNAIL": "The longest side at most 400 px: grids and avatars.",
        "FEED": "The longest side at most 1080 px: feeds and carousels.",
        "ORIGINAL": "The longest side at most 2,560 px: full screen and zoom.",
    },
)
FailureReasonEnum = described_enum(
    FailureReason,
    name="MediaFailureReason",
    description="Why an upload was refused or could not be processed.",
    values={
        "UNSUPPORTED_TYPE": "The file is not an accepted image or video (judged by its bytes, not its name).",
        "WRONG_KIND": "The file is a video uploaded as IMAGE, or a picture uploaded as VIDEO.",
        "TOO_LARGE": "More bytes than the kind allows, or than the upload declared.",
        "TOO_MANY_PIXELS": "More pixels than allowed (50 megapixels by default).",
        "TOO_LONG": "A video longer than allowed (15 minutes by default).",
        "CORRUPT": "The file could not be decoded.",
        "MISSING": "No file arrived before the upload expired.",
        "PROCESSING_ERROR": "Processing kept failing; try again later.",
    },
)


@strawberry.type(
    name="Media",
    description="A picture or video uploaded with mediaUploadCreate. Seen by its owner; once attached to a "
    "note, a product or an avatar, by whoever sees that.",
)
class MediaType(Node):
    row: strawberry.Private[Media]
    kind: MediaKindEnum = strawberry.field(description="A picture or a video.")  # type: ignore[valid-type]
    status: MediaStatusEnum = strawberry.field(description="Where processing is.")  # type: ignore[valid-type]
    width: int | None = strawberry.field(
        description="Width in pixels as shown (a video's as displayed); null until READY."
    )
    height: int | None = strawberry.field(description="Height in pixels as shown; null until READY.")
    blurhash: str | None = strawberry.field(
        description="A BlurHash (4×3 components) to paint while the picture loads; null until READY."
    )
    dominant_color: str | None = strawberry.field(
        description='The main colour as "#rrggbb", a placeholder background; null until READY.'
    )
    alt_text: str = strawberry.field(description="A description for screen readers; may be empty.")
    duration_seconds: float | None = strawberry.field(description="A video's length; null for pictures.")
    failure_reason: FailureReasonEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it FAILED; null otherwise."
    )

    # A note's media given as a URL before uploads existed (`NoteCreateInput.media`): the URL for every size.
    legacy_url: strawberry.Private[str | None] = None

    @classmethod
    def from_url(cls, note_id: int, position: int, url: str) -> MediaType:
        """A URL media of a note made before uploads: READY, no sizes, the URL for every variant. Its id is
        stable but `node(id:)` does not fetch it."""
        kind = MediaKind.VIDEO if infer_kind([url]) is NoteKind.VIDEO else MediaKind.IMAGE
        shown = cls.from_row(Media(kind=kind, status=MediaStatus.READY))
        return replace(
            shown, id=strawberry.ID(to_global_id("NoteMediaUrl", note_id * 100 + position)), legacy_url=url
        )

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> MediaType:
        """Uploaded media as a note's row keeps them (media.attach.snapshot)."""
        return cls.from_row(from_snapshot(data))

    @classmethod
    def from_row(cls, row: Media) -> MediaType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Media", row.id)),
            kind=row.kind,
            status=row.status,
            width=row.width,
            height=row.height,
            blurhash=row.blurhash,
            dominant_color=row.dominant_color,
            alt_text=row.alt_text,
            duration_seconds=row.duration_seconds,
            failure_reason=row.failure_reason,
        )

    @strawberry.field(
        description="Width over height, for laying out a grid before the file loads; null until READY."
    )
    def aspect_ratio(self) -> float | None:
        if not self.row.width or not self.row.height:
            return None
        return round(self.row.width / self.row.height, 4)

    @strawberry.field(
        description="Where to download a processed size (a video's: of its poster frame); null until READY. "
        "Files never change: clients may cache them for good."
    )
    def url(
        self,
        info: Info,
        variant: Annotated[
            MediaVariantEnum,  # type: ignore[valid-type]
            strawberry.argument(description="Which size."),
        ] = MediaVariant.FEED,
    ) -> str | None:
        if self.legacy_url is not None:
            return None if self.row.kind is MediaKind.VIDEO else self.legacy_url
        services = info.context.media
        return services.public_url(self.row, MediaVariant(variant).value) if services else None

    @strawberry.field(description="Where to download a video as uploaded; null for pictures and until READY.")
    def video_url(self, info: Info) -> str | None:
        if self.legacy_url is not None:
            return self.legacy_url if self.row.kind is MediaKind.VIDEO else None
        services = info.context.media
        return services.public_url(self.row, "VIDEO") if services else None
