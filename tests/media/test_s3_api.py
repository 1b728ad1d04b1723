"""Uploads through the API on S3 storage, as a frontend does them: the file goes over HTTP straight to the
bucket (moto's S3 server on loopback) with the ticket's URL, method and headers; processing reads it from
there and writes the variants back; clients download them over HTTP from the bucket's public prefix."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image

from api.app import create_app
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.media.files import gps_jpeg, text_file
from tests.media.flow import COMPLETE, CREATE, STATUS, media_settings, send, settled

REGION = "eu-west-1"
VARIANTS = ("thumbnail", "feed", "original")
FILES = """query Files($id: ID!) { node(id: $id) { ... on Media {
  width height thumbnail: url(variant: THUMBNAIL) feed: url(variant: FEED) original: url(variant: ORIGINAL)
} } }"""


@dataclass
class S3App:
    """A GraphQL client of an app on S3 storage, an HTTP client for the storage itself (as a browser's), and
    the app's bucket (a boto3 Bucket) to see what it left there."""

    api: GraphQLClient
    web: httpx.AsyncClient
    bucket: Any

    def keys(self) -> set[str]:
        return {item.key for item in self.bucket.objects.all()}


Start = Callable[..., Awaitable[S3App]]


@pytest.fixture
async def s3_app(db: str, s3_endpoint: str) -> AsyncIterator[Start]:
    """Starts an app storing media in a fresh bucket of moto's S3 server, whose `media/` prefix anyone may
    read (docker-compose makes MinIO's so with `mc anonymous set download`)."""
    async with contextlib.AsyncExitStack() as stack:
        web = await stack.enter_async_context(httpx.AsyncClient())

        async def start(**env: Any) -> S3App:
            name = f"test-{uuid.uuid4().hex[:20]}"
            settings = media_settings(
                VERMILION_REDIS_URL=None,
                VERMILION_MEDIA_STORAGE="s3",
                VERMILION_S3_ENDPOINT_URL=s3_endpoint,
                VERMILION_S3_BUCKET=name,
                VERMILION_S3_REGION=REGION,
                VERMILION_S3_ACCESS_KEY_ID="testing",
                VERMILION_S3_SECRET_ACCESS_KEY="testing",
                VERMILION_MEDIA_MAX_IMAGE_BYTES=2_000_000,
                **env,
            )
            app = create_app(settings, manage_database=False)
            stack.push_async_callback(app.state.media.jobs.stop)
            await app.state.media.storage.ensure_bucket()
            bucket = boto3.resource(
                "s3",
                endpoint_url=s3_endpoint,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            ).Bucket(name)
            # moto enforces bucket policies: without one, anonymous downloads are refused (403).
            readable = {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/media/*",
            }
            await asyncio.to_thread(
                bucket.Policy().put, Policy=json.dumps({"Version": "2012-10-17", "Statement": [readable]})
            )
            api = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
            )
            return S3App(GraphQLClient(api, app), web, bucket)

        yield start


async def _create(app: S3App, data: bytes, content_type: str) -> dict[str, Any]:
    """Sign up and ask for an upload; the ticket."""
    app.api.token = (await sign_up(app.api, f"u{uuid.uuid4().hex[:8]}"))["token"]
    variables = {
        "input": {"kind": "IMAGE", "contentType": content_type, "byteSize": len(data), "filename": "p.jpg"}
    }
    created = (await app.api.data(CREATE, variables))["mediaUploadCreate"]
    assert created["errors"] == []
    upload: dict[str, Any] = created["upload"]
    return upload


async def _complete(app: S3App, upload: dict[str, Any]) -> dict[str, Any]:
    completed: dict[str, Any] = (await app.api.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]
    return completed


async def _files(app: S3App, media_id: str) -> dict[str, Any]:
    """The sizes and download URLs of READY media."""
    media = await settled(app.api, media_id)
    assert media["status"] == "READY", media
    files: dict[str, Any] = (await app.api.data(FILES, {"id": media_id}))["node"]
    return files


def _key(app: S3App, url: str) -> str:
    """The object key of a download URL (path-style: /bucket/key)."""
    path = httpx.URL(url).path
    prefix = f"/{app.bucket.name}/"
    assert path.startswith(prefix), url
    return path.removeprefix(prefix)


async def test_a_phone_photo_goes_through_the_bucket_to_ready_upright_and_without_exif(
    s3_app: Start, s3_endpoint: str
) -> None:
    app = await s3_app()
    photo = gps_jpeg()  # 120×80 stored, Orientation 6: shown 80 wide and 120 high
    upload = await _create(app, photo, "image/jpeg")
    assert upload["url"].startswith(f"{s3_endpoint}/{app.bucket.name}/uploads/")

    sent = await send(app.web, upload, photo)
    assert sent.status_code == 200, sent.text
    completed = await _complete(app, upload)
    assert completed["errors"] == []

    media = await _files(app, upload["id"])
    assert (media["width"], media["height"]) == (80, 120)
    downloaded = set()
    for variant in VARIANTS:
        response = await app.web.get(media[variant])  # anonymous, as a browser downloads
        assert response.status_code == 200, (variant, response.text)
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["content-type"].startswith("image/")
        assert b"Exif\x00\x00" not in response.content
        picture = Image.open(BytesIO(response.content))
        assert not picture.getexif()
        assert picture.size == (80, 120)  # upright; small enough that no variant shrinks it
        downloaded.add(_key(app, media[variant]))
    # The bucket holds the variants and nothing else: the uploaded original (GPS and all) was deleted.
    assert app.keys() == downloaded
    assert all(key.startswith("media/") for key in downloaded)


async def test_a_text_file_declared_a_jpeg_is_refused_and_leaves_nothing_in_the_bucket(
    s3_app: Start,
) -> None:
    app = await s3_app()
    fake = text_file()
    upload = await _create(app, fake, "image/jpeg")
    assert (await send(app.web, upload, fake)).status_code == 200
    assert len(app.keys()) == 1  # it did arrive

    completed = await _complete(app, upload)

    assert [e["code"] for e in completed["errors"]] == ["UNSUPPORTED_MEDIA_TYPE"]
    media = (await app.api.data(STATUS, {"id": upload["id"]}))["node"]
    assert (media["status"], media["failureReason"]) == ("FAILED", "UNSUPPORTED_TYPE")
    assert app.keys() == set()


async def test_uploads_are_signed_for_the_presign_address_while_the_app_uses_its_own(
    s3_app: Start, s3_endpoint: str
) -> None:
    # Clients reach storage at one address, the app at another (containers: localhost:9000 and minio:9000).
    # Here nothing listens at the clients' address (moto is bound to 127.0.0.1 only), so any request the app
    # made there would be refused; the test's HTTP client plays a client whose network leads that address to
    # storage: it connects to moto and sends the Host header the URL was signed for.
    port = httpx.URL(s3_endpoint).port
    app = await s3_app(VERMILION_S3_PRESIGN_ENDPOINT_URL=f"http://127.0.0.2:{port}")
    photo = gps_jpeg()
    upload = await _create(app, photo, "image/jpeg")
    signed_for = httpx.URL(upload["url"])
    assert (signed_for.host, signed_for.port) == ("127.0.0.2", port)

    routed = signed_for.copy_with(host="127.0.0.1")
    headers = {**upload["headers"], "Host": f"127.0.0.2:{port}"}
    sent = await app.web.request(upload["method"], routed, content=photo, headers=headers)
    assert sent.status_code == 200, sent.text
    completed = await _complete(app, upload)

    assert completed["errors"] == []  # the app found the file, through its own address
    media = await _files(app, upload["id"])
    # Downloads are not uploads: without a public URL configured they point at the app's endpoint.
    assert media["feed"].startswith(f"{s3_endpoint}/{app.bucket.name}/media/")
