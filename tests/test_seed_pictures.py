"""Demo data with pictures: `seed_database(pictures=True)` (what `vermilion seed` does for small worlds)
draws every avatar, product shot and note photo, processes them as uploads are processed, stores them, and
attaches READY media to what they show; the same seed draws the same bytes."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageFont

from api.app import create_app
from api.db import empty_all_tables
from core.ids import to_global_id
from core.settings import Settings
from demo import SeedSummary, seed_database
from demo.build import build_world
from demo.media import make_demo_media
from demo.pictures import cjk_font
from demo.world import MEDIA_BASE
from media.service import storage_from_settings
from models import Media, MediaStatus, MediaUse, Note, NoteMedia, Product, ProductMedia, Role, User
from tests.conftest import GraphQLClient
from tests.media.flow import local_media_settings
from tests.test_cli import row_counts, sqlite_url, vermilion

# Small: every picture is drawn and processed (~40 ms of CPU each).
WORLD: dict[str, Any] = {"users": 6, "notes": 16, "products": 4, "progress": False}
BASE_URL = "http://testserver"
MEDIA_NODE = """query Media($id: ID!) {
  node(id: $id) { ... on Media { status width height thumbnail: url(variant: THUMBNAIL) } }
}"""


def media_settings(root: Path) -> Settings:
    return local_media_settings(root, VERMILION_PUBLIC_BASE_URL=BASE_URL)


async def seed_with_pictures(settings: Settings, seed: int = 7) -> SeedSummary:
    storage = storage_from_settings(settings)
    return await seed_database(**WORLD, seed=seed, pictures=True, media_storage=storage)


@pytest.fixture
async def pictured(db: str, tmp_path: Path) -> tuple[Settings, SeedSummary]:
    settings = media_settings(tmp_path / "media")
    return settings, await seed_with_pictures(settings)


@pytest.fixture
async def client(pictured: tuple[Settings, SeedSummary]) -> AsyncIterator[GraphQLClient]:
    app = create_app(pictured[0], manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield GraphQLClient(http, app)


def file_url(key: str) -> str:
    return f"{BASE_URL}/media/files/{key}"


async def test_image_notes_show_one_to_three_ready_pictures_posted_by_their_author(
    pictured: tuple[Settings, SeedSummary],
) -> None:
    _, summary = pictured
    links: dict[int, list[NoteMedia]] = {}
    for link in await NoteMedia.all().order_by("note_id", "position").prefetch_related("media"):
        links.setdefault(link.note_id, []).append(link)  # type: ignore[attr-defined]

    notes = await Note.all().order_by("id")
    image_notes = [note for note in notes if note.kind == "IMAGE" and note.deleted_at is None]
    assert image_notes and set(links) == {note.id for note in image_notes}
    for note in image_notes:
        shown = links[note.id]
        assert 1 <= len(shown) <= 3 and [link.position for link in shown] == list(range(len(shown)))
        # The placeholder URLs gave way to the pictures, kept on the note's row as a posted note keeps them.
        assert [item["id"] for item in note.media] == [link.media.id for link in shown]
        assert note.media[0]["files"] == shown[0].media.files
        for link in shown:
            media = link.media
            assert (media.status, media.kind, media.attached_to) == (
                MediaStatus.READY,
                "IMAGE",
                MediaUse.NOTE,
            )
            assert media.owner_id == note.author_id  # type: ignore[attr-defined]
            assert media.attached_at == note.created_at and media.alt_text == note.title
            assert media.width and media.height and media.blurhash and media.dominant_color
            assert set(media.files) == {"THUMBNAIL", "FEED", "ORIGINAL"}
    assert Counter(len(v) for v in links.values()).keys() >= {1, 2}  # not always the same count
    for note in notes:
        if note.kind == "VIDEO":
            assert len(note.media) == 1 and note.media[0].startswith(f"{MEDIA_BASE}/")
    assert summary.rows["note_media"] == sum(len(v) for v in links.values())
    assert summary.rows["media"] == await Media.all().count()


async def test_every_product_shows_one_or_two_images_of_its_merchant(
    pictured: tuple[Settings, SeedSummary],
) -> None:
    products = {product.id: product for product in await Product.all()}
    per_product: dict[int, list[int]] = {}
    for link in await ProductMedia.all().order_by("product_id", "position").prefetch_related("media"):
        product = products[link.product_id]  # type: ignore[attr-defined]
        per_product.setdefault(product.id, []).append(link.position)
        assert link.media.owner_id == product.merchant_id  # type: ignore[attr-defined]
        assert (link.media.status, link.media.attached_to) == (MediaStatus.READY, MediaUse.PRODUCT)
    assert set(per_product) == set(products)
    assert all(positions in ([0], [0, 1]) for positions in per_product.values())


async def test_every_file_is_an_image_of_its_recorded_size_without_metadata(
    pictured: tuple[Settings, SeedSummary],
) -> None:
    settings, _ = pictured
    for media in await Media.all():
        assert (media.files["ORIGINAL"]["width"], media.files["ORIGINAL"]["height"]) == (
            media.width,
            media.height,
        )
        for variant, file in media.files.items():
            data = (settings.media_root / file["key"]).read_bytes()
            with Image.open(BytesIO(data)) as image:
                assert image.size == (file["width"], file["height"]), (media.id, variant)
                assert image.get_format_mimetype() == file["content_type"] == "image/jpeg"
                assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
                image.load()
        assert max(media.files["THUMBNAIL"]["width"], media.files["THUMBNAIL"]["height"]) <= 400


async def test_every_person_has_an_avatar_whose_url_the_app_serves(
    pictured: tuple[Settings, SeedSummary], client: GraphQLClient
) -> None:
    # The world's people (the demo moderator, staff added after the world, has no drawn avatar).
    users = await User.filter(role=Role.USER).order_by("id")
    avatars = {m.owner_id: m for m in await Media.filter(attached_to=MediaUse.AVATAR)}  # type: ignore[attr-defined]
    assert set(avatars) == {user.id for user in users}
    for user in users:
        thumbnail = avatars[user.id].files["THUMBNAIL"]
        assert user.avatar_url == file_url(thumbnail["key"])
        response = await client.http.get(user.avatar_url)
        assert response.status_code == 200, user.avatar_url
        assert response.headers["content-type"] == "image/jpeg"
        with Image.open(BytesIO(response.content)) as image:
            assert image.size == (thumbnail["width"], thumbnail["height"])


async def test_attached_pictures_are_media_anyone_can_fetch_by_id(
    pictured: tuple[Settings, SeedSummary], client: GraphQLClient
) -> None:
    settings, _ = pictured
    note_link = await NoteMedia.all().order_by("id").first().prefetch_related("media")
    product_link = await ProductMedia.all().order_by("id").first().prefetch_related("media")
    avatar = await Media.filter(attached_to=MediaUse.AVATAR).order_by("id").first()
    assert note_link is not None and product_link is not None and avatar is not None
    for media in (note_link.media, product_link.media, avatar):
        data = await client.data(MEDIA_NODE, {"id": to_global_id("Media", media.id)}, anonymous=True)
        thumbnail = media.files["THUMBNAIL"]["key"]
        assert data["node"] == {
            "status": "READY",
            "width": media.width,
            "height": media.height,
            "thumbnail": file_url(thumbnail),
        }
        response = await client.http.get(data["node"]["thumbnail"])
        assert response.status_code == 200
        assert response.content == (settings.media_root / thumbnail).read_bytes()


async def test_media_ids_follow_time_and_uploads_after_the_seed_get_fresh_ids(
    pictured: tuple[Settings, SeedSummary],
) -> None:
    _, summary = pictured
    stamps = [row["created_at"] for row in await Media.all().order_by("id").values("created_at")]
    assert stamps == sorted(stamps)

    upload = await Media.create(
        owner_id=1,
        kind="IMAGE",
        content_type="image/png",
        byte_size=10,
        upload_key="uploads/fresh/original.png",
        token="fresh",
        upload_expires_at=stamps[-1],
    )
    assert upload.id == summary.rows["media"] + 1
    note = await Note.filter(kind="IMAGE").first()
    assert note is not None
    link = await NoteMedia.create(note=note, media=upload, position=9)
    assert link.id == summary.rows["note_media"] + 1


async def test_the_same_seed_draws_byte_identical_pictures_and_another_seed_others(
    db: str, tmp_path: Path
) -> None:
    first = await _pictures_of_a_seed(tmp_path / "first", seed=7)
    await empty_all_tables()
    second = await _pictures_of_a_seed(tmp_path / "second", seed=7)
    await empty_all_tables()
    other = await _pictures_of_a_seed(tmp_path / "other", seed=8)

    assert first and first == second
    assert set(first.values()).isdisjoint(other.values())


async def _pictures_of_a_seed(root: Path, *, seed: int) -> dict[tuple[Any, ...], str]:
    """(media id, variant, key, width, height, blurhash, colour) → SHA-256 of the file's bytes."""
    await seed_with_pictures(media_settings(root), seed=seed)
    pictures = {}
    for media in await Media.all().order_by("id"):
        for variant, file in media.files.items():
            digest = hashlib.sha256((root / file["key"]).read_bytes()).hexdigest()
            pictures[media.id, variant, file["key"], media.width, media.height, media.blurhash] = digest
    return pictures


