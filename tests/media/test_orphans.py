"""The orphan sweep, with the clock moved: media never attached to anything within the orphan hours of their
upload (unfinished uploads, refused ones, READY pictures nobody posted) are deleted with their files;
attached media and recent uploads are kept. The app's periodic housekeeping runs it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.app import _housekeeping
from core.ids import decode_global_id
from media.service import sweep_orphans
from models import Media
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.media.files import gps_jpeg, text_file
from tests.media.flow import COMPLETE, CREATE, STATUS, local_media_settings, media_client, send, upload

NOTE_CREATE = """mutation Post($input: NoteCreateInput!) {
  noteCreate(input: $input) { note { id } errors { code field message } }
}"""
ORPHAN_HOURS = 2


@pytest.fixture
async def client(db: str, tmp_path: Path) -> AsyncIterator[GraphQLClient]:
    settings = local_media_settings(
        tmp_path / "media",
        VERMILION_REDIS_URL=None,
        VERMILION_MEDIA_ORPHAN_HOURS=ORPHAN_HOURS,
        VERMILION_SWEEP_INTERVAL_SECONDS=0.05,
    )
    async with media_client(settings) as client:
        yield client


async def _unfinished(client: GraphQLClient, data: bytes) -> str:
    """An upload whose file was sent but never completed: its Media id."""
    fields = {"kind": "IMAGE", "contentType": "image/jpeg", "byteSize": len(data), "filename": "f.jpg"}
    ticket = (await client.data(CREATE, {"input": fields}))["mediaUploadCreate"]["upload"]
    sent = await send(client.http, ticket, data)
    assert sent.status_code == 200, sent.text
    return str(ticket["id"])


async def _refused(client: GraphQLClient) -> str:
    """An upload refused at completion (a text file sent as a JPEG): FAILED, its Media id."""
    media_id = await _unfinished(client, text_file())
    completed = (await client.data(COMPLETE, {"id": media_id}))["mediaUploadComplete"]
    assert [e["code"] for e in completed["errors"]] == ["UNSUPPORTED_MEDIA_TYPE"]
    return media_id


async def _posted(client: GraphQLClient) -> str:
    """A READY picture on a note: its Media id."""
    media_id = await upload(client, gps_jpeg(), "image/jpeg")
    posted = (await client.data(NOTE_CREATE, {"input": {"title": "t", "mediaIds": [media_id]}}))["noteCreate"]
    assert posted["errors"] == []
    return media_id


async def _row(media_id: str) -> Media:
    return await Media.get(id=decode_global_id(media_id, "Media", "id"))


async def _files(client: GraphQLClient, media_id: str) -> list[Path]:
    """Where the media's files are, or would be, on disk: the upload's and every processed one's."""
    row = await _row(media_id)
    keys = [row.upload_key, *(f["key"] for f in row.files.values())]
    root = Path(client.app.state.media.storage.root)
    return [root.joinpath(*key.split("/")) for key in keys]


async def _on_disk(client: GraphQLClient, media_id: str) -> list[Path]:
    return [path for path in await _files(client, media_id) if path.exists()]


async def _seen_by_owner(client: GraphQLClient, media_id: str) -> dict[str, Any] | None:
    node: dict[str, Any] | None = (await client.data(STATUS, {"id": media_id}))["node"]
    return node


async def _created_ago(media_id: str, hours: float) -> None:
    """Move the media's upload back in time."""
    created = datetime.now(UTC) - timedelta(hours=hours)
    await Media.filter(id=decode_global_id(media_id, "Media", "id")).update(created_at=created)


async def test_media_never_attached_go_with_their_files_once_the_orphan_hours_have_passed(
    client: GraphQLClient,
) -> None:
    client.token = (await sign_up(client, "hoarder"))["token"]
    unfinished = await _unfinished(client, gps_jpeg())
    refused = await _refused(client)
    unposted = await upload(client, gps_jpeg(), "image/jpeg")
    posted = await _posted(client)
    orphans = [unfinished, refused, unposted]
    orphan_files = {m: await _on_disk(client, m) for m in orphans}
    assert len(orphan_files[unfinished]) == 1  # the upload itself
    assert orphan_files[refused] == []  # deleted at completion already: only the row is left
    assert len(orphan_files[unposted]) == 3  # THUMBNAIL, FEED, ORIGINAL
    posted_files = await _on_disk(client, posted)
    assert len(posted_files) == 3
    storage = client.app.state.media.storage
    now = datetime.now(UTC)

    # An hour short of the orphan hours: everything stays.
    almost = now + timedelta(hours=ORPHAN_HOURS - 1)
    assert await sweep_orphans(storage, orphan_hours=ORPHAN_HOURS, now=almost) == 0
    for media_id in [*orphans, posted]:
        assert await _seen_by_owner(client, media_id) is not None
    assert all(path.exists() for paths in orphan_files.values() for path in paths)

    # An hour past them: what was never attached goes, with its files.
    past = now + timedelta(hours=ORPHAN_HOURS + 1)
    assert await sweep_orphans(storage, orphan_hours=ORPHAN_HOURS, now=past) == len(orphans)
    for media_id in orphans:
        assert await _seen_by_owner(client, media_id) is None
    assert not any(path.exists() for paths in orphan_files.values() for path in paths)
    # The picture on a note stays, and is still served.
    assert await _seen_by_owner(client, posted) == {"id": posted, "status": "READY", "failureReason": None}
    assert await _on_disk(client, posted) == posted_files
    for path in posted_files:
        key = path.relative_to(storage.root).as_posix()
        assert (await client.http.get(f"/media/files/{key}")).status_code == 200


async def test_the_periodic_housekeeping_sweeps_orphans_past_the_configured_hours(
    client: GraphQLClient,
) -> None:
    client.token = (await sign_up(client, "forgetful"))["token"]
    old, recent = [await upload(client, gps_jpeg(), "image/jpeg") for _ in range(2)]
    old_posted = await _posted(client)
    await _created_ago(old, ORPHAN_HOURS + 1)
    await _created_ago(recent, ORPHAN_HOURS - 1)
    await _created_ago(old_posted, ORPHAN_HOURS + 1)
    old_files = await _on_disk(client, old)
    kept = {m: await _on_disk(client, m) for m in (recent, old_posted)}

    # The app's own housekeeping loop, as its lifespan runs it (every VERMILION_SWEEP_INTERVAL_SECONDS).
    app = client.app
    housekeeping = asyncio.create_task(
        _housekeeping(app.state.settings, app.state.payments, app.state.snapshots, app.state.media)
    )
    try:
        deadline = time.monotonic() + 10
        # The row goes first and its files right after: wait for both before stopping the loop.
        while await _seen_by_owner(client, old) is not None or any(path.exists() for path in old_files):
            assert time.monotonic() < deadline, "the housekeeping never swept the orphan"
            await asyncio.sleep(0.05)
    finally:
        housekeeping.cancel()
        await asyncio.gather(housekeeping, return_exceptions=True)

    assert old_files and not any(path.exists() for path in old_files)
    for media_id, files in kept.items():
        assert await _seen_by_owner(client, media_id) is not None
        assert len(files) == 3 and all(path.exists() for path in files)
