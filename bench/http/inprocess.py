"""The bench's requests run in this process, one at a time, for a quick CPU figure and a profile while
working on the read path (`python -m bench.http.inprocess --only feed --profile out.prof`).

No HTTP server and no wrk: the app is called through httpx's ASGI transport on the 1× world
`python -m bench.http` seeded, in production mode. It reports the process's CPU per request, which is
the application's share of a request without the server's socket work; `python -m bench.http` stays
the measure that counts.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.http import prepare
from bench.http.servers import GENEROUS_LIMITS, Postgres, bench_secret
from bench.http.world import database_name


def _memory() -> str:
    """This process's resident memory now and at its peak (MB), from /proc."""
    lines = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    status = dict(line.split(":", 1) for line in lines)
    now, peak = (int(status[key].split()[0]) // 1024 for key in ("VmRSS", "VmHWM"))
    return f"RSS {now} MB (peak {peak})"


async def _run(args: argparse.Namespace) -> None:
    url = f"postgres://postgres@127.0.0.1:5432/{database_name(args.scale)}"
    secret = bench_secret()
    os.environ.update(
        {
            **GENEROUS_LIMITS,
            "VERMILION_ENV": "production",
            "VERMILION_SECRET_KEY": secret,
            "VERMILION_DATABASE_URL": url,
            "VERMILION_SWEEP_INTERVAL_SECONDS": "0",
        }
    )
    from api.app import create_app
    from core.settings import Settings

    app = create_app(Settings())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        ids = await prepare.world_ids(url)
        print(f"started: {_memory()}", flush=True)
        kinds = await prepare.kinds("http://bench", ids, url, secret, transport=transport)
        print(f"requests prepared: {_memory()}", flush=True)
        postgres = await Postgres.connect(database_name(args.scale))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as http:
            for kind in kinds:
                if args.only and args.only not in kind.name:
                    continue
                for i in range(args.warmup):
                    await prepare.post(http, kind.bodies[i % len(kind.bodies)], kind.token(i))
                profile = cProfile.Profile() if args.profile else None
                database = await postgres.snapshot()
                cpu, wall, thread = time.process_time(), time.perf_counter(), time.thread_time()
                if profile:
                    profile.enable()
                failures = 0
                for i in range(args.n):
                    response = await prepare.post(http, kind.bodies[i % len(kind.bodies)], kind.token(i))
                    answer: dict[str, Any] = response.json()
                    failures += response.status_code != 200 or bool(answer.get("errors"))
                if profile:
                    profile.disable()
                    profile.dump_stats(args.profile)
                cpu, wall, thread = (
                    time.process_time() - cpu,
                    time.perf_counter() - wall,
                    time.thread_time() - thread,
                )
                await asyncio.sleep(0.5)  # the signals a feed request records are written a moment later
                pg_cpu, _ = await postgres.since(database)
                print(
                    f"{kind.name:70} {1000 * cpu / args.n:7.2f} CPU ms/req  {1000 * wall / args.n:7.2f} wall"
                    f" ms/req  (this thread {1000 * thread / args.n:.2f})"
                    f"  PG {1000 * pg_cpu / args.n:.2f} CPU ms/req  failures {failures}  {_memory()}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only the request kinds whose name contains this")
    parser.add_argument("-n", type=int, default=200, help="timed requests per kind")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--profile", help="write a cProfile of the (last) timed kind here")
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
