"""Uploads, from the ticket to the processed files: the rules the API and the job worker both call.

1. `create_upload`: the declared type and size are checked against the limits, a row is made (UPLOADING)
   and storage signs a URL the client sends the file to; the bytes never pass through GraphQL.
2. `complete_upload`: the file must be there, no bigger than declared and allowed, and really an image or
   a video of the kind asked for (its first bytes, not its name or declared type). Then the row moves to
   PENDING in one conditional update, so of two completes only one queues processing.
3. `process_media` (a background job, retried): variants, size, blurhash; READY, or FAILED with a reason.
   The uploaded original is deleted once processed: it still carries the phone's EXIF (GPS included).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from tortoise.expressions import Q

from core.errors import DomainError, ErrorCode, NotFound, RequestCode, RequestRefused
from core.jobs import RETRIES, Jobs
from core.pubsub import Broker, announce
from core.settings import Settings
from core.validation import Checks
from media.attach import MAX_ALT_TEXT
from media.images import EncodedVariant, MediaRejected, ProcessedImage, process_image
from media.sniff import SNIFF_BYTES, sniff
from media.storage import (
    STORAGE_ERRORS,
    LocalStorage,
    S3Storage,
    Storage,
    UploadTicket,
    new_upload_key,
    variant_key,
)
from media.video import probe_video
from models.media import FailureReason, Media, MediaKind, MediaStatus

log = logging.getLogger(__name__)
T = TypeVar("T")

JOB_PROCESS = "media.process"
# Processed files never change (a new picture gets a new token): clients and CDNs keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_FILENAME = 255
# Declared types accepted per kind; the bytes are judged again at completion (media.sniff).
CONTENT_TYPES: dict[MediaKind, dict[str, str]] = {
    MediaKind.IMAGE: {
        "image/jpeg": "jpg",
        "image/png": "png",
        "image/webp": "webp",
        "image/gif": "gif",
        "image/heic": "heic",
        "image/heif": "heic",
        "image/avif": "avif",
    },
    MediaKind.VIDEO: {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"},
}
# After this many runs that raised (storage or worker trouble), processing gives up: FAILED. The job queue
# runs a job once and retries it RETRIES times: the last run is the one that gives up.
MAX_ATTEMPTS = 1 + RETRIES


def media_status_channel(media_id: int) -> str:
    return f"vermilion:media:{media_id}:status"


async def _announce(broker: Broker | None, media_id: int) -> None:
    """Tell `mediaStatus` subscribers the media changed (after the change committed; best effort)."""
    if broker is not None:
        await announce(broker, media_status_channel(media_id), {"mediaId": media_id})


@dataclass(frozen=True)
class Limits:
    max_image_bytes: int
    max_image_pixels: int
    max_video_bytes: int
    max_video_seconds: float
    upload_ttl_seconds: int

    def max_bytes(self, kind: MediaKind) -> int:
        return self.max_image_bytes if kind is MediaKind.IMAGE else self.max_video_bytes


@dataclass(frozen=True)
class Upload:
    media: Media
    ticket: UploadTicket


async def _reach(step: Awaitable[T]) -> T:
    """A storage call made while a client waits: storage down is SERVICE_UNAVAILABLE (503, retry), never
    an internal error or a refusal of the client's input."""
    try:
        return await step
    except STORAGE_ERRORS as exc:
        log.warning("media storage unreachable: %s: %s", type(exc).__name__, exc)
        refused = RequestRefused(
            RequestCode.SERVICE_UNAVAILABLE,
            "Media storage cannot be reached right now; try again shortly.",
            http_status=503,
        )
        refused.headers["Retry-After"] = "5"
        raise refused from exc


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:g} MB"


