"""The demo world's clock (demo/clock.py): the same world, dated as of the day it is seeded, with the
co-engagement neighbours `vermilion feed rebuild` would find that day."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from tortoise import Tortoise

from api.db import empty_all_tables
from commerce.earnings_check import earnings_mismatches
from commerce.releases import release_due
from demo import seed_database
from demo.world import BASE_TIME
from feed.ranking import ReasonKind
from feed.service import discover_page
from feed.snapshots import TableSnapshots
from models import Collect, Comment, DiscountCode, Follow, Like, Note, NoteNeighbour, User
from tests.test_cli import sqlite_url, vermilion

USERS = 20
# More than feed.neighbours.WINDOW_DAYS (180) before today: neighbours counted back from the wall clock
# would find no engagement at all.
AS_OF = date(2025, 3, 1)
# What the rules the seed goes through (reports, role grants, review flags, the search index) and auto_now
# columns stamp with the wall clock, after the world's present: the seeding moment, not its history.
WALL_CLOCK = "<the wall clock>"
ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")
DAY_IN_TEXT = re.compile(r"(?<!\d)20\d{6}(?!\d)")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


async def _no_interests() -> list[str]:
    return []


async def test_the_world_ends_within_a_day_before_the_day_it_is_dated_to(db: str) -> None:
    summary = await seed_database(users=USERS, as_of=AS_OF, progress=False)

    present = _midnight(AS_OF)
    assert summary.as_of == AS_OF and f"dated as of {AS_OF:%Y-%m-%d}" in summary.lines()[0]
    newest = await Note.all().order_by("-created_at").first()
    assert newest is not None and present - timedelta(days=1) <= newest.created_at < present
    for model in (Like, Collect, Comment, Follow):
        last = await model.all().order_by("-created_at").first()
        assert last is not None and present - timedelta(days=7) < last.created_at < present, model
    # Fresh enough for the discovery feed's exploration pool, which looks 14 days back.
    assert await Note.filter(created_at__gte=present - timedelta(days=14)).count() > 0
    moderator = await User.get(handle="moderator")
    assert moderator.created_at == present  # the last to join, at the world's present
    ended = await DiscountCode.get(code="SPRING2025")
    assert ended.ends_at is not None and ended.ends_at < present


async def test_the_earnings_ledger_is_as_the_release_job_leaves_it_on_the_day_dated_to(db: str) -> None:
    await seed_database(users=USERS, as_of=AS_OF, progress=False)

    assert await earnings_mismatches() == []
    # Everything whose return window closed before the world's present is released already...
    assert (await release_due(now=_midnight(AS_OF))).released == 0
    # ...and what is still pending becomes due later, as it would for any creator.
    assert (await release_due(now=_midnight(AS_OF) + timedelta(days=61))).released > 0


async def test_the_seed_builds_the_co_engagement_neighbours_of_its_own_day(db: str) -> None:
    summary = await seed_database(users=USERS, as_of=AS_OF, progress=False)

    assert summary.rows["note_neighbours"] == await NoteNeighbour.all().count() > 0
    demo = await User.get(handle="demo")
    liked = await Like.filter(user_id=demo.id).values_list("note_id", flat=True)
    assert await NoteNeighbour.filter(note_id__in=liked).exists()


async def test_a_reader_of_the_fresh_demo_is_shown_new_creators_and_notes_like_those_they_liked(
    db: str,
) -> None:
    """What the dating and the neighbours are for: the demo shopper's first pages of discoverFeed, an hour
    into the day the demo (as `vermilion seed` sizes it) was seeded, explain notes by more than topics."""
    await seed_database(users=60, as_of=AS_OF, progress=False)
    shopper = await User.get(handle="demo")

    kinds: Counter[ReasonKind] = Counter()
    after = None
    for _ in range(5):
        page = await discover_page(
            viewer_id=shopper.id,
            onboarding=_no_interests,
            first=20,
            after=after,
            secret="demo-clock-test",
            snapshots=TableSnapshots(),
            seed=1,
            now=_midnight(AS_OF) + timedelta(hours=1),
        )
        kinds.update(item.reason.kind for item in page.items)
        after = page.items[-1].cursor

    assert sum(kinds.values()) == 100
    assert {ReasonKind.MATCHED_TOPICS, ReasonKind.SIMILAR_TO_LIKED, ReasonKind.NEW_CREATOR} <= set(kinds), (
        kinds
    )


async def test_another_day_moves_every_moment_and_changes_nothing_else(db: str) -> None:
    """The same rows, ids and counts on any day: only the world's timestamps move, by whole days."""
    base = await seed_database(users=USERS, as_of=BASE_TIME.date(), progress=False)
    before = await _dump(present=BASE_TIME)
    await empty_all_tables()
    moved = await seed_database(users=USERS, as_of=AS_OF, progress=False)
    after = await _dump(present=_midnight(AS_OF))

    shift = AS_OF - BASE_TIME.date()
    assert moved.rows == base.rows
    assert after.keys() == before.keys()
    for table, rows in before.items():
        assert [row["id"] for row in after[table]] == [row["id"] for row in rows], table
        for old, new in zip(rows, after[table], strict=True):
            assert new == _moved(old, shift), (table, old["id"])


def _moved(value: Any, shift: timedelta) -> Any:
    """`value` on the moved clock: a timestamp, one in a JSON document (a moderation signal's evidence),
    or a day in a text (the demo payout's bank reference)."""
    if isinstance(value, datetime):
        return value + shift
    if isinstance(value, dict):
        return {key: _moved(item, shift) for key, item in value.items()}
    if isinstance(value, list):
        return [_moved(item, shift) for item in value]
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
        return (datetime.fromisoformat(value) + shift).isoformat()
    if isinstance(value, str):
        return DAY_IN_TEXT.sub(lambda m: f"{datetime.strptime(m[0], '%Y%m%d') + shift:%Y%m%d}", value)
    return value


async def _dump(*, present: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table with rows, by id, timestamps after the world's `present` as WALL_CLOCK;
    minus password hashes (Argon2 salts each at random)."""
    dump = {}
    for model in Tortoise.apps["models"].values():
        rows = await model.all().order_by(model._meta.pk_attr).values()
        if rows:
            dump[model._meta.db_table] = [
                {
                    key: WALL_CLOCK if isinstance(value, datetime) and value > present else value
                    for key, value in row.items()
                    if key != "password_hash"
                }
                | {"id": row[model._meta.pk_attr]}
                for row in rows
            ]
    return dump


def test_vermilion_seed_dates_the_world_to_the_day_asked_and_refuses_a_later_one(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)

    later = vermilion(
        "seed", "--users", "3", "--as-of", f"{tomorrow}", "--no-progress", cwd=tmp_path, database_url=url
    )
    seeded = vermilion(
        "seed",
        "--users",
        "3",
        "--as-of",
        "2026-10-01",
        "--no-progress",
        "--no-pictures",
        cwd=tmp_path,
        database_url=url,
    )

    assert later.returncode == 2 and "after today" in later.stderr
    assert seeded.returncode == 0, seeded.stderr
    assert "dated as of 2026-10-01" in seeded.stdout and "note_neighbours" in seeded.stdout
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        (newest,) = conn.execute("SELECT MAX(created_at) FROM notes").fetchone()
        (neighbours,) = conn.execute("SELECT COUNT(*) FROM note_neighbours").fetchone()
    assert "2026-09-24" <= newest < "2026-10-01" and neighbours > 0
