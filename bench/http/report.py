"""bench/results/http.md (this run's tables and the history's key figures) and http.json (every run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"
FEED_PREFIX = "followingFeed"


def load_history(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return list(json.loads(path.read_text()).get("history", []))


def save(entry: dict[str, Any], name: str = "http") -> tuple[Path, Path]:
    """Append `entry` to the JSON history and rewrite the Markdown report from it."""
    RESULTS.mkdir(exist_ok=True)
    json_path, md_path = RESULTS / f"{name}.json", RESULTS / f"{name}.md"
    history = [*load_history(json_path), entry]
    document = {"description": "python -m bench.http: one entry per run, oldest first", "history": history}
    json_path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(history))
    return md_path, json_path


def _f(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(row: dict[str, Any]) -> str:
    if row["variant"] == "raw":
        return "100 %"
    value = row.get("rps_of_raw")
    return "—" if value is None else f"{value * 100:.0f} %"


def _sql(entry: dict[str, Any], row: dict[str, Any]) -> str:
    counted = entry["sql_per_request"].get(row["kind"], {})
    if row["variant"] == "raw":
        return _f(counted.get("raw"), 1) + " (by construction)"
    figure, budget = counted.get("vermilion"), counted.get("budget")
    over = figure is not None and budget is not None and figure > budget
    return _f(figure, 1) + (f" **> {budget}**" if over else "")


def goals(entry: dict[str, Any]) -> list[str]:
    """PERFORMANCE.md's goals this run can judge, each with its figure."""
    lines = []
    feed = next(
        (
            r
            for r in entry["summary"]
            if r["kind"].startswith(FEED_PREFIX) and r["variant"] != "raw" and r["connections"] == 16
        ),
        None,
    )
    if feed is not None and feed.get("rps_of_raw") is not None:
        share = feed["rps_of_raw"] * 100
        mark = "met" if share >= 50 else "not met"
        lines.append(f"- Feed throughput ≥ 50 % of the raw ceiling (c=16): {share:.0f} % — {mark}.")
        mark = "met" if feed["p99_ms"] <= 100 else "not met"
        lines.append(f"- Feed p99 ≤ 100 ms at 16 connections: {feed['p99_ms']:,.0f} ms — {mark}.")
    for kind, counted in entry["sql_per_request"].items():
        if counted.get("budget") is not None:
            mark = "within" if counted["vermilion"] <= counted["budget"] else "over"
            lines.append(
                f"- SQL per request, {kind}: {counted['vermilion']:.1f} against a budget of "
                f"{counted['budget']} — {mark}."
            )
    rss = entry.get("peak_rss_mb", {}).get("vermilion")
    if rss is not None:
        scale = entry["world"]["scale"]
        lines.append(
            f"- Peak RSS per worker ≤ 150 MB (the goal is at 10× data; this world is {scale:g}×): "
            f"{rss:.0f} MB — {'met' if rss <= 150 else 'not met'}."
        )
        resident = entry.get("rss_mb", {}).get("vermilion")
        if resident is not None:
            lines.append(f"  Resident after the timed windows: {resident:.0f} MB per worker at most.")
        helpers = entry.get("password_processes")
        if helpers and helpers.get("count"):
            lines.append(
                f"  Besides the workers: {helpers['count']} Argon2 processes (VERMILION_PASSWORD_PROCESSES), "
                f"peak {helpers['peak_rss_mb']:.0f} MB each at most (a hash holds 64 MiB)."
            )
    return lines


def _xacts(entry: dict[str, Any], row: dict[str, Any]) -> str:
    """Transactions per request counted one request at a time before timing, and (in brackets) the
    median of the timed windows' estimates."""
    counted = entry["sql_per_request"].get(row["kind"], {})
    exact = counted.get("raw_xacts" if row["variant"] == "raw" else "vermilion_xacts")
    return f"{_f(exact)} ({_f(row['xacts'])})" if exact is not None else f"({_f(row['xacts'])})"


