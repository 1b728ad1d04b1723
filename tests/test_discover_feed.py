"""discoverFeed through the public API: ranked by interests, paged without repeats, explained, cheap."""

from __future__ import annotations

from typing import Any

import pytest

from demo import seed_database
from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient

FEED = """
query($first: Int, $after: String, $interests: [String!], $seed: Int) {
  discoverFeed(first: $first, after: $after, interests: $interests, seed: $seed) {
    edges { cursor node { id title author { id } topics { name } } reason { kind topics text } }
    pageInfo { hasNextPage endCursor }
  }
}"""
FULL_PAGE = """
query($first: Int, $after: String) {
  discoverFeed(first: $first, after: $after, seed: 7) {
    edges { node { id title likeCount viewerHasLiked viewerHasCollected author { handle displayName }
      topics { name } products { id title price { amount } variants { id price { amount } } }
      comments(first: 3) { edges { node { body author { handle } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
async def world(db: str) -> dict[str, Any]:
    await seed_database(users=60, progress=False)
    from models import User

    demo = await User.get(handle="demo")
    return {"token": issue_token(user_id=demo.id, secret_key=TEST_SECRET, ttl_seconds=600), "user": demo}


async def _pages(
    client: GraphQLClient, token: str | None, pages: int, first: int = 20, **extra: Any
) -> list[Any]:
    after = None
    out = []
    for _ in range(pages):
        variables = {"first": first, "after": after, **extra}
        feed = (await client.data(FEED, variables, token=token, anonymous=token is None))["discoverFeed"]
        out.append(feed)
        if not feed["pageInfo"]["hasNextPage"]:
            break
        after = feed["pageInfo"]["endCursor"]
    return out


async def test_pages_never_repeat_and_explain_themselves(
    client: GraphQLClient, world: dict[str, Any]
) -> None:
    pages = await _pages(client, world["token"], 5)
    ids = [e["node"]["id"] for p in pages for e in p["edges"]]
    print(len(ids), [e["reason"]["kind"] for e in pages[0]["edges"]])
    assert len(ids) == len(set(ids)) > 40
    assert all(e["reason"]["text"] for p in pages for e in p["edges"])


async def test_sql_statements_per_page(client: GraphQLClient, world: dict[str, Any]) -> None:
    counts = []
    for first in (5, 20, 50):
        body = await client.execute(FULL_PAGE, {"first": first, "after": None}, token=world["token"])
        assert "errors" not in body, body
        counts.append(body["extensions"]["sqlStatements"])
    body = await client.execute(FULL_PAGE, {"first": 20, "after": None}, token=world["token"])
    after = body["data"]["discoverFeed"]["pageInfo"]["endCursor"]
    second = await client.execute(FULL_PAGE, {"first": 20, "after": after}, token=world["token"])
    print("first pages", counts, "second page", second["extensions"]["sqlStatements"])
    assert len(set(counts)) == 1 and counts[0] <= 8
    assert second["extensions"]["sqlStatements"] <= 8
