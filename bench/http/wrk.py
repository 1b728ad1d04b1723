"""Running wrk (the Debian package) with bench/wrk/graphql.lua, and reading what it prints."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent.parent / "wrk" / "graphql.lua"
_JSON_LINE = re.compile(r"^WRK_JSON (\{.*\})\s*$", re.MULTILINE)
_RATE_LINE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)


@dataclass
class WrkResult:
    """One wrk run: requests answered, how fast, and how many carried errors."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors_body: int
    non200: int
    socket_errors: int
    timeouts: int

    @property
    def failures(self) -> int:
        return self.errors_body + self.non200 + self.socket_errors + self.timeouts

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "failures": self.failures}


def parse_output(output: str) -> WrkResult:
    """The figures of the `WRK_JSON` line that graphql.lua's done() prints (microseconds → ms).

    The request rate is requests over wrk's own duration; wrk's "Requests/sec:" line, when present,
    must agree with it (it is the same quotient, rounded)."""
    match = _JSON_LINE.search(output)
    if match is None:
        raise ValueError(f"no WRK_JSON line in wrk's output:\n{output[-2000:]}")
    figures = json.loads(match.group(1))
    seconds = figures["duration_us"] / 1e6
    rps = figures["requests"] / seconds if seconds > 0 else 0.0
    printed = _RATE_LINE.search(output)
    if printed and abs(float(printed.group(1)) - rps) > max(0.05 * rps, 0.5):
        raise ValueError(f"wrk printed {printed.group(1)} req/s, its figures say {rps:.2f}")
    return WrkResult(
        requests=figures["requests"],
        seconds=seconds,
        rps=rps,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        errors_body=figures["errors_body"],
        non200=figures["non200"],
        socket_errors=figures["socket_errors"],
        timeouts=figures["timeouts"],
    )


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian package)")
    return found


def request_line(body: bytes, token: str | None) -> bytes:
    """One line of the file graphql.lua reads: the JSON body, after the bearer token and a tab if any."""
    return body if token is None else token.encode() + b"\t" + body


async def run_wrk(url: str, bodies_file: Path, *, connections: int, seconds: float) -> WrkResult:
    """wrk against `url` for `seconds` with `connections` keep-alive connections, one thread (the client
    should take as little of the 2-core machine as it can), sending the lines of `bodies_file`."""
    env = {**os.environ, "BENCH_WRK_BODIES": str(bodies_file)}
    command = [
        wrk_path(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(SCRIPT),
        url,
    ]
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited {process.returncode}: {output.decode(errors='replace')[-2000:]}")
    return parse_output(output.decode(errors="replace"))
