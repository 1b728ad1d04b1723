"""Search quality: how well `search` answers the bilingual queries people type, judged by written rules.

    .venv/bin/python -m bench.search_quality --database-url sqlite://data/vermilion.sqlite3
    .venv/bin/python -m bench.search_quality \\
        --database-url postgres://postgres@127.0.0.1:5432/vermilion_search100k --latency --repeat 5
    … --output-name search_quality_after --baseline bench/results/search_quality_baseline.json

Runs every query of bench/search_queries.py (16 classes: Chinese words, Traditional, synonyms, English for
Chinese things, cross-language filters, typos, pinyin, emoji, generic compounds, British/American spelling,
Japanese kanji and kana, plain English, mixed, nonsense) through `search.service.search` — the function the
GraphQL `search` field calls, after the app's own start-up (bench/search_setup.py) — and judges the results
with each query's rule against every visible note of the database (the demo world of `vermilion seed`).

Per class and for the whole set: P@10 (the share of relevant notes among the first 10 results; a query with
no results scores 0, or 1 if its rule expects nothing), recall (relevant notes among the first 100 results
over min(100, relevant notes in the world)) and the share of queries with no results. With `--latency`:
p50/p95 of each class (first = 20, as the app asks) and, prominently, of language-filtered and of empty
searches, which the search issue wants ≤ 100 ms p95 at 100k notes on PostgreSQL.

Each invocation is one run, keyed by database and note count ("postgres-100000"); it is written into
bench/results/<output-name>.json next to the runs already there (other databases), and the markdown is
rebuilt from all of them. `--baseline` shows an earlier file's figures of the same run beside today's.
Timings are never asserted in tests (tests/search/test_search_quality.py checks the rules and metrics).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from bench.search_queries import CLASS_BY_KEY, CLASSES, QUERIES, LabelledQuery, Rule
from bench.search_setup import corpus_counts, running_app
from bench.stats import summary
from core.errors import DomainError
from core.settings import Settings
from core.sql import dialect, fetch_all
from models.search import SearchKind
from search.service import search
from search.text import normalize
from social.topics import normalize_topic_name

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
# Results read per query: recall is taken at 100, P@ at 10.
READ = 100
TOP = 10
# The page size timed: what the app's search screen asks for.
TIMED_PAGE = 20
# The goal for language-filtered and empty searches at 100k notes on PostgreSQL.
GOAL_P95_MS = 100.0


# --- judging ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgedNote:
    """A note as the rules see it: normalised title and body, normalised topic names, detected language."""

    id: int
    text: str
    topics: frozenset[str]
    language: str

    @classmethod
    def of(cls, id: int, title: str, body: str, topics: Iterable[str], language: str) -> JudgedNote:
        return cls(id, normalize(f"{title}\n{body}"), frozenset(_topic(t) for t in topics), language)


def _topic(name: str) -> str:
    return normalize(normalize_topic_name(name))


_LATIN = re.compile(r"[a-z0-9 '\-]+")


class _Word:
    """One rule word: Han (or other non-Latin) text matches anywhere; a Latin word at a word's start, with an
    optional plural ending and nothing but digits or non-letters after it."""

    def __init__(self, word: str) -> None:
        self.text = normalize(word)
        self.pattern = (
            re.compile(rf"(?<![a-z0-9]){re.escape(self.text)}(?:e?s)?(?![a-z])")
            if _LATIN.fullmatch(self.text)
            else None
        )

    def found_in(self, text: str) -> bool:
        if self.text not in text:  # cheap first: most notes lack the letters at all
            return False
        return self.pattern is None or self.pattern.search(text) is not None


def matches(rule: Rule, note: JudgedNote, language: str | None = None) -> bool:
    """Whether `note` is relevant under `rule` (for a query filtered to `language`, if any)."""
    if rule.expects_nothing or (language is not None and note.language != language):
        return False
    if note.topics & {_topic(t) for t in rule.topics}:
        return True
    return any(_Word(w).found_in(note.text) for w in rule.words)


class Judge:
    """The relevant notes of each query, over a whole world (each word and topic looked up once)."""

    def __init__(self, notes: Sequence[JudgedNote]) -> None:
        self.notes = notes
        self._by_word: dict[str, frozenset[int]] = {}
        self._by_topic: dict[str, set[int]] = {}
        for note in notes:
            for topic in note.topics:
                self._by_topic.setdefault(topic, set()).add(note.id)

    @cached_property
    def language(self) -> dict[int, str]:
        return {n.id: n.language for n in self.notes}

    def _word(self, word: str) -> frozenset[int]:
        if word not in self._by_word:
            matcher = _Word(word)
            self._by_word[word] = frozenset(n.id for n in self.notes if matcher.found_in(n.text))
        return self._by_word[word]

    def relevant(self, query: LabelledQuery) -> frozenset[int]:
        rule = query.rule
        if rule.expects_nothing:
            return frozenset()
        found: set[int] = set()
        for topic in rule.topics:
            found |= self._by_topic.get(_topic(topic), set())
        for word in rule.words:
            found |= self._word(word)
        if query.language is not None:
            found = {i for i in found if self.language[i] == query.language}
        return frozenset(found)


async def load_world() -> list[JudgedNote]:
    """Every note a search may show (not deleted, not withheld), with its topics."""
    notes = await fetch_all(
        "SELECT id, title, body, language FROM notes WHERE deleted_at IS NULL AND withheld = FALSE"
    )
    topics: dict[int, list[str]] = {}
    for row in await fetch_all(
        "SELECT nt.note_id, t.name FROM note_topics nt JOIN topics t ON t.id = nt.topic_id"
    ):
        topics.setdefault(row["note_id"], []).append(row["name"])
    return [
        JudgedNote.of(n["id"], n["title"], n["body"], topics.get(n["id"], ()), n["language"]) for n in notes
    ]


# --- metrics ------------------------------------------------------------------------------------------------


def precision_at(
    ranked: Sequence[int], relevant: frozenset[int], expects_nothing: bool, k: int = TOP
) -> float:
    """The share of relevant notes among the first k results; no results is 0 (1 when nothing is expected)."""
    if expects_nothing:
        return 0.0 if ranked else 1.0
    shown = ranked[:k]
    return sum(i in relevant for i in shown) / len(shown) if shown else 0.0


def recall_at(ranked: Sequence[int], relevant: frozenset[int], k: int = READ) -> float | None:
    """Relevant notes among the first k results over min(k, relevant notes); None when none is relevant."""
    if not relevant:
        return None
    return sum(i in relevant for i in ranked[:k]) / min(k, len(relevant))


@dataclass(frozen=True)
class QueryResult:
    query: LabelledQuery
    ranked: tuple[int, ...]
    relevant_in_world: int
    p_at_10: float
    recall: float | None
    refused: str | None = None  # a DomainError's message or the page's notice: it cannot answer

    @property
    def zero(self) -> bool:
        return not self.ranked


def judge_ranking(
    query: LabelledQuery, ranked: Sequence[int], relevant: frozenset[int], refused: str | None = None
) -> QueryResult:
    return QueryResult(
        query,
        tuple(ranked),
        len(relevant),
        precision_at(ranked, relevant, query.rule.expects_nothing),
        recall_at(ranked, relevant),
        refused,
    )


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.fmean(known), 3) if known else None


def aggregate(results: Sequence[QueryResult]) -> dict[str, Any]:
    """Mean P@10 and recall (over queries that have relevant notes) and the share of empty results."""
    return {
        "queries": len(results),
        "p_at_10": _mean(r.p_at_10 for r in results),
        "recall": _mean(r.recall for r in results),
        "zero_share": _mean(float(r.zero) for r in results),
        # Empty where the rule expected results: the failure a user notices first.
        "wrongly_empty": sum(r.zero and not r.query.rule.expects_nothing for r in results),
        "refused": sum(r.refused is not None for r in results),
    }


# --- running ------------------------------------------------------------------------------------------------


async def _ranked(query: LabelledQuery, first: int) -> tuple[list[int], str | None]:
    try:
        page = await search(query.text, kind=SearchKind.NOTE, first=first, language=query.language)
    except DomainError as exc:
        return [], str(exc)
    # A notice (KANA_ONLY) is the search saying it cannot answer as typed: a clear refusal, with data.
    notice = getattr(page, "notice", None)
    return [hit.object_id for hit in page.hits], None if notice is None else f"notice {notice}"


async def evaluate(queries: Sequence[LabelledQuery], judge: Judge) -> list[QueryResult]:
    """Each query searched once for its first READ results and judged."""
    results = []
    for query in queries:
        ranked, refused = await _ranked(query, READ)
        results.append(judge_ranking(query, ranked, judge.relevant(query), refused))
    return results


async def time_queries(queries: Sequence[LabelledQuery], repeat: int) -> dict[LabelledQuery, list[float]]:
    """Milliseconds per search of one page, `repeat` rounds over all queries after a warm-up round."""
    timings: dict[LabelledQuery, list[float]] = {q: [] for q in queries}
    for round_ in range(repeat + 1):
        for query in queries:
            started = time.perf_counter()
            await _ranked(query, TIMED_PAGE)
            if round_:  # the first round warms caches and plans
                timings[query].append((time.perf_counter() - started) * 1000)
    return timings


def latency_report(
    timings: dict[LabelledQuery, list[float]], results: Sequence[QueryResult]
) -> dict[str, Any]:
    by_class: dict[str, list[float]] = {}
    for query, values in timings.items():
        by_class.setdefault(query.kind, []).extend(values)
    found_nothing = {r.query for r in results if r.zero}
    groups = {
        "language_filtered": [v for q, vs in timings.items() if q.language for v in vs],
        "empty": [v for q, vs in timings.items() if q.kind == "nonsense" for v in vs],
        "found_nothing": [v for q, vs in timings.items() if q in found_nothing for v in vs],
        "all": [v for vs in timings.values() for v in vs],
    }
    return {
        "first": TIMED_PAGE,
        "goal_p95_ms": GOAL_P95_MS,
        "classes": {key: summary(values) for key, values in by_class.items()},
        **{name: summary(values) for name, values in groups.items() if values},
    }


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    # Other work on search/ may be in the tree, uncommitted: say so, since it is what was measured.
    return commit + (
        " + uncommitted search/ changes" if _git("status", "--porcelain", "--", "search") else ""
    )


def _display(url: str) -> str:
    from api.cli import display_url  # the CLI's masking of passwords; imported late, it pulls in typer

    return display_url(url)


async def measure(
    queries: Sequence[LabelledQuery] = QUERIES, *, latency: bool = False, repeat: int = 5
) -> dict[str, Any]:
    """One run on the database Tortoise is connected to: quality always, latency when asked."""
    counts = await corpus_counts()
    judge = Judge(await load_world())
    results = await evaluate(queries, judge)
    database = dialect()
    report: dict[str, Any] = {
        "key": f"{database}-{counts['notes']}",
        "database": database,
        **counts,
        "visible_notes": len(judge.notes),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "classes": {c.key: aggregate([r for r in results if r.query.kind == c.key]) for c in CLASSES},
        "overall": aggregate([r for r in results if not CLASS_BY_KEY[r.query.kind].separate]),
        "per_query": [_row(r) for r in results],
    }
    if latency:
        timings = await time_queries(queries, repeat)
        report["latency"] = latency_report(timings, results) | {
            "repeat": repeat,
            # Timings on a shared 2-CPU machine are only as quiet as the machine: the report says how busy.
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
        }
    return report


async def run(database_url: str, *, latency: bool, repeat: int) -> dict[str, Any]:
    """`measure` on the database at `database_url`, with the app started as the server starts it."""
    # No housekeeping jobs: they would write to the world being measured.
    settings = Settings(VERMILION_DATABASE_URL=database_url, VERMILION_SWEEP_INTERVAL_SECONDS=0)  # type: ignore[call-arg]
    async with running_app(settings):
        report = await measure(latency=latency, repeat=repeat)
    return {"database_url": _display(database_url), **report}


def _row(result: QueryResult) -> dict[str, Any]:
    q = result.query
    return {
        "class": q.kind,
        "query": q.text,
        "language": q.language,
        "results": len(result.ranked),
        "relevant_in_world": result.relevant_in_world,
        "p_at_10": round(result.p_at_10, 3),
        "recall": None if result.recall is None else round(result.recall, 3),
        "refused": result.refused,
        "top": list(result.ranked[:TOP]),
    }


# --- the report ------------------------------------------------------------------------------------------


def _figure(row: dict[str, Any], before: dict[str, Any] | None, field: str, percent: bool = False) -> str:
    """A figure of `row`, followed by the baseline's in brackets when there is a baseline row."""

    def show(v: float | None) -> str:
        if v is None:
            return "–"
        return f"{v * 100:.0f} %" if percent else f"{v:.2f}"

    text = show(row[field])
    return text if before is None else f"{text} ({show(before.get(field))})"


