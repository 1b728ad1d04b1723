"""What the feed reads for a viewer (feed/store.py), called directly: candidate pools and their filters,
and the viewer's history of signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feed.ranking import Signal
from feed.store import load_candidates, load_history, positives
from social.notes import delete_note
from tests.feed.factories import (
    collect,
    comment,
    create_note,
    create_user,
    dismiss,
    like,
    open_note,
    serve,
)


async def test_candidates_leave_out_what_the_viewer_wrote_liked_collected_dismissed_or_was_just_shown(
    db: str,
) -> None:
    now = datetime.now(UTC)
    author, viewer, other = [await create_user(handle=h) for h in ("author", "viewer", "other")]
    kept = await create_note(author=author, title="留下")
    shown_long_ago = await create_note(author=author, title="上周以前看过")
    liked = await create_note(author=author, title="赞过")
    collected = await create_note(author=author, title="收藏过")
    dismissed = await create_note(author=author, title="不感兴趣")
    shown = await create_note(author=author, title="刚看过")
    deleted = await create_note(author=author, title="删掉了")
    own = await create_note(author=viewer, title="自己写的")
    await like(viewer=viewer, note=liked)
    await collect(viewer=viewer, note=collected)
    await dismiss(viewer=viewer, note=dismissed)
    await serve(viewer=viewer, note=shown, at=now - timedelta(days=6))
    await serve(viewer=viewer, note=shown_long_ago, at=now - timedelta(days=8))
    await delete_note(note_id=deleted.id, editor_id=author.id)

    rows = await load_candidates(viewer_id=viewer.id, topics=[], positive=[], now=now)
    assert {c.note_id for c in rows} == {kept.id, shown_long_ago.id}

    # The filters are the viewer's own: someone else is offered every live note, the viewer's included.
    theirs = await load_candidates(viewer_id=other.id, topics=[], positive=[], now=now)
    live = {kept, shown_long_ago, liked, collected, dismissed, shown, own}
    assert {c.note_id for c in theirs} == {n.id for n in live}
    # And what a continuation already served is left out on request.
    rest = await load_candidates(
        viewer_id=other.id, topics=[], positive=[], now=now, exclude=[kept.id, own.id]
    )
    assert {c.note_id for c in rest} == {n.id for n in live - {kept, own}}


async def test_candidates_say_which_pools_they_came_from_and_carry_their_features(db: str) -> None:
    now = datetime.now(UTC)
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    skincare = await create_note(author=author, title="护肤心得", topics=["护肤", "干皮"])
    coffee = await create_note(author=author, title="咖啡店", topics=["咖啡"])
    await like(viewer=await create_user(handle="fan"), note=coffee)

    rows = await load_candidates(viewer_id=viewer.id, topics=["护肤"], positive=[], now=now)
    by_id = {c.note_id: c for c in rows}
    assert set(by_id) == {skincare.id, coffee.id}
    assert "topic" in by_id[skincare.id].sources and "topic" not in by_id[coffee.id].sources
    assert {"explore", "trending"} <= by_id[coffee.id].sources  # fresh, small creator, recent
    assert by_id[skincare.id].topics == ("护肤", "干皮")  # main topic first
    assert (by_id[coffee.id].engagements, by_id[skincare.id].engagements) == (1, 0)
    assert by_id[skincare.id].author_id == author.id
    assert by_id[skincare.id].created_at == pytest.approx(skincare.created_at.timestamp(), abs=1e-6)
    assert by_id[skincare.id].language == skincare.language == "zh"
    assert by_id[coffee.id].impressions == 0
    assert "popular" not in by_id[coffee.id].sources
    popular = await load_candidates(viewer_id=viewer.id, topics=[], positive=[], now=now, popular=True)
    assert all("popular" in c.sources for c in popular) and len(popular) == 2


async def test_history_holds_every_signal_newest_first_and_positives_keep_the_strong_ones(db: str) -> None:
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    notes = [await create_note(author=author, title=f"第{i}篇", topics=[f"话题{i}"]) for i in range(5)]
    await like(viewer=viewer, note=notes[0])
    await collect(viewer=viewer, note=notes[1])
    await comment(viewer=viewer, note=notes[2])
    await open_note(viewer=viewer, note=notes[3])
    await dismiss(viewer=viewer, note=notes[4])
    await open_note(viewer=None, note=notes[0])  # anonymous opens belong to nobody's history

    history = await load_history(viewer.id)
    assert [(e.note_id, e.signal) for e in history] == [
        (notes[4].id, Signal.NOT_INTERESTED),
        (notes[3].id, Signal.OPEN),
        (notes[2].id, Signal.COMMENT),
        (notes[1].id, Signal.COLLECT),
        (notes[0].id, Signal.LIKE),
    ]
    assert [e.topics for e in history][-1] == ("话题0",)
    assert history == sorted(history, key=lambda e: e.at, reverse=True)
    # Opens and "not interested" say too little (or the opposite) to pull in co-engagement neighbours.
    assert positives(history, 50) == [(notes[2].id, 2.0), (notes[1].id, 3.0), (notes[0].id, 1.0)]
    assert positives(history, 2) == [(notes[2].id, 2.0), (notes[1].id, 3.0)]
    assert await load_history((await create_user(handle="newcomer")).id) == []
