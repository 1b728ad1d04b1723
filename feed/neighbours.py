"""Co-engagement neighbours, precomputed: `vermilion feed rebuild`.

sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|) over recent positive engagements (likes, collects,
comments), top 50 neighbours per note. The work is bounded: each person counts with at most their
`MAX_ITEMS_PER_USER` most recent notes, so a rebuild costs about Σ_u min(|items(u)|, cap)² counter
updates (done in C by `Counter.update`) whatever the heaviest users do; memory holds the two inverted
lists and one note's counter at a time.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from core.sql import fetch_all
from models import NoteNeighbour

NEIGHBOURS = 50
MAX_ITEMS_PER_USER = 50
WINDOW_DAYS = 180
_SHORTLIST = 4 * NEIGHBOURS  # co-counted notes considered before normalising
WRITE_CHUNK = 5000


def similar_notes(
    user_items: Mapping[int, Sequence[int]],
    *,
    neighbours: int = NEIGHBOURS,
    max_items_per_user: int = MAX_ITEMS_PER_USER,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, list[tuple[int, float]]]]:
    """(note, [(neighbour, sim), …] best first) for every note engaged with by at least two people.
    `user_items`: person → note ids, most recent first."""
    capped = {u: list(dict.fromkeys(items))[:max_items_per_user] for u, items in user_items.items()}
    item_users: dict[int, list[int]] = defaultdict(list)
    for user, items in capped.items():
        for item in items:
            item_users[item].append(user)
    sizes = {item: len(users) for item, users in item_users.items()}
    for item, users in item_users.items():
        if progress:
            progress(1)
        if len(users) < 2:
            continue
        counts: Counter[int] = Counter()
        for user in users:
            counts.update(capped[user])
        del counts[item]
        size = sizes[item]
        scored = [
            (both / math.sqrt(size * sizes[other]), other) for other, both in counts.most_common(_SHORTLIST)
        ]
        scored.sort(key=lambda p: (-p[0], p[1]))
        best = [(other, sim) for sim, other in scored[:neighbours]]
        if best:
            yield item, best


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
    distinct_notes = len({n for items in engagers.values() for n in items})
    rows: list[NoteNeighbour] = []
    with tqdm(total=distinct_notes, desc="co-engagement", unit="note", disable=not progress) as bar:
        for note_id, best in similar_notes(engagers, progress=bar.update):
            rows.extend(NoteNeighbour(note_id=note_id, neighbour_id=other, score=sim) for other, sim in best)
    async with in_transaction():
        await NoteNeighbour.all().delete()
        with tqdm(total=len(rows), desc="write note_neighbours", unit="row", disable=not progress) as bar:
            for start in range(0, len(rows), WRITE_CHUNK):
                chunk = rows[start : start + WRITE_CHUNK]
                await NoteNeighbour.bulk_create(chunk)
                bar.update(len(chunk))
    return RebuildReport(
        engagements=engagements,
        people=len(engagers),
        notes=len({r.note_id for r in rows}),  # type: ignore[attr-defined]
        pairs=len(rows),
        seconds=time.perf_counter() - started,
    )
