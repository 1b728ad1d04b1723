"""Notes through the public API: permissions, validation, counters kept exact."""

from __future__ import annotations

from typing import Any

from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import NOTE_CREATE, create_note, create_product, sign_up

NOTE_UPDATE = """
mutation($id: ID!, $input: NoteUpdateInput!) {
  noteUpdate(id: $id, input: $input) { note { title body language topics { name } products { id } reviewRating } errors { field code message } }
}"""
NOTE_DELETE = "mutation($id: ID!) { noteDelete(id: $id) { deletedNoteId errors { field code } } }"
COUNTS = """
query($handle: String!, $topic: String!, $product: ID!) {
  user(handle: $handle) { noteCount likesAndCollectsCount notes(first: 10) { edges { node { title } } } }
  topic(name: $topic) { noteCount }
  product(id: $product) { reviewCount averageRating }
}"""


async def _counts(client: GraphQLClient, handle: str, topic: str, product: str) -> dict[str, Any]:
    return await client.data(COUNTS, {"handle": handle, "topic": topic, "product": product})


async def test_only_the_author_edits_or_deletes_and_refusals_change_nothing(client: GraphQLClient) -> None:
    author = await sign_up(client, "author")
    intruder = await sign_up(client, "intruder")
    note = await create_note(client, author["token"], title="Original", topics=["skincare"])

    edit = await client.data(
        NOTE_UPDATE, {"id": note["id"], "input": {"title": "Hacked"}}, token=intruder["token"]
    )
    assert edit["noteUpdate"]["note"] is None
    assert edit["noteUpdate"]["errors"][0]["code"] == "FORBIDDEN"
    delete = await client.data(NOTE_DELETE, {"id": note["id"]}, token=intruder["token"])
    assert delete["noteDelete"] == {"deletedNoteId": None, "errors": [{"field": ["id"], "code": "FORBIDDEN"}]}
    anonymous = await client.data(NOTE_DELETE, {"id": note["id"]}, anonymous=True)
    assert anonymous["noteDelete"]["errors"][0]["code"] == "UNAUTHENTICATED"

    still = await client.data("query($id: ID!) { note(id: $id) { title } }", {"id": note["id"]})
    assert still["note"] == {"title": "Original"}


async def test_edit_updates_topics_products_review_and_language(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "shop")
    author = await sign_up(client, "writer")
    p1 = await create_product(client, merchant["token"])
    p2 = await create_product(client, merchant["token"], title="Cushion")
    note = await create_note(
        client, author["token"], title="First try", body="It is fine", topics=["makeup"],
        review={"productId": p1["id"], "rating": 2},
    )  # fmt: skip
    assert note["language"] == "en"

    edited = (await client.data(
        NOTE_UPDATE,
        {"id": note["id"], "input": {"title": "用了一个月后的感受", "body": "越用越喜欢，推荐给大家",
                                      "topics": ["彩妆", "#Makeup"], "productIds": [p2["id"]],
                                      "review": {"productId": p1["id"], "rating": 5}}},
        token=author["token"],
    ))["noteUpdate"]  # fmt: skip
    assert edited["errors"] == []
    assert edited["note"]["language"] == "zh"
    assert [t["name"] for t in edited["note"]["topics"]] == ["彩妆", "makeup"]
    assert [p["id"] for p in edited["note"]["products"]] == [
        p1["id"],
        p2["id"],
    ]  # the reviewed product stays tagged
    assert edited["note"]["reviewRating"] == 5
    counts = await _counts(client, "writer", "makeup", p1["id"])
    assert counts["topic"] == {"noteCount": 1}
    assert counts["product"] == {"reviewCount": 1, "averageRating": 5.0}
    assert (await client.data('{ topic(name: "彩妆") { noteCount } }'))["topic"] == {"noteCount": 1}

    removed = await client.data(
        NOTE_UPDATE, {"id": note["id"], "input": {"removeReview": True}}, token=author["token"]
    )
    assert removed["noteUpdate"]["note"]["reviewRating"] is None
    assert (await _counts(client, "writer", "makeup", p1["id"]))["product"] == {
        "reviewCount": 0,
        "averageRating": None,
    }
    assert await counter_mismatches() == []


