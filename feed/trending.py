"""The trending pool, worked out once for many feed sessions.

Trending is the same for every viewer: the most engaged of the newest 2,000 notes (feed/store.py). Read
inside each candidate statement, it walked those 2,000 notes for every first page — a fifth of the
statement's time at 1× data (bench/results/http.md). Kept here for a few seconds, it costs one small
statement per interval and worker, and each session receives it as an array of ids; a like is counted
in trending at most that many seconds later, as on the platforms that cache their trends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from core.sql import dialect
from feed.candidates import DEFAULT_PLAN, CandidatePlan
from feed.store import load_trending


class TrendingPool:
    """The trending pool's note ids by depth, each kept `seconds` (0: never kept, the candidate
    statement reads trending itself — the tests' setting, where each test has its own database)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._kept: dict[tuple[int, int], tuple[float, list[int]]] = {}

    async def ids(self, depth: int, plan: CandidatePlan = DEFAULT_PLAN) -> Sequence[int] | None:
        """The pool for a snapshot at `depth`; None when it is not kept (SQLite reads it in the statement:
        one statement there is cheap, and it is the embedded default)."""
        if self.seconds <= 0 or dialect() != "postgres":
            return None
        key = (depth, plan.trending)
        now = self._clock()
        kept = self._kept.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        ids = await load_trending(depth, plan)
        self._kept[key] = (now + self.seconds, ids)
        return ids