async def create_upload(
    owner_id: int,
    *,
    kind: MediaKind,
    content_type: str,
    byte_size: int,
    filename: str,
    storage: Storage,
    limits: Limits,
    alt_text: str = "",
) -> Upload:
    checks = Checks()
    declared = content_type.strip().lower()
    extension = CONTENT_TYPES[kind].get(declared)
    if extension is None:
        accepted = ", ".join(sorted(CONTENT_TYPES[kind]))
        checks.fail(
            "content_type",
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"{content_type[:100]!r} is not an accepted {kind.value.lower()} type: use one of {accepted}.",
        )
    if byte_size <= 0:
        checks.fail("byte_size", ErrorCode.OUT_OF_RANGE, "The file size must be at least 1 byte.")
    elif byte_size > limits.max_bytes(kind):
        checks.fail(
            "byte_size",
            ErrorCode.TOO_LARGE,
            f"A {kind.value.lower()} may be at most {_megabytes(limits.max_bytes(kind))}.",
        )
    name = checks.text("filename", filename, max_length=MAX_FILENAME, min_length=0) or ""
    description = checks.text("alt_text", alt_text, max_length=MAX_ALT_TEXT, min_length=0) or ""
    checks.done()
    assert extension is not None  # checks.done() raised otherwise
    token = secrets.token_hex(16)
    key = new_upload_key(token, extension)
    ticket = await _reach(
        storage.upload_ticket(
            key, content_type=declared, byte_size=byte_size, expires_in=limits.upload_ttl_seconds
        )
    )
    media = await Media.create(
        owner_id=owner_id,
        kind=kind,
        content_type=declared,
        byte_size=byte_size,
        filename=name,
        upload_key=key,
        token=token,
        upload_expires_at=ticket.expires_at,
        alt_text=description,
    )
    return Upload(media, ticket)


async def own_media(owner_id: int, media_id: int) -> Media:
    """The viewer's own media; anyone else's is not found (an upload in progress is nobody else's
    business)."""
    media = await Media.get_or_none(id=media_id, owner_id=owner_id)
    if media is None:
        raise NotFound("Media", "id")
    return media


async def _refuse(
    media: Media,
    storage: Storage,
    reason: FailureReason,
    code: ErrorCode,
    message: str,
    broker: Broker | None,
) -> NoReturn:
    """A file that can never become this media: it is deleted and the media FAILED with `reason`; the
    caller reports `code`. Only an UPLOADING row is failed, so a concurrent complete that won keeps it."""
    await _fail(media, storage, MediaStatus.UPLOADING, reason)
    await _announce(broker, media.id)
    raise DomainError(code, message, "id")


async def complete_upload(
    owner_id: int,
    media_id: int,
    *,
    storage: Storage,
    limits: Limits,
    jobs: Jobs,
    broker: Broker | None = None,
) -> Media:
    """Check the uploaded file and queue its processing. Completing again changes nothing."""
    media = await own_media(owner_id, media_id)
    if media.status is not MediaStatus.UPLOADING:
        return media
    stored = await _reach(storage.stat(media.upload_key))
    if stored is None:
        raise DomainError(
            ErrorCode.UPLOAD_MISSING,
            "No file has arrived at the upload URL yet: send it there first"
            + (", or ask for a new upload: this one has expired." if _expired(media) else "."),
            "id",
        )
    limit = limits.max_bytes(media.kind)
    if stored.size > limit or stored.size != media.byte_size:
        await _refuse(
            media,
            storage,
            FailureReason.TOO_LARGE,
            ErrorCode.TOO_LARGE,
            f"The file has {stored.size} bytes; the upload was for {media.byte_size}"
            f" and a {media.kind.value.lower()} may have at most {limit}.",
            broker,
        )
    found = sniff(await _reach(storage.read(media.upload_key, limit=SNIFF_BYTES)))
    if found is None:
        await _refuse(
            media,
            storage,
            FailureReason.UNSUPPORTED_TYPE,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "The file is not an accepted image or video, whatever its name or declared type.",
            broker,
        )
    elif found.kind is not media.kind:
        await _refuse(
            media,
            storage,
            FailureReason.WRONG_KIND,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"The file is {'an image' if found.kind is MediaKind.IMAGE else 'a video'}, but the upload was"
            f" for {'an image' if media.kind is MediaKind.IMAGE else 'a video'}.",
            broker,
        )
    moved = await Media.filter(id=media.id, status=MediaStatus.UPLOADING).update(status=MediaStatus.PENDING)
    if not moved:  # a concurrent complete won: answer with what it made
        await media.refresh_from_db()
        return media
    media.status = MediaStatus.PENDING
    await _announce(broker, media.id)
    await jobs.send(JOB_PROCESS, media.id)
    return media


