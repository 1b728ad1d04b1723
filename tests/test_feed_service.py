"""The feed service below the API: continuations, snapshot stores, co-engagement candidates."""

from __future__ import annotations

import os
from typing import Any

import pytest

from demo import seed_database
from feed.candidates import CandidatePlan
from feed.neighbours import rebuild_neighbours
from feed.ranking import co_engagement
from feed.service import discover_page
from feed.snapshots import RedisSnapshots, TableSnapshots
from feed.store import load_candidates, load_history, positives
from models import NoteNeighbour, User

REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "feed-service-test-secret"


@pytest.fixture
async def demo(db: str) -> User:
    await seed_database(users=60, progress=False)
    return await User.get(handle="demo")


def _no_interests() -> Any:
    async def none() -> list[str]:
        return []

    return none


async def _walk(viewer: User, store: Any, plan: CandidatePlan, pages: int, first: int) -> list[int]:
    seen: list[int] = []
    after = None
    for _ in range(pages):
        page = await discover_page(
            viewer_id=viewer.id,
            onboarding=_no_interests(),
            first=first,
            after=after,
            secret=SECRET,
            snapshots=store,
            seed=1,
            plan=plan,
        )
        seen += [item.note_id for item in page.items]
        if not page.has_next:
            break
        after = page.items[-1].cursor
    return seen


async def test_a_snapshot_that_runs_out_continues_without_repeats(demo: User) -> None:
    small = CandidatePlan(snapshot_size=15, per_topic=10)
    seen = await _walk(demo, TableSnapshots(), small, pages=6, first=10)
    assert len(seen) == len(set(seen)) == 60  # four snapshots of 15, crossed mid-page


@pytest.mark.parametrize("store", ["table", "redis"])
async def test_sessions_live_in_the_configured_store(demo: User, store: str) -> None:
    snapshots = RedisSnapshots(REDIS_URL) if store == "redis" else TableSnapshots()
    first = await discover_page(
        viewer_id=demo.id, onboarding=_no_interests(), first=5, after=None, secret=SECRET, snapshots=snapshots
    )
    second = await discover_page(
        viewer_id=demo.id,
        onboarding=_no_interests(),
        first=5,
        after=first.items[-1].cursor,
        secret=SECRET,
        snapshots=snapshots,
    )
    assert len(second.items) == 5
    assert not {i.note_id for i in first.items} & {i.note_id for i in second.items}
    assert second.notes == {}  # read from the stored session, not rebuilt
    if isinstance(snapshots, RedisSnapshots):
        await snapshots.close()


async def test_the_same_seed_ranks_the_same_way(demo: User) -> None:
    plan = CandidatePlan()
    orders = [await _walk(demo, TableSnapshots(), plan, pages=1, first=20) for _ in range(2)]
    assert orders[0] == orders[1] and len(orders[0]) == 20


async def test_rebuilt_neighbours_become_candidates(demo: User) -> None:
    report = await rebuild_neighbours(progress=False)
    assert report.pairs == await NoteNeighbour.all().count() > 0
    history = await load_history(demo.id)
    liked = positives(history, 50)
    assert liked
    from datetime import UTC, datetime

    rows = await load_candidates(viewer_id=demo.id, topics=[], positive=liked, now=datetime.now(UTC))
    from_neighbours = [c for c in rows.candidates if "neighbour" in c.sources]
    assert from_neighbours and max(c.cf for c in from_neighbours) == 1.0
    assert all(c.cf_from for c in from_neighbours if c.cf > 0)


def test_similarity_is_overlap_over_geometric_mean() -> None:
    # Notes 1 and 2 share two of their three engagers each: 2 / sqrt(3 · 3).
    people = {10: [1, 2], 11: [1, 2], 12: [1, 3], 13: [2, 4]}
    found = co_engagement(people)
    assert found[1][0] == (2, pytest.approx(2 / 3))
    assert dict(found[2])[1] == pytest.approx(2 / 3)
    assert found[4] == [(2, pytest.approx(1 / 3**0.5))]  # one engager, shared with note 2
