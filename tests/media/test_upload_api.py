"""Uploads through the API as a frontend does them, on local storage (the embedded default): ask for an
upload, send the file to the URL given, complete, wait for READY, download every variant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from api.app import create_app
from models import Media, MediaStatus
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.media import flow
from tests.media.files import gps_jpeg, png_bomb, text_file
from tests.media.flow import COMPLETE, CREATE, local_media_settings

MEDIA = """query Media($id: ID!) {
  node(id: $id) {
    ... on Media {
      id kind status width height aspectRatio blurhash dominantColor failureReason
      thumbnail: url(variant: THUMBNAIL) feed: url(variant: FEED) original: url(variant: ORIGINAL)
    }
  }
}"""


@pytest.fixture
async def media_client(db: str, tmp_path: Path) -> AsyncIterator[GraphQLClient]:
    settings = local_media_settings(
        tmp_path / "media",
        VERMILION_MEDIA_MAX_IMAGE_BYTES=2_000_000,
        VERMILION_MEDIA_MAX_IMAGE_PIXELS=40_000_000,
    )
    async with flow.media_client(settings) as client:
        yield client


async def _start(
    client: GraphQLClient, data: bytes, content_type: str, kind: str = "IMAGE"
) -> dict[str, Any]:
    variables = {
        "input": {"kind": kind, "contentType": content_type, "byteSize": len(data), "filename": "p.jpg"}
    }
    return (await client.data(CREATE, variables))["mediaUploadCreate"]


async def _send(client: GraphQLClient, upload: dict[str, Any], data: bytes) -> httpx.Response:
    """The file to the upload URL, as a client does: the method, URL and headers it was given."""
    assert upload["method"] == "PUT"
    return await flow.send(client.http, upload, data)


async def _until_settled(client: GraphQLClient, media_id: str) -> dict[str, Any]:
    await flow.settled(client, media_id)
    return (await client.data(MEDIA, {"id": media_id}))["node"]  # type: ignore[no-any-return]


async def test_a_phone_photo_goes_from_upload_to_ready_upright_and_without_exif(
    media_client: GraphQLClient,
) -> None:
    client = media_client
    client.token = (await sign_up(client, "photographer"))["token"]
    photo = gps_jpeg()
    started = await _start(client, photo, "image/jpeg")
    assert started["errors"] == []
    assert started["media"]["status"] == "UPLOADING"
    upload = started["upload"]
    assert upload["id"] == started["media"]["id"]

    sent = await _send(client, upload, photo)
    assert sent.status_code == 200, sent.text
    completed = (await client.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]
    assert completed["errors"] == []
    assert completed["media"]["status"] in ("PENDING", "READY")

    media = await _until_settled(client, upload["id"])
    assert media["status"] == "READY", media
    source = Image.open(BytesIO(photo))
    # Orientation 6: the stored pixels are turned a quarter, so the picture as shown is taller than wide.
    assert (media["width"], media["height"]) == (source.height, source.width)
    assert media["aspectRatio"] == pytest.approx(source.height / source.width, abs=1e-3)
    assert media["blurhash"] and media["dominantColor"].startswith("#")
    for name in ("thumbnail", "feed", "original"):
        response = await client.http.get(media[name])
        assert response.status_code == 200, (name, response.text)
        assert "immutable" in response.headers["cache-control"]
        assert b"Exif\x00\x00" not in response.content[:4096]
        picture = Image.open(BytesIO(response.content))
        assert not picture.getexif()
        assert picture.height > picture.width
    # The uploaded original (GPS and all) is gone once processed.
    row = await Media.get()
    assert not (Path(client.app.state.media.storage.root) / row.upload_key).exists()


async def test_completing_twice_processes_once(media_client: GraphQLClient) -> None:
    client = media_client
    client.token = (await sign_up(client, "twice"))["token"]
    photo = gps_jpeg()
    upload = (await _start(client, photo, "image/jpeg"))["upload"]
    await _send(client, upload, photo)
    first, second = await asyncio.gather(
        client.data(COMPLETE, {"id": upload["id"]}), client.data(COMPLETE, {"id": upload["id"]})
    )
    assert first["mediaUploadComplete"]["errors"] == second["mediaUploadComplete"]["errors"] == []
    assert (await _until_settled(client, upload["id"]))["status"] == "READY"
    row = await Media.get()
    assert row.attempts == 1


async def test_a_text_file_named_jpg_is_refused_by_its_bytes(media_client: GraphQLClient) -> None:
    client = media_client
    client.token = (await sign_up(client, "texter"))["token"]
    fake = text_file()
    upload = (await _start(client, fake, "image/jpeg"))["upload"]
    assert (await _send(client, upload, fake)).status_code == 200
    completed = (await client.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]
    assert [e["code"] for e in completed["errors"]] == ["UNSUPPORTED_MEDIA_TYPE"]
    media = (await client.data(MEDIA, {"id": upload["id"]}))["node"]
    assert (media["status"], media["failureReason"]) == ("FAILED", "UNSUPPORTED_TYPE")


async def test_a_decompression_bomb_fails_processing_with_a_reason(media_client: GraphQLClient) -> None:
    client = media_client
    client.token = (await sign_up(client, "bomber"))["token"]
    bomb = png_bomb()
    upload = (await _start(client, bomb, "image/png"))["upload"]
    await _send(client, upload, bomb)
    assert (await client.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]["errors"] == []
    media = await _until_settled(client, upload["id"])
    assert (media["status"], media["failureReason"]) == ("FAILED", "TOO_MANY_PIXELS")


async def test_oversize_and_unsupported_declarations_are_refused_before_any_upload(
    media_client: GraphQLClient,
) -> None:
    client = media_client
    client.token = (await sign_up(client, "big"))["token"]
    big = {"kind": "IMAGE", "contentType": "image/jpeg", "byteSize": 2_000_001, "filename": "x.jpg"}
    refused = (await client.data(CREATE, {"input": big}))["mediaUploadCreate"]
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("TOO_LARGE", ["input", "byteSize"])]
    odd = {"kind": "IMAGE", "contentType": "application/pdf", "byteSize": 10, "filename": "x.pdf"}
    refused = (await client.data(CREATE, {"input": odd}))["mediaUploadCreate"]
    assert [e["code"] for e in refused["errors"]] == ["UNSUPPORTED_MEDIA_TYPE"]
    assert refused["upload"] is None and await Media.all().count() == 0


async def test_the_upload_url_takes_no_more_than_signed_for_and_only_its_type(
    media_client: GraphQLClient,
) -> None:
    client = media_client
    client.token = (await sign_up(client, "sneaky"))["token"]
    photo = gps_jpeg()
    upload = (await _start(client, photo, "image/jpeg"))["upload"]
    longer = await client.http.put(upload["url"], content=photo + b"x" * 10, headers=upload["headers"])
    assert longer.status_code == 413
    retyped = await client.http.put(upload["url"], content=photo, headers={"Content-Type": "image/png"})
    assert retyped.status_code == 415
    forged = await client.http.put(upload["url"].replace("signature=", "signature=0"), content=photo,
                                   headers=upload["headers"])  # fmt: skip
    assert forged.status_code == 403
    completed = (await client.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]
    assert [e["code"] for e in completed["errors"]] == ["UPLOAD_MISSING"]


async def test_someone_elses_upload_is_not_found(media_client: GraphQLClient) -> None:
    client = media_client
    owner = (await sign_up(client, "owner"))["token"]
    other = (await sign_up(client, "other"))["token"]
    client.token = owner
    photo = gps_jpeg()
    upload = (await _start(client, photo, "image/jpeg"))["upload"]
    await _send(client, upload, photo)
    stolen = (await client.data(COMPLETE, {"id": upload["id"]}, token=other))["mediaUploadComplete"]
    assert [e["code"] for e in stolen["errors"]] == ["NOT_FOUND"]
    assert (await client.data(MEDIA, {"id": upload["id"]}, token=other))["node"] is None
    assert (await Media.get()).status is MediaStatus.UPLOADING
    # Unfinished uploads are never served, even to someone who guesses the key.
    key = (await Media.get()).upload_key
    assert (await client.http.get(f"/media/files/{key}")).status_code == 404


async def test_uploads_are_limited_per_person(db: str, tmp_path: Path) -> None:
    from tests.media.flow import local_media_settings

    settings = local_media_settings(tmp_path, VERMILION_MEDIA_UPLOAD_LIMITS_PER_USER="2/30minutes")
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        client = GraphQLClient(http, app)
        first = (await sign_up(client, "eager"))["token"]
        second = (await sign_up(client, "patient"))["token"]
        fields = {"kind": "IMAGE", "contentType": "image/jpeg", "byteSize": 100, "filename": "x.jpg"}
        for _ in range(2):
            assert (await client.data(CREATE, {"input": fields}, token=first))["mediaUploadCreate"][
                "errors"
            ] == []
        response = await http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"input": fields}},
            headers={"Authorization": f"Bearer {first}"},
        )
        assert response.status_code == 429 and "retry-after" in response.headers
        assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        # Counted per person: someone else on the same address still uploads.
        assert (await client.data(CREATE, {"input": fields}, token=second))["mediaUploadCreate"][
            "errors"
        ] == []
    assert await Media.all().count() == 3


async def test_storage_down_is_service_unavailable_and_changes_nothing(
    media_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = media_client
    client.token = (await sign_up(client, "unlucky"))["token"]
    photo = gps_jpeg()
    upload = (await _start(client, photo, "image/jpeg"))["upload"]
    await _send(client, upload, photo)
    storage = client.app.state.media.storage

    async def unreachable(key: str) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(storage, "stat", unreachable)
    response = await client.http.post(
        "/graphql",
        json={"query": COMPLETE, "variables": {"id": upload["id"]}},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE" and "storage" in error["message"]
    assert (await Media.get()).status is MediaStatus.UPLOADING  # nothing changed: completing later works
    monkeypatch.undo()
    assert (await client.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]["errors"] == []