def run_tables(entry: dict[str, Any]) -> list[str]:
    lines = []
    kinds = list(dict.fromkeys(row["kind"] for row in entry["summary"]))
    for kind in kinds:
        gate = entry["gate"].get(kind, {})
        if "identical" in gate:
            verdict = (
                "byte-identical to the raw ceiling"
                if gate["identical"]
                else "equal to raw after normalising ids"
            )
            title = f"### {kind} — gate: {verdict} ({gate['bytes']:,} bytes)"
        else:
            title = f"### {kind} — gate: no errors ({gate.get('bytes', 0):,} bytes)"
        lines += [
            title,
            "",
            "| variant | conns | req/s | of raw | p50 / p99 ms | app CPU ms/req | PG CPU ms/req | SQL/req "
            "| PG xacts/req | peak RSS/worker MB | failures |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        rows = sorted(
            (r for r in entry["summary"] if r["kind"] == kind),
            key=lambda r: (r["connections"], r["variant"] == "raw"),
        )
        for r in rows:
            lines.append(
                f"| {r['variant']} | {r['connections']} | {_f(r['rps'])} | {_ratio(r)} | "
                f"{_f(r['p50_ms'])} / {_f(r['p99_ms'])} | {_f(r['cpu_ms'], 2)} | {_f(r['pg_cpu_ms'], 2)} | "
                f"{_sql(entry, r)} | {_xacts(entry, r)} | {_f(r['peak_rss_mb'], 0)} | {r['failures']} |"
            )
        lines.append("")
    return lines


def _feed_row(entry: dict[str, Any], variant: str) -> dict[str, Any] | None:
    rows = [r for r in entry["summary"] if r["kind"].startswith(FEED_PREFIX) and r["variant"] == variant]
    rows.sort(key=lambda r: abs(r["connections"] - 16))
    return rows[0] if rows else None


