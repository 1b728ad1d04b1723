"""How long the first discoverFeed page takes to build its snapshot, and the candidate query's plan.

Run against a seeded database (e.g. `vermilion seed --users 12500` gives 100k notes, then
`vermilion feed rebuild`):

    VERMILION_DATABASE_URL=postgres://… python -m bench.feed_snapshot --viewers 40

Reports p50/p95/max of building a snapshot (history, candidates, ranking, saving the session) for the
most active viewers, and prints EXPLAIN (ANALYZE) of the candidate statement on PostgreSQL. Writes
bench/results/feed_snapshot.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise, connections

from api.db import tortoise_config
from bench.stats import percentile
from core.settings import Settings
from core.sql import dialect, fetch_all
from feed.ranking import interest_profile, top_topics
from feed.service import discover_page
from feed.snapshots import TableSnapshots
from feed.store import candidate_query, load_history, positives
from search.families import families


async def _none() -> list[str]:
    return []


async def run(viewers: int) -> str:
    url = Settings().database_url
    await Tortoise.init(config=tortoise_config(url))
    try:
        counts = await fetch_all(
            "SELECT (SELECT COUNT(*) FROM notes) AS notes, (SELECT COUNT(*) FROM likes) AS likes"
        )
        active = await fetch_all(
            f"SELECT user_id FROM likes GROUP BY user_id ORDER BY COUNT(*) DESC, user_id LIMIT {viewers}"
        )
        ids = [int(r["user_id"]) for r in active]
        store = TableSnapshots()
        timings = []
        sizes = []
        for viewer in [ids[0], *ids]:  # the first is a warm-up, not counted
            started = time.perf_counter()
            page = await discover_page(
                viewer_id=viewer, onboarding=_none, first=20, after=None, secret="bench", snapshots=store
            )
            timings.append((time.perf_counter() - started) * 1000)
            sizes.append(len(page.items))
        timings = timings[1:]
        plan = ""
        if dialect() == "postgres":
            history = await load_history(ids[0])
            known = await families.get()
            profile = interest_profile(history, [], time.time(), family=known.family)
            sql, params = candidate_query(
                viewer_id=ids[0],
                topics=top_topics(profile, 6),
                positive=positives(history, 50),
                now=datetime.now(UTC),
                family_names=known.names,
            )
            rows = await connections.get("default").execute_query_dict(
                "EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF) " + sql, params
            )
            plan = "\n".join(str(r["QUERY PLAN"]) for r in rows)
        report = (
            f"# discoverFeed snapshot build\n\n{counts[0]['notes']} notes, {counts[0]['likes']} likes; "
            f"{len(timings)} most active viewers, first page of 20.\n\n"
            f"| p50 | p95 | max |\n|---|---|---|\n"
            f"| {statistics.median(timings):.1f} ms | {percentile(timings, 0.95):.1f} ms | "
            f"{max(timings):.1f} ms |\n"
        )
        if plan:
            report += f"\n## Candidate statement plan (PostgreSQL)\n\n```\n{plan}\n```\n"
        return report
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--viewers", type=int, default=40)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    report = asyncio.run(run(args.viewers))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "feed_snapshot.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
