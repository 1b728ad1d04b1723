"""Notifications through the public API: who is told what, once, and read state."""

from __future__ import annotations

from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

INBOX = """
query($unread: Boolean = false) { viewer { unreadNotificationCount
  notifications(first: 20, unreadOnly: $unread) { edges { node { id kind read actor { handle } note { title } comment { body } } } } } }"""
MARK = "mutation($ids: [ID!]) { notificationsMarkRead(ids: $ids) { unreadCount errors { field code } } }"
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }"
UNLIKE = "mutation($n: ID!) { noteUnlike(noteId: $n) { errors { code } } }"
COMMENT = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { id } errors { code } } }"


async def test_engagement_notifies_the_right_people_once(client: GraphQLClient) -> None:
    author = await sign_up(client, "author")
    fan = await sign_up(client, "fan")
    friend = await sign_up(client, "friend")
    note = await create_note(client, author["token"], title="周末去哪儿")

    # like, unlike, like again: one LIKE; collect; follow; a comment, and a reply to the fan's comment
    for query in (LIKE, UNLIKE, LIKE):
        await client.data(query, {"n": note["id"]}, token=fan["token"])
    await client.data(
        "mutation($n: ID!) { noteCollect(noteId: $n) { errors { code } } }",
        {"n": note["id"]},
        token=fan["token"],
    )
    await client.data(
        "mutation($u: ID!) { userFollow(userId: $u) { errors { code } } }",
        {"u": author["user"]["id"]},
        token=fan["token"],
    )
    root = (
        await client.data(COMMENT, {"i": {"noteId": note["id"], "body": "去爬山！"}}, token=fan["token"])
    )["commentCreate"]["comment"]
    await client.data(
        COMMENT, {"i": {"noteId": note["id"], "body": "+1", "replyToId": root["id"]}}, token=friend["token"]
    )
    # the author acting on their own note notifies nobody (but the fan, whose comment they answer)
    await client.data(LIKE, {"n": note["id"]}, token=author["token"])
    await client.data(
        COMMENT,
        {"i": {"noteId": note["id"], "body": "好主意", "replyToId": root["id"]}},
        token=author["token"],
    )

    inbox = (await client.data(INBOX, token=author["token"]))["viewer"]
    kinds = [(e["node"]["kind"], e["node"]["actor"]["handle"]) for e in inbox["notifications"]["edges"]]
    assert kinds == [
        ("COMMENT", "friend"),
        ("COMMENT", "fan"),
        ("FOLLOW", "fan"),
        ("COLLECT", "fan"),
        ("LIKE", "fan"),
    ]
    assert inbox["unreadNotificationCount"] == 5
    fan_inbox = (await client.data(INBOX, token=fan["token"]))["viewer"]
    replies = [
        (e["node"]["kind"], e["node"]["actor"]["handle"], e["node"]["comment"]["body"])
        for e in fan_inbox["notifications"]["edges"]
    ]
    assert replies == [("REPLY", "author", "好主意"), ("REPLY", "friend", "+1")]
    assert all(e["node"]["note"] == {"title": "周末去哪儿"} for e in fan_inbox["notifications"]["edges"])

    # marking some read, then all
    first_id = inbox["notifications"]["edges"][0]["node"]["id"]
    assert (await client.data(MARK, {"ids": [first_id]}, token=author["token"]))["notificationsMarkRead"] == {
        "unreadCount": 4,
        "errors": [],
    }
    unread = (await client.data(INBOX, {"unread": True}, token=author["token"]))["viewer"]["notifications"][
        "edges"
    ]
    assert first_id not in [e["node"]["id"] for e in unread] and len(unread) == 4
    # someone else's notification ids change nothing
    assert (await client.data(MARK, {"ids": [first_id]}, token=fan["token"]))["notificationsMarkRead"][
        "unreadCount"
    ] == 2
    assert (await client.data(MARK, {}, token=author["token"]))["notificationsMarkRead"] == {
        "unreadCount": 0,
        "errors": [],
    }


async def test_notifications_are_private(client: GraphQLClient) -> None:
    author = await sign_up(client, "private")
    fan = await sign_up(client, "nosy")
    note = await create_note(client, author["token"])
    await client.data(LIKE, {"n": note["id"]}, token=fan["token"])
    peek = await client.data(
        '{ user(handle: "private") { unreadNotificationCount notifications(first: 5) { edges { node { id } } } } }',
        token=fan["token"],
    )
    assert peek["user"] == {"unreadNotificationCount": None, "notifications": None}
    own = (await client.data(INBOX, token=author["token"]))["viewer"]["notifications"]["edges"]
    gid = own[0]["node"]["id"]
    assert (await client.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid}, token=fan["token"]))[
        "node"
    ] is None
    assert (
        await client.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid}, token=author["token"])
    )["node"] == {"id": gid}
    bad = await client.data(MARK, {"ids": ["Tm90ZTox"]}, token=author["token"])
    assert bad["notificationsMarkRead"]["errors"] == [{"field": ["ids", "0"], "code": "INVALID"}]


async def test_mark_read_takes_at_most_100_ids(client: GraphQLClient) -> None:
    reader = await sign_up(client, "hundred")
    ids = ["Tm90aWZpY2F0aW9uOjE="] * 101
    body = await client.data(MARK, {"ids": ids}, token=reader["token"])
    assert body["notificationsMarkRead"] == {
        "unreadCount": None,
        "errors": [{"field": ["ids"], "code": "TOO_MANY"}],
    }
