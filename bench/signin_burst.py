"""`/healthz` latency while a burst of sign-ins hashes passwords: Argon2 must not stall the event loop.

Against a running server (e.g. 2 workers on PostgreSQL, generous sign-in limits so the burst is hashed
rather than refused):

    python -m bench.signin_burst --base http://127.0.0.1:8102 --signins 32 --concurrency 8

Measures `/healthz` alone, then again while `--concurrency` clients sign in `--signins` times in all, and
writes bench/results/signin_burst.md and .json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stats import summary

RESULTS = Path(__file__).parent / "results"
SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(input: {email: $email, password: $password}) { token errors { code } }
}"""


async def _probe(http: httpx.AsyncClient, stop: asyncio.Event, interval: float) -> list[float]:
    timings: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await http.get("/healthz")
        assert response.status_code == 200, response.text
        timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(interval)
    return timings


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=args.base, timeout=60) as http:
        stop = asyncio.Event()
        idle_probe = asyncio.create_task(_probe(http, stop, args.interval))
        await asyncio.sleep(args.idle_seconds)
        stop.set()
        idle = await idle_probe

        remaining = args.signins
        signin_ms: list[float] = []

        async def sign_in() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                variables = {"email": args.email, "password": args.password}
                response = await http.post("/graphql", json={"query": SIGN_IN, "variables": variables})
                assert response.json()["data"]["signIn"]["token"], response.text
                signin_ms.append((time.perf_counter() - started) * 1000)

        stop = asyncio.Event()
        busy_probe = asyncio.create_task(_probe(http, stop, args.interval))
        started = time.perf_counter()
        await asyncio.gather(*(sign_in() for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
        stop.set()
        busy = await busy_probe
    return {
        "healthz_idle_ms": summary(idle),
        "healthz_during_signins_ms": summary(busy),
        "signin_ms": summary(signin_ms),
        "signins_per_second": round(args.signins / elapsed, 2),
        "signins": args.signins,
        "concurrency": args.concurrency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--email", default="demo@vermilion.dev")
    parser.add_argument("--password", default="vermilion-demo")
    parser.add_argument("--signins", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "signin_burst.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# /healthz during a burst of sign-ins",
        "",
        f"{datetime.now(UTC):%Y-%m-%d}; {args.signins} sign-ins by {args.concurrency} concurrent clients "
        f"against {args.base}; /healthz probed every {args.interval * 1000:g} ms.",
        "",
        "| measure | p50 ms | p95 ms | max ms | n |",
        "|---|---|---|---|---|",
    ]
    for name in ("healthz_idle_ms", "healthz_during_signins_ms", "signin_ms"):
        s = result[name]
        lines.append(f"| {name} | {s['p50']} | {s['p95']} | {s['max']} | {s['n']} |")
    lines += ["", f"Sign-ins per second: {result['signins_per_second']}.", ""]
    report = "\n".join(lines)
    (RESULTS / "signin_burst.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
