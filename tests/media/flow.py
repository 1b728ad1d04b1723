"""The upload flow as a frontend runs it, for tests that need READY media: ask, send, complete, wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from core.settings import Settings
from tests.conftest import DATABASE_URL, GENEROUS_LIMITS, TEST_SECRET, GraphQLClient

CREATE = """mutation Create($input: MediaUploadCreateInput!) {
  mediaUploadCreate(input: $input) {
    upload { id url method headers fields expiresAt }
    media { id status kind }
    errors { code field message }
  }
}"""
COMPLETE = """mutation Complete($id: ID!) {
  mediaUploadComplete(id: $id) { media { id status failureReason } errors { code field message } }
}"""
STATUS = """query Media($id: ID!) { node(id: $id) { ... on Media { id status failureReason } } }"""


def media_settings(**overrides: Any) -> Settings:
    """The test database's settings (development, no payments, generous limits) with `overrides`."""
    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=None,
        **{**GENEROUS_LIMITS, **overrides},
    )


def local_media_settings(root: Path, **overrides: Any) -> Settings:
    """Settings with local media storage under `root`, served as http://testserver."""
    return media_settings(
        **{"VERMILION_MEDIA_ROOT": str(root), "VERMILION_PUBLIC_BASE_URL": "http://testserver", **overrides}
    )


@asynccontextmanager
async def media_client(settings: Settings) -> AsyncIterator[GraphQLClient]:
    """A client of an app made with `settings`; its background jobs stopped at the end."""
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app)
    await app.state.media.jobs.stop()


async def send(http: httpx.AsyncClient, upload: dict[str, Any], data: bytes) -> httpx.Response:
    """The file to the upload URL with the method and headers the ticket gave."""
    return await http.request(upload["method"], upload["url"], content=data, headers=upload["headers"])


async def settled(client: GraphQLClient, media_id: str, token: str | None = None) -> dict[str, Any]:
    """The media once READY or FAILED (polled as a client polls)."""
    for _ in range(400):
        media = (await client.data(STATUS, {"id": media_id}, token=token))["node"]
        if media["status"] in ("READY", "FAILED"):
            return media  # type: ignore[no-any-return]
        await asyncio.sleep(0.025)
    raise AssertionError(f"media {media_id} is still {media['status']}")


async def upload(
    client: GraphQLClient, data: bytes, content_type: str, *, kind: str = "IMAGE", token: str | None = None
) -> str:
    """A file uploaded and processed: its Media id (READY)."""
    fields = {"kind": kind, "contentType": content_type, "byteSize": len(data), "filename": "f"}
    started = (await client.data(CREATE, {"input": fields}, token=token))["mediaUploadCreate"]
    assert started["errors"] == [], started
    ticket = started["upload"]
    sent = await send(client.http, ticket, data)
    assert sent.status_code == 200, sent.text
    completed = (await client.data(COMPLETE, {"id": ticket["id"]}, token=token))["mediaUploadComplete"]
    assert completed["errors"] == [], completed
    media = await settled(client, ticket["id"], token)
    assert media["status"] == "READY", media
    return str(ticket["id"])
