"""The feed service below the API (feed/service.py), called directly: sessions and their continuations,
snapshot stores, what a session remembers as served, cursors, seeds and co-engagement candidates, on a few
hand-made notes or on the demo world."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import DomainError, ErrorCode
from core.outages import redis_client
from feed.candidates import CandidatePlan
from feed.neighbours import rebuild_neighbours
from feed.recorder import SignalRecorder
from feed.service import discover_page
from feed.signals import view_note
from feed.snapshots import RedisSnapshots, SnapshotStore, TableSnapshots
from feed.store import load_candidates, load_history, positives
from models import FeedSnapshot, NoteNeighbour, User
from tests.feed.factories import create_note, create_user

REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "feed-service-test-secret"


def _no_interests() -> Any:
    async def none() -> list[str]:
        return []

    return none


async def _forget_served(viewer: User) -> None:
    """What the table remembers as served to `viewer` (and their sessions) forgotten, as after a day: a
    new session may serve the same notes again."""
    await FeedSnapshot.filter(user_id=viewer.id).delete()


async def _forget_served_in_redis(viewer: User) -> None:
    """Ids start again with every test database: what Redis remembers of another run's viewer goes."""
    client = redis_client(REDIS_URL)
    await client.delete(f"vermilion:feed:served:{viewer.id}")
    await client.aclose()


async def _walk(
    viewer: User, store: Any, plan: CandidatePlan, pages: int, first: int, seed: int = 1
) -> list[int]:
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
            seed=seed,
            plan=plan,
        )
        seen += [item.note_id for item in page.items]
        if not page.has_next:
            break
        after = page.items[-1].cursor
    return seen


async def test_a_snapshot_that_runs_out_continues_without_repeats(demo_user: User) -> None:
    small = CandidatePlan(snapshot_size=15, per_topic=10)
    seen = await _walk(demo_user, TableSnapshots(), small, pages=6, first=10)
    assert len(seen) == len(set(seen)) == 60  # four snapshots of 15, crossed mid-page


@pytest.mark.parametrize("store", ["table", "redis"])
async def test_sessions_live_in_the_configured_store(demo_user: User, store: str) -> None:
    snapshots = RedisSnapshots(REDIS_URL) if store == "redis" else TableSnapshots()
    if store == "redis":
        await _forget_served_in_redis(demo_user)
    first = await discover_page(
        viewer_id=demo_user.id,
        onboarding=_no_interests(),
        first=5,
        after=None,
        secret=SECRET,
        snapshots=snapshots,
    )
    second = await discover_page(
        viewer_id=demo_user.id,
        onboarding=_no_interests(),
        first=5,
        after=first.items[-1].cursor,
        secret=SECRET,
        snapshots=snapshots,
    )
    assert len(second.items) == 5
    assert not {i.note_id for i in first.items} & {i.note_id for i in second.items}
    assert first.unengaged >= {i.note_id for i in first.items}  # ranked in this request
    assert second.unengaged == set()  # read from the stored session, not rebuilt
    if isinstance(snapshots, RedisSnapshots):
        await snapshots.close()


async def test_the_same_seed_ranks_the_same_way_and_other_seeds_explore_elsewhere(db: str) -> None:
    # Fresh notes of a small creator, so positions 10 and 20 are Thompson-sampled exploration picks: the
    # only place the seed acts. (The demo world's notes are too old to be explored, so it cannot show this.)
    viewer = await create_user(handle="viewer")
    authors = [await create_user(handle=f"author{a}") for a in range(10)]  # two per window at most
    for i in range(40):
        await create_note(author=authors[i % 10], title=f"第{i}篇", topics=[f"话题{i % 8}"])
    plan = CandidatePlan()
    walks = []
    for seed in (1, 1, 2, 3, 4, 5):
        walks.append(await _walk(viewer, TableSnapshots(), plan, pages=1, first=20, seed=seed))
        await _forget_served(viewer)  # else the next session leaves out what this one served
    once, again, *others = walks
    assert once == again and len(once) == 20
    assert any(order != once for order in others), once


