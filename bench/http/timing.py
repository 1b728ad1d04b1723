"""The timed windows: wrk per kind, variant and connection count, interleaved, with CPU and PostgreSQL
figures around each window; and their medians."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import orjson

from bench.http.queries import Kind
from bench.http.servers import Postgres, Server
from bench.http.wrk import request_line, run_wrk

METRICS = ("rps", "p50_ms", "p99_ms", "cpu_ms", "pg_cpu_ms", "xacts")


def write_bodies(kinds: list[Kind], directory: Path) -> dict[str, Path]:
    """One file per kind, one request a line (token, tab, JSON body), for the wrk script."""
    files = {}
    for number, kind in enumerate(kinds):
        path = directory / f"bodies-{number}.jsonl"
        lines = (request_line(orjson.dumps(b), kind.token(i)) for i, b in enumerate(kind.bodies))
        path.write_bytes(b"\n".join(lines) + b"\n")
        files[kind.name] = path
    return files


async def window(
    server: Server,
    bodies: Path,
    postgres: Postgres,
    *,
    connections: int,
    seconds: float,
) -> dict[str, Any]:
    """One timed wrk run and what it cost: the server's CPU (all its processes), the database backends'
    CPU and transactions, per request."""
    url = f"{server.base}/graphql"
    cpu_before, pg_before = server.cpu_seconds(), await postgres.snapshot()
    result = await run_wrk(url, bodies, connections=connections, seconds=seconds)
    cpu = server.cpu_seconds() - cpu_before
    pg_cpu, xacts = await postgres.since(pg_before)
    done = max(result.requests, 1)
    return {
        **result.as_dict(),
        "cpu_ms": cpu * 1000 / done,
        "pg_cpu_ms": pg_cpu * 1000 / done,
        "xacts": xacts / done,
        "peak_rss_mb": server.peak_rss_mb(),
        "rss_mb": server.rss_mb(),
    }


async def time_all(
    kinds: list[Kind],
    vermilion: Server,
    raw: Server,
    postgres: Postgres,
    bodies: dict[str, Path],
    *,
    connections: list[int],
    repetitions: int,
    seconds: float,
    warmup: float,
) -> list[dict[str, Any]]:
    """Every window, in the order run: repetition by repetition, each connection count, each kind, and
    within a kind Vermilion and the raw ceiling one after the other (order swapped every repetition).
    Each timed window follows a warm-up of the same variant, which is discarded."""
    windows = []
    for repetition in range(repetitions):
        for conns in connections:
            for kind in kinds:
                variants = [vermilion, raw] if kind.raw else [vermilion]
                for server in variants if repetition % 2 == 0 else variants[::-1]:
                    await run_wrk(
                        f"{server.base}/graphql",
                        bodies[kind.name],
                        connections=conns,
                        seconds=warmup,
                    )
                    figures = await window(
                        server, bodies[kind.name], postgres, connections=conns, seconds=seconds
                    )
                    figures |= {"kind": kind.name, "variant": server.name, "connections": conns}
                    figures["repetition"] = repetition + 1
                    windows.append(figures)
                    print(
                        f"rep {repetition + 1} c={conns:<3} {server.name:<9} {kind.name}: "
                        f"{figures['rps']:.1f} req/s, "
                        f"p50 {figures['p50_ms']:.1f} p99 {figures['p99_ms']:.1f} ms, "
                        f"{figures['cpu_ms']:.2f} app + {figures['pg_cpu_ms']:.2f} PG CPU ms/req, "
                        f"{figures['xacts']:.1f} xacts/req, {figures['failures']} failures",
                        flush=True,
                    )
    return windows


def medians(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per kind, variant and connection count: the median of each figure over repetitions, failures
    summed, the highest peak RSS."""
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for w in windows:
        groups.setdefault((w["kind"], w["variant"], w["connections"]), []).append(w)
    rows = []
    for (kind, variant, conns), runs in groups.items():
        row: dict[str, Any] = {
            "kind": kind,
            "variant": variant,
            "connections": conns,
            "repetitions": len(runs),
        }
        for metric in METRICS:
            row[metric] = statistics.median(r[metric] for r in runs)
        row["requests"] = sum(r["requests"] for r in runs)
        row["failures"] = sum(r["failures"] for r in runs)
        row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
        row["rss_mb"] = max(r.get("rss_mb", 0.0) for r in runs)
        rows.append(row)
    for row in rows:
        if row["variant"] == "raw":
            continue
        ceiling = next(
            (
                r
                for r in rows
                if r["variant"] == "raw"
                and (r["kind"], r["connections"]) == (row["kind"], row["connections"])
            ),
            None,
        )
        if ceiling:
            row["rps_of_raw"] = row["rps"] / ceiling["rps"] if ceiling["rps"] else None
            row["cpu_times_raw"] = row["cpu_ms"] / ceiling["cpu_ms"] if ceiling["cpu_ms"] else None
    return rows