def _ms(entry: dict[str, float] | None, field: str) -> str:
    return "–" if entry is None else f"{entry[field]:.1f}"


def _goal_line(name: str, entry: dict[str, float] | None) -> str:
    if entry is None:
        return f"**{name}: not measured.**"
    verdict = "meets" if entry["p95"] <= GOAL_P95_MS else "**misses**"
    return (
        f"**{name}: p50 {entry['p50']:.1f} ms, p95 {entry['p95']:.1f} ms** — {verdict} the goal of "
        f"≤ {GOAL_P95_MS:.0f} ms p95 ({entry['n']} searches)."
    )


def _latency_lines(latency: dict[str, Any]) -> list[str]:
    nothing, every = latency.get("found_nothing"), latency.get("all")
    return [
        "",
        _goal_line("Language-filtered searches", latency.get("language_filtered")),
        "",
        _goal_line("Empty searches (the nonsense class)", latency.get("empty")),
        "",
        f"Every search that found nothing: p95 {_ms(nothing, 'p95')} ms. All searches: "
        f"p50 {_ms(every, 'p50')} ms, p95 {_ms(every, 'p95')} ms. first = {latency['first']}, "
        f"{latency['repeat']} timed runs of each query after a warm-up run; load average over the last "
        f"minute of timing: {latency.get('load_average_1m', '?')} on {latency.get('cpus', '?')} CPUs.",
    ]