async def test_delete_hides_the_note_and_restores_every_counter(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "seller")
    author = await sign_up(client, "poster")
    fan = await sign_up(client, "fan")
    product = await create_product(client, merchant["token"])
    note = await create_note(
        client, author["token"], topics=["#护肤"], review={"productId": product["id"], "rating": 4}
    )
    await client.data(
        "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }",
        {"n": note["id"]},
        token=fan["token"],
    )
    await client.data(
        "mutation($n: ID!) { noteCollect(noteId: $n) { errors { code } } }",
        {"n": note["id"]},
        token=fan["token"],
    )
    before = await _counts(client, "poster", "护肤", product["id"])
    assert before["user"]["noteCount"] == 1 and before["user"]["likesAndCollectsCount"] == 2

    deleted = await client.data(NOTE_DELETE, {"id": note["id"]}, token=author["token"])
    assert deleted["noteDelete"] == {"deletedNoteId": note["id"], "errors": []}

    after = await _counts(client, "poster", "护肤", product["id"])
    assert after["user"] == {"noteCount": 0, "likesAndCollectsCount": 0, "notes": {"edges": []}}
    assert after["topic"] == {"noteCount": 0}
    assert after["product"] == {"reviewCount": 0, "averageRating": None}
    assert (await client.data("query($id: ID!) { note(id: $id) { id } }", {"id": note["id"]}))["note"] is None
    again = await client.data(NOTE_DELETE, {"id": note["id"]}, token=author["token"])
    assert again["noteDelete"]["errors"][0]["code"] == "NOT_FOUND"
    like = await client.data(
        "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }",
        {"n": note["id"]},
        token=fan["token"],
    )
    assert like["noteLike"]["errors"] == [{"code": "NOT_FOUND"}]
    assert await counter_mismatches() == []


async def test_invalid_note_input_is_refused_with_field_paths(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "maker")
    author = await sign_up(client, "typist")
    product = await create_product(client, merchant["token"])
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"title": "x" * 101}, ["input", "title"], "TOO_LONG"),
        ({"title": "   "}, ["input", "title"], "REQUIRED"),
        ({"title": "ok", "body": "b" * 5001}, ["input", "body"], "TOO_LONG"),
        ({"title": "ok", "kind": "IMAGE"}, ["input", "media"], "REQUIRED"),
        (
            {"title": "ok", "kind": "VIDEO", "media": ["https://a/1.mp4", "https://a/2.mp4"]},
            ["input", "media"],
            "INVALID",
        ),
        ({"title": "ok", "media": ["javascript:alert(1)"]}, ["input", "media", "0"], "INVALID"),
        (
            {"title": "ok", "media": [f"https://m.example/{i}.jpg" for i in range(19)]},
            ["input", "media"],
            "TOO_MANY",
        ),
        ({"title": "ok", "topics": [f"t{i}" for i in range(11)]}, ["input", "topics"], "TOO_MANY"),
        ({"title": "ok", "topics": ["#"]}, ["input", "topics", "0"], "INVALID"),
        ({"title": "ok", "productIds": ["bm90LWFuLWlk"]}, ["input", "productIds", "0"], "INVALID"),
        ({"title": "ok", "productIds": ["UHJvZHVjdDo5OTk5"]}, ["input", "productIds"], "NOT_FOUND"),
        (
            {"title": "ok", "review": {"productId": product["id"], "rating": 6}},
            ["input", "review", "rating"],
            "OUT_OF_RANGE",
        ),
    ]
    for fields, path, code in cases:
        body = await client.data(NOTE_CREATE, {"input": fields}, token=author["token"])
        assert body["noteCreate"]["note"] is None, fields
        assert [(e["field"], e["code"]) for e in body["noteCreate"]["errors"]] == [(path, code)], fields
    own = await client.data(
        NOTE_CREATE, {"input": {"title": "mine", "review": {"productId": product["id"], "rating": 5}}},
        token=merchant["token"],
    )  # fmt: skip
    assert own["noteCreate"]["errors"][0]["code"] == "FORBIDDEN"
    await create_note(client, author["token"], review={"productId": product["id"], "rating": 5})
    twice = await client.data(
        NOTE_CREATE, {"input": {"title": "again", "review": {"productId": product["id"], "rating": 1}}},
        token=author["token"],
    )  # fmt: skip
    assert twice["noteCreate"]["errors"][0]["code"] == "ALREADY_REVIEWED"
    profile = await client.data('{ user(handle: "typist") { noteCount } }')
    assert profile["user"] == {"noteCount": 1}