async def test_rebuilt_neighbours_become_candidates(demo_user: User) -> None:
    report = await rebuild_neighbours(progress=False)
    assert report.pairs == await NoteNeighbour.all().count() > 0
    history = await load_history(demo_user.id)
    liked = positives(history, 50)
    assert liked
    rows = await load_candidates(viewer_id=demo_user.id, topics=[], positive=liked, now=datetime.now(UTC))
    from_neighbours = [c for c in rows if "neighbour" in c.sources]
    assert from_neighbours and max(c.cf for c in from_neighbours) == 1.0
    assert all(c.cf_from for c in from_neighbours if c.cf > 0)


async def test_a_session_serves_every_candidate_once_across_continuations_then_ends(db: str) -> None:
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    notes = {
        (await create_note(author=author, title=f"第{i}篇", topics=[f"话题{i % 3}"])).id for i in range(12)
    }
    tiny = CandidatePlan(snapshot_size=5)  # 12 notes: snapshots of 5, 5 and 2, then nothing is left
    seen = await _walk(viewer, TableSnapshots(), tiny, pages=10, first=4)
    assert sorted(seen) == sorted(notes)

    async def new_session() -> list[int]:
        page = await discover_page(
            viewer_id=viewer.id, onboarding=_no_interests(), first=4, after=None, secret=SECRET,
            snapshots=TableSnapshots(), plan=CandidatePlan(snapshot_size=20),
        )  # fmt: skip
        return [item.note_id for item in page.items]

    # A new session at once: everything was just served (remembered before any impression is written).
    assert await new_session() == []
    await _forget_served(viewer)
    assert len(await new_session()) == 4  # once forgotten (a day later), it starts over


@pytest.mark.parametrize("store", ["table", "redis"])
async def test_a_new_session_at_once_leaves_out_what_was_served_and_opened(db: str, store: str) -> None:
    """No impression or open has been written yet (the recorder's batch waits): the session store alone
    keeps the next session from repeating the page just served or the notes just opened, in either store."""
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    notes = [
        (await create_note(author=author, title=f"第{i}篇", topics=[f"话题{i % 3}"])).id for i in range(30)
    ]
    snapshots: SnapshotStore = RedisSnapshots(REDIS_URL) if store == "redis" else TableSnapshots()
    if store == "redis":
        await _forget_served_in_redis(viewer)
    try:
        first = await discover_page(
            viewer_id=viewer.id, onboarding=_no_interests(), first=10, after=None, secret=SECRET,
            snapshots=snapshots, seed=1,
        )  # fmt: skip
        served = [item.note_id for item in first.items]
        recorder = SignalRecorder()  # never drained here: nothing reaches feed_events
        opened = [n for n in notes if n not in served][:5]
        for note_id in opened:
            await view_note(recorder=recorder, snapshots=snapshots, viewer_id=viewer.id, note_id=note_id)
        second = await discover_page(
            viewer_id=viewer.id, onboarding=_no_interests(), first=30, after=None, secret=SECRET,
            snapshots=snapshots, seed=1,
        )  # fmt: skip
        again = {item.note_id for item in second.items}
        assert again == set(notes) - set(served) - set(opened)  # 15 left, all of them
    finally:
        if isinstance(snapshots, RedisSnapshots):
            await snapshots.close()


async def test_a_cursor_is_only_good_for_the_viewer_it_was_signed_for(db: str) -> None:
    author = await create_user(handle="author")
    viewer, other = await create_user(handle="viewer"), await create_user(handle="other")
    for i in range(4):
        await create_note(author=author, title=f"第{i}篇")
    snapshots = TableSnapshots()
    page = await discover_page(
        viewer_id=viewer.id,
        onboarding=_no_interests(),
        first=2,
        after=None,
        secret=SECRET,
        snapshots=snapshots,
    )
    cursor = page.items[-1].cursor
    for who, secret in ((other.id, SECRET), (viewer.id, "another-secret"), (None, SECRET)):
        with pytest.raises(DomainError) as refused:
            await discover_page(
                viewer_id=who,
                onboarding=_no_interests(),
                first=2,
                after=cursor,
                secret=secret,
                snapshots=snapshots,
            )
        assert refused.value.code == ErrorCode.INVALID
    rest = await discover_page(
        viewer_id=viewer.id,
        onboarding=_no_interests(),
        first=2,
        after=cursor,
        secret=SECRET,
        snapshots=snapshots,
    )
    assert {i.note_id for i in rest.items}.isdisjoint({i.note_id for i in page.items}) and len(
        rest.items
    ) == 2
