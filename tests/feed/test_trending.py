"""The trending pool kept for many feed sessions (feed/trending.py): what it holds is what the candidate
statement would find itself, it is read once per interval, and not at all on SQLite or when turned off."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.ids import to_global_id
from core.settings import Settings
from core.sql import dialect
from feed.store import load_candidates, load_trending
from feed.trending import TrendingPool
from search.families import families
from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient
from tests.feed.factories import create_note, create_user, like


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _world() -> tuple[int, list[int]]:
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    notes = [await create_note(author=author, title=f"第{i}篇", topics=["护肤"]) for i in range(4)]
    for i, note in enumerate(notes):  # engagement 0, 1, 2, 3: the last note trends most
        for j in range(i):
            await like(viewer=await create_user(handle=f"fan_{i}_{j}"), note=note)
    return viewer.id, [n.id for n in notes]


async def test_candidates_with_the_kept_pool_are_those_the_statement_finds_itself(db: str) -> None:
    viewer, notes = await _world()
    now = datetime.now(UTC)
    trending = await load_trending(1)
    assert trending == list(reversed(notes))  # most engaged first, then the newest
    found = await load_candidates(viewer_id=viewer, topics=["护肤"], positive=[], now=now)
    kept = await load_candidates(viewer_id=viewer, topics=["护肤"], positive=[], now=now, trending=trending)
    assert sorted(found, key=lambda c: c.note_id) == sorted(kept, key=lambda c: c.note_id)
    assert all("trending" in c.sources for c in kept)
    # A stale pool only names notes: the filters (deleted, own, already shown) still apply to them.
    empty = await load_candidates(viewer_id=viewer, topics=[], positive=[], now=now, trending=[])
    if dialect() == "postgres":
        assert all("trending" not in c.sources for c in empty)


async def test_the_pool_is_read_once_per_interval(db: str, monkeypatch: object) -> None:
    import feed.trending

    reads: list[int] = []

    async def counted(depth: int, plan: object = None) -> list[int]:
        reads.append(depth)
        return await load_trending(depth)

    monkeypatch.setattr(feed.trending, "load_trending", counted)  # type: ignore[attr-defined]
    _, notes = await _world()
    clock = _Clock()
    pool = TrendingPool(30, clock=clock)
    if dialect() != "postgres":
        assert await pool.ids(1) is None and reads == []  # SQLite: the statement reads it itself
        return
    assert await pool.ids(1) == list(reversed(notes))
    clock.now += 29
    assert await pool.ids(1) == list(reversed(notes))
    assert await pool.ids(2) is not None  # a continuation's deeper pool is its own
    assert reads == [1, 2]
    clock.now += 2
    await pool.ids(1)
    assert reads == [1, 2, 1]
    assert await TrendingPool(0).ids(1) is None and reads == [1, 2, 1]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app as deployed: the trending pool kept for 30 seconds."""
    return settings.model_copy(update={"feed_trending_seconds": 30})


async def test_first_pages_share_the_pool_through_the_api(client: GraphQLClient, db: str) -> None:
    _, notes = await _world()
    query = "{ discoverFeed(first: 3) { edges { node { id } reason { kind } } } }"  # no continuation
    # The topic families are read at most once a minute per process (search.families): read them now, so
    # the counts below differ by the trending pool only.
    await families.get()
    statements, answers = [], []
    for i in range(3):  # three readers alike: the same first page
        reader = await create_user(handle=f"reader_{i}")
        token = issue_token(user_id=reader.id, secret_key=TEST_SECRET, ttl_seconds=600)
        body = await client.execute(query, token=token)
        assert "errors" not in body, body
        statements.append(body["extensions"]["sqlStatements"])
        answers.append({e["node"]["id"] for e in body["data"]["discoverFeed"]["edges"]})
    assert answers[0] == answers[1] == answers[2]
    assert to_global_id("Note", notes[-1]) in answers[0]  # the most engaged note
    if dialect() == "postgres":
        # The first session reads the pool (one statement more); the next ones find it kept.
        assert statements[0] == statements[1] + 1 == statements[2] + 1, statements
    else:
        assert statements[0] == statements[1] == statements[2], statements
