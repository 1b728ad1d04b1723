"""Blocks, mutes and filters cost no statement of their own: a page's statement count is the same for a
viewer with none and for one with many (they come with the session statement, `social.blocks`)."""

from __future__ import annotations

from models import Block, ContentFilter, FeedImpression, FeedSnapshot, FilterAction, Mute, User
from social.accounts import sign_up
from tests.conftest import GraphQLClient
from tests.test_sql_budget import FEED_PAGE, _world

PAGES = {
    "followingFeed": FEED_PAGE % "viewerHasLiked viewerHasCollected",
    "discoverFeed": """query($first: Int!) { discoverFeed(first: $first, seed: 1) { edges { node {
      id title author { handle } comments(first: 3) { edges { node { id body author { handle } } } } } } } }""",
    "search": """query($first: Int!) { search(query: "笔记", first: $first) { edges { node {
      ... on Note { id title author { handle } } } } } }""",
}


async def _counts(client: GraphQLClient, token: str, first: int = 10) -> dict[str, int]:
    # Each count is of a reader who has been served nothing yet: a new feed session leaves out what earlier
    # ones served (feed/snapshots.py), and this small world would run out of notes after a few.
    await FeedSnapshot.filter(id__startswith="served:").delete()
    await FeedImpression.all().delete()
    counts = {}
    for name, query in PAGES.items():
        body = await client.execute(query, {"first": first}, token=token)
        assert "errors" not in body, body
        edges = body["data"][name]["edges"]
        assert len(edges) == first, (name, len(edges))
        counts[name] = int(body["extensions"]["sqlStatements"])
    return counts


async def test_blocks_mutes_and_filters_add_no_statement_to_a_page(client: GraphQLClient) -> None:
    token = await _world()
    reader = await User.get(handle="reader")
    # Search reads its per-process data (topic families, word counts) when first needed, then keeps it.
    await client.execute(PAGES["search"], {"first": 10}, token=token)
    plain = await _counts(client, token)

    strangers = [
        await sign_up(
            email=f"s{i}@example.com", password="password1", handle=f"stranger{i}", display_name=None
        )
        for i in range(6)
    ]
    for stranger in strangers[:3]:
        await Block.create(blocker_id=reader.id, blocked_id=stranger.id)
    await Block.create(blocker_id=strangers[3].id, blocked_id=reader.id)  # blocked by someone
    await Mute.create(muter_id=reader.id, muted_id=strangers[4].id)
    muted_creator = await User.get(handle="creator4")
    await Mute.create(muter_id=reader.id, muted_id=muted_creator.id)
    guarded = await _counts(client, token)
    assert guarded == plain, (plain, guarded)

    # Filters read a note's topics too: at most one more statement for a page (the notes' topics in one
    # batch, when the page did not ask for them already), whatever the page's size.
    phrases = (("口红", FilterAction.HIDE), ("lipstick", FilterAction.WARN), ("剧透", FilterAction.HIDE))
    for phrase, action in phrases:
        await ContentFilter.create(
            owner_id=reader.id, phrase=phrase, contexts=["FEED", "SEARCH", "COMMENTS"], action=action
        )
    filtered = await _counts(client, token)
    assert all(plain[name] <= filtered[name] <= plain[name] + 1 for name in PAGES), (plain, filtered)
    assert filtered["followingFeed"] == plain["followingFeed"]  # it shows topics: nothing more to read
    assert await _counts(client, token, first=5) == filtered

    # And the mute took effect on those very pages: creator4's notes and comments are gone.
    body = await client.execute(PAGES["followingFeed"], {"first": 10}, token=token)
    authors = {e["node"]["author"]["handle"] for e in body["data"]["followingFeed"]["edges"]}
    commenters = {
        c["node"]["author"]["handle"]
        for e in body["data"]["followingFeed"]["edges"]
        for c in e["node"]["comments"]["edges"]
    }
    assert "creator4" not in authors | commenters
