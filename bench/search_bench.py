"""Search at scale: p50/p95 of `search` on a seeded database, and the plan PostgreSQL uses.

Run against a seeded database (`vermilion seed --users 12500` gives 100k notes and indexes them):

    VERMILION_DATABASE_URL=postgres://… python -m bench.search_bench --repeat 5

Times each query in QUERIES (Chinese of one, two and four characters, Traditional, mixed, English
plurals and prefixes, no match) on each sort, twice over: the rule function `search.service.search` alone,
and a whole GraphQL request for 20 notes with title, author and topics, through the ASGI app in process.
Prints EXPLAIN (ANALYZE, BUFFERS) of the RELEVANCE statement for a common, a rare and a broad word.
Writes bench/results/search.md and bench/results/search.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.search_setup import corpus_counts, running_app
from bench.stats import summary
from core.settings import Settings
from core.sql import dialect, fetch_all
from models.search import SearchKind
from search.service import SearchSort, relevance_statement, search
from search.text import parse_query

RESULTS = Path(__file__).parent / "results"

QUERIES = [
    "红", "口红", "护肤", "防晒霜", "敏感肌肤", "维C精华", "護膚", "口紅試色", "Dior 口红", "学生党 口红",
    "lipstick", "lipsticks", "lip", "sunscreen for oily skin", "serum", "coffee", "matte lipstick 试色",
    "zzzzqqq", "不存在的词语",
]  # fmt: skip

GRAPHQL = """
query($q: String!, $sort: SearchSort!) {
  search(query: $q, sort: $sort, first: 20) {
    terms relaxed pageInfo { hasNextPage endCursor }
    edges {
      cursor score
      node { ... on Note { id title language likeCount author { handle } topics { name } } }
    }
  }
}
"""


async def _explain(text: str) -> str:
    statement, params = relevance_statement(parse_query(text), SearchKind.NOTE, dialect())
    rows = await fetch_all(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
    return "\n".join(r["QUERY PLAN"] for r in rows)


async def run(repeat: int) -> dict[str, Any]:
    report: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "repeat": repeat}
    async with running_app(Settings()) as app:
        report["database"] = dialect()
        report.update(await corpus_counts())
        service: dict[str, list[float]] = {s.value: [] for s in SearchSort}
        per_query: dict[str, dict[str, Any]] = {}
        for text in QUERIES:  # warm-up: caches, plans, jieba
            await search(text, first=20)
        for sort in SearchSort:
            for text in QUERIES:
                timings = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    page = await search(text, sort=sort, first=20)
                    timings.append((time.perf_counter() - started) * 1000)
                service[sort.value].extend(timings)
                if sort is SearchSort.RELEVANCE:
                    per_query[text] = {
                        "ms_p50": round(statistics.median(timings), 2),
                        "hits": len(page.hits),
                        "more": page.has_next,
                        "relaxed": page.relaxed,
                    }
        report["service_ms"] = {sort: summary(values) for sort, values in service.items()}
        report["per_query_relevance"] = per_query

        graphql: dict[str, list[float]] = {s.value: [] for s in SearchSort}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for sort in SearchSort:
                for text in QUERIES:
                    for _ in range(repeat):
                        started = time.perf_counter()
                        response = await client.post(
                            "/graphql", json={"query": GRAPHQL, "variables": {"q": text, "sort": sort.value}}
                        )
                        graphql[sort.value].append((time.perf_counter() - started) * 1000)
                        body = response.json()
                        if "errors" in body:
                            raise SystemExit(f"GraphQL errors for {text!r}: {body['errors']}")
        report["graphql_ms"] = {sort: summary(values) for sort, values in graphql.items()}
        if dialect() == "postgres":
            report["plan_common"] = await _explain("口红")
            report["plan_rare"] = await _explain("维C精华")
            # A word on about a tenth of all notes: PostgreSQL walks notes_popularity and probes documents.
            report["plan_broad"] = await _explain("护肤")
            report["uses_gin"] = all(
                "search_documents_tsv_gin" in report[k] for k in ("plan_common", "plan_rare")
            )
    return report


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Search benchmark",
        "",
        f"{report['when']} · {report['database']} · {report['notes']} notes, {report['documents']} search "
        f"documents · {len(QUERIES)} queries × {report['repeat']} runs per sort, first = 20",
        "",
        "| sort | service p50 ms | service p95 ms | GraphQL p50 ms | GraphQL p95 ms |",
        "|---|---|---|---|---|",
    ]
    for sort in SearchSort:
        s, g = report["service_ms"][sort.value], report["graphql_ms"][sort.value]
        lines.append(f"| {sort.value} | {s['p50']} | {s['p95']} | {g['p50']} | {g['p95']} |")
    lines += ["", "RELEVANCE per query (service, p50):", "", "| query | ms | hits | more | relaxed |"]
    lines.append("|---|---|---|---|---|")
    for text, row in report["per_query_relevance"].items():
        lines.append(f"| {text} | {row['ms_p50']} | {row['hits']} | {row['more']} | {row['relaxed']} |")
    if "plan_common" in report:
        lines += [
            "",
            f"GIN index used by both plans: **{report['uses_gin']}**",
            "",
            "## Plan, common word (口红)",
            "```",
            report["plan_common"],
            "```",
            "## Plan, rare word (维C精华)",
            "```",
            report["plan_rare"],
            "```",
            "## Plan, broad word (护肤): notes walked in popularity order, each note's document probed",
            "```",
            report["plan_broad"],
            "```",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each query per sort")
    args = parser.parse_args()
    report = asyncio.run(run(args.repeat))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    markdown = _markdown(report)
    (RESULTS / "search.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
