"""Throughput of ordinary requests on two running servers, interleaved: what a change costs per request.

Used to hold the hardening (query cost, rate limits in Redis, session checks, timeouts) to "no more than
5 % fewer requests per second". Start the two servers on the same seeded PostgreSQL database, e.g. the
commit before and after, each with 2 workers, Redis and production settings, then:

    python -m bench.overhead --server before=http://127.0.0.1:8101 --server after=http://127.0.0.1:8102

Each round runs every request kind on every server for `--seconds` at `--concurrency` (HTTP keep-alive,
one client process), servers interleaved so that a busy moment of the shared machine hits both alike.
With `--scrape name`, Prometheus's part is played too: while that server is loaded its `/metrics` is
scraped every half second, and the requests it counted over the window (scrapes answered by any worker)
must equal the requests sent. With `--pid name=PID` (the uvicorn master), also the CPU time the server's
processes spent per request (user + system, from /proc), the figure to trust on a shared machine.
Reports the median over rounds of that, requests per second and p50/p99 latency, and writes
bench/results/overhead.md and .json. A response with `errors`, or a non-200, counts as a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stats import percentile

RESULTS = Path(__file__).parent / "results"

SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(input: {email: $email, password: $password}) { token errors { code } }
}"""
# The README's example: the following feed with authors, topics, products and the first comments.
FEED = """{
  viewer { handle followingCount }
  followingFeed(first: 10) {
    edges { node { id title language author { displayName } topics { name }
                   products { title price { amount currency } }
                   comments(first: 3) { edges { node { body author { handle } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
NOTE = """query($id: ID!) {
  note(id: $id) { id title body likeCount author { handle displayName } topics { name }
    comments(first: 20) { edges { node { body author { handle } } } } }
}"""
PRODUCT = """query($id: ID!) {
  product(id: $id) { id title variants { sku price { amount currency } stock }
    reviews(first: 10) { edges { node { title author { handle } } } } }
}"""
IDS = '{ topic(name: "护肤") { notes(first: 1) { nodes { id products { id } } } } }'


async def _post(http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{response.status_code}: {body}")
    return body["data"]


async def _prepare(base: str, email: str, password: str) -> dict[str, tuple[str, dict[str, Any], str | None]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        token = (await _post(http, SIGN_IN, {"email": email, "password": password}, None))["signIn"]["token"]
        note = (await _post(http, IDS, {}, None))["topic"]["notes"]["nodes"][0]
        product_id = note["products"][0]["id"] if note["products"] else None
    kinds: dict[str, tuple[str, dict[str, Any], str | None]] = {
        "followingFeed (README query, signed in)": (FEED, {}, token),
        "note(id) with 20 comments, anonymous": (NOTE, {"id": note["id"]}, None),
    }
    if product_id:
        kinds["product(id) with variants and 10 reviews, anonymous"] = (PRODUCT, {"id": product_id}, None)
    return kinds


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc), in seconds; a process that ended
    meanwhile (a database backend may) counts for nothing."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _backends(names: list[str]) -> list[int]:
    """The processes serving every server alike (PostgreSQL, Redis), by command name."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    found.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile
    return found


def _workers(master: int) -> list[int]:
    """A uvicorn master and its worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *(int(c) for c in children)]


def _requests_counted(exposition: str) -> float:
    """The sum of `vermilion_graphql_requests_total` over its labels, in a /metrics answer."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "vermilion_graphql_requests_total"
    )


async def _scrape(http: httpx.AsyncClient, latencies: list[float]) -> float:
    started = time.perf_counter()
    response = await http.get("/metrics")
    response.raise_for_status()
    latencies.append((time.perf_counter() - started) * 1000)
    return _requests_counted(response.text)


async def _load(
    base: str,
    request: tuple[str, dict[str, Any], str | None],
    seconds: float,
    concurrency: int,
    pids: list[int] | None = None,
    backends: list[str] | None = None,
    scrape: bool = False,
) -> dict[str, float]:
    query, variables, token = request
    latencies: list[float] = []
    scrapes: list[float] = []
    failures = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    await _post(http, query, variables, token)
                except Exception:
                    failures += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)

        async def scraper() -> None:
            # Its own connection, as Prometheus has: each scrape may be answered by either worker.
            async with httpx.AsyncClient(base_url=base, timeout=10) as prometheus:
                while time.perf_counter() < deadline:
                    await _scrape(prometheus, scrapes)
                    await asyncio.sleep(0.5)

        counted_before = await _scrape(http, []) if scrape else 0.0
        shared = _backends(backends) if backends else []
        started, cpu_before = time.perf_counter(), _cpu_seconds(pids) if pids else 0.0
        shared_before = _cpu_seconds(shared)
        await asyncio.gather(*(worker() for _ in range(concurrency)), *([scraper()] if scrape else []))
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(pids) - cpu_before if pids else 0.0
        shared_cpu = _cpu_seconds(shared) - shared_before
        counted = await _scrape(http, []) - counted_before if scrape else 0.0
    done = len(latencies)
    scraped = (
        {
            "scrapes": len(scrapes),
            "scrape_p99_ms": percentile(scrapes, 0.99) if scrapes else 0.0,
            "counted": counted,
            "sent": done + failures,
        }
        if scrape
        else {}
    )
    return {
        **scraped,
        "cpu_ms": cpu * 1000 / done if done else 0.0,
        "backend_cpu_ms": shared_cpu * 1000 / done if done else 0.0,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p99_ms": percentile(latencies, 0.99) if latencies else 0.0,
        "failures": failures,
    }


