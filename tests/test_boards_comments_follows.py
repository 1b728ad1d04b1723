"""Boards, collects, comments and follows through the public API."""

from __future__ import annotations

from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

BOARD_CREATE = "mutation($i: BoardCreateInput!) { boardCreate(input: $i) { board { id name isPrivate } errors { field code } } }"
COLLECT = "mutation($n: ID!, $b: ID) { noteCollect(noteId: $n, boardId: $b) { note { collectCount } board { id noteCount } errors { field code } } }"
COMMENT = (
    "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { id } errors { field code } } }"
)
COMMENT_DELETE = "mutation($id: ID!) { commentDelete(id: $id) { deletedCommentId errors { code } } }"


async def test_private_boards_are_seen_by_their_owner_only(client: GraphQLClient) -> None:
    owner = await sign_up(client, "owner")
    other = await sign_up(client, "other")
    author = await sign_up(client, "author")
    note = await create_note(client, author["token"])
    private = (
        await client.data(BOARD_CREATE, {"i": {"name": "秘密", "isPrivate": True}}, token=owner["token"])
    )["boardCreate"]["board"]
    public = (await client.data(BOARD_CREATE, {"i": {"name": "Open"}}, token=owner["token"]))["boardCreate"][
        "board"
    ]
    collected = await client.data(COLLECT, {"n": note["id"], "b": private["id"]}, token=owner["token"])
    assert collected["noteCollect"]["board"] == {"id": private["id"], "noteCount": 1}

    boards = '{ user(handle: "owner") { boards(first: 10) { edges { node { name notes(first: 5) { edges { node { id } } } } } } } }'
    mine = await client.data(boards, token=owner["token"])
    assert [e["node"]["name"] for e in mine["user"]["boards"]["edges"]] == ["Open", "秘密", "默认收藏"]
    theirs = await client.data(boards, token=other["token"])
    assert [e["node"]["name"] for e in theirs["user"]["boards"]["edges"]] == ["Open", "默认收藏"]
    query = "query($id: ID!) { board(id: $id) { name notes(first: 5) { totalCount } } }"
    assert (await client.data(query, {"id": private["id"]}, token=other["token"]))["board"] is None
    assert (await client.data(query, {"id": private["id"]}, anonymous=True))["board"] is None
    assert (await client.data(query, {"id": private["id"]}, token=owner["token"]))["board"] == {
        "name": "秘密",
        "notes": {"totalCount": 1},
    }

    # collecting into someone else's board is refused without revealing private ones
    into_private = await client.data(COLLECT, {"n": note["id"], "b": private["id"]}, token=other["token"])
    assert into_private["noteCollect"]["errors"] == [{"field": ["boardId"], "code": "NOT_FOUND"}]
    into_public = await client.data(COLLECT, {"n": note["id"], "b": public["id"]}, token=other["token"])
    assert into_public["noteCollect"]["errors"] == [{"field": ["boardId"], "code": "FORBIDDEN"}]

    # collecting again into another board moves the note; the note's count stays 1
    moved = await client.data(COLLECT, {"n": note["id"], "b": public["id"]}, token=owner["token"])
    assert moved["noteCollect"]["note"] == {"collectCount": 1}
    assert moved["noteCollect"]["board"] == {"id": public["id"], "noteCount": 1}
    assert (await client.data(query, {"id": private["id"]}, token=owner["token"]))["board"]["notes"][
        "totalCount"
    ] == 0
    assert await counter_mismatches() == []


async def test_board_input_is_bounded(client: GraphQLClient) -> None:
    owner = await sign_up(client, "bounded")
    body = await client.data(
        BOARD_CREATE, {"i": {"name": "n" * 51, "description": "d" * 501}}, token=owner["token"]
    )
    assert {(tuple(e["field"]), e["code"]) for e in body["boardCreate"]["errors"]} == {
        (("input", "name"), "TOO_LONG"), (("input", "description"), "TOO_LONG"),
    }  # fmt: skip


