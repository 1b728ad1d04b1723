"""Where media files live, and the upload tickets clients send files with.

Two backends behind one `Storage` protocol. `S3Storage` (any S3-compatible store: AWS, MinIO, R2 …): clients
upload straight to the store with a presigned PUT, so bytes never pass through the API. `LocalStorage` (the
embedded default): files under a directory; the app itself receives the signed PUT and serves the files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import mimetypes
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, urlencode

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# SigV4 presigned URLs cannot live longer than seven days; S3 refuses the URL otherwise.
MAX_TICKET_SECONDS = 7 * 24 * 3600
_MAX_KEY_LENGTH = 512
_MAX_CONTENT_TYPE_LENGTH = 255


@dataclass(frozen=True)
class UploadTicket:
    """How a client sends one file: the request to make, valid until `expires_at`."""

    url: str
    method: str
    headers: dict[str, str]
    fields: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str | None


@dataclass(frozen=True)
class UploadGrant:
    """What a valid local upload ticket allows: this content type, at most this many bytes."""

    content_type: str
    byte_size: int


class UploadRefused(Exception):
    """An upload the app will not take; `reason` is safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Storage(Protocol):
    name: str

    async def upload_ticket(
        self, key: str, *, content_type: str, byte_size: int, expires_in: int
    ) -> UploadTicket: ...
    async def stat(self, key: str) -> StoredObject | None: ...
    async def read(self, key: str, *, limit: int | None = None) -> bytes: ...
    async def download_to(self, key: str, path: Path) -> None: ...
    async def write(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None: ...
    async def write_file(self, key: str, path: Path, *, content_type: str, cache_control: str) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    def public_url(self, key: str) -> str: ...


# What a storage call raises when the service is down, unreachable or refuses us (not a missing object:
# `stat` answers None for that): local files' OSError, boto3's connection and service errors.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError)


def new_upload_key(token: str, extension: str) -> str:
    """Where a client's original lands; unfinished uploads never share a prefix with processed files."""
    return check_key(f"uploads/{token}/original.{extension}")


def variant_key(token: str, name: str, extension: str) -> str:
    """Where a processed file (a variant such as "feed" or "thumb") of one upload lives."""
    return check_key(f"media/{token}/{name.lower()}.{extension}")


def check_key(key: str) -> str:
    """`key` when it is a safe relative path of plain segments; ValueError otherwise."""
    if not key or len(key) > _MAX_KEY_LENGTH:
        raise ValueError("a storage key must be 1 to 512 characters")
    # "|" separates the fields of a local ticket's signed message: a key without it keeps that message
    # unambiguous. A leading dot covers "." and ".." and also the temporary files of unfinished writes,
    # so no key can name (and serve) a partial upload.
    if (
        key.startswith("/")
        or ".." in key
        or "\\" in key
        or "|" in key
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in key)
        or any(not segment or segment.startswith(".") for segment in key.split("/"))
    ):
        raise ValueError(f"unsafe storage key: {key!r}")
    return key


def _check_content_type(content_type: str) -> None:
    # It travels in a header and a signed query; control characters or a missing subtype mean a bug upstream.
    if (
        not 0 < len(content_type) <= _MAX_CONTENT_TYPE_LENGTH
        or "/" not in content_type
        or any(not 0x20 <= ord(char) < 0x7F for char in content_type)
    ):
        raise ValueError(f"invalid content type: {content_type!r}")


def _check_ticket(key: str, content_type: str, byte_size: int, expires_in: int) -> None:
    check_key(key)
    _check_content_type(content_type)
    if byte_size < 0:
        raise ValueError("byte_size must not be negative")
    if not 0 < expires_in <= MAX_TICKET_SECONDS:
        raise ValueError(f"expires_in must be 1 to {MAX_TICKET_SECONDS} seconds")


