"""SQL statements per request are constant in page size and within budget (PERFORMANCE.md)."""

from __future__ import annotations

import pytest

from commerce.catalog import VariantSpec, create_product
from models import NoteKind
from social.accounts import sign_up
from social.comments import create_comment
from social.engagement import follow_user, like_note
from social.notes import Review, create_note
from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient

FEED_PAGE = """
query($first: Int!) {
  followingFeed(first: $first) {
    edges { cursor node {
      id title body kind likeCount collectCount commentCount media { url }
      author { id handle displayName avatarUrl followerCount }
      topics { id name }
      products { id title price { amount currency } variants { id sku name stock price { amount minorUnits currency } } }
      review { rating }
      comments(first: 3) { edges { node { id body author { id handle displayName } } } pageInfo { hasNextPage } }
      %s
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _world(notes: int = 55) -> str:
    """A reader following 5 creators who wrote `notes` notes with topics, products and comments."""
    reader = await sign_up(email="r@example.com", password="password1", handle="reader", display_name=None)
    merchant = await sign_up(email="m@example.com", password="password1", handle="merch", display_name=None)
    creators = [
        await sign_up(
            email=f"c{i}@example.com", password="password1", handle=f"creator{i}", display_name=None
        )
        for i in range(5)
    ]
    products = [
        await create_product(
            merchant_id=merchant.id,
            title=f"Product {p}",
            description=None,
            variants=[
                VariantSpec(sku=f"S{p}-{v}", name=f"v{v}", price_minor_units=990 + v, currency="CNY", stock=5)
                for v in range(2)
            ],
        )
        for p in range(4)
    ]
    for creator in creators:
        await follow_user(follower_id=reader.id, followee_id=creator.id)
    for n in range(notes):
        author = creators[n % 5]
        note = await create_note(
            author_id=author.id,
            kind=NoteKind.IMAGE,
            title=f"笔记 {n}",
            body="正文 body",
            topics=["护肤", f"topic{n % 7}"],
            product_ids=[products[n % 4].id, products[(n + 1) % 4].id],
            media=["https://media.example/a.jpg"],
            review=Review(product_id=products[n % 4].id, rating=5) if n < 4 else None,
        )
        for c in range(4):
            await create_comment(
                author_id=creators[c].id, note_id=note.id, body=f"comment {c}", reply_to_id=None
            )
        if n % 2:
            await like_note(user_id=reader.id, note_id=note.id)
    return issue_token(user_id=reader.id, secret_key=TEST_SECRET, ttl_seconds=600)


async def _statements(client: GraphQLClient, token: str, first: int, extra: str = "") -> int:
    body = await client.execute(FEED_PAGE % extra, {"first": first}, token=token)
    assert "errors" not in body, body
    edges = body["data"]["followingFeed"]["edges"]
    assert len(edges) == first
    assert all(len(e["node"]["comments"]["edges"]) == 3 for e in edges)
    assert all(len(e["node"]["products"]) == 2 for e in edges)
    return int(body["extensions"]["sqlStatements"])


@pytest.mark.parametrize("viewer_fields", ["", "viewerHasLiked viewerHasCollected"])
async def test_feed_page_sql_is_constant_and_within_budget(client: GraphQLClient, viewer_fields: str) -> None:
    token = await _world()
    counts = {first: await _statements(client, token, first, viewer_fields) for first in (5, 20, 50)}
    assert len(set(counts.values())) == 1, counts
    # One statement checks the bearer token's session (and reads the viewer's row, social/sessions.py).
    # Then the page with its authors, topics, products with their variants, comments (and the viewer's likes
    # and collects when asked for).
    assert counts[5] == (6 if viewer_fields else 5), counts


async def test_statement_counter_sees_n_plus_one(client: GraphQLClient) -> None:
    """The counter itself is honest: fetching notes one by one costs one statement each."""
    token = await _world(notes=6)
    feed = await client.data("{ followingFeed(first: 6) { edges { node { id } } } }", token=token)
    ids = [e["node"]["id"] for e in feed["followingFeed"]["edges"]]
    query = "{ " + " ".join(f'n{i}: note(id: "{gid}") {{ id }}' for i, gid in enumerate(ids)) + " }"
    body = await client.execute(query, token=token)
    # The token's session check, then the six notes batched by the loader into one statement.
    assert body["extensions"]["sqlStatements"] == 2
    single = await client.execute(
        f'{{ note(id: "{ids[0]}") {{ author {{ notes(first: 2) {{ edges {{ node {{ id }} }} }} }} }} }}'
    )
    assert single["extensions"]["sqlStatements"] == 2  # the note with its author, the author's notes
