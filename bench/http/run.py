"""The whole run: world, servers, gate, SQL counts, timed windows, report; every server stopped at the end."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.http import checks, prepare, profile, report, timing
from bench.http.queries import Kind
from bench.http.servers import (
    Postgres,
    Server,
    bench_secret,
    port_or_free,
    start_raw,
    start_vermilion,
    wait_ready,
)
from bench.http.world import PROTOCOL_1X, World, ensure_world
from bench.http.wrk import wrk_path

ROOT = Path(__file__).resolve().parents[2]
RUNNING: list[Server] = []


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


async def _healthz(http: httpx.AsyncClient) -> bool:
    return (await http.get("/healthz")).status_code == 200


def _raw_probe(product: str) -> Any:
    async def probe(http: httpx.AsyncClient) -> bool:
        request = {"operationName": "ProductPage", "variables": {"id": product}, "query": ""}
        return (await http.post("/graphql", json=request)).status_code == 200

    return probe


def _started(server: Server) -> Server:
    RUNNING.append(server)
    return server


def _world_notes(world: World) -> list[str]:
    """How the seeded world compares with PERFORMANCE.md's 1× (the seeder is not the bench's to change)."""
    rows, scale = world.rows, world.scale
    parts = []
    for name, target in PROTOCOL_1X.items():
        have = rows.get(name)
        if have is not None:
            wanted = target * scale
            parts.append(f"{name} {have:,} of {wanted:,.0f} ({have / wanted * 100:.0f} %)")
    return [
        "World against PERFORMANCE.md's 1× at this scale: "
        + ", ".join(parts)
        + ". The seeder (demo/seed.py) is asked for users, notes and products only; what it makes of the "
        "rest is reported, not corrected here.",
        "discoverFeed leaves every note it shows out of that person's sessions for 7 days "
        "(feed_impressions), so one person asking for page 1 again and again soon gets an empty feed: page 1 "
        f"goes round {prepare.DISCOVER_VIEWERS} people (the demo shopper and people with 5 likes or more, "
        "tokens made as signIn makes them), and each run first deletes those people's impressions. "
        "notes.impression_count, which the explore pool reads, still grows from run to run.",
        "cartLinesAdd adds 1 of a CNY variant to one of 64 guest carts made for the run, going round "
        "carts × variants: no cart reaches the 999-of-one-variant or 100-variant limits.",
    ]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    wrk_path()
    load_start = os.getloadavg()
    world = await ensure_world(args.scale)
    ids = await prepare.world_ids(world.url)
    secret = bench_secret()
    logs = Path(tempfile.mkdtemp(prefix="bench-http-"))
    print(
        f"world {world.database} ({'reused' if world.reused else 'seeded'}); server logs in {logs}",
        flush=True,
    )
    vermilion_port, raw_port = port_or_free(args.port), port_or_free(args.port + 1)
    postgres = await Postgres.connect(world.database)
    bodies: dict[str, Path] = {}
    try:
        raw = _started(start_raw(database_url=world.url, secret=secret, port=raw_port, logs=logs))
        counting = _started(
            start_vermilion(
                database_url=world.url, secret=secret, port=vermilion_port, logs=logs, count_sql=True
            )
        )
        await wait_ready(raw, _raw_probe(ids["product"]))
        await wait_ready(counting, _healthz)
        kinds_list: list[Kind] = await prepare.kinds(counting.base, ids, world.url, secret)
        if args.only:
            kinds_list = [k for k in kinds_list if args.only.lower() in k.name.lower()]
        print("gate (server counting SQL) …", flush=True)
        await checks.gate(kinds_list, counting.base, raw.base)
        sql = await checks.sql_per_request(kinds_list, counting.base)
        exact = kinds_list[:1] if args.quick else kinds_list
        print(f"transactions per request of {len(exact)} kinds (11 s for the statistics each) …", flush=True)
        xacts = await checks.transactions_per_request(exact, counting.base, raw.base, postgres)
        for name, counted in sql.items():
            counted |= xacts.get(name, {})
            print(f"  {name}: {counted}", flush=True)
        counting.stop()
        vermilion = _started(
            start_vermilion(database_url=world.url, secret=secret, port=vermilion_port, logs=logs)
        )
        await wait_ready(vermilion, _healthz)
        print("gate (timed server) …", flush=True)
        verdicts = await checks.gate(kinds_list, vermilion.base, raw.base)
        for name, verdict in verdicts.items():
            print(f"  {name}: {verdict}", flush=True)
        bodies = timing.write_bodies(kinds_list, logs)
        windows = await timing.time_all(
            kinds_list,
            vermilion,
            raw,
            postgres,
            bodies,
            connections=args.connections,
            repetitions=args.repetitions,
            seconds=args.seconds,
            warmup=args.warmup,
        )
        profiles: dict[str, Any] = {}
        if args.profile:
            # After the timed windows (sampling slows the workers a little): the kinds timed against the
            # raw ceiling, at 16 connections.
            for kind in kinds_list:
                if kind.raw:
                    print(f"profile (py-spy, not timed): {kind.name} …", flush=True)
                    profiles[kind.name] = await profile.sample(
                        vermilion, bodies[kind.name], connections=16, seconds=args.seconds
                    )
        peak = {s.name: round(s.peak_rss_mb(), 1) for s in (vermilion, raw)}
        resident = {s.name: round(s.rss_mb(), 1) for s in (vermilion, raw)}
        helpers = {
            "count": len(vermilion.helpers()),
            "peak_rss_mb": round(vermilion.helpers_peak_rss_mb(), 1),
        }
    finally:
        await postgres.close()
        stop_all()
        for path in bodies.values():
            path.unlink()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "mode": "quick" if args.quick else "full",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "settings": {
            "connections": args.connections,
            "repetitions": args.repetitions,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "workers": 2,
        },
        "world": world.as_dict() | {"url": None},
        "ids": {k: v for k, v in ids.items() if k != "variants"},
        "gate": verdicts,
        "sql_per_request": sql,
        "peak_rss_mb": peak,
        "rss_mb": resident,
        "password_processes": helpers,
        "summary": timing.medians(windows),
        "profiles": profiles,
        "windows": windows,
        "notes": _world_notes(world),
    }


def stop_all() -> None:
    while RUNNING:
        RUNNING.pop().stop()


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="16 connections, 2 s windows: about 2 minutes")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="world size: 1 = PERFORMANCE.md's 1× (0.1 for a try)"
    )
    parser.add_argument("--connections", type=int, nargs="+", help="default 1 16 64 (quick: 16)")
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seconds", type=int, help="timed window per variant (default 10, quick 2)")
    parser.add_argument(
        "--warmup", type=int, help="discarded warm-up before each window (default 3, quick 1)"
    )
    parser.add_argument("--only", help="only the request kinds whose name contains this")
    parser.add_argument(
        "--port", type=int, default=8201, help="Vermilion's port; the raw ceiling takes the next"
    )
    parser.add_argument("--output", default="http", help="bench/results/<output>.md and .json")
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the py-spy profile of the feed and the product page (after the timed windows)",
    )
    args = parser.parse_args()
    args.connections = args.connections or ([16] if args.quick else [1, 16, 64])
    args.seconds = args.seconds or (2 if args.quick else 10)
    args.warmup = args.warmup or (1 if args.quick else 3)
    # Ctrl-C and SIGTERM end the run through the same clean-up (even when started with SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    started = time.perf_counter()
    try:
        entry = asyncio.run(run(args))
    finally:
        stop_all()
    entry["seconds"] = round(time.perf_counter() - started, 1)
    md, js = report.save(entry, args.output)
    print(md.read_text())
    print(f"{md} and {js} written in {entry['seconds']:.0f} s", flush=True)
