"""Co-engagement neighbours, precomputed: `vermilion feed rebuild`.

sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|) over recent positive engagements (likes, collects,
comments), top 50 neighbours per note, computed by `feed.ranking.co_engagement_rows` — the function the
benchmark uses. Each person counts with at most their 100 most recent notes, which bounds the work.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core.sql import fetch_all
from feed.ranking import co_engagement_rows
from models import NoteNeighbour

NEIGHBOURS = 50
MAX_ITEMS_PER_USER = 100  # the same cap bench/feed_eval uses
WINDOW_DAYS = 180
WRITE_CHUNK = 5000


@dataclass
class RebuildReport:
    engagements: int
    people: int
    notes: int
    pairs: int
    seconds: float


async def load_engagements(since: datetime) -> dict[int, list[int]]:
    """Person → notes they liked, collected or commented on since `since`, most recent first."""
    rows = await fetch_all(
        "SELECT user_id, note_id FROM ("
        " SELECT user_id, note_id, created_at FROM likes WHERE created_at >= $1"
        " UNION ALL SELECT user_id, note_id, created_at FROM collects WHERE created_at >= $1"
        " UNION ALL SELECT author_id, note_id, created_at FROM comments"
        "  WHERE created_at >= $1 AND deleted_at IS NULL"
        ") e ORDER BY user_id, created_at DESC",
        [since],
    )
    found: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        found[int(row["user_id"])].append(int(row["note_id"]))
    return found


async def rebuild_neighbours(*, now: datetime | None = None, progress: bool = True) -> RebuildReport:
    """Recompute every note's neighbours and replace the table in one transaction (readers keep the
    old neighbours until it commits)."""
    import time

    from tqdm import tqdm

    started = time.perf_counter()
    since = (now or datetime.now(UTC)) - timedelta(days=WINDOW_DAYS)
    engagers = await load_engagements(since)
    engagements = sum(len(v) for v in engagers.values())
    people = len(engagers)
    distinct_notes = len({n for items in engagers.values() for n in items})
    # Plain tuples until written: model objects for millions of pairs would cost several times the memory.
    rows: list[tuple[int, int, float]] = []
    with tqdm(total=distinct_notes, desc="co-engagement", unit="note", disable=not progress) as bar:
        for note_id, best in co_engagement_rows(
            engagers, neighbours=NEIGHBOURS, max_items_per_user=MAX_ITEMS_PER_USER, progress=bar.update
        ):
            rows.extend((note_id, other, sim) for other, sim in best)
    del engagers
    async with in_transaction():
        await NoteNeighbour.all().delete()
        with tqdm(total=len(rows), desc="write note_neighbours", unit="row", disable=not progress) as bar:
            for start in range(0, len(rows), WRITE_CHUNK):
                chunk = rows[start : start + WRITE_CHUNK]
                await NoteNeighbour.bulk_create(
                    [NoteNeighbour(note_id=n, neighbour_id=o, score=sim) for n, o, sim in chunk]
                )
                bar.update(len(chunk))
    return RebuildReport(
        engagements=engagements,
        people=people,
        notes=len({n for n, _, _ in rows}),
        pairs=len(rows),
        seconds=time.perf_counter() - started,
    )