async def test_kind_is_inferred_from_media(client: GraphQLClient) -> None:
    author = await sign_up(client, "vlogger")
    text = await create_note(client, author["token"])
    video = await create_note(client, author["token"], media=["https://media.example/clip.mp4"])
    images = await create_note(
        client, author["token"], media=["https://media.example/1.jpg", "https://media.example/2.jpg"]
    )
    assert (text["kind"], video["kind"], images["kind"]) == ("TEXT", "VIDEO", "IMAGE")


async def test_lists_refuse_bad_page_arguments(client: GraphQLClient) -> None:
    author = await sign_up(client, "lister")
    too_many = await client.execute('{ user(handle: "lister") { notes(first: 101) { edges { cursor } } } }')
    assert "between 0 and 100" in too_many["errors"][0]["message"]
    bad_cursor = await client.execute(
        '{ user(handle: "lister") { notes(after: "%%%") { edges { cursor } } } }'
    )
    assert "cursor is not valid" in bad_cursor["errors"][0]["message"]
    assert author["user"]["handle"] == "lister"


async def test_user_notes_page_by_keyset(client: GraphQLClient) -> None:
    author = await sign_up(client, "pager")
    titles = [f"n{i}" for i in range(7)]
    for title in titles:
        await create_note(client, author["token"], title=title)
    seen: list[str] = []
    after = None
    for _ in range(4):
        page = await client.data(
            'query($a: String) { user(handle: "pager") { notes(first: 3, after: $a) { totalCount edges { node { title } } pageInfo { hasNextPage endCursor } } } }',
            {"a": after},
        )
        notes = page["user"]["notes"]
        assert notes["totalCount"] == 7
        seen += [e["node"]["title"] for e in notes["edges"]]
        after = notes["pageInfo"]["endCursor"]
        if not notes["pageInfo"]["hasNextPage"]:
            break
    assert seen == list(reversed(titles))


async def test_node_fetches_every_type_and_topics_are_one_whatever_the_spelling(
    client: GraphQLClient,
) -> None:
    merchant = await sign_up(client, "nodeshop")
    author = await sign_up(client, "nodeauthor")
    product = await create_product(client, merchant["token"])
    note = await create_note(client, author["token"], topics=["＃护肤"])
    for spelling in ("#护肤", "护肤", " 护肤 "):
        topic = await client.data(
            "query($n: String!) { topic(name: $n) { id name noteCount notes(first: 5) { edges { node { id } } } } }",
            {"n": spelling},
        )
        assert topic["topic"]["name"] == "护肤" and topic["topic"]["noteCount"] == 1
        assert topic["topic"]["notes"]["edges"] == [{"node": {"id": note["id"]}}]
    ids = {
        "Note": note["id"],
        "User": author["user"]["id"],
        "Product": product["id"],
        "ProductVariant": product["variants"][0]["id"],
        "Topic": topic["topic"]["id"],
    }
    for typename, gid in ids.items():
        found = await client.data("query($id: ID!) { node(id: $id) { __typename id } }", {"id": gid})
        assert found["node"] == {"__typename": typename, "id": gid}
    for junk in ("", "bm9wZQ==", "Tm90ZTo5OTk5OTk=", "Tm90ZTotMQ==", "!!!"):
        assert (await client.data("query($id: ID!) { node(id: $id) { id } }", {"id": junk}))["node"] is None
