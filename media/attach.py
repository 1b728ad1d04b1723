"""Attaching media: a note's pictures (or its video), a product's images, an avatar.

Media are attached once, to one thing, only by their owner and only when READY. Releasing media (a note
deleted or edited, an avatar replaced) keeps `attached_at` and clears `attached_to`: the periodic sweep
(`media.service.sweep_orphans`) then deletes them and their files at its next pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import ErrorCode, NotFound, PathSegment
from core.validation import Checks
from models.media import Media, MediaStatus, MediaUse, NoteMedia, ProductMedia
from models.notes import Note

MAX_NOTE_IMAGES = 18
MAX_PRODUCT_IMAGES = 10
MAX_ALT_TEXT = 1500  # Mastodon's limit


async def attachable(
    owner_id: int,
    media_ids: Sequence[int],
    *,
    field: str = "media_ids",
    maximum: int,
    reattach: tuple[MediaUse, int] | None = None,
) -> list[Media]:
    """The media of `media_ids`, in order, if the owner may attach them all; else every problem at once.
    `reattach`: what they may already be attached to (the note being edited keeps its own pictures)."""
    checks = Checks()
    ids = list(media_ids)
    if len(set(ids)) != len(ids):
        checks.fail(field, ErrorCode.INVALID, "The same media is given twice.")
    if len(ids) > maximum:
        checks.fail(field, ErrorCode.TOO_MANY, f"At most {maximum} media.")
    checks.done()
    rows = {m.id: m for m in await Media.filter(id__in=ids)} if ids else {}
    linked = await _linked_to(reattach, ids) if reattach else set()
    found: list[Media] = []
    for i, media_id in enumerate(ids):
        path: tuple[PathSegment, ...] = (field, i)
        media = rows.get(media_id)
        if media is None or media.owner_id != owner_id:  # type: ignore[attr-defined]
            checks.errors.append(NotFound("Media", path))
        elif media.status is not MediaStatus.READY:
            checks.fail(
                path,
                ErrorCode.MEDIA_NOT_READY,
                f"This media is {media.status.value}: only READY media can be attached.",
            )
        elif media.attached_at is not None and media.id not in linked:
            checks.fail(path, ErrorCode.INVALID, "This media is attached to something else.")
        else:
            found.append(media)
    checks.done()
    return found


# How a note's and a product's media are linked to them, in order.
_LINKS: dict[MediaUse, tuple[Any, str]] = {
    MediaUse.NOTE: (NoteMedia, "note_id"),
    MediaUse.PRODUCT: (ProductMedia, "product_id"),
}


async def _linked_to(owner: tuple[MediaUse, int], ids: Sequence[int]) -> set[int]:
    use, target = owner
    if use is MediaUse.AVATAR:
        query = Media.filter(id__in=ids, owner_id=target, attached_to=MediaUse.AVATAR).values_list(
            "id", flat=True
        )
    else:
        link, column = _LINKS[use]
        query = link.filter(**{column: target, "media_id__in": ids}).values_list("media_id", flat=True)
    return {int(r) for r in await query}  # type: ignore[call-overload]


# What a note keeps of each of its media, on its own row (`Note.media`): READY media never change, so a
# page of notes shows its pictures with no statement of its own (the feed's budget is 6 statements).
SNAPSHOT_FIELDS = (
    "id", "kind", "width", "height", "blurhash", "dominant_color", "alt_text", "duration_seconds", "files",
)  # fmt: skip


def snapshot(media: Media) -> dict[str, Any]:
    return {name: getattr(media, name) for name in SNAPSHOT_FIELDS}


def from_snapshot(data: dict[str, Any]) -> Media:
    """The READY media a note's row describes (not read from the database)."""
    return Media(**{name: data.get(name) for name in SNAPSHOT_FIELDS}, status=MediaStatus.READY)


async def attach_to_note(note_id: int, media: Sequence[Media]) -> None:
    """The note's media become exactly `media`, in order; those it had and lost are released. Call it
    inside the note's transaction."""
    await _attach(MediaUse.NOTE, note_id, media)


async def attach_to_product(product_id: int, media: Sequence[Media]) -> None:
    """The product's images become exactly `media`, in order (inside the product's transaction)."""
    await _attach(MediaUse.PRODUCT, product_id, media)


async def _attach(use: MediaUse, target: int, media: Sequence[Media]) -> None:
    link, column = _LINKS[use]
    await _release(use, target, keep=[m.id for m in media])
    await link.filter(**{column: target}).delete()
    await link.bulk_create(
        [link(**{column: target, "media_id": m.id, "position": i}) for i, m in enumerate(media)]
    )
    await _mark_attached(media, use)


async def set_avatar(user_id: int, media: Media | None) -> None:
    """The person's avatar becomes `media` (None: no uploaded avatar); the one it replaces is released."""
    keep = [media.id] if media is not None else []
    await (
        Media.filter(owner_id=user_id, attached_to=MediaUse.AVATAR)
        .exclude(id__in=keep)
        .update(attached_to=None)
    )
    if media is not None:
        await _mark_attached([media], MediaUse.AVATAR)


async def release_note_media(note_id: int) -> None:
    """A deleted note's media go (at the sweep's next pass)."""
    await _release(MediaUse.NOTE, note_id, keep=[])


async def _release(use: MediaUse, target: int, *, keep: Sequence[int]) -> None:
    """Media `target` held and no longer keeps are released; their links go with them at the sweep
    (deleting media deletes their links)."""
    link, column = _LINKS[use]
    current = await link.filter(**{column: target}).values_list("media_id", flat=True)
    gone = [int(m) for m in current if m not in keep]  # type: ignore[call-overload]
    if gone:
        await Media.filter(id__in=gone).update(attached_to=None)


async def _mark_attached(media: Sequence[Media], use: MediaUse) -> None:
    if media:
        await Media.filter(id__in=[m.id for m in media]).update(
            attached_at=datetime.now(UTC), attached_to=use
        )


async def set_alt_text(owner_id: int, media_id: int, alt_text: str) -> Media:
    """The owner describes their media for screen readers; a note showing it shows the new text too (its row
    keeps a snapshot of its media)."""
    checks = Checks()
    text = checks.text("alt_text", alt_text, max_length=MAX_ALT_TEXT, min_length=0) or ""
    checks.done()
    media = await Media.get_or_none(id=media_id, owner_id=owner_id)
    if media is None:
        raise NotFound("Media", "id")
    async with in_transaction():
        await Media.filter(id=media.id).update(alt_text=text)
        media.alt_text = text
        link = await NoteMedia.get_or_none(media_id=media.id)
        if link is not None:
            note = await Note.get(id=link.note_id)  # type: ignore[attr-defined]
            note.media = [
                snapshot(media) if isinstance(item, dict) and item.get("id") == media.id else item
                for item in note.media or []
            ]
            await note.save(update_fields=["media"])
    return media