async def test_pictures_made_in_worker_processes_are_those_made_in_a_thread(tmp_path: Path) -> None:
    world = build_world(users=4, notes=6, products=1, seed=3, progress=False)
    made = {}
    for workers in (1, 2):
        root = tmp_path / f"workers-{workers}"
        storage = storage_from_settings(media_settings(root))
        media = await make_demo_media(world, seed=3, storage=storage, progress=False, workers=workers)
        files = {path.relative_to(root): path.read_bytes() for path in root.rglob("*") if path.is_file()}
        rows = [
            (m.id, m.token, m.width, m.height, m.blurhash, m.dominant_color, m.files) for m in media.media
        ]
        made[workers] = (rows, files, media.avatar_urls)

    assert made[1][1] and len(made[1][1]) == 3 * len(made[1][0])  # three sizes of every picture
    assert made[1] == made[2]


async def test_seeding_draws_no_pictures_unless_asked(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test suite's demo world (conftest's `demo_user`) stays quick and writes no files."""
    monkeypatch.chdir(tmp_path)  # where the default media root (data/media) would be

    summary = await seed_database(**WORLD)

    assert await Media.all().count() == 0 and "media" in summary.rows and summary.rows["media"] == 0
    assert all(
        url.startswith(f"{MEDIA_BASE}/")
        for note in await Note.filter(kind="IMAGE")
        for url in note.media or ["missing"]
    )
    assert not (tmp_path / "data" / "media").exists()


def test_a_cjk_font_is_found_by_name_when_pillow_can_open_it(tmp_path: Path) -> None:
    empty, broken, found = (tmp_path / name for name in ("empty", "broken", "found"))
    for directory in (empty, broken, found):
        directory.mkdir()
    (broken / "wqy-zenhei.ttc").write_bytes(b"not a font")
    # Any font Pillow opens stands in for WenQuanYi here: discovery goes by name.
    font = ImageFont.load_default(size=12)
    assert isinstance(font, ImageFont.FreeTypeFont)
    (found / "fonts").mkdir()
    (found / "fonts" / "DejaVuSans.ttf").write_bytes(font.font_bytes)
    (found / "fonts" / "wqy-microhei.ttc").write_bytes(font.font_bytes)

    assert cjk_font((empty,)) is None
    assert cjk_font((broken,)) is None  # a file Pillow cannot open is passed over
    assert cjk_font((tmp_path / "missing", found)) == found / "fonts" / "wqy-microhei.ttc"


def test_vermilion_seed_draws_pictures_for_small_worlds_only(tmp_path: Path) -> None:
    help_text = " ".join(re.sub(r"[│─╭╮╰╯]", " ", vermilion("seed", "--help", cwd=tmp_path).stdout).split())
    assert "--pictures --no-pictures" in help_text and "on for up to 200 users, off above" in help_text

    small, big = tmp_path / "small", tmp_path / "big"
    for directory, users in ((small, "6"), (big, "201")):
        directory.mkdir()
        url = sqlite_url(directory)
        args = ("seed", "--users", users, "--notes", "6", "--products", "1", "--no-progress")
        seeded = vermilion(*args, cwd=directory, database_url=url)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr

    assert row_counts(sqlite_url(small))["media"] >= 6 + 1  # every avatar, the product, some notes
    assert any((small / "data" / "media" / "media").iterdir())
    assert row_counts(sqlite_url(big))["media"] == 0
    assert not (big / "data" / "media").exists()
