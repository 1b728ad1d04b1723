"""Leaving with one's data: viewerExportCreate builds an archive in the background, the person is told, and
the archive is downloaded over HTTP through a signed link until it expires and is swept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from core.jobs import Jobs
from models import DataExport, ExportStatus, Notification, NotificationKind, User
from safety.export import (
    ARCHIVE_DAYS,
    ExportServices,
    archive_key,
    build_export,
    request_export,
    sweep_exports,
)
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.media import conftest as media_fixtures
from tests.safety.leaving import EXPORT, EXPORTS, a_life, leaving_client, ready_export

# The moto S3 server of the media tests, for the session: its base URL.
moto_s3 = media_fixtures.s3_endpoint
NOTIFICATIONS = "{ viewer { notifications(first: 5) { nodes { kind } } } }"


async def download(client: GraphQLClient, url: str) -> Any:
    response = await client.http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["content-disposition"].startswith("attachment;")
    return orjson.loads(response.content)


async def test_an_archive_of_everything_is_built_in_the_background_and_downloaded(
    db: str, tmp_path: Path
) -> None:
    async with leaving_client(tmp_path) as (client, payments):
        life = await a_life(client, payments)
        mine = life.me["token"]

        asked = (await client.data(EXPORT, token=mine))["viewerExportCreate"]
        assert asked["errors"] == []
        assert asked["export"]["status"] in ("PENDING", "READY")
        export = await ready_export(client, mine)
        archive = await download(client, export["url"])
        kinds = [
            n["kind"]
            for n in (await client.data(NOTIFICATIONS, token=mine))["viewer"]["notifications"]["nodes"]
        ]

    assert export["status"] == "READY"
    assert export["byteSize"] > 0
    assert datetime.fromisoformat(export["expiresAt"]) - datetime.fromisoformat(
        export["readyAt"]
    ) == timedelta(days=ARCHIVE_DAYS)
    assert kinds[0] == "EXPORT_READY"
    assert archive["format"] == "vermilion-data-export"
    profile = archive["profile"]
    assert (profile["id"], profile["handle"]) == (life.me["user"]["id"], life.me["user"]["handle"])
    assert profile["email"] == f"{life.me['user']['handle']}@example.com"
    notes = {n["id"]: n for n in archive["notes"]}
    assert set(notes) == {life.my_note["id"], life.my_review["id"]}
    mine_note = notes[life.my_note["id"]]
    assert mine_note["topics"] == ["护肤"]
    assert (mine_note["likeCount"], mine_note["collectCount"], mine_note["commentCount"]) == (1, 1, 1)
    (picture,) = mine_note["media"]
    assert picture["id"] == life.media_id
    assert picture["width"] and picture["height"]
    assert set(picture["files"]) == {"THUMBNAIL", "FEED", "ORIGINAL"}
    assert all(url.startswith("http://testserver/media/files/media/") for url in picture["files"].values())
    assert notes[life.my_review["id"]]["review"] == {"product": life.shop.product["id"], "rating": 5}
    comments = {c["id"]: c for c in archive["comments"]}
    assert set(comments) == {life.my_root, life.my_lonely, life.my_reply}
    assert comments[life.my_reply]["replyTo"] == life.friend_root
    assert [like["note"] for like in archive["likes"]] == [life.shop.note["id"]]
    assert [(c["note"], c["board"]) for c in archive["collects"]] == [(life.shop.note["id"], life.board_id)]
    assert "种草" in [b["name"] for b in archive["boards"]]
    assert [p["handle"] for p in archive["following"]] == [life.friend["user"]["handle"]]
    assert {p["handle"] for p in archive["followers"]} == {
        life.friend["user"]["handle"],
        life.shop.merchant["user"]["handle"],
    }
    assert [p["user"] for p in archive["blocks"]] == [life.troll["user"]["id"]]
    assert [p["user"] for p in archive["mutes"]] == [life.shop.merchant["user"]["id"]]
    assert [f["phrase"] for f in archive["filters"]] == ["广告"]
    (order,) = archive["orders"]
    assert order["id"] == life.order["id"]
    assert order["status"] == "PAID"
    assert order["shippingAddress"]["name"] == "林小红"
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("VLT-01", 1)]
    (report,) = archive["reports"]
    assert (report["category"], report["subject"]["kind"]) == ("SPAM", "NOTE")
    assert archive["appeals"] == [] and archive["moderationActions"] == []


async def test_the_link_is_the_owners_alone_and_dies_with_the_archive(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path) as (client, _):
        me = await sign_up(client, "lily")
        other = await sign_up(client, "lei")
        await client.data(EXPORT, token=me["token"])
        export = await ready_export(client, me["token"])
        url: str = export["url"]
        token, _, signature = url.rsplit("/", 1)[1].partition(".")

        seen_by_other = await client.data(
            "query($h: String!) { user(handle: $h) { exports { id } } }", {"h": "lily"}, token=other["token"]
        )
        forged = await client.http.get(url[:-1] + ("0" if url[-1] != "0" else "1"))
        unsigned = await client.http.get(url.split(".")[0])
        another = await client.http.get(url.replace(token, "f" * 32))
        through_media = await client.http.get(f"/media/files/{archive_key(token)}")
        assert (await client.http.get(url)).status_code == 200

        row = await DataExport.get(token=token)
        assert row.expires_at is not None
        swept = await sweep_exports(client.app.state.media.storage, now=row.expires_at + timedelta(seconds=1))
        after = await client.http.get(url)
        listed = (await client.data(EXPORTS, token=me["token"]))["viewer"]["exports"]

    assert seen_by_other["user"]["exports"] is None
    assert signature
    assert [r.status_code for r in (forged, unsigned, another, through_media)] == [404, 404, 404, 404]
    assert swept == 1
    assert after.status_code == 404
    assert listed == []
    assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").rglob("*.json"))


async def test_one_export_at_a_time_and_one_archive_a_day(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path) as (client, _):
        me = await sign_up(client, "lily")
        first = (await client.data(EXPORT, token=me["token"]))["viewerExportCreate"]
        await ready_export(client, me["token"])
        again = (await client.data(EXPORT, token=me["token"]))["viewerExportCreate"]
        anonymous = await client.execute(EXPORT, anonymous=True)

    assert first["errors"] == []
    assert again["export"] is None
    assert [e["code"] for e in again["errors"]] == ["TOO_MANY"]
    assert anonymous["data"]["viewerExportCreate"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert await DataExport.all().count() == 1


class RecordingJobs(Jobs):
    """A job queue that only remembers what was sent (the export stays PENDING)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    async def send(self, name: str, *args: Any) -> None:
        self.sent.append((name, args))


