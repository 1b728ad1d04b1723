"""Media processing through the job queue on Redis, as deployed: the server consumes the stream itself, or
leaves it to `vermilion worker`; a run that raises is retried after a delay, and processing gives up (FAILED)
after its last attempt. The retry rules are also checked on the embedded queue, which shares them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from taskiq import SmartRetryMiddleware

import core.jobs
from api.app import create_app
from core.jobs import CONSUMER_GROUP, Jobs
from core.pubsub import create_broker
from core.settings import Settings
from media.service import MAX_ATTEMPTS, media_from_settings
from models import Media
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.media.files import gps_jpeg
from tests.media.flow import COMPLETE, CREATE, STATUS, local_media_settings, send, settled

REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The job tests keep to a database of their own on the test Redis server (a stream, its consumer group and
# a lock); each test also streams under a name of its own, so concurrent runs never take each other's jobs.
JOBS_DB = 4
JOBS_REDIS_URL = str(httpx.URL(REDIS_URL).copy_with(path=f"/{JOBS_DB}"))

Serve = Callable[..., Awaitable[GraphQLClient]]


@dataclass(frozen=True)
class RedisKeys:
    stream: str  # the job stream, in place of core.jobs.STREAM
    prefix: str  # the rate-limit keys' prefix


@pytest.fixture
async def redis_keys(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RedisKeys]:
    """Redis keys of this test's own: a job stream (empty before, removed after with its consumer group and
    lock) and a prefix for the rate-limit counts the app keeps there (removed after)."""
    keys = RedisKeys(stream=f"vermilion:jobs:test-{uuid.uuid4().hex}", prefix=f"test-{uuid.uuid4().hex}")
    monkeypatch.setattr(core.jobs, "STREAM", keys.stream)
    stream_keys = [keys.stream, f"autoclaim:{CONSUMER_GROUP}:{keys.stream}"]
    async with redis.Redis.from_url(JOBS_REDIS_URL) as client:
        await client.delete(*stream_keys)
        try:
            yield keys
        finally:
            counts = [key async for key in client.scan_iter(match=f"*{keys.prefix}*")]
            await client.delete(*stream_keys, *counts)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Retry delays shrunk to `first` seconds (then doubling as in production), without jitter, so the time
    between runs can be measured."""

    def shrink(first: float) -> None:
        monkeypatch.setattr(core.jobs, "FIRST_DELAY_SECONDS", first)
        make = core.jobs.retry_middleware

        def without_jitter() -> SmartRetryMiddleware:
            middleware = make()
            middleware.use_jitter = False
            return middleware

        monkeypatch.setattr(core.jobs, "retry_middleware", without_jitter)

    return shrink


def _settings(tmp_path: Path, keys: RedisKeys, **env: Any) -> Settings:
    return local_media_settings(
        tmp_path / "media",
        VERMILION_SWEEP_INTERVAL_SECONDS=0,
        VERMILION_RATE_LIMIT_PREFIX=keys.prefix,
        **env,
    )


@pytest.fixture
async def serve(db: str, redis_keys: RedisKeys, tmp_path: Path) -> AsyncIterator[Serve]:
    """Starts an app as a server starts (`create_app`, then its job queue as the lifespan starts it) and
    gives a GraphQL client of it; after the test, the app is shut down as the lifespan shuts it down."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**env: Any) -> GraphQLClient:
            app = create_app(_settings(tmp_path, redis_keys, **env), manage_database=False)
            # Its exit stops the job queue and closes the Redis clients (it leaves the database to the tests).
            await stack.enter_async_context(app.router.lifespan_context(app))
            await app.state.media.jobs.start()
            transport = httpx.ASGITransport(app=app)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            return GraphQLClient(http, app)

        yield start


async def _upload_and_complete(client: GraphQLClient, handle: str) -> str:
    """Sign up, upload a phone photo to the URL given and complete it; the Media id."""
    client.token = (await sign_up(client, handle))["token"]
    photo = gps_jpeg()
    variables = {
        "input": {"kind": "IMAGE", "contentType": "image/jpeg", "byteSize": len(photo), "filename": "p.jpg"}
    }
    upload = (await client.data(CREATE, variables))["mediaUploadCreate"]["upload"]
    sent = await send(client.http, upload, photo)
    assert sent.status_code == 200, sent.text
    completed = (await client.data(COMPLETE, {"id": upload["id"]}))["mediaUploadComplete"]
    assert completed["errors"] == []
    return str(upload["id"])


async def _status(client: GraphQLClient, media_id: str) -> str:
    status: str = (await client.data(STATUS, {"id": media_id}))["node"]["status"]
    return status


async def _group(stream: str) -> dict[str, Any]:
    """The consumer group's state on the stream: entries not yet delivered (lag) and unacknowledged."""
    async with redis.Redis.from_url(JOBS_REDIS_URL, decode_responses=True) as client:
        groups = await client.xinfo_groups(stream)
        length = await client.xlen(stream)
    [group] = [g for g in groups if g["name"] == CONSUMER_GROUP]
    return {"length": length, "lag": group["lag"], "pending": group["pending"]}


