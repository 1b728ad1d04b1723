"""Storage backends: the S3 one against a real S3 HTTP API on loopback (moto), the local one on disk, and the
upload tickets clients send files with, used the way a browser or a phone would use them."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from media.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StoredObject,
    UploadGrant,
    UploadRefused,
    check_key,
    new_upload_key,
    variant_key,
)

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
UNSAFE_KEYS = ["../x", "/etc/passwd", "a//b", "a\\b", "a/../b", "a/b..jpg", "", "a/", "a/.hidden", "a\x00b"]


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def leftovers(root: Path) -> list[str]:
    """Temporary files of unfinished writes anywhere under `root`."""
    return [path.name for path in root.rglob(".*")]


# Keys


def test_uploads_and_processed_files_live_under_different_prefixes() -> None:
    assert new_upload_key("ab12", "jpg") == "uploads/ab12/original.jpg"
    assert variant_key("ab12", "Feed", "jpg") == "media/ab12/feed.jpg"


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(key: str, local_storage: LocalStorage) -> None:
    with pytest.raises(ValueError):
        check_key(key)
    assert local_storage.file_path(key) is None


# What both backends promise


async def test_a_written_file_can_be_inspected_read_and_downloaded(storage: Storage, tmp_path: Path) -> None:
    key = variant_key("tok1", "feed", "jpg")
    await storage.write(key, JPEG, content_type="image/jpeg", cache_control="public, max-age=60")

    assert await storage.stat(key) == StoredObject(size=len(JPEG), content_type="image/jpeg")
    assert await storage.read(key, limit=16) == JPEG[:16]
    assert await storage.read(key) == JPEG
    target = tmp_path / "downloaded.jpg"
    await storage.download_to(key, target)
    assert target.read_bytes() == JPEG


async def test_a_large_local_file_is_stored_whole_from_disk(storage: Storage, tmp_path: Path) -> None:
    # A video is copied from the worker's disk in parts (S3: a multipart upload above 8 MB), never read
    # into memory whole.
    source = tmp_path / "clip.mp4"
    content = os.urandom(9 * 1024 * 1024 + 7)
    source.write_bytes(content)
    key = variant_key("tok2", "video", "mp4")
    await storage.write_file(key, source, content_type="video/mp4", cache_control="public, max-age=60")
    assert await storage.stat(key) == StoredObject(size=len(content), content_type="video/mp4")
    target = tmp_path / "back.mp4"
    await storage.download_to(key, target)
    assert target.read_bytes() == content


async def test_an_absent_key_has_no_object(storage: Storage, tmp_path: Path) -> None:
    key = new_upload_key("missing", "jpg")
    assert await storage.stat(key) is None
    with pytest.raises(FileNotFoundError):
        await storage.read(key, limit=16)
    with pytest.raises(FileNotFoundError):
        await storage.download_to(key, tmp_path / "nothing.jpg")


async def test_the_first_bytes_of_an_empty_file_are_none(storage: Storage) -> None:
    key = new_upload_key("empty", "jpg")
    await storage.write(key, b"", content_type="image/jpeg", cache_control="no-store")
    assert await storage.read(key, limit=16) == b""


async def test_delete_removes_several_keys_and_ignores_absent_ones(storage: Storage) -> None:
    keys = [variant_key("tok2", name, "jpg") for name in ("feed", "thumb", "full")]
    for key in keys:
        await storage.write(key, JPEG, content_type="image/jpeg", cache_control="no-store")

    await storage.delete(keys[0], keys[1], "media/never-written/feed.jpg")

    assert await storage.stat(keys[0]) is None
    assert await storage.stat(keys[1]) is None
    assert await storage.stat(keys[2]) is not None


# S3


async def test_a_client_stores_a_file_with_its_s3_ticket(s3_storage: S3Storage) -> None:
    key = new_upload_key("tok3", "jpg")
    ticket = await s3_storage.upload_ticket(
        key, content_type="image/jpeg", byte_size=len(JPEG), expires_in=300
    )
    assert (ticket.method, ticket.headers, ticket.fields) == ("PUT", {"Content-Type": "image/jpeg"}, {})

    async with httpx.AsyncClient() as client:
        response = await client.request(ticket.method, ticket.url, headers=ticket.headers, content=JPEG)

    assert response.status_code == 200, response.text
    assert await s3_storage.stat(key) == StoredObject(size=len(JPEG), content_type="image/jpeg")
    assert await s3_storage.read(key) == JPEG


def signature_s3_expects(request: httpx.Request) -> str:
    """The SigV4 signature S3 computes for a presigned request as the client sends it: botocore's own signer
    over the method, path, query and the headers the URL names as signed."""
    params = [
        (unquote(name), unquote(value))
        for name, _, value in (pair.partition("=") for pair in request.url.query.decode().split("&"))
    ]
    fields = dict(params)
    signed = fields["X-Amz-SignedHeaders"].split(";")
    aws = AWSRequest(
        method=request.method,
        url=f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}",
        headers={name: request.headers[name] for name in signed},
        params=[(name, value) for name, value in params if name != "X-Amz-Signature"],
    )
    aws.context["timestamp"] = fields["X-Amz-Date"]
    region = fields["X-Amz-Credential"].split("/")[2]
    auth = S3SigV4QueryAuth(
        Credentials("testing", "testing"), "s3", region, expires=int(fields["X-Amz-Expires"])
    )
    return str(auth.signature(auth.string_to_sign(aws, auth.canonical_request(aws)), aws))


async def test_an_s3_ticket_signs_the_declared_type_and_size(s3_storage: S3Storage) -> None:
    # moto 5.2.5 accepts any presigned PUT (a wrong signature, Content-Type or length, an expired URL), so
    # what S3 would refuse is checked here by computing its signature for the request each client sends.
    key = new_upload_key("tok4", "jpg")
    ticket = await s3_storage.upload_ticket(
        key, content_type="image/jpeg", byte_size=len(JPEG), expires_in=300
    )
    client = httpx.AsyncClient()
    honest = client.build_request(ticket.method, ticket.url, headers=ticket.headers, content=JPEG)
    other_type = client.build_request(
        ticket.method, ticket.url, headers={"Content-Type": "text/html"}, content=JPEG
    )
    other_size = client.build_request(ticket.method, ticket.url, headers=ticket.headers, content=JPEG + b"!")
    await client.aclose()

    sent = dict(parse_qsl(urlsplit(ticket.url).query))["X-Amz-Signature"]
    assert signature_s3_expects(honest) == sent
    assert signature_s3_expects(other_type) != sent
    assert signature_s3_expects(other_size) != sent


async def test_an_s3_ticket_expires_when_it_says(s3_storage: S3Storage) -> None:
    before = datetime.now(UTC)
    ticket = await s3_storage.upload_ticket(
        new_upload_key("tok5", "mp4"), content_type="video/mp4", byte_size=10, expires_in=900
    )
    query = dict(parse_qsl(urlsplit(ticket.url).query))
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)

    assert query["X-Amz-Expires"] == "900"
    # Never later than the URL's own expiry (so clients are not promised time they do not have), and not
    # more than a second earlier.
    assert signed_at + timedelta(seconds=899) <= ticket.expires_at <= signed_at + timedelta(seconds=900)
    assert ticket.expires_at >= before.replace(microsecond=0) + timedelta(seconds=900)
    with pytest.raises(ValueError):
        await s3_storage.upload_ticket(
            "uploads/x/original.mp4", content_type="video/mp4", byte_size=1, expires_in=8 * 86400
        )


async def test_a_written_file_is_served_at_its_public_url_with_its_cache_control(
    s3_storage: S3Storage,
) -> None:
    # A public bucket, as behind a CDN: anyone may read its objects.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_storage.bucket}/*",
            }
        ],
    }
    s3_storage._client.put_bucket_policy(Bucket=s3_storage.bucket, Policy=json.dumps(policy))
    key = variant_key("tok6", "thumb", "webp")
    await s3_storage.write(
        key, b"RIFF....WEBP", content_type="image/webp", cache_control="public, max-age=31536000, immutable"
    )

    async with httpx.AsyncClient() as client:
        response = await client.get(s3_storage.public_url(key))

    assert response.status_code == 200
    assert response.content == b"RIFF....WEBP"
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_public_urls_prefer_the_configured_public_address() -> None:
    def s3(public_url: str | None, endpoint_url: str | None) -> S3Storage:
        return S3Storage(
            bucket="vermilion-media",
            endpoint_url=endpoint_url,
            region="eu-west-1",
            access_key_id="x",
            secret_access_key="y",
            public_url=public_url,
        )

    key = "media/tok7/feed.jpg"
    assert (
        s3("https://cdn.example.com/", "http://minio:9000").public_url(key)
        == "https://cdn.example.com/media/tok7/feed.jpg"
    )
    assert (
        s3(None, "http://minio:9000").public_url(key)
        == "http://minio:9000/vermilion-media/media/tok7/feed.jpg"
    )
    assert (
        s3(None, None).public_url(key)
        == "https://vermilion-media.s3.eu-west-1.amazonaws.com/media/tok7/feed.jpg"
    )


async def test_reading_the_first_bytes_fetches_only_those(s3_storage: S3Storage) -> None:
    key = new_upload_key("tok19", "mp4")
    await s3_storage.write(key, JPEG * 64, content_type="video/mp4", cache_control="no-store")
    sent_lengths: list[int] = []

    def record(parsed: dict[str, Any], **_: Any) -> None:
        sent_lengths.append(parsed["ContentLength"])

    s3_storage._client.meta.events.register("after-call.s3.GetObject", record)
    head = await s3_storage.read(key, limit=16)

    assert head == JPEG[:16]
    assert sent_lengths == [16]  # a ranged GET: a 200 MB video is sniffed from 16 bytes, not downloaded


async def test_a_large_download_arrives_whole(s3_storage: S3Storage, tmp_path: Path) -> None:
    # Past s3transfer's 8 MB threshold, so the file comes in ranged parts.
    video = os.urandom(9 * 1024 * 1024)
    key = new_upload_key("tok8", "mp4")
    await s3_storage.write(key, video, content_type="video/mp4", cache_control="no-store")

    target = tmp_path / "video.mp4"
    await s3_storage.download_to(key, target)

    assert target.read_bytes() == video


# Local: tickets


async def test_a_local_ticket_grants_what_it_was_issued_for(local_storage: LocalStorage) -> None:
    key = new_upload_key("tok9", "heic")
    ticket = await local_storage.upload_ticket(key, content_type="image/heic", byte_size=1234, expires_in=600)

    url = httpx.URL(ticket.url)
    assert (ticket.method, ticket.headers, ticket.fields) == ("PUT", {"Content-Type": "image/heic"}, {})
    assert str(url.copy_with(query=None)) == f"http://testserver/media/upload/{key}"
    query = dict(url.params)
    assert ticket.expires_at == datetime.fromtimestamp(int(query["expires"]), UTC)
    assert local_storage.verify_upload(key, query) == UploadGrant(content_type="image/heic", byte_size=1234)
    # Valid through its last second.
    assert local_storage.verify_upload(key, query, now=float(query["expires"])).byte_size == 1234


def _altered(query: dict[str, str], **changes: str) -> dict[str, str]:
    return {**query, **changes}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("signature", "invalid signature"),
        ("size", "invalid signature"),
        ("type", "invalid signature"),
        ("key", "invalid signature"),
        ("expires", "invalid signature"),
        ("expired", "upload ticket expired"),
        ("missing", "missing upload ticket fields"),
        ("malformed", "malformed upload ticket"),
        ("unsafe key", "invalid key"),
    ],
)
async def test_a_local_ticket_refuses_any_alteration(
    local_storage: LocalStorage, change: str, reason: str
) -> None:
    key = new_upload_key("tok10", "jpg")
    ticket = await local_storage.upload_ticket(key, content_type="image/jpeg", byte_size=500, expires_in=600)
    query = dict(httpx.URL(ticket.url).params)
    now = None
    flipped = "0" if query["signature"][0] != "0" else "1"
    match change:
        case "signature":
            query = _altered(query, signature=flipped + query["signature"][1:])
        case "size":
            query = _altered(query, size="50000000")
        case "type":
            query = _altered(query, type="text/html")
        case "key":
            key = new_upload_key("tok11", "jpg")
        case "expires":
            query = _altered(query, expires=str(int(query["expires"]) + 86400))
        case "expired":
            now = float(query["expires"]) + 1
        case "missing":
            del query["type"]
        case "malformed":
            query = _altered(query, size="5e2")
        case "unsafe key":
            key = "uploads/../media/tok10/feed.jpg"

    with pytest.raises(UploadRefused) as refused:
        local_storage.verify_upload(key, query, now=now)
    assert refused.value.reason == reason


# Local: receiving and serving files


async def test_a_streamed_upload_is_stored_and_counted(local_storage: LocalStorage) -> None:
    key = new_upload_key("tok12", "jpg")
    parts = [JPEG[:100], JPEG[100:700], JPEG[700:]]

    written = await local_storage.write_stream(key, chunks(*parts), max_bytes=len(JPEG))

    assert written == len(JPEG)
    path = local_storage.file_path(key)
    assert path is not None and path.read_bytes() == JPEG
    assert leftovers(local_storage.root) == []


async def test_a_stream_over_the_limit_leaves_no_file(local_storage: LocalStorage) -> None:
    key = new_upload_key("tok13", "jpg")
    with pytest.raises(UploadRefused) as refused:
        await local_storage.write_stream(key, chunks(JPEG[:600], JPEG[600:]), max_bytes=len(JPEG) - 1)

    assert refused.value.reason == "too large"
    assert local_storage.file_path(key) is None
    assert leftovers(local_storage.root) == []


async def test_a_refused_replacement_keeps_the_earlier_file(local_storage: LocalStorage) -> None:
    key = new_upload_key("tok14", "jpg")
    await local_storage.write_stream(key, chunks(b"first"), max_bytes=100)

    with pytest.raises(UploadRefused):
        await local_storage.write_stream(key, chunks(b"x" * 60, b"x" * 60), max_bytes=100)

    assert await local_storage.read(key) == b"first"
    assert leftovers(local_storage.root) == []


async def test_a_stream_that_breaks_off_leaves_no_file(local_storage: LocalStorage) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield JPEG[:100]
        raise ConnectionResetError("client went away")

    key = new_upload_key("tok15", "jpg")
    with pytest.raises(ConnectionResetError):
        await local_storage.write_stream(key, broken(), max_bytes=10_000)

    assert local_storage.file_path(key) is None
    assert leftovers(local_storage.root) == []


async def test_a_cancelled_upload_leaves_no_file(local_storage: LocalStorage) -> None:
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield JPEG[:100]
        started.set()
        await asyncio.Event().wait()  # the next chunk never comes
        yield JPEG[100:]

    key = new_upload_key("tok20", "jpg")
    upload = asyncio.create_task(local_storage.write_stream(key, stalled(), max_bytes=10_000))
    await started.wait()
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload

    assert local_storage.file_path(key) is None
    assert leftovers(local_storage.root) == []


async def test_replacing_a_file_is_atomic(local_storage: LocalStorage) -> None:
    key = new_upload_key("tok16", "jpg")
    await local_storage.write_stream(key, chunks(b"old content"), max_bytes=10_000)
    seen_midway: list[bytes] = []

    async def replacement() -> AsyncIterator[bytes]:
        yield b"new "
        path = local_storage.file_path(key)
        assert path is not None
        seen_midway.append(path.read_bytes())
        yield b"content"

    await local_storage.write_stream(key, replacement(), max_bytes=10_000)

    assert seen_midway == [b"old content"]
    assert await local_storage.read(key) == b"new content"
    assert leftovers(local_storage.root) == []


async def test_file_path_finds_stored_files_only(local_storage: LocalStorage) -> None:
    key = variant_key("tok17", "feed", "jpg")
    assert local_storage.file_path(key) is None
    assert local_storage.file_path("media/tok17") is None  # a directory is no file

    await local_storage.write(key, JPEG, content_type="image/jpeg", cache_control="no-store")
    await local_storage.write(
        "secret.txt", b"outside media", content_type="text/plain", cache_control="no-store"
    )

    assert local_storage.file_path(key) == local_storage.root / "media" / "tok17" / "feed.jpg"
    assert local_storage.file_path("media/tok17/../../secret.txt") is None
    assert local_storage.public_url(key) == "http://testserver/media/files/media/tok17/feed.jpg"


async def test_deleting_the_last_file_of_an_upload_removes_its_directory(local_storage: LocalStorage) -> None:
    key = new_upload_key("tok18", "jpg")
    await local_storage.write_stream(key, chunks(JPEG), max_bytes=len(JPEG))

    await local_storage.delete(key)

    assert not (local_storage.root / "uploads" / "tok18").exists()
    assert local_storage.root.is_dir()