async def test_asking_while_one_is_being_built_returns_it(db: str, tmp_path: Path) -> None:
    user = await User.create(email="a@example.com", handle="a_person", display_name="A", password_hash="!")
    jobs = RecordingJobs()

    first = await request_export(user_id=user.id, jobs=jobs)
    second = await request_export(user_id=user.id, jobs=jobs)

    assert second.id == first.id
    assert first.status is ExportStatus.PENDING
    assert jobs.sent == [("safety.export", (first.id,))]


async def test_a_build_runs_once_and_a_stale_one_is_failed_so_the_person_may_ask_again(
    db: str, tmp_path: Path
) -> None:
    from media.storage import LocalStorage
    from tests.media.conftest import LOCAL_SECRET

    storage = LocalStorage(root=tmp_path, base_url="http://testserver", secret=LOCAL_SECRET)
    user = await User.create(email="a@example.com", handle="a_person", display_name="A", password_hash="!")
    jobs = RecordingJobs()
    stale = await request_export(user_id=user.id, jobs=jobs)
    await sweep_exports(storage, now=datetime.now(UTC) + timedelta(hours=2))
    fresh = await request_export(user_id=user.id, jobs=jobs)
    await build_export(fresh.id, storage=storage)
    await build_export(fresh.id, storage=storage)  # a second delivery of the job

    assert (await DataExport.get(id=stale.id)).status is ExportStatus.FAILED
    built = await DataExport.get(id=fresh.id)
    assert built.status is ExportStatus.READY
    assert (tmp_path / "exports" / fresh.token / "archive.json").is_file()
    ready = await Notification.filter(recipient_id=user.id, kind=NotificationKind.EXPORT_READY).count()
    assert ready == 1
    await build_export(stale.id, storage=storage)  # a failed export is never built
    assert (await DataExport.get(id=stale.id)).status is ExportStatus.FAILED