class S3Storage:
    """An S3-compatible bucket; every blocking boto3 call runs in a worker thread."""

    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        public_url: str | None,
        addressing_style: str = "path",
        presign_endpoint_url: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url.rstrip("/") if endpoint_url else None
        self.region = region
        self._public_base = public_url.rstrip("/") if public_url else None
        # A session of our own: boto3's default session is shared global state and not thread-safe; clients
        # are, so one client serves every worker thread.
        session = boto3.session.Session()
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            # botocore ≥ 1.36 adds CRC checksums to every upload by default, which several S3-compatible
            # stores reject; checksums only where the API requires them (DeleteObjects) work everywhere.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

        def client(endpoint: str | None) -> Any:
            return session.client(
                "s3",
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )

        self._client: Any = client(self.endpoint_url)
        # Upload URLs are signed for the address clients reach storage at (SigV4 signs the host), which in a
        # container network is not the one this app uses; signing is local, this client never connects.
        presign = presign_endpoint_url.rstrip("/") if presign_endpoint_url else None
        self._presigner: Any = client(presign) if presign and presign != self.endpoint_url else self._client

    async def upload_ticket(
        self, key: str, *, content_type: str, byte_size: int, expires_in: int
    ) -> UploadTicket:
        """A presigned PUT that stores exactly `byte_size` bytes of `content_type` at `key`."""
        _check_ticket(key, content_type, byte_size, expires_in)
        # X-Amz-Date has whole seconds: counting from the second before signing never promises more time
        # than the URL has.
        issued = datetime.now(UTC).replace(microsecond=0)
        # Content-Type and Content-Length become signed headers, so S3 refuses a PUT of another type or
        # size. moto 5.2 enforces none of it for presigned URLs (signature, headers or expiry) — the tests
        # check the signature with botocore's signer instead. Content-Length is not in `headers`: browsers
        # forbid setting it and every client sends the real length of the body.
        url = await asyncio.to_thread(
            self._presigner.generate_presigned_url,
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": byte_size,
            },
            ExpiresIn=expires_in,
        )
        return UploadTicket(
            url=url,
            method="PUT",
            headers={"Content-Type": content_type},
            fields={},
            expires_at=issued + timedelta(seconds=expires_in),
        )

    async def stat(self, key: str) -> StoredObject | None:
        check_key(key)
        try:
            head = await asyncio.to_thread(self._client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return StoredObject(size=int(head["ContentLength"]), content_type=head.get("ContentType"))

    async def read(self, key: str, *, limit: int | None = None) -> bytes:
        check_key(key)
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        if limit == 0:
            # "bytes=0--1" is no range; still say whether the object exists.
            if await self.stat(key) is None:
                raise FileNotFoundError(key)
            return b""
        return await asyncio.to_thread(self._read, key, limit)

    def _read(self, key: str, limit: int | None) -> bytes:
        params = {"Bucket": self.bucket, "Key": key}
        if limit is not None:
            params["Range"] = f"bytes=0-{limit - 1}"
        try:
            response = self._client.get_object(**params)
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from error
            if _error_code(error) == "InvalidRange":
                return b""  # an empty object has no first byte for a range to start at
            raise
        body = response["Body"]
        try:
            # A store that ignores Range still sends no more than `limit` bytes our way.
            data: bytes = body.read() if limit is None else body.read(limit)
        finally:
            body.close()
        return data

    async def download_to(self, key: str, path: Path) -> None:
        check_key(key)
        try:
            # s3transfer streams ranged parts into a temporary file beside `path`; a 200 MB video never
            # sits in memory.
            await asyncio.to_thread(self._client.download_file, self.bucket, key, str(path))
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from error
            raise

    async def write(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        check_key(key)
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=cache_control,
        )

    async def write_file(self, key: str, path: Path, *, content_type: str, cache_control: str) -> None:
        """A local file stored at `key`, streamed in parts (a video can be 200 MB: never all in memory)."""
        check_key(key)
        await asyncio.to_thread(
            self._client.upload_file,
            str(path),
            self.bucket,
            key,
            ExtraArgs={"ContentType": content_type, "CacheControl": cache_control},
        )

    async def delete(self, *keys: str) -> None:
        unique = list(dict.fromkeys(check_key(key) for key in keys))
        for start in range(0, len(unique), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = unique[start : start + 1000]
            response = await asyncio.to_thread(
                self._client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            # Absent keys count as deleted; what lands here (AccessDenied …) is a real failure, reported
            # in a 200 answer that boto3 does not raise for.
            if errors := response.get("Errors"):
                first = errors[0]
                raise OSError(
                    f"S3 did not delete {len(errors)} object(s), first {first.get('Key')!r}: "
                    f"{first.get('Code')} {first.get('Message')}"
                )

    def public_url(self, key: str) -> str:
        path = quote(key)
        if self._public_base:
            return f"{self._public_base}/{path}"
        if self.endpoint_url:
            return f"{self.endpoint_url}/{self.bucket}/{path}"
        # AWS itself, with no endpoint configured: its virtual-hosted address.
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{path}"

    async def ensure_bucket(self) -> None:
        """Create the bucket when missing (the demo and tests; production buckets exist)."""
        await asyncio.to_thread(self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if not _is_missing(error):
                raise
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":  # us-east-1 refuses a location constraint naming itself
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**params)
        except ClientError as error:
            if _error_code(error) != "BucketAlreadyOwnedByYou":  # created by a concurrent caller
                raise


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_missing(error: ClientError) -> bool:
    # HEAD answers carry no body, so a missing key (or bucket) is only the status code "404".
    return _error_code(error) in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


_DIGITS = re.compile(r"[0-9]{1,15}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
# Network chunks are ~64 KB: a thread hop for each would cost more than the write, yet a slow disk must not
# stall the event loop, so chunks are gathered and each MiB is written in a worker thread.
_FLUSH_BYTES = 1 << 20


class LocalStorage:
    """Files under `root`; the app receives uploads (signed PUT tickets) and serves the files itself."""

    name = "local"

    def __init__(self, *, root: Path, base_url: str, secret: str) -> None:
        if not secret:
            raise ValueError("LocalStorage needs a secret to sign upload tickets")
        self.root = Path(root)
        self.base_url = base_url.rstrip("/")
        self._secret = secret.encode()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _signature(self, key: str, expires: str, size: str, content_type: str) -> str:
        message = f"{key}|{expires}|{size}|{content_type}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    async def upload_ticket(
        self, key: str, *, content_type: str, byte_size: int, expires_in: int
    ) -> UploadTicket:
        """A PUT to this app, signed so that only this key, type and size are accepted until it expires."""
        _check_ticket(key, content_type, byte_size, expires_in)
        expires = int(time.time()) + expires_in
        signature = self._signature(key, str(expires), str(byte_size), content_type)
        query = urlencode(
            {"expires": expires, "size": byte_size, "type": content_type, "signature": signature},
            quote_via=quote,
        )
        return UploadTicket(
            url=f"{self.base_url}/media/upload/{quote(key)}?{query}",
            method="PUT",
            headers={"Content-Type": content_type},
            fields={},
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def verify_upload(self, key: str, query: Mapping[str, str], *, now: float | None = None) -> UploadGrant:
        """What the ticket in `query` allows for `key`; UploadRefused if it is forged, altered or expired."""
        try:
            check_key(key)
        except ValueError:
            raise UploadRefused("invalid key") from None
        expires, size, content_type, signature = (
            query.get(field) for field in ("expires", "size", "type", "signature")
        )
        if expires is None or size is None or content_type is None or signature is None:
            raise UploadRefused("missing upload ticket fields")
        if not (
            _DIGITS.fullmatch(expires) and _DIGITS.fullmatch(size) and _HEX_SIGNATURE.fullmatch(signature)
        ):
            raise UploadRefused("malformed upload ticket")
        expected = self._signature(key, expires, size, content_type)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise UploadRefused("invalid signature")
        if (time.time() if now is None else now) > int(expires):
            raise UploadRefused("upload ticket expired")
        return UploadGrant(content_type=content_type, byte_size=int(size))

    async def write_stream(self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int) -> int:
        """Store the stream at `key`, replacing any earlier file only once all of it has arrived."""
        target = self._path(key)
        handle, temp = await asyncio.to_thread(_open_temp_beside, target)
        written = 0
        try:
            pending: list[bytes] = []
            pending_size = 0
            async for chunk in chunks:
                written += len(chunk)
                if written > max_bytes:
                    raise UploadRefused("too large")
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= _FLUSH_BYTES:
                    await _in_thread(handle.writelines, pending)
                    pending, pending_size = [], 0
            if pending:
                await _in_thread(handle.writelines, pending)
            await _in_thread(_commit, handle, temp, target)
        except BaseException:
            # Also on cancellation (shutdown, a timeout): closing and unlinking are quick enough to do here.
            _discard(handle, temp)
            raise
        return written

    def file_path(self, key: str) -> Path | None:
        """The file to serve for `key`; None when the key is invalid or nothing is stored there."""
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None

    async def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        return await asyncio.to_thread(_stat, path)

    async def read(self, key: str, *, limit: int | None = None) -> bytes:
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        return await asyncio.to_thread(_read_file, self._path(key), limit)

    async def download_to(self, key: str, path: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self._path(key), path)

    async def write(self, key: str, data: bytes, *, content_type: str, cache_control: str) -> None:
        # Local files carry no metadata: the serving route derives the type from the extension and the
        # caching from the prefix (processed files under media/ never change).
        await asyncio.to_thread(_write_file, self._path(key), data)

    async def write_file(self, key: str, path: Path, *, content_type: str, cache_control: str) -> None:
        await asyncio.to_thread(_copy_file, path, self._path(key))

    async def delete(self, *keys: str) -> None:
        paths = [self._path(key) for key in keys]
        await asyncio.to_thread(self._delete, paths)

    def _delete(self, paths: list[Path]) -> None:
        root = self.root
        for path in paths:
            path.unlink(missing_ok=True)
            # Every upload has its own directory: prune the empty ones, or they pile up by the thousand.
            parent = path.parent
            while parent != root:
                try:
                    parent.rmdir()
                except OSError:  # not empty, or already gone
                    break
                parent = parent.parent

    def public_url(self, key: str) -> str:
        return f"{self.base_url}/media/files/{quote(check_key(key))}"


async def _in_thread(func: Callable[..., object], /, *args: Any) -> None:
    """Run a file operation in a worker thread. A thread cannot be stopped: when the caller is cancelled,
    wait for the operation to end before passing the cancellation on, so cleanup never races with it."""
    operation = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        await asyncio.shield(operation)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await operation
        raise


def _open_temp_beside(target: Path) -> tuple[IO[bytes], Path]:
    # Beside the target, so the final rename stays on one file system and is atomic.
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except FileNotFoundError:
        # A concurrent delete pruned the fresh, still empty directory: make it again.
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    # mkstemp makes 0600 files; these are public files another server may read.
    os.fchmod(fd, 0o644)
    return os.fdopen(fd, "wb"), Path(name)


def _commit(handle: IO[bytes], temp: Path, target: Path) -> None:
    handle.flush()
    # On disk before the rename, or a crash could leave an empty file under the final name.
    os.fsync(handle.fileno())
    handle.close()
    os.replace(temp, target)


def _discard(handle: IO[bytes], temp: Path) -> None:
    handle.close()
    temp.unlink(missing_ok=True)


def _write_file(target: Path, data: bytes) -> None:
    handle, temp = _open_temp_beside(target)
    try:
        handle.write(data)
        _commit(handle, temp, target)
    except BaseException:
        _discard(handle, temp)
        raise


def _copy_file(source: Path, target: Path) -> None:
    """`source` copied to `target` in chunks, put in place only when complete (as `_write_file`)."""
    handle, temp = _open_temp_beside(target)
    try:
        with source.open("rb") as file:
            shutil.copyfileobj(file, handle)
        _commit(handle, temp, target)
    except BaseException:
        _discard(handle, temp)
        raise


def _read_file(path: Path, limit: int | None) -> bytes:
    with path.open("rb") as file:
        return file.read() if limit is None else file.read(limit)


def _stat(path: Path) -> StoredObject | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None  # a key prefix (a directory) is no object, as on S3
    content_type, _ = mimetypes.guess_type(path.name)
    return StoredObject(size=status.st_size, content_type=content_type)