def history_table(history: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| date | commit | mode | load avg | feed conns | feed req/s (raw) | of raw "
        "| feed app CPU ms (raw) | feed p99 ms |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for entry in history:
        ours, raw = _feed_row(entry, "vermilion"), _feed_row(entry, "raw")
        if ours is None or raw is None:
            continue
        load = entry["load_average"]
        lines.append(
            f"| {entry['date'][:16]} | {entry['commit'][:8]}{' +changes' if entry.get('dirty') else ''} | "
            f"{entry['mode']} | {load['start'][0]:.2f} → {load['end'][0]:.2f} | "
            f"{ours['connections']} | {_f(ours['rps'])} ({_f(raw['rps'])}) | {_ratio(ours)} | "
            f"{_f(ours['cpu_ms'], 2)} ({_f(raw['cpu_ms'], 2)}) | {_f(ours['p99_ms'])} |"
        )
    return lines


def summary_table(entry: dict[str, Any]) -> list[str]:
    """One line per kind at the connection count nearest 16: Vermilion beside the raw ceiling."""
    lines = [
        "| request | conns | req/s (raw) | of raw | p50 / p99 ms | app CPU ms/req (raw) | raw's CPU of ours "
        "| PG CPU ms/req | SQL/req | PG xacts/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ours = [r for r in entry["summary"] if r["variant"] != "raw"]
    for kind in dict.fromkeys(r["kind"] for r in ours):
        row = min((r for r in ours if r["kind"] == kind), key=lambda r: abs(r["connections"] - 16))
        raw = next(
            (
                r
                for r in entry["summary"]
                if r["variant"] == "raw" and (r["kind"], r["connections"]) == (kind, row["connections"])
            ),
            None,
        )
        rps = _f(row["rps"]) + (f" ({_f(raw['rps'])})" if raw else "")
        cpu = _f(row["cpu_ms"], 2) + (f" ({_f(raw['cpu_ms'], 2)})" if raw else "")
        share = f"{raw['cpu_ms'] / row['cpu_ms'] * 100:.0f} %" if raw and row["cpu_ms"] else "—"
        lines.append(
            f"| {kind} | {row['connections']} | {rps} | {_ratio(row)} | {_f(row['p50_ms'])} / "
            f"{_f(row['p99_ms'])} | {cpu} | {share} | {_f(row['pg_cpu_ms'], 2)} | {_sql(entry, row)} | "
            f"{_xacts(entry, row)} |"
        )
    return lines


INTRODUCTION = """\
The protocol of shared/design/PERFORMANCE.md. Vermilion under `vermilion serve --workers 2` in production
mode (Redis db 9, generous rate limits, sweeper off); bench/raw_ceiling.py (Starlette + asyncpg,
hand-written SQL, the same JSON) under uvicorn with 2 workers. wrk (one thread, keep-alive) with
bench/wrk/graphql.lua; each timed window follows a discarded warm-up of the same variant; variants
interleaved (order swapped every repetition); medians over repetitions."""

COLUMNS = """\
Columns: req/s and p50/p99 from wrk; *of raw* = Vermilion's median req/s over the raw ceiling's at the
same connections (*raw's CPU of ours*: the same comparison in app CPU per request, steadier on a busy
machine); *app CPU* = user + system CPU of the server's processes (master and workers, /proc)
over the window / requests; *PG CPU* = the same for the PostgreSQL backends connected to the bench
database; *SQL/req* = Vermilion's own counter (vermilion_graphql_sql_statements from /metrics of a server
with VERMILION_SQL_COUNT and VERMILION_METRICS on, in a pass before timing, not during it); *PG
xacts/req* = pg_stat_database xact_commit + xact_rollback per request: first the exact count over 10
requests sent one at a time before timing, the statistics settled before and after (11 s each: a quick
run counts the feed only), then in brackets the median of the timed windows' estimates (backends report
at most once a second while busy: about ±1 s of transactions at each end of a window, a wide margin in a
quick run's 2 s windows); *peak RSS* = the highest VmHWM among the
workers so far; *failures* = answers with a non-empty `errors` list, non-200, socket errors or timeouts.
Gate: Vermilion's top-level `extensions` (query cost and rate-limit bucket, which the raw ceiling has no
limiter to report) is set aside before comparing."""


def _loads(values: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in values)


PROFILE_INTRODUCTION = (
    "Vermilion's two workers sampled by py-spy (`--nonblocking`, 250 Hz each) while wrk sends the request "
    "at 16 connections, after the timed windows (bench/http/profile.py). *Area*: what the workers were "
    "running (the leaf frame's file), as a share of all samples, waiting for the socket included. *Seen "
    "on the stack*: the share of samples in which a function was running or waiting for what it called."
)


def profile_tables(entry: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for kind, found in entry["profiles"].items():
        lines += [f"### {kind}", ""]
        if "error" in found:
            lines += [f"Not profiled: {found['error']}", ""]
            continue
        lines += [
            f"{found['samples']:,} samples over {found['seconds']} s at {found['rps']:.0f} req/s.",
            "",
            "| area | share |",
            "|---|---:|",
            *(f"| {name} | {share:.1f} % |" for name, share in found["areas"]),
            "",
            "| seen on the stack (top 15) | share |",
            "|---|---:|",
            *(f"| `{name}` | {share:.1f} % |" for name, share in found["inclusive"]),
            "",
            "| running (leaf frame, top 15) | share |",
            "|---|---:|",
            *(f"| `{name}` | {share:.1f} % |" for name, share in found["self"]),
            "",
        ]
    return lines


def markdown(history: list[dict[str, Any]]) -> str:
    entry = history[-1]
    world, settings = entry["world"], entry["settings"]
    seeded = (
        f"seeded in {world['seed_seconds']:.0f} s" if world.get("seed_seconds") else "seeded before this run"
    ) + (", reused" if world.get("reused") else "")
    changes = " with uncommitted changes" if entry.get("dirty") else ""
    load = entry["load_average"]
    lines = [
        "# HTTP benchmark: Vermilion against the raw ceiling (`python -m bench.http`)",
        "",
        INTRODUCTION,
        "",
        f"Latest run: {entry['date']}, commit {entry['commit'][:12]}{changes}, mode **{entry['mode']}**: "
        f"connections {settings['connections']}, {settings['repetitions']} repetitions of "
        f"{settings['seconds']:g} s after {settings['warmup']:g} s warm-up, "
        f"{entry.get('seconds', 0):.0f} s in all. Machine: {entry['machine']['cpus']} CPUs, "
        f"load average {_loads(load['start'])} at the start, "
        f"{_loads(load['end'])} at the end (a shared machine: other work runs beside the bench, so read CPU "
        "ms per request before req/s).",
        "",
        f"World `{world['database']}` (scale {world['scale']:g}×, {seeded}): "
        + ", ".join(f"{k} {v:,}" for k, v in world["rows"].items())
        + ".",
        "",
        COLUMNS,
        "",
        "## Summary",
        "",
        *summary_table(entry),
        "",
        "## Goals (PERFORMANCE.md)",
        "",
        *goals(entry),
        "",
        "## Per request kind",
        "",
        *run_tables(entry),
        "## History (following feed, connections nearest 16)",
        "",
        *history_table(history),
        "",
    ]
    if entry.get("profiles"):
        lines += ["## Where the time goes (py-spy)", "", PROFILE_INTRODUCTION, "", *profile_tables(entry), ""]
    if entry.get("notes"):
        lines += ["## Notes", "", *(f"- {note}" for note in entry["notes"]), ""]
    return "\n".join(lines)