async def _once_acknowledged(stream: str) -> dict[str, Any]:
    """The group's state once every job was taken and acknowledged (the acknowledgment follows the job's
    last write by a moment), or as it is after 10 s."""
    deadline = time.monotonic() + 10
    while (group := await _group(stream))["lag"] or group["pending"]:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    return group


async def test_a_server_consuming_the_stream_processes_uploads_from_redis(
    serve: Serve, redis_keys: RedisKeys
) -> None:
    client = await serve(VERMILION_REDIS_URL=JOBS_REDIS_URL, VERMILION_JOBS_IN_PROCESS=True)

    media_id = await _upload_and_complete(client, "streamer")

    media = await settled(client, media_id)
    assert media["status"] == "READY", media
    # The job went through the stream and was acknowledged once done.
    assert await _once_acknowledged(redis_keys.stream) == {"length": 1, "lag": 0, "pending": 0}


async def test_a_server_that_does_not_consume_leaves_its_jobs_to_a_worker(
    serve: Serve, redis_keys: RedisKeys, tmp_path: Path
) -> None:
    client = await serve(VERMILION_REDIS_URL=JOBS_REDIS_URL, VERMILION_JOBS_IN_PROCESS=False)
    media_id = await _upload_and_complete(client, "queued")

    # Queued in Redis, and nobody takes it: the media stays PENDING.
    await asyncio.sleep(0.3)
    assert await _status(client, media_id) == "PENDING"
    assert await _group(redis_keys.stream) == {"length": 1, "lag": 1, "pending": 0}

    # `vermilion worker`: a queue of its own on the same Redis, with the media job registered.
    settings = _settings(tmp_path, redis_keys, VERMILION_REDIS_URL=JOBS_REDIS_URL)
    worker = Jobs.from_settings(settings.redis_url, in_process=True)
    events = create_broker(settings.redis_url)
    media_from_settings(settings, worker, events)
    await worker.start()
    try:
        media = await settled(client, media_id)
        group = await _once_acknowledged(redis_keys.stream)
    finally:
        await worker.stop()
        await events.close()
    assert media["status"] == "READY", media
    assert group == {"length": 1, "lag": 0, "pending": 0}


def _failing_reads(client: GraphQLClient, failures: int | None) -> list[float]:
    """Make processing's whole-file reads raise (`failures` times, or always), as a storage outage would;
    the first bytes read at completion still arrive. Returns when each whole-file read was tried."""
    storage = client.app.state.media.storage
    read = storage.read
    tried: list[float] = []

    async def flaky(key: str, *, limit: int | None = None) -> bytes:
        if limit is None:
            tried.append(time.monotonic())
            if failures is None or len(tried) <= failures:
                raise OSError("storage unavailable")
        data: bytes = await read(key, limit=limit)
        return data

    storage.read = flaky
    return tried


QUEUES = [
    pytest.param({"VERMILION_REDIS_URL": JOBS_REDIS_URL}, id="redis"),
    pytest.param({"VERMILION_REDIS_URL": None}, id="in-memory"),
]


@pytest.mark.parametrize("queue", QUEUES)
async def test_a_run_that_raises_is_retried_after_a_delay_until_it_succeeds(
    serve: Serve,
    fast_retries: Callable[[float], None],
    queue: dict[str, Any],
) -> None:
    fast_retries(0.1)
    client = await serve(**queue)
    tried = _failing_reads(client, failures=2)

    media_id = await _upload_and_complete(client, "patient")

    media = await settled(client, media_id)
    assert media["status"] == "READY", media
    assert (await Media.get()).attempts == len(tried) == 3
    # The retries waited (0.1 s, then twice that), instead of hammering a storage that is down.
    first_wait, second_wait = tried[1] - tried[0], tried[2] - tried[1]
    assert first_wait >= 0.1
    assert second_wait >= 0.2


@pytest.mark.parametrize("queue", QUEUES)
async def test_a_run_that_always_raises_fails_the_media_after_the_last_attempt(
    serve: Serve,
    fast_retries: Callable[[float], None],
    queue: dict[str, Any],
) -> None:
    # The production counts (core.jobs.RETRIES after the first run, media.service.MAX_ATTEMPTS runs), only
    # faster: the queue's last retry must be the run that gives up, or the media would stay PENDING.
    fast_retries(0.005)
    client = await serve(**queue)
    tried = _failing_reads(client, failures=None)

    media_id = await _upload_and_complete(client, "unlucky")

    media = await settled(client, media_id)
    assert (media["status"], media["failureReason"]) == ("FAILED", "PROCESSING_ERROR")
    row = await Media.get()
    assert row.attempts == len(tried) == MAX_ATTEMPTS
    # Given up, the upload (GPS and all) is not kept.
    storage = client.app.state.media.storage
    assert await storage.stat(row.upload_key) is None
