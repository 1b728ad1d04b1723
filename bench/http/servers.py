"""The servers under test, each in a process group of its own, and what /proc and PostgreSQL say about them.

Vermilion runs as it ships (`vermilion serve --workers 2`, production settings, Redis); the raw ceiling
under the same uvicorn with 2 workers. CPU is read from /proc (bench/overhead.py's `_cpu_seconds`):
the server's processes, and PostgreSQL's backends serving the bench database (found in
pg_stat_activity, so other databases on the shared server are not counted).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench.overhead import _cpu_seconds
from core.settings import secret_key_problem

ROOT = Path(__file__).resolve().parents[2]
# Every throttle out of the way (the names of tests/conftest.py's GENEROUS_LIMITS): the bench measures
# the path of an ordinary request, not the rate limiter refusing it.
GENEROUS_LIMITS = {
    "VERMILION_QUERY_COST_BUDGET": str(10**9),
    "VERMILION_COST_BUCKET_SIZE": str(10**9),
    "VERMILION_COST_RESTORE_RATE": str(10**8),
    "VERMILION_COST_RESTORE_RATE_ANONYMOUS": str(10**8),
    "VERMILION_WRITE_LIMITS": "1000000/minute",
    "VERMILION_SIGN_IN_LIMITS_PER_EMAIL": "1000000/minute",
    "VERMILION_SIGN_IN_LIMITS_PER_IP": "1000000/minute",
    "VERMILION_SIGN_UP_LIMITS_PER_IP": "1000000/minute",
    "VERMILION_PASSWORD_RESET_LIMITS_PER_EMAIL": "1000000/minute",
    "VERMILION_PASSWORD_RESET_LIMITS_PER_IP": "1000000/minute",
    "VERMILION_MEDIA_UPLOAD_LIMITS_PER_USER": "1000000/minute",
}
REDIS_URL = "redis://127.0.0.1:6379/9"


def bench_secret() -> str:
    """A fresh 48-character signing key that production settings accept."""
    while True:
        secret = secrets.token_urlsafe(36)
        if secret_key_problem(secret) is None:
            return secret


def port_or_free(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free loopback port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        out.append(child)
        todo += _children(child)
    return out


def status_kb(pid: int, key: str) -> int:
    """A figure of /proc/<pid>/status in kB (`VmHWM`: peak resident set so far, `VmRSS`: resident now);
    0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    cleanup: list[Path] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return [self.process.pid, *descendants(self.process.pid)]

    def workers(self) -> list[int]:
        """uvicorn's workers: the server's own children (their password processes are theirs)."""
        return [pid for pid in _children(self.process.pid) if _is_worker(pid)]

    def helpers(self) -> list[int]:
        """Processes the workers started (Vermilion's Argon2 processes, social/passwords.py)."""
        return [pid for worker in self.workers() for pid in descendants(worker)]

    def helpers_peak_rss_mb(self) -> float:
        return max((status_kb(pid, "VmHWM") for pid in self.helpers()), default=0) / 1024

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.pids())

    def peak_rss_mb(self) -> float:
        """The largest VmHWM among the workers: a worker's peak memory since it started."""
        return max((status_kb(pid, "VmHWM") for pid in self.workers()), default=0) / 1024

    def rss_mb(self) -> float:
        """The largest resident set among the workers now (VmRSS), beside the peak: whether a worker's
        memory stays where a moment took it."""
        return max((status_kb(pid, "VmRSS") for pid in self.workers()), default=0) / 1024

    def stop(self) -> None:
        """SIGTERM to the server's own process group, SIGKILL after 20 s."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        while self.cleanup:
            path = self.cleanup.pop()
            for item in sorted(path.glob("*")):
                item.unlink()
            path.rmdir()


def _start(name: str, command: list[str], env: dict[str, str], port: int, logs: Path) -> Server:
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process, log)


def start_vermilion(
    *, database_url: str, secret: str, port: int, logs: Path, count_sql: bool = False, workers: int = 2
) -> Server:
    """`vermilion serve --workers 2` in production mode; with `count_sql`, SQL counting and /metrics on."""
    env = {
        **os.environ,
        **GENEROUS_LIMITS,
        "VERMILION_ENV": "production",
        "VERMILION_SECRET_KEY": secret,
        "VERMILION_DATABASE_URL": database_url,
        "VERMILION_REDIS_URL": REDIS_URL,
        "VERMILION_SWEEP_INTERVAL_SECONDS": "0",
        "VERMILION_SQL_COUNT": "true" if count_sql else "false",
        "VERMILION_METRICS": "true" if count_sql else "false",
    }
    cleanup = []
    if count_sql:
        directory = Path(tempfile.mkdtemp(prefix="bench-http-metrics-"))
        env["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        cleanup.append(directory)
    command = [
        str(ROOT / ".venv" / "bin" / "vermilion"),
        "serve",
        "--workers",
        str(workers),
        "--port",
        str(port),
    ]
    server = _start("vermilion-sqlcount" if count_sql else "vermilion", command, env, port, logs)
    server.cleanup = cleanup
    return server


def start_raw(*, database_url: str, secret: str, port: int, logs: Path, workers: int = 2) -> Server:
    """bench/raw_ceiling.py under uvicorn, as `vermilion serve` runs Vermilion (loop/http "auto")."""
    env = {**os.environ, "BENCH_RAW_DATABASE_URL": database_url, "BENCH_RAW_SECRET_KEY": secret}
    command = [
        str(ROOT / ".venv" / "bin" / "uvicorn"),
        "bench.raw_ceiling:app",
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--loop", "auto", "--http", "auto"),
    ]
    return _start("raw", command, env, port, logs)


async def wait_ready(
    server: Server,
    probe: Callable[[httpx.AsyncClient], Awaitable[bool]],
    *,
    workers: int = 2,
    within: float = 90,
) -> None:
    """Until every worker is up and the probe has succeeded several times in a row."""
    deadline = time.monotonic() + within
    streak = 0
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.process.returncode}; see {server.log}")
            try:
                ok = len(server.workers()) >= workers and await probe(http)
            except httpx.HTTPError:
                ok = False
            streak = streak + 1 if ok else 0
            if streak >= 2 * workers:
                return
            await asyncio.sleep(0.1 if ok else 0.5)
    raise RuntimeError(f"{server.name} was not ready within {within:g} s; see {server.log}")


class Postgres:
    """Figures of the PostgreSQL server about one database, read over a connection to another one (so that
    reading them adds nothing to the database's own transactions)."""

    def __init__(self, connection: asyncpg.Connection, database: str) -> None:
        self.connection, self.database = connection, database

    @classmethod
    async def connect(cls, database: str) -> Postgres:
        return cls(await asyncpg.connect("postgres://postgres@127.0.0.1:5432/postgres"), database)

    async def close(self) -> None:
        await self.connection.close()

    async def backends(self) -> list[int]:
        rows = await self.connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.database
        )
        return [r["pid"] for r in rows]

    async def transactions(self) -> int:
        """Transactions ended in the database so far (committed + rolled back), as the statistics have them:
        backends report theirs when idle, at most once a second, so a figure lags by about that much."""
        await self.connection.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            await self.connection.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1", self.database
            )
        )

    async def snapshot(self) -> tuple[dict[int, float], int]:
        pids = await self.backends()
        return {pid: _cpu_seconds([pid]) for pid in pids}, await self.transactions()

    async def since(self, before: tuple[dict[int, float], int]) -> tuple[float, int]:
        """CPU seconds the database's backends spent, and transactions ended, since `before`. A backend
        that started meanwhile counts from 0; one that ended meanwhile is lost (pools keep theirs)."""
        cpu_before, xacts_before = before
        cpu_after, xacts_after = await self.snapshot()
        cpu = sum(seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_after.items())
        return cpu, xacts_after - xacts_before
