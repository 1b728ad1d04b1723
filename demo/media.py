"""The demo world's media: every picture drawn (demo.pictures), made into what an upload becomes
(media.images.process_image: variants, blurhash, dominant colour), stored, and described by READY,
attached `Media` rows with their note and product links, ready for the seed to insert.

Which pictures, from the seed: every person an avatar, every product 1–2 shots, every IMAGE note that is
not deleted 1–3 photos (VIDEO notes keep their URL). Ids follow creation time, as everywhere in the demo.
Storage keys are derived from the seed (not random as an upload's are): seeding again writes the same
files over the same keys instead of leaving the last seed's behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import random
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tqdm import tqdm

from demo.clock import DemoClock
from demo.pictures import (
    AVATAR_SIZE,
    NOTE_SIZES,
    PRODUCT_SIZE,
    PictureSpec,
    avatar_picture,
    note_picture,
    picture_jpeg,
    product_picture,
)
from demo.world import World
from media.attach import MAX_ALT_TEXT, snapshot
from media.images import ProcessedImage, process_image
from media.service import store_variants
from media.storage import Storage, new_upload_key
from models.media import Media, MediaKind, MediaStatus, MediaUse, MediaVariant, NoteMedia, ProductMedia

NOTE_PICTURE_WEIGHTS = (60, 25, 15)  # 1, 2 or 3 photos
PRODUCT_PICTURE_WEIGHTS = (50, 50)  # 1 or 2 shots
MAX_PIXELS = max(w * h for w, h in (*NOTE_SIZES, AVATAR_SIZE, PRODUCT_SIZE))
# Processing is CPU-bound and mostly holds the GIL (blurhash is pure Python, ~60 % of it): threads would
# not run it in parallel, worker processes do.
MAX_WORKERS = 8
PICTURES_PER_WORKER = 50


@dataclass(frozen=True)
class Picture:
    """One picture to make: what it shows, and what it will be attached to."""

    spec: PictureSpec
    use: MediaUse
    target_id: int
    owner_id: int
    position: int
    created_at: int
    alt_text: str


@dataclass
class DemoMedia:
    """The rows describing the stored pictures, in insertion order, and each person's avatar URL."""

    media: list[Media] = field(default_factory=list)
    note_media: list[NoteMedia] = field(default_factory=list)
    product_media: list[ProductMedia] = field(default_factory=list)
    avatar_urls: dict[int, str] = field(default_factory=dict)
    # Each pictured note's media as its row keeps them (media.attach.snapshot), in order.
    note_snapshots: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def apply_to(self, world: World) -> None:
        """Avatars become the pictures' thumbnails; notes with photos show them instead of placeholder
        URLs, as a note posted with uploads does."""
        for user in world.users:
            user.avatar_url = self.avatar_urls.get(user.id, user.avatar_url)
        for note in world.notes:
            if note.id in self.note_snapshots:
                note.media = self.note_snapshots[note.id]


def plan_pictures(world: World, *, seed: int) -> list[Picture]:
    """Every picture of the world, oldest first (their media ids in order)."""
    rng = random.Random(f"vermilion-demo:{seed}:pictures")
    pictures = [
        Picture(avatar_picture(u, seed=seed), MediaUse.AVATAR, u.id, u.id, 0, u.created_at, u.display_name)
        for u in world.users
    ]
    for product in world.products:
        count = rng.choices((1, 2), weights=PRODUCT_PICTURE_WEIGHTS)[0]
        pictures += [
            Picture(
                product_picture(product, position, seed=seed),
                MediaUse.PRODUCT,
                product.id,
                product.merchant_id,
                position,
                product.created_at,
                f"{product.name_zh} {product.name_en}",
            )
            for position in range(count)
        ]
    for note in world.notes:
        if note.kind != "IMAGE" or note.deleted_at is not None:
            continue
        count = rng.choices((1, 2, 3), weights=NOTE_PICTURE_WEIGHTS)[0]
        pictures += [
            Picture(
                note_picture(note, position, count, seed=seed),
                MediaUse.NOTE,
                note.id,
                note.author_id,
                position,
                note.created_at,
                note.title,
            )
            for position in range(count)
        ]
    # Stable: what was made at the same second keeps its order (avatars, products, notes; by position).
    pictures.sort(key=lambda picture: picture.created_at)
    return pictures