def _expired(media: Media) -> bool:
    return media.upload_expires_at < datetime.now(UTC)


async def process_media(
    media_id: int, *, storage: Storage, limits: Limits, broker: Broker | None = None
) -> None:
    """The processing job: PENDING → READY, or FAILED with a reason. Safe to run twice (a retry, a second
    delivery): only a PENDING row is processed, and files are written under the media's own token."""
    media = await Media.get_or_none(id=media_id)
    if media is None or media.status is not MediaStatus.PENDING:
        return
    try:
        await _process(media, storage, limits)
    finally:
        await _announce(broker, media_id)


async def _process(media: Media, storage: Storage, limits: Limits) -> None:
    attempts = media.attempts + 1
    await Media.filter(id=media.id).update(attempts=attempts)
    try:
        if media.kind is MediaKind.IMAGE:
            await _process_image(media, storage, limits)
        else:
            await _process_video(media, storage, limits)
    except MediaRejected as rejected:
        log.info("media %s refused in processing: %s (%s)", media.id, rejected.reason, rejected.message)
        await _fail(media, storage, MediaStatus.PENDING, rejected.reason)
    except Exception:
        if attempts >= MAX_ATTEMPTS:
            log.exception("media %s failed processing %d times: given up", media.id, attempts)
            await _fail(media, storage, MediaStatus.PENDING, FailureReason.PROCESSING_ERROR)
            return
        raise  # the job queue retries it, with backoff


async def _fail(media: Media, storage: Storage, expected: MediaStatus, reason: FailureReason) -> None:
    """The media FAILED with `reason` (only while still `expected`: a concurrent step that won keeps it),
    and the uploaded file deleted: best effort, as the orphan sweep deletes a failed upload's file too."""
    await Media.filter(id=media.id, status=expected).update(
        status=MediaStatus.FAILED, failure_reason=reason, processed_at=datetime.now(UTC)
    )
    try:
        await storage.delete(media.upload_key)
    except STORAGE_ERRORS as exc:
        log.warning("media %s: the refused upload stays until the sweep: %s", media.id, exc)


def _extension(content_type: str) -> str:
    return "webp" if content_type == "image/webp" else "jpg"


async def store_variants(storage: Storage, token: str, image: ProcessedImage) -> dict[str, Any]:
    """Write a processed picture's variants under `token`; what `Media.files` holds of them."""
    files: dict[str, Any] = {}

    async def write(variant: EncodedVariant) -> None:
        key = variant_key(token, variant.variant.value, _extension(variant.content_type))
        await storage.write(key, variant.data, content_type=variant.content_type, cache_control=IMMUTABLE)
        files[variant.variant.value] = {
            "key": key,
            "width": variant.width,
            "height": variant.height,
            "content_type": variant.content_type,
        }

    await asyncio.gather(*(write(v) for v in image.variants))
    return files


async def _process_image(media: Media, storage: Storage, limits: Limits) -> None:
    data = await storage.read(media.upload_key)
    image = await asyncio.to_thread(process_image, data, max_pixels=limits.max_image_pixels)
    files = await store_variants(storage, media.token, image)
    await _finish_ready(media, storage, image, files, duration=None)


async def _process_video(media: Media, storage: Storage, limits: Limits) -> None:
    with tempfile.TemporaryDirectory(prefix="vermilion-video-") as directory:
        path = Path(directory) / "upload"
        await storage.download_to(media.upload_key, path)
        video = await asyncio.to_thread(
            probe_video, str(path), max_seconds=limits.max_video_seconds, max_pixels=limits.max_image_pixels
        )
        files = await store_variants(storage, media.token, video.poster)
        # The video is kept as uploaded (no transcoding), under the processed prefix.
        extension = media.upload_key.rsplit(".", 1)[-1]
        key = variant_key(media.token, "video", extension)
        await storage.write_file(key, path, content_type=media.content_type, cache_control=IMMUTABLE)
        files["VIDEO"] = {
            "key": key,
            "width": video.width,
            "height": video.height,
            "content_type": media.content_type,
        }
    await _finish_ready(
        media,
        storage,
        video.poster,
        files,
        duration=video.duration_seconds,
        size=(video.width, video.height),
    )