def test_a_link_is_accepted_only_with_the_servers_signature() -> None:
    services = ExportServices(storage=None, jobs=None, secret=b"k" * 32, base_url="http://x")  # type: ignore[arg-type]
    token = "a" * 32
    link = f"{token}.{services.signature(token)}"
    other = ExportServices(storage=None, jobs=None, secret=b"j" * 32, base_url="http://x")  # type: ignore[arg-type]

    assert services.token_of(link) == token
    assert other.token_of(link) is None
    assert services.token_of(token) is None
    assert services.token_of(f"{token}.") is None
    assert services.token_of(f"{'b' * 32}.{services.signature(token)}") is None
    assert services.token_of("x" * 500) is None


@pytest.mark.parametrize("export_status", [ExportStatus.PENDING, ExportStatus.FAILED])
async def test_no_url_before_an_archive_is_ready(db: str, export_status: ExportStatus) -> None:
    services = ExportServices(storage=None, jobs=None, secret=b"k" * 32, base_url="http://x")  # type: ignore[arg-type]
    user = await User.create(email="a@example.com", handle="a_person", display_name="A", password_hash="!")
    export = await DataExport.create(user_id=user.id, token="c" * 32, status=export_status)

    assert services.url(export) is None


async def test_the_archive_tells_decisions_about_the_person_but_not_who_made_them(db: str) -> None:
    from models import ModerationAction, ModerationActionKind, SubjectKind
    from safety.export import archive_of

    person = await User.create(email="a@example.com", handle="a_person", display_name="A", password_hash="!")
    moderator = await User.create(email="m@example.com", handle="a_mod", display_name="M", password_hash="!")
    for kind in (ModerationActionKind.ASSIGN, ModerationActionKind.SUSPEND):
        await ModerationAction.create(
            moderator_id=moderator.id,
            target_user_id=person.id,
            subject_kind=SubjectKind.USER,
            subject_id=person.id,
            action=kind,
            reason="spam",
            duration_days=3,
        )

    archive = await archive_of(person, media_url=str)

    (action,) = archive["moderationActions"]
    assert (action["action"], action["reason"], action["durationDays"]) == ("SUSPEND", "spam", 3)
    assert action["subject"]["kind"] == "USER"
    assert set(action) == {"id", "action", "subject", "reason", "durationDays", "expiresAt", "createdAt"}


async def test_on_s3_the_archive_is_private_in_the_bucket_and_streamed_by_the_app(
    db: str, moto_s3: str
) -> None:
    """On S3 storage (moto on loopback) the archive lands under exports/, which the bucket does not serve to
    anyone (only media/ is public), and the app streams it to the holder of the link."""
    import uuid

    import httpx

    from api.app import create_app
    from tests.media.flow import media_settings

    bucket = f"test-{uuid.uuid4().hex[:20]}"
    settings = media_settings(
        VERMILION_MEDIA_STORAGE="s3",
        VERMILION_S3_ENDPOINT_URL=moto_s3,
        VERMILION_S3_BUCKET=bucket,
        VERMILION_S3_REGION="eu-west-1",
        VERMILION_S3_ACCESS_KEY_ID="testing",
        VERMILION_S3_SECRET_ACCESS_KEY="testing",
        VERMILION_PUBLIC_BASE_URL="http://testserver",
    )
    app = create_app(settings, manage_database=False)
    await app.state.media.storage.ensure_bucket()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        client = GraphQLClient(http, app)
        me = await sign_up(client, "lily")
        await client.data(EXPORT, token=me["token"])
        export = await ready_export(client, me["token"])
        archive = await download(client, export["url"])
        row = await DataExport.get(status=ExportStatus.READY)
        assert row.storage_key is not None
        async with httpx.AsyncClient() as anyone:
            public = await anyone.get(f"{moto_s3}/{bucket}/{row.storage_key}")
    await app.state.media.jobs.stop()

    assert archive["profile"]["handle"] == "lily"
    assert row.storage_key.startswith("exports/")
    assert public.status_code == 403
