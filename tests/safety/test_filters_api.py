"""Keyword filters through the public API: made, listed and deleted by their owner, and applied to the
feeds, search, comments and notifications of that owner alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from models import ContentFilter
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

FILTER_CREATE = """
mutation($input: FilterCreateInput!) {
  filterCreate(input: $input) {
    filter { id phrase contexts action expiresAt createdAt }
    errors { field message code }
  }
}"""
FILTER_DELETE = "mutation($id: ID!) { filterDelete(id: $id) { deletedFilterId errors { field code } } }"
VIEWER_FILTERS = "{ viewer { filters { id phrase contexts action expiresAt } } }"
FOLLOW = "mutation($u: ID!) { userFollow(userId: $u) { errors { code } } }"
COMMENT = """
mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { id } errors { field code } } }"""

FOLLOWING = """
query($first: Int, $after: String) {
  followingFeed(first: $first, after: $after) {
    edges { node { id title filtered { filterId phrase } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DISCOVER = """
query($interests: [String!]) {
  discoverFeed(first: 50, interests: $interests, seed: 1) { edges { node { title filtered { phrase } } } }
}"""
SEARCH = """
query($q: String!) {
  search(query: $q, type: NOTE, first: 50) { edges { node { ... on Note { title filtered { phrase } } } } }
}"""
COMMENTS = """
query($id: ID!) {
  note(id: $id) {
    comments(first: 20) {
      edges { node { body filtered { phrase }
        replies(first: 20) { edges { node { body filtered { phrase } } } pageInfo { hasNextPage } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
NOTIFICATIONS = """
{ viewer { notifications(first: 20) {
  edges { node { kind comment { body } filtered { filterId phrase } } } pageInfo { hasNextPage } } } }"""


async def add_filter(
    client: GraphQLClient, token: str, phrase: str, contexts: list[str], action: str = "HIDE", **extra: Any
) -> dict[str, Any]:
    variables = {"input": {"phrase": phrase, "contexts": contexts, "action": action, **extra}}
    result = (await client.data(FILTER_CREATE, variables, token=token))["filterCreate"]
    assert result["errors"] == [], result["errors"]
    return dict(result["filter"])


async def feed_titles(client: GraphQLClient, token: str) -> list[str]:
    feed = (await client.data(FOLLOWING, {"first": 50}, token=token))["followingFeed"]
    return [e["node"]["title"] for e in feed["edges"]]


async def search_titles(client: GraphQLClient, token: str, q: str) -> list[str]:
    found = (await client.data(SEARCH, {"q": q}, token=token))["search"]
    return [e["node"]["title"] for e in found["edges"]]


@pytest.fixture
async def world(client: GraphQLClient) -> dict[str, Any]:
    """A reader following a writer who posted notes in Chinese and English."""
    reader = await sign_up(client, "reader")
    writer = await sign_up(client, "writer")
    follow = await client.data(FOLLOW, {"u": writer["user"]["id"]}, token=reader["token"])
    assert follow["userFollow"]["errors"] == []
    notes = {}
    for title, body, topics in [
        ("今日护肤分享", "敏感肌的护肤步骤", ["日常"]),
        ("这款口红色号绝了", "显白", ["彩妆"]),
        ("Lipsticks haul", "five new shades", ["makeup"]),
        ("Sand castle weekend", "at the beach", ["travel"]),
        ("红烧肉做法", "家常菜", ["美食"]),
    ]:
        note = await create_note(client, writer["token"], title=title, body=body, topics=topics)
        notes[title] = note["id"]
    return {"reader": reader, "writer": writer, "notes": notes, "token": reader["token"]}


# --- making, listing and deleting ----------------------------------------------------------------------------


async def test_filters_are_made_listed_and_deleted_by_their_owner(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token, other = world["token"], world["writer"]["token"]
    first = await add_filter(client, token, "護膚", ["FEED", "SEARCH"])
    assert (first["phrase"], first["contexts"], first["action"], first["expiresAt"]) == (
        "護膚",
        ["FEED", "SEARCH"],
        "HIDE",
        None,
    )
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    second = await add_filter(client, token, "lipstick", ["COMMENTS"], "WARN", expiresAt=later)
    listed = (await client.data(VIEWER_FILTERS, token=token))["viewer"]["filters"]
    assert [f["id"] for f in listed] == [second["id"], first["id"]]  # newest first
    # Nobody else sees them.
    assert (await client.data(VIEWER_FILTERS, token=other))["viewer"]["filters"] == []
    profile = '{ user(handle: "reader") { filters { id } } }'
    assert (await client.data(profile, token=other))["user"]["filters"] is None

    refused = (await client.data(FILTER_DELETE, {"id": first["id"]}, token=other))["filterDelete"]
    assert refused == {"deletedFilterId": None, "errors": [{"field": ["id"], "code": "NOT_FOUND"}]}
    done = (await client.data(FILTER_DELETE, {"id": first["id"]}, token=token))["filterDelete"]
    assert done == {"deletedFilterId": first["id"], "errors": []}
    listed = (await client.data(VIEWER_FILTERS, token=token))["viewer"]["filters"]
    assert [f["id"] for f in listed] == [second["id"]]
    again = (await client.data(FILTER_DELETE, {"id": first["id"]}, token=token))["filterDelete"]
    assert again["errors"] == [{"field": ["id"], "code": "NOT_FOUND"}]
    wrong = await client.data(FILTER_DELETE, {"id": world["notes"]["红烧肉做法"]}, token=token)
    assert wrong["filterDelete"]["errors"] == [{"field": ["id"], "code": "INVALID"}]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"phrase": "  "}, ["input", "phrase"], "REQUIRED"),
        ({"phrase": "！？……"}, ["input", "phrase"], "INVALID"),
        ({"phrase": "口" * 101}, ["input", "phrase"], "TOO_LONG"),
        ({"contexts": []}, ["input", "contexts"], "REQUIRED"),
        ({"expiresAt": "2020-01-01T00:00:00Z"}, ["input", "expiresAt"], "INVALID"),
    ],
)
async def test_bad_filters_are_refused_and_change_nothing(
    client: GraphQLClient, world: dict[str, Any], change: dict[str, Any], field: list[str], code: str
) -> None:
    variables = {"input": {"phrase": "口红", "contexts": ["FEED"], **change}}
    result = (await client.data(FILTER_CREATE, variables, token=world["token"]))["filterCreate"]
    assert result["filter"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert await ContentFilter.all().count() == 0


async def test_anonymous_people_have_no_filters(client: GraphQLClient, world: dict[str, Any]) -> None:
    variables = {"input": {"phrase": "口红", "contexts": ["FEED"]}}
    result = (await client.data(FILTER_CREATE, variables, anonymous=True))["filterCreate"]
    assert [e["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    assert await ContentFilter.all().count() == 0


# --- applying them -------------------------------------------------------------------------------------------


async def test_a_traditional_phrase_hides_simplified_notes_in_feeds_and_search(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["token"]
    assert "今日护肤分享" in await feed_titles(client, token)
    assert "今日护肤分享" in await search_titles(client, token, "护肤")
    await add_filter(client, token, "護膚", ["FEED", "SEARCH"])
    assert await feed_titles(client, token) == [
        "红烧肉做法",
        "Sand castle weekend",
        "Lipsticks haul",
        "这款口红色号绝了",
    ]
    assert await search_titles(client, token, "护肤") == []
    discover = await client.data(DISCOVER, {"interests": ["日常", "彩妆"]}, token=token)
    discovered = [e["node"]["title"] for e in discover["discoverFeed"]["edges"]]
    assert "这款口红色号绝了" in discovered and "今日护肤分享" not in discovered
    # Only for the person whose filter it is.
    assert "今日护肤分享" in await search_titles(client, world["writer"]["token"], "护肤")


async def test_a_chinese_phrase_matches_inside_longer_text_and_topics(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["token"]
    await add_filter(client, token, "口红", ["FEED"])
    await add_filter(client, token, "美食", ["FEED"])  # a topic of 红烧肉做法, not in its title or body
    assert await feed_titles(client, token) == ["Sand castle weekend", "Lipsticks haul", "今日护肤分享"]


async def test_english_matches_whole_words_by_stem(client: GraphQLClient, world: dict[str, Any]) -> None:
    token = world["token"]
    await add_filter(client, token, "lipstick", ["FEED"])
    await add_filter(client, token, "and", ["FEED"])  # never hides "Sand"
    await add_filter(client, token, "cast", ["FEED"])  # nor "castle"
    titles = await feed_titles(client, token)
    assert "Lipsticks haul" not in titles
    assert "Sand castle weekend" in titles


async def test_warn_keeps_the_note_and_says_which_filter(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["token"]
    warn = await add_filter(client, token, "口紅", ["FEED", "SEARCH"], "WARN")
    feed = (await client.data(FOLLOWING, {"first": 50}, token=token))["followingFeed"]
    flagged = {e["node"]["title"]: e["node"]["filtered"] for e in feed["edges"]}
    assert flagged["这款口红色号绝了"] == {"filterId": warn["id"], "phrase": "口紅"}
    assert [t for t, f in flagged.items() if f is not None] == ["这款口红色号绝了"]
    found = (await client.data(SEARCH, {"q": "口红"}, token=token))["search"]["edges"]
    # 口红 also finds the English "Lipsticks haul" (what 口红 means), below; its text has no 口紅.
    assert [e["node"]["filtered"] for e in found] == [{"phrase": "口紅"}, None]
    # The same note fetched on its own, on no filtered surface: no warning.
    note_id = world["notes"]["这款口红色号绝了"]
    alone = await client.data(
        "query($id: ID!) { note(id: $id) { filtered { phrase } } }", {"id": note_id}, token=token
    )
    assert alone["note"]["filtered"] is None
    # HIDE wins over WARN when both match.
    await add_filter(client, token, "色号", ["FEED"], "HIDE")
    assert "这款口红色号绝了" not in await feed_titles(client, token)


async def test_contexts_are_respected(client: GraphQLClient, world: dict[str, Any]) -> None:
    token = world["token"]
    await add_filter(client, token, "红烧肉", ["FEED"])
    await add_filter(client, token, "sand", ["SEARCH"])
    titles = await feed_titles(client, token)
    assert "红烧肉做法" not in titles and "Sand castle weekend" in titles
    assert await search_titles(client, token, "红烧肉") == ["红烧肉做法"]
    assert await search_titles(client, token, "castle") == []


async def test_an_expired_filter_no_longer_applies_nor_shows(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["token"]
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    made = await add_filter(client, token, "红烧肉", ["FEED"], expiresAt=soon)
    assert "红烧肉做法" not in await feed_titles(client, token)
    # Five minutes later.
    await ContentFilter.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert "红烧肉做法" in await feed_titles(client, token)
    assert (await client.data(VIEWER_FILTERS, token=token))["viewer"]["filters"] == []
    assert made["expiresAt"] is not None


async def test_pages_stay_continuous_when_notes_are_left_out(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["token"]
    await add_filter(client, token, "护肤", ["FEED"])
    await add_filter(client, token, "口红", ["FEED"])
    seen: list[str] = []
    sizes: list[int] = []
    after = None
    while True:
        feed = (await client.data(FOLLOWING, {"first": 2, "after": after}, token=token))["followingFeed"]
        seen += [e["node"]["title"] for e in feed["edges"]]
        sizes.append(len(feed["edges"]))
        if not feed["pageInfo"]["hasNextPage"]:
            break
        after = feed["pageInfo"]["endCursor"]
    assert seen == ["红烧肉做法", "Sand castle weekend", "Lipsticks haul"]  # none twice, none skipped
    assert sizes == [2, 1, 0]  # a page may be short (or empty), and paging goes on from where it ended


async def test_own_notes_are_never_filtered(client: GraphQLClient, world: dict[str, Any]) -> None:
    writer = world["writer"]["token"]
    await add_filter(client, writer, "红烧肉", ["SEARCH"])
    assert await search_titles(client, writer, "红烧肉") == ["红烧肉做法"]


async def test_comments_and_replies(client: GraphQLClient, world: dict[str, Any]) -> None:
    token, writer = world["token"], world["writer"]["token"]
    note_id = world["notes"]["红烧肉做法"]

    async def comment(body: str, author: str, reply_to: str | None = None) -> str:
        data = await client.data(
            COMMENT, {"i": {"noteId": note_id, "body": body, "replyToId": reply_to}}, token=author
        )
        assert data["commentCreate"]["errors"] == []
        return str(data["commentCreate"]["comment"]["id"])

    root = await comment("看起来好好吃", writer)
    await comment("太油腻了吧", writer, root)
    await comment("下次试试", writer, root)
    await comment("太油腻了", writer)
    await comment("我也觉得油腻", token)  # the reader's own
    await add_filter(client, token, "油膩", ["COMMENTS"])
    await add_filter(client, token, "好吃", ["COMMENTS"], "WARN")
    await add_filter(client, token, "下次", ["FEED"])  # another context: no effect here
    data = (await client.data(COMMENTS, {"id": note_id}, token=token))["note"]["comments"]
    roots = [(e["node"]["body"], e["node"]["filtered"]) for e in data["edges"]]
    assert roots == [("看起来好好吃", {"phrase": "好吃"}), ("我也觉得油腻", None)]
    replies = [e["node"]["body"] for e in data["edges"][0]["node"]["replies"]["edges"]]
    assert replies == ["下次试试"]
    # The writer has no filters: everything.
    theirs = (await client.data(COMMENTS, {"id": note_id}, token=writer))["note"]["comments"]
    assert len(theirs["edges"]) == 3 and all(e["node"]["filtered"] is None for e in theirs["edges"])


async def test_notifications_match_through_their_comment(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    token, writer = world["token"], world["writer"]["token"]
    mine = await create_note(client, token, title="我的第一篇笔记", body="你好")
    for body in ["广告：加微信领取福利", "写得真好", "廣告 again"]:
        data = await client.data(COMMENT, {"i": {"noteId": mine["id"], "body": body}}, token=writer)
        assert data["commentCreate"]["errors"] == []
    await client.data(
        "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }", {"n": mine["id"]}, token=writer
    )
    before = (await client.data(NOTIFICATIONS, token=token))["viewer"]["notifications"]["edges"]
    assert len(before) == 4
    warn = await add_filter(client, token, "真好", ["NOTIFICATIONS"], "WARN")
    await add_filter(client, token, "广告", ["NOTIFICATIONS"])
    await add_filter(client, token, "第一篇", ["NOTIFICATIONS"])  # the like is of the reader's own note
    after = (await client.data(NOTIFICATIONS, token=token))["viewer"]["notifications"]["edges"]
    shown = [
        (e["node"]["kind"], (e["node"]["comment"] or {}).get("body"), e["node"]["filtered"]) for e in after
    ]
    assert shown == [
        ("LIKE", None, None),
        ("COMMENT", "写得真好", {"filterId": warn["id"], "phrase": "真好"}),
    ]


async def test_a_feed_page_with_filters_costs_the_same_statements(client: GraphQLClient) -> None:
    from tests.test_sql_budget import FEED_PAGE, _world

    token = await _world(notes=20)

    async def statements() -> tuple[int, int]:
        body = await client.execute(FEED_PAGE % "filtered { phrase }", {"first": 10}, token=token)
        assert "errors" not in body, body
        return len(body["data"]["followingFeed"]["edges"]), int(body["extensions"]["sqlStatements"])

    shown, without = await statements()
    assert shown == 10
    for phrase, contexts, action in [
        ("笔记 15", ["FEED"], "HIDE"),  # hides a note of the page
        ("comment 2", ["COMMENTS"], "HIDE"),  # hides a comment of each note
        ("body", ["FEED", "COMMENTS"], "WARN"),  # warns on every note
    ]:
        await add_filter(client, token, phrase, contexts, action)
    body = await client.execute(FEED_PAGE % "filtered { phrase }", {"first": 10}, token=token)
    assert "errors" not in body, body
    edges = body["data"]["followingFeed"]["edges"]
    assert len(edges) == 9 and all(e["node"]["filtered"] == {"phrase": "body"} for e in edges)
    assert all(len(e["node"]["comments"]["edges"]) == 2 for e in edges)
    assert body["extensions"]["sqlStatements"] == without