async def make_demo_media(
    world: World,
    *,
    seed: int,
    storage: Storage,
    progress: bool,
    workers: int | None = None,
    clock: DemoClock = DemoClock(),
) -> DemoMedia:
    """Draw, process and store every picture of `world`; the rows that describe them, dated on `clock`
    as the world's rows are. Only files are written here: the caller inserts the rows (in its
    transaction).

    Pictures are made in `workers` spawned processes (default: one per CPU, at most MAX_WORKERS, and one
    per PICTURES_PER_WORKER pictures; a single worker is a thread): as with any process pool, a script
    calling this must guard its entry point (`if __name__ == "__main__"`).
    """
    pictures = plan_pictures(world, seed=seed)
    # A worker process takes most of a second to start: worth it from a few dozen pictures on.
    workers = workers or max(1, min(default_workers(), len(pictures) // PICTURES_PER_WORKER))
    loop = asyncio.get_running_loop()
    made: list[Media | None] = [None] * len(pictures)
    queue = iter(enumerate(pictures))

    with (
        _executor(workers) as pool,
        tqdm(total=len(pictures), desc="draw pictures", unit="picture", disable=not progress) as bar,
    ):

        async def feed_worker() -> None:
            # Each worker process has one picture in hand and one waiting: busy, and memory stays flat.
            for index, picture in queue:
                source_size, image = await loop.run_in_executor(pool, make_picture, picture.spec)
                token = _token(seed, picture)
                files = await store_variants(storage, token, image)
                made[index] = _media_row(index + 1, picture, token, source_size, image, files, clock)
                bar.update()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(2 * workers):
                    group.create_task(feed_worker())
        except* Exception as failed:
            raise failed.exceptions[0] from None
    return _link(pictures, [media for media in made if media is not None], storage)


def _link(pictures: list[Picture], made: list[Media], storage: Storage) -> DemoMedia:
    result = DemoMedia(media=made)
    placed: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for media, picture in zip(made, pictures, strict=True):
        if picture.use is MediaUse.NOTE:
            result.note_media.append(
                NoteMedia(
                    id=len(result.note_media) + 1,
                    media_id=media.id,
                    note_id=picture.target_id,
                    position=picture.position,
                )
            )
            placed.setdefault(picture.target_id, []).append((picture.position, snapshot(media)))
        elif picture.use is MediaUse.PRODUCT:
            result.product_media.append(
                ProductMedia(
                    id=len(result.product_media) + 1,
                    media_id=media.id,
                    product_id=picture.target_id,
                    position=picture.position,
                )
            )
        else:
            thumbnail = media.files[MediaVariant.THUMBNAIL.value]["key"]
            result.avatar_urls[picture.target_id] = storage.public_url(thumbnail)
    result.note_snapshots = {
        note: [data for _, data in sorted(items, key=lambda i: i[0])] for note, items in placed.items()
    }
    return result


def make_picture(spec: PictureSpec) -> tuple[int, ProcessedImage]:
    """Draw one picture and process it as an upload: (the uploaded JPEG's size, the processed image).
    Runs in a worker process."""
    source = picture_jpeg(spec)
    return len(source), process_image(source, max_pixels=MAX_PIXELS)


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))


@contextmanager
def _executor(workers: int) -> Iterator[Executor]:
    if workers == 1:
        # No second CPU to gain: one thread keeps the event loop free without starting a process.
        with ThreadPoolExecutor(1, thread_name_prefix="demo-pictures") as threads:
            yield threads
        return
    # Spawned, not forked: the seeding process runs an event loop and database threads that a fork would
    # copy mid-flight.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as processes:
        yield processes


def _token(seed: int, picture: Picture) -> str:
    identity = f"vermilion-demo-media:{seed}:{picture.use.value}:{picture.target_id}:{picture.position}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def _media_row(
    media_id: int,
    picture: Picture,
    token: str,
    source_size: int,
    image: ProcessedImage,
    files: dict[str, Any],
    clock: DemoClock,
) -> Media:
    made = clock.at(picture.created_at)
    kind = picture.use.value.lower()
    return Media(
        id=media_id,
        owner_id=picture.owner_id,
        kind=MediaKind.IMAGE,
        status=MediaStatus.READY,
        content_type="image/jpeg",
        byte_size=source_size,
        filename=f"{kind}-{picture.target_id}-{picture.position + 1}.jpg",
        # Nothing is ever uploaded there: the picture went straight to processing.
        upload_key=new_upload_key(token, "jpg"),
        token=token,
        upload_expires_at=made + timedelta(hours=1),
        width=image.width,
        height=image.height,
        blurhash=image.blurhash,
        dominant_color=image.dominant_color,
        files=files,
        alt_text=picture.alt_text[:MAX_ALT_TEXT],
        attached_at=made,
        attached_to=picture.use,
        attempts=1,
        created_at=made,
        processed_at=made,
    )
