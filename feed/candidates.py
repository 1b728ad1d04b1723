"""Where discovery candidates come from: a few hundred notes from bounded, index-backed pools.

The pools (and their sizes) are the same for the API, which reads them with SQL (feed/store.py), and
for the benchmark, which reads them from its synthetic world (bench/feed_eval.py):

- topic: the newest notes in each of the viewer's top interest topics;
- neighbour: co-engagement neighbours of the viewer's recent positive engagements;
- explore: fresh notes from small creators that few people have seen;
- trending: recent notes with the most engagement (a small pool);
- popular: for a viewer with no profile at all, recent notes by smoothed quality.

Everything already served to the viewer in the last 7 days, marked "not interested", deleted, or the
viewer's own is filtered out before ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from feed.ranking import Candidate

SERVED_WINDOW_DAYS = 7


@dataclass(frozen=True)
class CandidatePlan:
    top_topics: int = 6
    per_topic: int = 60
    positives: int = 50  # recent positive engagements whose neighbours are candidates
    neighbours: int = 200
    explore: int = 100
    explore_window_days: int = 90  # the widest of Params.exploration_windows_days (ranking picks among them)
    trending: int = 40
    trending_window_days: int = 3
    snapshot_size: int = 240  # ranked notes kept per feed session


DEFAULT_PLAN = CandidatePlan()


def merge_pools(
    pools: Mapping[str, Iterable[Candidate]], cf: Mapping[int, tuple[float, tuple[int, ...]]]
) -> list[Candidate]:
    """One candidate per note, remembering every pool it came from and its co-engagement score."""
    merged: dict[int, Candidate] = {}
    for source, candidates in pools.items():
        for c in candidates:
            known = merged.get(c.note_id)
            if known is None:
                score, origin = cf.get(c.note_id, (0.0, ()))
                merged[c.note_id] = replace(c, sources=frozenset({source}), cf=score, cf_from=origin)
            else:
                known.sources = known.sources | {source}
    return list(merged.values())