def _class_table(run: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    latency = run.get("latency")
    header = "| class | queries | P@10 | recall | zero results | wrongly empty |"
    rule = "|---|---|---|---|---|---|"
    if latency:
        header, rule = header + " p50 ms | p95 ms |", rule + "---|---|"
    lines = [header, rule]
    rows = [
        (c.label, run["classes"][c.key], (before or {}).get("classes", {}).get(c.key), c.key) for c in CLASSES
    ]
    rows.append(("**whole set (kana apart)**", run["overall"], before["overall"] if before else None, "all"))
    for label, row, old, key in rows:
        cells = [label, str(row["queries"])]
        cells += [_figure(row, old, f) for f in ("p_at_10", "recall")]
        cells += [_figure(row, old, "zero_share", percent=True), str(row["wrongly_empty"])]
        if latency:
            timing = latency.get("all") if key == "all" else latency["classes"].get(key)
            cells += [_ms(timing, "p50"), _ms(timing, "p95")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _query_table(run: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    lines = [
        "| class | query | language | results | relevant in world | P@10 | recall |",
        "|---|---|---|---|---|---|---|",
    ]
    old_rows = {(r["class"], r["query"], r["language"]): r for r in (before or {}).get("per_query", [])}
    for row in run["per_query"]:
        old = old_rows.get((row["class"], row["query"], row["language"])) if before else None
        text = row["query"].replace("|", "\\|") if row["query"].strip() else f"`{row['query']!r}`"
        found = str(row["results"]) + (f" (refused: {row['refused']})" if row["refused"] else "")
        cells = [row["class"], text, row["language"] or "", found, str(row["relevant_in_world"])]
        cells += [_figure(row, old, "p_at_10"), _figure(row, old, "recall")]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _run_markdown(run: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    where = run.get("database_url", run["database"])
    lines = [
        f"## {run['key']}: {run['database']}, {run['notes']:,} notes",
        "",
        f"{where} · {run['visible_notes']:,} visible notes, {run['documents']:,} search documents"
        f" · {run['when']} · commit {run['commit']}",
    ]
    if before is not None:
        lines += [
            "",
            f"In brackets: the baseline run {before['key']} ({before['when']}, commit {before['commit']}).",
        ]
    if run.get("latency"):
        lines += _latency_lines(run["latency"])
    kana = [r for r in run["per_query"] if r["class"] == "kana"]
    answered = sum(r["results"] > 0 for r in kana)
    refused = sum(r["refused"] is not None for r in kana)
    lines += [
        "",
        *_class_table(run, before),
        "",
        f"Kana, judged apart: {answered} of {len(kana)} answered with results, {refused} refused clearly, "
        f"{len(kana) - answered - refused} silently empty.",
        "",
        f"### Per query ({run['key']})",
        "",
        *_query_table(run, before),
    ]
    return lines


def _baseline_for(run: dict[str, Any], baseline: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The baseline's run on the same world, else its run on the same database nearest in size."""
    if run["key"] in baseline:
        return baseline[run["key"]]
    same = [b for b in baseline.values() if b["database"] == run["database"]]
    return min(same, key=lambda b: abs(b["notes"] - run["notes"]), default=None)


INTRODUCTION = """\
{queries} labelled queries in {classes} classes (bench/search_queries.py), judged by written rules on every
visible note of the database; made by `python -m bench.search_quality` (see its docstring for the commands).

- P@10: the share of relevant notes among the first 10 results; a query with no results counts 0, or 1 when
  its rule expects nothing (the nonsense class).
- Recall: relevant notes among the first 100 results / min(100, relevant notes in the world); "–" when no
  note is relevant.
- Zero results: the share of queries with none; wrongly empty: how many had none where notes are relevant.
- Relevance is bilingual: English notes about lipstick count for 口红. A search that matches only the words
  typed finds at most the notes written in the query's language, and its recall shows it.

What each class expects:
"""


def markdown(runs: dict[str, dict[str, Any]], baseline: dict[str, dict[str, Any]] | None = None) -> str:
    """The report of every run in a file, each beside its baseline run when a baseline is given."""
    lines = ["# Search quality", "", INTRODUCTION.format(queries=len(QUERIES), classes=len(CLASSES))]
    lines += [f"- **{c.label}**: {c.expectation}." for c in CLASSES]
    for key in sorted(runs, key=lambda k: (runs[k]["database"], runs[k]["notes"])):
        before = _baseline_for(runs[key], baseline) if baseline else None
        lines += ["", *_run_markdown(runs[key], before)]
    return "\n".join(lines) + "\n"


_FLAT_OBJECT = re.compile(r"\{[^{}]*\}")


def _dumps(data: dict[str, Any]) -> str:
    """JSON with each innermost object (a query's row, a timing summary) on one line: a diffable file."""

    def one_line(match: re.Match[str]) -> str:
        try:
            return json.dumps(json.loads(match.group()), ensure_ascii=False)
        except ValueError:  # a brace inside a string: leave that object as it was
            return match.group()

    return _FLAT_OBJECT.sub(one_line, json.dumps(data, ensure_ascii=False, indent=1)) + "\n"


def _runs_of(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text())["runs"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True, help="the seeded database to search")
    parser.add_argument("--latency", action="store_true", help="also time every query (p50/p95 per class)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query (with --latency)")
    parser.add_argument(
        "--output-name", default="search_quality", help="write bench/results/<name>.json and <name>.md"
    )
    parser.add_argument("--baseline", type=Path, help="an earlier report's JSON, shown beside this one")
    args = parser.parse_args()
    report = asyncio.run(run(args.database_url, latency=args.latency, repeat=args.repeat))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.output_name}.json"
    # Runs on other databases stay: one file holds SQLite, PostgreSQL and the 100k world side by side.
    runs = _runs_of(path) | {report["key"]: report}
    baseline = _runs_of(args.baseline) if args.baseline else None
    path.write_text(_dumps({"runs": runs}))
    text = markdown(runs, baseline)
    (RESULTS / f"{args.output_name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
