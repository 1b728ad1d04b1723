"""A phone photo through a real server, as a mobile app sends it: upload ticket over HTTP, the file PUT to
the URL given, completion, the status followed over a real graphql-transport-ws client (gql), then the
note posted with it and every variant downloaded without EXIF."""

from __future__ import annotations

import asyncio
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client
from PIL import Image

from tests.live_server import live_server
from tests.media.files import gps_jpeg
from tests.media.flow import COMPLETE, CREATE
from tests.test_notifications_live import _transport
from tests.test_realtime_clients import _request
from tests.test_subscriptions import gql as post
from tests.test_subscriptions import sign_up

pytestmark = pytest.mark.timeout(120)

STATUS = "subscription($id: ID!) { mediaStatus(id: $id) { id status width height blurhash } }"
POST = """mutation($input: NoteCreateInput!) { noteCreate(input: $input) {
  note { id media { id width height url(variant: ORIGINAL) } } errors { code } } }"""


async def test_a_phone_photo_from_upload_to_a_note_on_a_live_server(tmp_path: Path) -> None:
    env = {"VERMILION_MEDIA_ROOT": str(tmp_path / "media"), "VERMILION_PUBLIC_BASE_URL": "{base}"}
    with live_server(f"sqlite://{tmp_path / 'live.sqlite3'}", env=env) as base:
        token = (await sign_up(base, "phone"))["token"]
        photo = gps_jpeg()
        fields = {
            "kind": "IMAGE",
            "contentType": "image/jpeg",
            "byteSize": len(photo),
            "filename": "IMG_0001.JPG",
        }
        started: dict[str, Any] = (await post(base, CREATE, {"input": fields}, token))["mediaUploadCreate"]
        ticket = started["upload"]
        assert ticket["url"].startswith(f"{base}/media/upload/uploads/")
        async with httpx.AsyncClient() as http:
            sent = await http.request(
                ticket["method"], ticket["url"], content=photo, headers=ticket["headers"]
            )
            assert sent.status_code == 200, sent.text

            async with Client(transport=_transport(base, token)) as session:
                statuses = session.subscribe(_request(STATUS, id=ticket["id"]))
                first = await asyncio.wait_for(anext(statuses), timeout=10)
                assert first["mediaStatus"]["status"] == "UPLOADING"
                completed = (await post(base, COMPLETE, {"id": ticket["id"]}, token))["mediaUploadComplete"]
                assert completed["errors"] == []
                seen = [first["mediaStatus"]["status"]]
                async for event in statuses:  # ends by itself once READY or FAILED
                    seen.append(event["mediaStatus"]["status"])
                    last = event["mediaStatus"]
                # PENDING may be passed over when processing ends before the event is read.
                assert seen[0] == "UPLOADING" and seen[-1] == "READY", seen
                assert (last["width"], last["height"]) == (80, 120) and last["blurhash"]

            note = await post(base, POST, {"input": {"title": "街拍", "mediaIds": [ticket["id"]]}}, token)
            [media] = note["noteCreate"]["note"]["media"]
            original = await http.get(media["url"])
            assert original.status_code == 200
            picture = Image.open(BytesIO(original.content))
            assert picture.size == (80, 120) and not picture.getexif()