async def run(servers: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    prepared = {name: await _prepare(base, args.email, args.password) for name, base in servers.items()}
    kinds = [k for k in next(iter(prepared.values())) if not args.only or args.only in k]
    rounds: dict[str, dict[str, list[dict[str, float]]]] = {k: {n: [] for n in servers} for k in kinds}
    for number in range(args.rounds):
        for kind in kinds:
            order = list(servers) if number % 2 == 0 else list(reversed(servers))
            for name in order:
                await _load(servers[name], prepared[name][kind], args.warmup, args.concurrency)
                pids = _workers(args.pid[name]) if name in args.pid else None
                result = await _load(
                    servers[name],
                    prepared[name][kind],
                    args.seconds,
                    args.concurrency,
                    pids,
                    args.backend,
                    scrape=name in args.scrape,
                )
                rounds[kind][name].append(result)
                scraped = (
                    f"; {result['scrapes']} scrapes (p99 {result['scrape_p99_ms']:.0f} ms) counted "
                    f"{result['counted']:.0f} of {result['sent']} requests"
                    if "scrapes" in result
                    else ""
                )
                cpu = f"{result['cpu_ms']:.2f} app + {result['backend_cpu_ms']:.2f} backend CPU ms/req"
                print(
                    f"round {number + 1} {kind} {name}: {result['rps']:.1f} req/s, {cpu}{scraped}",
                    flush=True,
                )
    summary = {
        kind: {
            name: {
                metric: round(statistics.median(r[metric] for r in results), 2)
                for metric in ("cpu_ms", "backend_cpu_ms", "rps", "p50_ms", "p99_ms", "failures")
            }
            for name, results in per_server.items()
        }
        for kind, per_server in rounds.items()
    }
    # Each round's two windows follow each other: the ratio within a round cancels most of what the
    # shared machine does to both, so its median is the figure to read for requests per second.
    names = list(servers)
    first, last = names[0], names[-1]
    paired = {
        kind: {
            metric: round(
                statistics.median(
                    (b[metric] / a[metric] - 1) * 100
                    for a, b in zip(per_server[first], per_server[last], strict=True)
                    if a[metric]
                ),
                1,
            )
            for metric in ("cpu_ms", "rps")
        }
        for kind, per_server in rounds.items()
    }
    return {"servers": servers, "rounds": rounds, "summary": summary, "paired": paired}


def _cells(figures: dict[str, float]) -> str:
    latency = f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f}"
    total = figures["cpu_ms"] + figures["backend_cpu_ms"]
    return f"{figures['cpu_ms']:.2f} | {total:.2f} | {figures['rps']:.1f} | {latency}"


def _change(first: float, last: float) -> str:
    return f"{(last - first) / first * 100:+.1f} %" if first else "n/a"


def _report(result: dict[str, Any], args: argparse.Namespace) -> str:
    names = list(result["servers"])
    lines = [
        "# Throughput of ordinary requests, interleaved",
        "",
        f"{datetime.now(UTC):%Y-%m-%d}; {args.rounds} rounds of {args.seconds:g} s per request kind and "
        f"server at concurrency {args.concurrency} (one client process, keep-alive); medians over rounds.",
        "",
        "| request | "
        + " | ".join(
            f"{n} app CPU ms/req | {n} with database and Redis | {n} req/s | {n} p50 / p99 ms" for n in names
        )
        + " | app CPU per request | all CPU per request | req/s (of medians) | req/s (paired) |",
        "|---|" + "---|---|---|---|" * len(names) + "---|---|---|---|",
    ]
    for kind, per_server in result["summary"].items():
        cells = [_cells(per_server[n]) for n in names]
        a, b = per_server[names[0]], per_server[names[-1]]
        changes = [
            _change(a["cpu_ms"], b["cpu_ms"]),
            _change(a["cpu_ms"] + a["backend_cpu_ms"], b["cpu_ms"] + b["backend_cpu_ms"]),
            _change(a["rps"], b["rps"]),
            f"{result['paired'][kind]['rps']:+.1f} %",
        ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " | " + " | ".join(changes) + " |")
    lines += ["", "Servers: " + ", ".join(f"{n} = {u}" for n, u in result["servers"].items()), ""]
    for name in args.scrape:
        windows = [w for per_server in result["rounds"].values() for w in per_server[name]]
        exact = sum(w["counted"] == w["sent"] for w in windows)
        scrapes, slowest = sum(w["scrapes"] for w in windows), max(w["scrape_p99_ms"] for w in windows)
        lines += [
            f"`/metrics` of {name} scraped every 0.5 s during its windows: {scrapes} scrapes, p99 of the "
            f"windows' p99 {slowest:.0f} ms; the requests "
            f"counted equalled the requests sent in {exact} of {len(windows)} windows "
            f"({sum(w['counted'] for w in windows):.0f} counted, {sum(w['sent'] for w in windows)} sent).",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", action="append", required=True, help="name=base URL (two or more)")
    parser.add_argument("--email", default="demo@vermilion.dev")
    parser.add_argument("--password", default="vermilion-demo")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--output", default="overhead")
    parser.add_argument(
        "--pid", action="append", default=[], help="name=PID of a server's uvicorn master: measure its CPU"
    )
    parser.add_argument(
        "--scrape", action="append", default=[], help="name of a server whose /metrics to scrape under load"
    )
    parser.add_argument("--only", help="run only the request kinds whose name contains this")
    parser.add_argument(
        "--backend",
        action="append",
        default=None,
        help="command name of a process both servers use (default: postgres and redis-server): its CPU "
        "during each window is counted as that window's",
    )
    args = parser.parse_args()
    servers = dict(s.split("=", 1) for s in args.server)
    args.backend = args.backend or ["postgres", "redis-server"]
    args.pid = {name: int(pid) for name, pid in (p.split("=", 1) for p in args.pid)}
    result = asyncio.run(run(servers, args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report = _report(result, args)
    (RESULTS / f"{args.output}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