async def _finish_ready(
    media: Media,
    storage: Storage,
    image: ProcessedImage,
    files: dict[str, Any],
    *,
    duration: float | None,
    size: tuple[int, int] | None = None,
) -> None:
    width, height = size or (image.width, image.height)
    await Media.filter(id=media.id, status=MediaStatus.PENDING).update(
        status=MediaStatus.READY,
        width=width,
        height=height,
        blurhash=image.blurhash,
        dominant_color=image.dominant_color,
        duration_seconds=duration,
        files=files,
        processed_at=datetime.now(UTC),
    )
    await storage.delete(media.upload_key)


async def sweep_orphans(storage: Storage, *, orphan_hours: float, now: datetime | None = None) -> int:
    """Media never attached to anything within `orphan_hours` of their upload, and media released by what
    held them, are deleted with their files (unfinished uploads included). Returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=orphan_hours)
    never_attached = Q(attached_at__isnull=True, created_at__lt=cutoff)
    # Released by what held them (a note deleted or edited, an avatar replaced: media.attach).
    released = Q(attached_at__isnull=False, attached_to__isnull=True)
    stale = await Media.filter(never_attached | released).limit(500)
    deleted = 0
    for media in stale:
        # The row first, and only while still unheld: an attach that won meanwhile keeps media and files.
        if not await Media.filter(Q(id=media.id) & (never_attached | released)).delete():
            continue
        deleted += 1
        keys = [media.upload_key, *(f["key"] for f in (media.files or {}).values())]
        await storage.delete(*keys)
    return deleted


@dataclass(frozen=True)
class MediaServices:
    """What the media rules need from the running app: storage, limits and the job queue."""

    storage: Storage
    limits: Limits
    jobs: Jobs
    orphan_hours: float
    # Where status changes are announced (`mediaStatus` subscriptions); None: nowhere.
    broker: Broker | None = None

    def public_url(self, media: Media, variant: str) -> str | None:
        """Where clients download one processed file of READY media (None: not processed, or no such
        file)."""
        file = (media.files or {}).get(variant) if media.status is MediaStatus.READY else None
        return self.storage.public_url(file["key"]) if file else None

    def register_jobs(self) -> None:
        async def process(media_id: int) -> None:
            await process_media(media_id, storage=self.storage, limits=self.limits, broker=self.broker)

        self.jobs.register(JOB_PROCESS, process)

    async def sweep(self) -> int:
        return await sweep_orphans(self.storage, orphan_hours=self.orphan_hours)


def limits_from_settings(settings: Settings) -> Limits:
    return Limits(
        max_image_bytes=settings.media_max_image_bytes,
        max_image_pixels=settings.media_max_image_pixels,
        max_video_bytes=settings.media_max_video_bytes,
        max_video_seconds=settings.media_max_video_seconds,
        upload_ttl_seconds=settings.media_upload_ttl_seconds,
    )


def storage_from_settings(settings: Settings) -> Storage:
    if settings.media_storage == "s3":
        return S3Storage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            public_url=settings.s3_public_url,
            presign_endpoint_url=settings.s3_presign_endpoint_url,
        )
    # A key of its own, derived from the secret key: an upload signature can never pass for anything else.
    secret = hmac.new(settings.secret_key.encode(), b"vermilion media uploads", hashlib.sha256).hexdigest()
    base_url = settings.public_base_url.rstrip("/")
    return LocalStorage(root=settings.media_root, base_url=base_url, secret=secret)


def media_from_settings(settings: Settings, jobs: Jobs, broker: Broker | None = None) -> MediaServices:
    services = MediaServices(
        storage=storage_from_settings(settings),
        limits=limits_from_settings(settings),
        jobs=jobs,
        orphan_hours=settings.media_orphan_hours,
        broker=broker,
    )
    services.register_jobs()
    return services
