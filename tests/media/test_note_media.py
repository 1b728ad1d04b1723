"""Uploaded media on notes and avatars, through the API: posted with `mediaIds`, read back in the feed with
sizes and placeholders at no SQL cost, refused when not yours, not READY or already used, released (and
then deleted by the sweep) when a note is edited or deleted or an avatar replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.ids import decode_global_id
from models import Media, MediaStatus
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.media.files import gps_jpeg
from tests.media.flow import CREATE, local_media_settings, media_client, upload

NOTE_CREATE = """mutation Post($input: NoteCreateInput!) {
  noteCreate(input: $input) {
    note { id kind media { id kind status width height aspectRatio blurhash dominantColor url(variant: FEED) } }
    errors { code field message }
  }
}"""
NOTE_UPDATE = """mutation Edit($id: ID!, $input: NoteUpdateInput!) {
  noteUpdate(id: $id, input: $input) { note { id media { id } } errors { code field } }
}"""
FEED = """{ followingFeed(first: 10) { edges { node { id title
  media { id width height blurhash thumbnail: url(variant: THUMBNAIL) } } } } }"""


@pytest.fixture
async def client(db: str, tmp_path: Path) -> AsyncIterator[GraphQLClient]:
    async with media_client(local_media_settings(tmp_path / "media")) as client:
        yield client


async def _post(client: GraphQLClient, media_ids: list[str], **extra: Any) -> dict[str, Any]:
    note = {"title": "今日穿搭 outfit", "body": "", "mediaIds": media_ids, **extra}
    return (await client.data(NOTE_CREATE, {"input": note}))["noteCreate"]  # type: ignore[no-any-return]


async def test_a_note_posted_with_uploads_shows_them_in_the_feed_with_sizes(client: GraphQLClient) -> None:
    author = (await sign_up(client, "author"))["token"]
    reader = await sign_up(client, "reader")
    client.token = author
    first, second = [await upload(client, gps_jpeg(), "image/jpeg") for _ in range(2)]
    posted = await _post(client, [second, first])
    assert posted["errors"] == []
    note = posted["note"]
    assert note["kind"] == "IMAGE"  # inferred from the uploads
    assert [m["id"] for m in note["media"]] == [second, first]  # in the order given
    assert all(m["width"] == 80 and m["height"] == 120 and m["blurhash"] for m in note["media"])
    assert (await client.http.get(note["media"][0]["url"])).status_code == 200

    follow = "mutation($id: ID!) { userFollow(userId: $id) { errors { code } } }"
    author_id = (await client.data("{ viewer { id } }"))["viewer"]["id"]
    await client.data(follow, {"id": author_id}, token=reader["token"])
    body = await client.execute(FEED, token=reader["token"])
    [edge] = body["data"]["followingFeed"]["edges"]
    assert [m["id"] for m in edge["node"]["media"]] == [second, first]
    assert edge["node"]["media"][0]["thumbnail"].startswith("http://testserver/media/files/media/")
    # The pictures come with the note's row: the same statements as a feed of notes without media.
    without = await client.execute("{ followingFeed(first: 10) { edges { node { id title } } } }",
                                   token=reader["token"])  # fmt: skip
    assert body["extensions"]["sqlStatements"] == without["extensions"]["sqlStatements"]
    # Attached, the media are visible to anyone who sees the note.
    seen = await client.data('query($id: ID!) { node(id: $id) { ... on Media { id } } }', {"id": first},
                             token=reader["token"])  # fmt: skip
    assert seen["node"] == {"id": first}


async def test_media_that_are_not_yours_not_ready_or_in_use_are_refused(client: GraphQLClient) -> None:
    owner = (await sign_up(client, "owner"))["token"]
    other = (await sign_up(client, "other"))["token"]
    mine = await upload(client, gps_jpeg(), "image/jpeg", token=owner)
    client.token = other
    stolen = await _post(client, [mine])
    assert [(e["code"], e["field"]) for e in stolen["errors"]] == [("NOT_FOUND", ["input", "mediaIds", "0"])]

    client.token = owner
    photo = gps_jpeg()
    fields = {"kind": "IMAGE", "contentType": "image/jpeg", "byteSize": len(photo), "filename": "x.jpg"}
    waiting = (await client.data(CREATE, {"input": fields}))["mediaUploadCreate"]["media"]["id"]
    early = await _post(client, [waiting])
    assert [e["code"] for e in early["errors"]] == ["MEDIA_NOT_READY"]

    assert (await _post(client, [mine]))["errors"] == []
    again = await _post(client, [mine])
    assert [e["code"] for e in again["errors"]] == ["INVALID"]
    both = await _post(client, [mine], media=["https://cdn.example.com/a.jpg"])
    assert [e["code"] for e in both["errors"]] == ["INVALID"]
    video_note = await _post(client, [], kind="VIDEO")
    assert video_note["errors"] and video_note["note"] is None


async def test_edit_and_delete_release_media_and_the_sweep_deletes_their_files(client: GraphQLClient) -> None:
    client.token = (await sign_up(client, "editor"))["token"]
    old, new = [await upload(client, gps_jpeg(), "image/jpeg") for _ in range(2)]
    note = (await _post(client, [old]))["note"]
    edited = (await client.data(NOTE_UPDATE, {"id": note["id"], "input": {"mediaIds": [new]}}))["noteUpdate"]
    assert edited["errors"] == [] and [m["id"] for m in edited["note"]["media"]] == [new]
    storage = client.app.state.media.storage
    old_row = await Media.get(id=decode_global_id(old, "Media", "id"))
    old_files = [storage.file_path(f["key"]) for f in old_row.files.values()]
    assert all(path is not None and path.exists() for path in old_files)

    assert await client.app.state.media.sweep() == 1  # the picture the edit dropped
    assert all(not path.exists() for path in old_files)
    assert await Media.filter(id=old_row.id).count() == 0

    await client.data("mutation($id: ID!) { noteDelete(id: $id) { errors { code } } }", {"id": note["id"]})
    assert await client.app.state.media.sweep() == 1
    assert await Media.all().count() == 0


async def test_an_uploaded_avatar_replaces_the_last(client: GraphQLClient) -> None:
    client.token = (await sign_up(client, "face"))["token"]
    first, second = [await upload(client, gps_jpeg(), "image/jpeg") for _ in range(2)]
    update = """mutation($id: ID!) { viewerUpdate(input: {avatarMediaId: $id}) {
      user { avatarUrl } errors { code field } } }"""
    set_first = (await client.data(update, {"id": first}))["viewerUpdate"]
    assert set_first["errors"] == []
    url = set_first["user"]["avatarUrl"]
    assert url.endswith("/thumbnail.jpg") and (await client.http.get(url)).status_code == 200
    set_second = (await client.data(update, {"id": second}))["viewerUpdate"]
    assert set_second["user"]["avatarUrl"] != url
    assert await client.app.state.media.sweep() == 1
    assert (await client.http.get(url)).status_code == 404
    assert await Media.filter(status=MediaStatus.READY).count() == 1


async def test_notes_posted_with_urls_keep_working(client: GraphQLClient) -> None:
    client.token = (await sign_up(client, "legacy"))["token"]
    query = """mutation($input: NoteCreateInput!) { noteCreate(input: $input) {
      note { mediaUrls media { id kind status width url(variant: THUMBNAIL) videoUrl } } errors { code } } }"""
    posted = await client.data(query, {"input": {"title": "t", "media": ["https://cdn.example.com/1.jpg"]}})
    note = posted["noteCreate"]["note"]
    assert note["mediaUrls"] == ["https://cdn.example.com/1.jpg"]
    [media] = note["media"]
    assert (media["kind"], media["status"], media["width"]) == ("IMAGE", "READY", None)
    assert (media["url"], media["videoUrl"]) == ("https://cdn.example.com/1.jpg", None)


async def test_a_product_shows_its_uploaded_images_in_order(client: GraphQLClient) -> None:
    client.token = (await sign_up(client, "merchant"))["token"]
    front, back = [await upload(client, gps_jpeg(), "image/jpeg") for _ in range(2)]
    create = """mutation($input: ProductCreateInput!) { productCreate(input: $input) {
      product { id images { id width height } } errors { code field } } }"""
    variant = {"sku": "L-1", "name": "正红", "priceMinorUnits": 19900, "currency": "CNY", "stock": 5}
    made = await client.data(
        create, {"input": {"title": "口红", "variants": [variant], "mediaIds": [front, back]}}
    )
    product = made["productCreate"]["product"]
    assert [(i["id"], i["width"], i["height"]) for i in product["images"]] == [
        (front, 80, 120),
        (back, 80, 120),
    ]
    page = await client.execute(
        "query($id: ID!) { product(id: $id) { images { id url(variant: THUMBNAIL) } } }",
        {"id": product["id"]},
    )
    assert [i["id"] for i in page["data"]["product"]["images"]] == [front, back]
    # The product page's budget (4): its images are one statement, batched for a page of products.
    assert page["extensions"]["sqlStatements"] <= 4
    update = """mutation($id: ID!, $input: ProductUpdateInput!) { productUpdate(id: $id, input: $input) {
      product { images { id } } errors { code field } } }"""
    kept = (await client.data(update, {"id": product["id"], "input": {"mediaIds": [back]}}))["productUpdate"]
    assert kept["errors"] == [] and kept["product"]["images"] == [{"id": back}]
    assert await client.app.state.media.sweep() == 1  # the image the edit dropped


async def test_a_phone_video_becomes_a_video_note_with_its_poster(client: GraphQLClient) -> None:
    from tests.media.files import turned_like_a_phone, video

    client.token = (await sign_up(client, "filmer"))["token"]
    clip = turned_like_a_phone(video(seconds=2.0))
    media_id = await upload(client, clip, "video/mp4", kind="VIDEO")
    posted = await _post(client, [media_id])
    assert posted["errors"] == [] and posted["note"]["kind"] == "VIDEO"
    read = """query($id: ID!) { note(id: $id) { media { kind width height durationSeconds videoUrl
      poster: url(variant: FEED) } } }"""
    [media] = (await client.data(read, {"id": posted["note"]["id"]}))["note"]["media"]
    # Stored 96×64, shown upright: 64 wide, 96 high; two seconds long.
    assert (media["kind"], media["width"], media["height"]) == ("VIDEO", 64, 96)
    assert media["durationSeconds"] == pytest.approx(2.0, abs=0.2)
    kept = await client.http.get(media["videoUrl"])
    assert kept.status_code == 200 and kept.content == clip  # the file as uploaded
    poster = await client.http.get(media["poster"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    # A video is one on its own: not beside pictures.
    picture = await upload(client, gps_jpeg(), "image/jpeg")
    other = await upload(client, clip, "video/mp4", kind="VIDEO")
    mixed = await _post(client, [picture, other])
    assert [e["code"] for e in mixed["errors"]] == ["INVALID"]


async def test_alt_text_is_kept_and_can_be_changed_on_a_posted_note(client: GraphQLClient) -> None:
    client.token = (await sign_up(client, "describer"))["token"]
    photo = gps_jpeg()
    fields = {
        "kind": "IMAGE",
        "contentType": "image/jpeg",
        "byteSize": len(photo),
        "altText": "一支口红 a lipstick",
    }
    started = (await client.data(CREATE, {"input": fields}))["mediaUploadCreate"]
    too_long = (await client.data(CREATE, {"input": {**fields, "altText": "x" * 1501}}))["mediaUploadCreate"]
    assert [(e["code"], e["field"]) for e in too_long["errors"]] == [("TOO_LONG", ["input", "altText"])]
    ticket = started["upload"]
    await client.http.request(ticket["method"], ticket["url"], content=photo, headers=ticket["headers"])
    await client.data(
        "mutation($id: ID!) { mediaUploadComplete(id: $id) { errors { code } } }", {"id": ticket["id"]}
    )
    from tests.media.flow import settled

    assert (await settled(client, ticket["id"]))["status"] == "READY"
    note = (await _post(client, [ticket["id"]]))["note"]
    read = "query($id: ID!) { note(id: $id) { media { altText } } }"
    assert (await client.data(read, {"id": note["id"]}))["note"]["media"] == [
        {"altText": "一支口红 a lipstick"}
    ]
    change = "mutation($id: ID!, $t: String!) { mediaUpdate(id: $id, altText: $t) { media { altText } errors { code } } }"
    changed = (await client.data(change, {"id": ticket["id"], "t": "正红色口红"}))["mediaUpdate"]
    assert changed == {"media": {"altText": "正红色口红"}, "errors": []}
    assert (await client.data(read, {"id": note["id"]}))["note"]["media"] == [{"altText": "正红色口红"}]
    other = (await sign_up(client, "stranger"))["token"]
    refused = (await client.data(change, {"id": ticket["id"], "t": "mine now"}, token=other))["mediaUpdate"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
