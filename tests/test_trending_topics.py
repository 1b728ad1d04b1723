"""`trendingTopics` and `Topic.history` through the API (the score itself: tests/social/test_trending_score.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from core.ids import decode_global_id
from models import Note
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

TRENDING = "query($first: Int) { trendingTopics(first: $first) { name noteCount } }"
HISTORY = "query($name: String!, $days: Int!) { topic(name: $name) { history(days: $days) { date uses } } }"
NOTE_DELETE = "mutation($id: ID!) { noteDelete(id: $id) { errors { code } } }"

HOT = "春季穿搭"  # 3 notes in the last three days
FRESH = "今日咖啡"  # 1 note today
FADING = "复古胶片"  # 5 notes five days ago: more uses, older
ANCIENT = "老照片"  # 6 notes a month ago: only fills the list
COLD = "冷门话题"  # 2 notes forty days ago
GONE = "已删除"  # its only note was deleted


async def _note_at(client: GraphQLClient, token: str, topics: list[str], when: datetime) -> str:
    note = await create_note(client, token, title="分享一下", body="记录生活", topics=topics)
    note_id = decode_global_id(note["id"], "Note", "id")
    await Note.filter(id=note_id).update(created_at=when)
    return str(note["id"])


def _ago(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _world(client: GraphQLClient) -> str:
    writer = await sign_up(client, "writer")
    token = writer["token"]
    for age in (0, 1, 2):
        await _note_at(client, token, [HOT], _ago(age))
    await _note_at(client, token, [FRESH], _ago(0))
    for _ in range(5):
        await _note_at(client, token, [FADING], _ago(5))
    for _ in range(6):
        await _note_at(client, token, [ANCIENT], _ago(30))
    for _ in range(2):
        await _note_at(client, token, [COLD], _ago(40))
    gone = await _note_at(client, token, [GONE], _ago(0))
    deleted = await client.data(NOTE_DELETE, {"id": gone}, token=token)
    assert deleted["noteDelete"]["errors"] == []
    return token


async def _trending(client: GraphQLClient, first: int | None = None) -> list[str]:
    variables = {} if first is None else {"first": first}
    data = await client.data(TRENDING, variables)
    return [t["name"] for t in data["trendingTopics"]]


async def test_recent_use_ranks_above_older_use_and_most_used_fill_the_list(client: GraphQLClient) -> None:
    await _world(client)
    # HOT: 1 + 0.71 + 0.5; FRESH: 1; FADING: 5 × 0.18 = 0.88 (more uses, but older); then by note count.
    assert await _trending(client) == [HOT, FRESH, FADING, ANCIENT, COLD]
    assert await _trending(client, 2) == [HOT, FRESH]
    assert await _trending(client, 4) == [HOT, FRESH, FADING, ANCIENT]
    counts = {
        t["name"]: t["noteCount"] for t in (await client.data(TRENDING, {"first": 50}))["trendingTopics"]
    }
    assert counts == {HOT: 3, FRESH: 1, FADING: 5, ANCIENT: 6, COLD: 2}  # GONE: its note was deleted


async def test_deleted_notes_do_not_count(client: GraphQLClient) -> None:
    writer = await sign_up(client, "writer")
    kept = await _note_at(client, writer["token"], ["留下"], _ago(3))
    assert kept
    for _ in range(3):
        note = await _note_at(client, writer["token"], ["删掉"], _ago(0))
        await client.data(NOTE_DELETE, {"id": note}, token=writer["token"])
    assert await _trending(client) == ["留下"]


async def test_a_quiet_site_shows_its_most_used_topics(client: GraphQLClient) -> None:
    writer = await sign_up(client, "writer")
    for _ in range(2):
        await _note_at(client, writer["token"], ["b"], _ago(20))
    for _ in range(3):
        await _note_at(client, writer["token"], ["a"], _ago(10))
    await _note_at(client, writer["token"], ["c", "b"], _ago(8))
    # Nothing in the last 7 days: by note count, then oldest topic first on a tie.
    assert await _trending(client) == ["b", "a", "c"]
    assert await _trending(client, 1) == ["b"]


async def test_an_empty_site_has_no_trending_topics(client: GraphQLClient) -> None:
    assert await _trending(client) == []


@pytest.mark.parametrize("first", [0, 1, 100])
async def test_first_within_bounds(client: GraphQLClient, first: int) -> None:
    writer = await sign_up(client, "writer")
    await _note_at(client, writer["token"], [f"t{i}" for i in range(3)], _ago(0))
    assert len(await _trending(client, first)) == min(first, 3)


@pytest.mark.parametrize("first", [-1, 101, 1000])
async def test_first_out_of_bounds_is_an_error(client: GraphQLClient, first: int) -> None:
    body = await client.execute(TRENDING, {"first": first})
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["trendingTopics"]
    assert "between 0 and 100" in body["errors"][0]["message"]


async def test_null_first_means_ten(client: GraphQLClient) -> None:
    writer = await sign_up(client, "writer")
    await _note_at(client, writer["token"], [f"t{i}" for i in range(10)], _ago(0))
    await _note_at(client, writer["token"], [f"u{i}" for i in range(5)], _ago(0))
    data = await client.data("{ trendingTopics(first: null) { name } }")
    assert len(data["trendingTopics"]) == 10
    assert len(await _trending(client)) == 10


# --- history ---------------------------------------------------------------------------------------------------


async def _history(client: GraphQLClient, name: str, days: int) -> list[dict[str, Any]]:
    data = await client.data(HISTORY, {"name": name, "days": days})
    history: list[dict[str, Any]] = data["topic"]["history"]
    return history


async def test_history_is_one_entry_per_day_oldest_first_with_zeros(client: GraphQLClient) -> None:
    writer = await sign_up(client, "writer")
    token = writer["token"]
    today = datetime.now(UTC).date()

    def at(day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=UTC)

    await _note_at(client, token, ["护肤"], at(today, time(0, 0, 1)))
    await _note_at(client, token, ["护肤"], _ago(0))
    await _note_at(client, token, ["护肤", "彩妆"], at(today - timedelta(days=1), time(23, 59, 59)))
    await _note_at(client, token, ["护肤"], at(today - timedelta(days=3), time(12)))
    await _note_at(client, token, ["护肤"], at(today - timedelta(days=6), time(0, 0, 0)))  # first day of 7
    await _note_at(client, token, ["护肤"], at(today - timedelta(days=7), time(23, 59, 59)))  # one day before
    deleted = await _note_at(client, token, ["护肤"], at(today - timedelta(days=3), time(8)))
    await client.data(NOTE_DELETE, {"id": deleted}, token=token)
    await _note_at(client, token, ["别的"], _ago(2))

    week = await _history(client, "护肤", 7)
    assert [d["date"] for d in week] == [(today - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert [d["uses"] for d in week] == [1, 0, 0, 1, 0, 1, 2]

    eight = await _history(client, "护肤", 8)
    assert eight[0] == {"date": (today - timedelta(days=7)).isoformat(), "uses": 1}
    assert eight[1:] == week

    assert await _history(client, "护肤", 1) == [{"date": today.isoformat(), "uses": 2}]
    month = (await client.data('{ topic(name: "护肤") { history { date uses } } }'))["topic"]["history"]
    assert len(month) == 30 and sum(d["uses"] for d in month) == 6
    assert month[-1]["date"] == today.isoformat()
    assert [d["uses"] for d in await _history(client, "彩妆", 3)] == [0, 1, 0]
    year = await _history(client, "护肤", 365)
    assert len(year) == 365 and year[0]["date"] == (today - timedelta(days=364)).isoformat()


async def test_history_of_an_unused_topic_is_all_zeros(client: GraphQLClient) -> None:
    writer = await sign_up(client, "writer")
    await _note_at(client, writer["token"], ["旧话题"], _ago(100))
    history = await _history(client, "旧话题", 5)
    assert [d["uses"] for d in history] == [0] * 5


@pytest.mark.parametrize("days", [0, -1, 366])
async def test_history_days_out_of_range_is_an_error(client: GraphQLClient, days: int) -> None:
    writer = await sign_up(client, "writer")
    await _note_at(client, writer["token"], ["护肤"], _ago(0))
    body = await client.execute(HISTORY, {"name": "护肤", "days": days})
    assert body["errors"][0]["path"] == ["topic", "history"]
    assert "between 1 and 365" in body["errors"][0]["message"]
    assert body["data"] is None or body["data"]["topic"] is None