async def test_comment_threads_and_deletion_rules(client: GraphQLClient) -> None:
    author = await sign_up(client, "poster")
    alice = await sign_up(client, "alice")
    bob = await sign_up(client, "bob")
    note = await create_note(client, author["token"])
    other_note = await create_note(client, author["token"], title="another")

    root = (
        await client.data(COMMENT, {"i": {"noteId": note["id"], "body": "第一！"}}, token=alice["token"])
    )["commentCreate"]["comment"]
    reply = (
        await client.data(
            COMMENT,
            {"i": {"noteId": note["id"], "body": "reply", "replyToId": root["id"]}},
            token=bob["token"],
        )
    )["commentCreate"]["comment"]
    nested = await client.data(
        COMMENT,
        {"i": {"noteId": note["id"], "body": "reply to reply", "replyToId": reply["id"]}},
        token=alice["token"],
    )
    assert nested["commentCreate"]["errors"] == []
    wrong_note = await client.data(
        COMMENT, {"i": {"noteId": other_note["id"], "body": "x", "replyToId": root["id"]}}, token=bob["token"]
    )
    assert wrong_note["commentCreate"]["errors"] == [{"field": ["input", "replyToId"], "code": "NOT_FOUND"}]
    empty = await client.data(COMMENT, {"i": {"noteId": note["id"], "body": "  "}}, token=bob["token"])
    assert empty["commentCreate"]["errors"] == [{"field": ["input", "body"], "code": "REQUIRED"}]
    too_long = await client.data(
        COMMENT, {"i": {"noteId": note["id"], "body": "长" * 1001}}, token=bob["token"]
    )
    assert too_long["commentCreate"]["errors"] == [{"field": ["input", "body"], "code": "TOO_LONG"}]

    thread = "query($id: ID!) { note(id: $id) { commentCount comments(first: 5) { edges { node { body replyCount replies(first: 5) { edges { node { body replyTo { body } } } } } } } } }"
    data = (await client.data(thread, {"id": note["id"]}))["note"]
    assert data["commentCount"] == 3
    replies = data["comments"]["edges"][0]["node"]["replies"]["edges"]
    assert [(r["node"]["body"], r["node"]["replyTo"]["body"]) for r in replies] == [
        ("reply", "第一！"),
        ("reply to reply", "reply"),
    ]

    # a stranger may not delete; the note's author may delete any comment; a root takes its replies
    stranger = await client.data(COMMENT_DELETE, {"id": reply["id"]}, token=alice["token"])
    assert stranger["commentDelete"]["errors"] == [{"code": "FORBIDDEN"}]
    by_author = await client.data(COMMENT_DELETE, {"id": root["id"]}, token=author["token"])
    assert by_author["commentDelete"] == {"deletedCommentId": root["id"], "errors": []}
    data = (await client.data(thread, {"id": note["id"]}))["note"]
    assert data == {"commentCount": 0, "comments": {"edges": []}}
    assert await counter_mismatches() == []


async def test_follow_rules_and_counters(client: GraphQLClient) -> None:
    me = await sign_up(client, "meme")
    you = await sign_up(client, "youyou")
    follow = "mutation($u: ID!) { userFollow(userId: $u) { user { followerCount } errors { field code } } }"
    unfollow = "mutation($u: ID!) { userUnfollow(userId: $u) { user { followerCount } errors { code } } }"
    myself = await client.data(follow, {"u": me["user"]["id"]}, token=me["token"])
    assert myself["userFollow"] == {
        "user": None,
        "errors": [{"field": ["userId"], "code": "CANNOT_FOLLOW_SELF"}],
    }
    ghost = await client.data(follow, {"u": "VXNlcjo5OTk5"}, token=me["token"])
    assert ghost["userFollow"]["errors"] == [{"field": ["userId"], "code": "NOT_FOUND"}]
    wrong_type = await client.data(follow, {"u": "Tm90ZTox"}, token=me["token"])
    assert wrong_type["userFollow"]["errors"] == [{"field": ["userId"], "code": "INVALID"}]
    for _ in range(2):
        assert (await client.data(follow, {"u": you["user"]["id"]}, token=me["token"]))["userFollow"][
            "user"
        ] == {"followerCount": 1}
    graph = '{ user(handle: "meme") { followingCount following(first: 5) { edges { node { handle } } } } }'
    assert (await client.data(graph))["user"] == {
        "followingCount": 1,
        "following": {"edges": [{"node": {"handle": "youyou"}}]},
    }
    followers = '{ user(handle: "youyou") { followers(first: 5) { edges { node { handle } } } } }'
    assert (await client.data(followers))["user"]["followers"]["edges"] == [{"node": {"handle": "meme"}}]
    for _ in range(2):
        assert (await client.data(unfollow, {"u": you["user"]["id"]}, token=me["token"]))["userUnfollow"][
            "user"
        ] == {"followerCount": 0}
    assert (await client.data(graph))["user"]["followingCount"] == 0
    assert await counter_mismatches() == []
