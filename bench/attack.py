"""The public internet's attacks on a running deployment: what SECURITY.md promises, checked from outside.

    python -m bench.attack        # needs PostgreSQL on 127.0.0.1:5432 and redis-server on PATH

Sets up what a small production deployment has, all on loopback: a fresh seeded PostgreSQL database
(`vermilion_attack`), a Redis server of its own, an SMTP server (aiosmtpd), a TCP relay in front of
PostgreSQL (so the database can be cut off and brought back without touching the machine's cluster), and
`uvicorn api.app:app --workers 2` in production mode with the default limits, behind a trusted proxy:
each simulated client sends its own `X-Forwarded-For`, as a load balancer would. Then, as strangers:

1. cost bombs (the reported ones and others) — refused, quickly, and the workers' memory stays put;
2. sign-in brute force from many addresses and from one, sign-up probing — throttled across workers;
3. `/healthz` while 8 clients sign in;
4. schemathesis fuzzing of every query and mutation, anonymous and signed in — no internal error;
5. Redis killed and restarted during likes and feeds — every answer true to what was stored;
6. the database cut off and restored during likes — quick 503s, `/healthz` 503, recovery, no lie;
7. sign-out, password change and password reset end to end through the SMTP server;
8. malformed input at the edge;
9. SIGTERM while a request waits on a row lock — the server ends in bounded time.

Writes bench/results/attack.md and .json; exits non-zero when a check failed.
"""

# An orchestrator of processes and blocking waits by nature: ruff's async-blocking rules do not apply here.
# ruff: noqa: ASYNC109, ASYNC110, ASYNC220, ASYNC221, ASYNC230

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiosmtpd.controller import Controller

from bench.stats import percentile
from core.ids import parse_global_id

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
PASSWORD = "vermilion-demo"  # every seeded account's
SECRET = "attack-bench-" + "k3Jq9vX2mP7wL4tZ8rN5cB1yH6dF0gS"
WEBHOOK_SECRET = "whsec_attack_bench"
RESET_TOKEN = re.compile(r"token=([A-Za-z0-9_-]{43})")

SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(input: {email: $email, password: $password}) { token errors { code } } }"""
SIGN_UP = """mutation($email: String!, $handle: String!) {
  signUp(input: {email: $email, password: "long-enough-password", handle: $handle}) {
    token errors { code } } }"""
LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { note { id likeCount } errors { code } } }"
DISCOVER = "{ discoverFeed(first: 10) { edges { node { id title } } } }"
VIEWER = "{ viewer { handle } }"
NOTES = '{ topic(name: "护肤") { notes(first: 100) { nodes { id } } } }'
BOMBS = {
    "the reported topic bomb": '{topic(name:"家居"){notes(first:100){nodes{topics{notes(first:100)'
    "{nodes{topics{notes(first:100){nodes{id title}}}}}}}}}}",
    "comments' authors' notes' comments": "{discoverFeed(first:100){nodes{comments(first:100){edges{node"
    "{author{notes(first:100){nodes{id comments(first:100){edges{node{id}}}}}}}}}}}}",
    "30 aliases of a wide search": "{"
    + " ".join(f'a{i}:search(query:"口红",first:100){{edges{{node{{...on Note{{id}}}}}}}}' for i in range(30))
    + "}",
    "fragments spread in fragments": 'query{topic(name:"家居"){...A}} '
    "fragment A on Topic{notes(first:100){nodes{...B}}} "
    "fragment B on Note{topics{...C}} fragment C on Topic{notes(first:100){nodes{id title}}}",
}


@dataclass
class Check:
    section: str
    name: str
    expected: str
    observed: str
    ok: bool


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, name: str, expected: str, observed: str, ok: bool) -> None:
        self.checks.append(Check(section, name, expected, observed, ok))
        print(f"[{'ok' if ok else 'FAIL'}] {section}: {name} — {observed}", flush=True)


# --- the deployment -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Relay:
    """A TCP relay to PostgreSQL that can cut every connection and refuse new ones (an outage)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = _free_port()
        self.up = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        self.up = False
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


class Mailbox:
    """The SMTP server's handler: keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    async def reset_token_for(self, address: str, timeout: float = 20) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if address in str(message["To"]):
                    found = RESET_TOKEN.search(message.get_body(("plain",)).get_content())
                    if found:
                        return found.group(1)
            await asyncio.sleep(0.2)
        return None


class RedisServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


async def _prepare_database(admin_url: str, name: str, users: int) -> str:
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    env = {**os.environ, "VERMILION_DATABASE_URL": url.replace("postgresql://", "postgres://")}
    subprocess.run(
        [sys.executable, "-m", "api.cli", "seed", "--users", str(users), "--no-pictures"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return url


def _rss_mb(master: int) -> float:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in children:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


# --- clients --------------------------------------------------------------------------------------------


class Stranger:
    """A client from one address (its X-Forwarded-For), on a fresh connection per request when `fresh`,
    so that requests spread over the workers."""

    def __init__(self, base: str, ip: str, token: str | None = None) -> None:
        self.base, self.ip, self.token = base, ip, token

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: float = 30,
    ) -> tuple[httpx.Response, float]:
        headers = {"X-Forwarded-For": self.ip}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        started = time.perf_counter()
        headers["Content-Type"] = "application/json"
        # Encoded here (ASCII escapes), so that a lone surrogate reaches the server as a client sends it.
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        async with httpx.AsyncClient(base_url=self.base, timeout=timeout) as http:
            response = await http.post("/graphql", content=body, headers=headers)
        return response, time.perf_counter() - started


def _code(response: httpx.Response) -> str | None:
    """The top-level error code, else the first payload error code, else None (success)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if body.get("errors"):
        return str((body["errors"][0].get("extensions") or {}).get("code"))
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict) and payload.get("errors"):
            return str(payload["errors"][0]["code"])
    return None


def _ip(n: int) -> str:
    return f"198.51.{n // 250}.{n % 250 + 1}"


# --- the checks -----------------------------------------------------------------------------------------


async def cost_bombs(report: Report, base: str, master: int) -> None:
    rss_before = _rss_mb(master)
    for number, (name, query) in enumerate(BOMBS.items()):
        response, seconds = await Stranger(base, _ip(1000 + number)).post(query)
        code = _code(response)
        cost = ((response.json().get("errors") or [{}])[0].get("extensions") or {}).get("cost")
        report.add(
            "cost bombs",
            name,
            "QUERY_TOO_COSTLY in well under a second",
            f"{code} (cost {cost}, budget 1,000) in {seconds * 1000:.0f} ms, {len(query.encode())} bytes",
            code == "QUERY_TOO_COSTLY" and seconds < 1,
        )
    rss_after = _rss_mb(master)
    report.add(
        "cost bombs",
        "workers' memory",
        "no growth",
        f"RSS of the 2 workers {rss_before:.0f} → {rss_after:.0f} MB",
        rss_after - rss_before < 20,
    )


async def brute_force(report: Report, base: str) -> None:
    # Many addresses, one account: the per-email limit (10 / 5 min) holds whichever worker answers.
    target = "creator@vermilion.dev"
    codes = []
    for attempt in range(30):
        response, _ = await Stranger(base, _ip(2000 + attempt)).post(
            SIGN_IN, {"email": target, "password": f"guess-{attempt}"}
        )
        codes.append((response.status_code, _code(response), response.headers.get("retry-after")))
    allowed = sum(1 for _, code, _ in codes if code != "RATE_LIMITED")
    refused = [c for c in codes if c[1] == "RATE_LIMITED"]
    right, _ = await Stranger(base, _ip(2100)).post(SIGN_IN, {"email": target, "password": PASSWORD})
    report.add(
        "brute force",
        "30 wrong passwords for one account from 30 addresses, each on a new connection",
        "10 answered (INVALID_CREDENTIALS), then RATE_LIMITED, 429 with Retry-After; the right password too",
        f"{allowed} answered, {len(refused)} refused (statuses {sorted({c[0] for c in refused})}, "
        f"Retry-After {sorted({c[2] for c in refused})[:3]}); then the right password: {_code(right)}",
        allowed == 10 and all(c[0] == 429 and c[2] for c in refused) and _code(right) == "RATE_LIMITED",
    )
    # One address, many accounts: the per-IP limit (30 / 5 min).
    attacker = Stranger(base, _ip(2200))
    answers: list[str | None] = []
    for attempt in range(40):
        response, _ = await attacker.post(
            SIGN_IN, {"email": f"user{attempt}@example.org", "password": "123456"}
        )
        answers.append(_code(response))
    allowed = sum(1 for c in answers if c != "RATE_LIMITED")
    report.add(
        "brute force",
        "40 accounts tried from one address",
        "30 answered, then RATE_LIMITED",
        f"{allowed} answered, {answers.count('RATE_LIMITED')} refused",
        allowed == 30,
    )
    # Sign-up probing for registered emails: 5 / 30 min per address.
    prober = Stranger(base, _ip(2300))
    answers = []
    for attempt in range(10):
        response, _ = await prober.post(SIGN_UP, {"email": "demo@vermilion.dev", "handle": f"probe{attempt}"})
        answers.append(_code(response))
    report.add(
        "brute force",
        "10 sign-ups probing for a registered email from one address",
        "5 answered, then RATE_LIMITED",
        f"answers {answers}",
        answers[:5].count("RATE_LIMITED") == 0 and answers[5:] == ["RATE_LIMITED"] * 5,
    )


async def healthz_during_sign_ins(report: Report, base: str, emails: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def probe(stop: asyncio.Event) -> list[float]:
            timings = []
            while not stop.is_set():
                started = time.perf_counter()
                await http.get("/healthz")
                timings.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.02)
            return timings

        stop = asyncio.Event()
        idle_task = asyncio.create_task(probe(stop))
        await asyncio.sleep(2)
        stop.set()
        idle = await idle_task

        stop = asyncio.Event()
        busy_task = asyncio.create_task(probe(stop))
        queue = list(emails[:32])
        answers: list[str | None] = []

        async def client(n: int) -> None:
            while queue:
                address = queue.pop()
                response, _ = await Stranger(base, _ip(3000 + len(queue))).post(
                    SIGN_IN, {"email": address, "password": PASSWORD}
                )
                answers.append(_code(response))

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(8)))
        elapsed = time.perf_counter() - started
        stop.set()
        busy = await busy_task
    figures = {
        "idle_p50_ms": statistics.median(idle),
        "busy_p50_ms": statistics.median(busy),
        "busy_p95_ms": percentile(busy, 0.95),
        "busy_max_ms": max(busy),
        "sign_ins": len(answers),
        "sign_in_seconds": elapsed,
    }
    report.figures["healthz_during_sign_ins"] = figures
    report.add(
        "accounts",
        "/healthz while 8 clients sign in 32 times (Argon2 on worker threads)",
        "stays fast (p95 well under 250 ms)",
        f"idle p50 {figures['idle_p50_ms']:.1f} ms; during p50 {figures['busy_p50_ms']:.1f}, p95 "
        f"{figures['busy_p95_ms']:.1f}, max {figures['busy_max_ms']:.1f} ms; {answers.count(None)} of "
        f"{len(answers)} sign-ins succeeded in {elapsed:.1f} s",
        figures["busy_p95_ms"] < 250 and answers.count(None) == len(answers),
    )


def fuzz(report: Report, base: str, token: str, examples: int) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.core.result import Ok

    schema = schemathesis.graphql.from_file((ROOT / "schema.graphql").read_text())
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    operations.sort(key=lambda operation: operation.label.endswith(".signOut"))  # it revokes the token
    problems: dict[str, str] = {}
    statuses: dict[int, int] = {}
    counter = [0]

    def fuzz_one(operation: Any, signed_in: bool) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            counter[0] += 1
            headers = {"X-Forwarded-For": _ip(10_000 + counter[0])}  # spread over the address buckets
            if signed_in:
                headers["Authorization"] = f"Bearer {token}"
            response = case.call(base_url=f"{base}/graphql", headers=headers, timeout=30)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            text = response.text
            if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in text or "Unexpected error." in text:
                problems.setdefault(f"{response.status_code} {text[:200]}", str(case.body)[:300])

        run()

    for operation in operations:
        for signed_in in (False, True):
            fuzz_one(operation, signed_in)
    report.figures["fuzz"] = {"requests": counter[0], "statuses": statuses, "problems": problems}
    report.add(
        "fuzzing",
        f"schemathesis: {len(operations)} operations × {examples} examples, anonymous and signed in",
        "no 5xx, no INTERNAL_SERVER_ERROR",
        f"{counter[0]} requests, HTTP statuses {dict(sorted(statuses.items()))}, "
        f"{len(problems)} internal errors",
        not problems,
    )


async def _likes_during(
    base: str,
    tokens: list[tuple[int, str]],
    notes: list[str],
    outage: Callable[[], Awaitable[None]],
    seconds: float,
) -> list[tuple[int, str, str | None, float, int]]:
    """Every user likes notes one after another while `outage` runs; (user, note, code, seconds, status)."""
    answers: list[tuple[int, str, str | None, float, int]] = []
    deadline = time.monotonic() + seconds
    requests.clear()

    async def user(index: int, user_id: int, token: str) -> None:
        mine = notes[index :: len(tokens)]
        client = Stranger(base, _ip(4000 + index), token)
        for note in mine:
            if time.monotonic() > deadline:
                return
            response, took = await client.post(LIKE, {"n": note}, timeout=15)
            answers.append((user_id, note, _code(response), took, response.status_code))
            requests[(user_id, note)] = response.headers.get("x-request-id", "")
            await asyncio.sleep(0.05)

    await asyncio.gather(outage(), *(user(i, uid, t) for i, (uid, t) in enumerate(tokens)))
    return answers


async def _stored_likes(database_url: str) -> set[tuple[int, int]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT user_id, note_id FROM likes")
    finally:
        await connection.close()
    return {(r["user_id"], r["note_id"]) for r in rows}


async def _counters_agree(database_url: str, note_ids: set[int]) -> bool:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT n.id, n.like_count, (SELECT count(*) FROM likes l WHERE l.note_id = n.id) AS likes "
            "FROM notes n WHERE n.id = ANY($1::int[])",
            list(note_ids),
        )
    finally:
        await connection.close()
    return all(r["like_count"] == r["likes"] for r in rows)


def _pk(global_id: str) -> int:
    parsed = parse_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


# The request id of each like, to find it in the server's log (bench/results/attack-server.log).
requests: dict[tuple[int, str], str] = {}


def _truthful(
    answers: list[tuple[int, str, str | None, float, int]],
    stored: set[tuple[int, int]],
    before: set[tuple[int, int]],
) -> tuple[int, int, list[str]]:
    """Successes, failures and untrue answers; a like the seed had already made is left out (liking again
    succeeds whatever happens, and a refusal of it changes nothing)."""
    answers = [a for a in answers if (a[0], _pk(a[1])) not in before]
    successes = failures = 0
    lies = []
    for user_id, note, code, _, status in answers:
        kept = (user_id, _pk(note)) in stored
        if code is None:
            successes += 1
            if not kept:
                lies.append(
                    f"success but not stored: user {user_id} note {_pk(note)} {requests.get((user_id, note))}"
                )
        else:
            failures += 1
            if kept:
                lies.append(
                    f"{code} (HTTP {status}) but stored: user {user_id} note {_pk(note)} "
                    f"{requests.get((user_id, note))}"
                )
    return successes, failures, lies


async def redis_outage(
    report: Report,
    base: str,
    redis: RedisServer,
    database_url: str,
    tokens: list[tuple[int, str]],
    notes: list[str],
) -> None:
    feeds: list[str | None] = []

    async def outage() -> None:
        await asyncio.sleep(1.0)
        redis.kill()
        for n in range(6):  # the discover feed keeps serving from the database while Redis is down
            response, _ = await Stranger(base, _ip(5000 + n), tokens[n][1]).post(DISCOVER)
            feeds.append(_code(response))
            await asyncio.sleep(0.3)
        redis.start()

    before = await _stored_likes(database_url)
    answers = await _likes_during(base, tokens, notes, outage, 8.0)
    stored = await _stored_likes(database_url)
    successes, failures, lies = _truthful(answers, stored, before)
    counters = await _counters_agree(database_url, {_pk(n) for _, n, _, _, _ in answers})
    codes = sorted({str(a[2]) for a in answers if a[2]})
    report.add(
        "faults",
        "Redis killed for ~2 s and restarted while 20 users like notes",
        "every like answered as it was stored; counters agree",
        f"{successes} succeeded, {failures} refused {codes}; {len(lies)} untrue answers; "
        f"like counters agree: {counters}",
        not lies and counters and successes > 0,
    )
    report.add(
        "faults",
        "discoverFeed while Redis is down",
        "served (sessions in the database)",
        f"answers {feeds}",
        feeds.count(None) == len(feeds),
    )
    for line in lies[:10]:
        print("   ", line)


async def database_outage(
    report: Report,
    base: str,
    relay: Relay,
    database_url: str,
    tokens: list[tuple[int, str]],
    notes: list[str],
) -> None:
    health: list[tuple[float, int]] = []
    restored_at = [0.0]

    async def outage() -> None:
        await asyncio.sleep(1.0)
        relay.cut()
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(4):
                started = time.perf_counter()
                response = await http.get("/healthz")
                health.append((time.perf_counter() - started, response.status_code))
                await asyncio.sleep(0.5)
        relay.restore()
        restored_at[0] = time.monotonic()

    before = await _stored_likes(database_url)
    answers = await _likes_during(base, tokens, notes, outage, 9.0)
    stored = await _stored_likes(database_url)
    successes, failures, lies = _truthful(answers, stored, before)
    refused = [a for a in answers if a[2]]
    slowest = max((a[3] for a in refused), default=0.0)
    codes = sorted({f"{a[2]} {a[4]}" for a in refused})
    report.add(
        "faults",
        "the database cut off for ~2 s while 20 users like notes",
        "refusals are quick 503 SERVICE_UNAVAILABLE; every answer true to what was stored",
        f"{successes} succeeded, {failures} refused ({codes}), slowest refusal {slowest:.2f} s; "
        f"{len(lies)} untrue answers",
        not lies and successes > 0 and failures > 0 and slowest < 5,
    )
    report.add(
        "faults",
        "/healthz with the database cut off",
        "503, answered within its 2 s check",
        ", ".join(f"{status} in {seconds * 1000:.0f} ms" for seconds, status in health),
        all(status == 503 and seconds < 3 for seconds, status in health),
    )
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (await http.get("/healthz")).status_code != 200:
            await asyncio.sleep(0.2)
        back = time.monotonic() - restored_at[0]
    report.add(
        "faults",
        "after the database is back",
        "/healthz 200 again within seconds",
        f"healthy {back:.1f} s after the relay was restored",
        back < 10,
    )
    for line in lies[:10]:
        print("   ", line)


async def accounts(report: Report, base: str, mailbox: Mailbox, address: str) -> None:
    me = Stranger(base, _ip(6000))
    first = (await me.post(SIGN_IN, {"email": address, "password": PASSWORD}))[0].json()["data"]["signIn"][
        "token"
    ]
    second = (await me.post(SIGN_IN, {"email": address, "password": PASSWORD}))[0].json()["data"]["signIn"][
        "token"
    ]
    out, _ = await me.post("mutation { signOut { errors { code } } }", token=first)
    after, _ = await me.post(VIEWER, token=first)
    other, _ = await me.post(VIEWER, token=second)
    report.add(
        "accounts",
        "signOut ends this token only",
        "the token then gets 401 UNAUTHENTICATED; another session still works",
        f"signOut {_code(out) or 'ok'}; same token: HTTP {after.status_code} {_code(after)}; other token: "
        f"{_code(other) or 'ok'}",
        _code(out) is None
        and after.status_code == 401
        and _code(after) == "UNAUTHENTICATED"
        and _code(other) is None,
    )
    reset_request = "mutation($e: String!) { passwordResetRequest(input: {email: $e}) { errors { code } } }"
    known, _ = await me.post(reset_request, {"e": address})
    unknown, _ = await me.post(reset_request, {"e": "nobody@example.org"})
    token = await mailbox.reset_token_for(address)
    report.add(
        "accounts",
        "passwordResetRequest, known and unknown email",
        "the same answer; one email with a reset link reaches the SMTP server",
        f"known {known.json()['data']}, unknown {unknown.json()['data']}; reset email "
        f"{'received' if token else 'NOT received'} ({len(mailbox.messages)} messages)",
        known.json()["data"] == unknown.json()["data"] and token is not None,
    )
    if token is None:
        return
    complete = (
        "mutation($t: String!) { passwordResetComplete(input: {token: $t, "
        'newPassword: "a-brand-new-password"}) { errors { code } } }'
    )
    done, _ = await me.post(complete, {"t": token})
    again, _ = await me.post(complete, {"t": token})
    old_session, _ = await me.post(VIEWER, token=second)
    old_password, _ = await me.post(SIGN_IN, {"email": address, "password": PASSWORD})
    new_password, _ = await me.post(SIGN_IN, {"email": address, "password": "a-brand-new-password"})
    report.add(
        "accounts",
        "passwordResetComplete with the emailed token",
        "new password works, the old one and the old sessions do not, the token is single-use",
        f"complete {_code(done) or 'ok'}, reuse {_code(again)}; old session HTTP "
        f"{old_session.status_code}; old password {_code(old_password)}; "
        f"new password {_code(new_password) or 'ok'}",
        _code(done) is None
        and _code(again) is not None
        and old_session.status_code == 401
        and _code(old_password) == "INVALID_CREDENTIALS"
        and _code(new_password) is None,
    )
    current = new_password.json()["data"]["signIn"]["token"]
    elsewhere = (await me.post(SIGN_IN, {"email": address, "password": "a-brand-new-password"}))[0].json()[
        "data"
    ]["signIn"]["token"]
    change = (
        'mutation { viewerPasswordChange(input: {currentPassword: "a-brand-new-password", '
        'newPassword: "yet-another-password"}) { token errors { code } } }'
    )
    changed, _ = await me.post(change, token=current)
    kept = changed.json()["data"]["viewerPasswordChange"]["token"]
    other_session, _ = await me.post(VIEWER, token=elsewhere)
    this_session, _ = await me.post(VIEWER, token=kept or current)
    report.add(
        "accounts",
        "viewerPasswordChange",
        "every other session ends; this device keeps working",
        f"change {_code(changed) or 'ok'}; other session HTTP {other_session.status_code}; this device "
        f"{_code(this_session) or 'ok'}",
        _code(changed) is None and other_session.status_code == 401 and _code(this_session) is None,
    )


async def edge_input(report: Report, base: str) -> None:
    stranger = Stranger(base, _ip(7000))
    cases = {
        "a NUL byte in user(handle)": ("query($h: String!) { user(handle: $h) { id } }", {"h": "ab\u0000c"}),
        "a 10,000-character handle": ("query($h: String!) { user(handle: $h) { id } }", {"h": "x" * 10_000}),
        "a lone surrogate in search": (
            "query($q: String!) { search(query: $q) { terms edges { cursor } } }",
            {"q": "\ud800口红"},
        ),
        "Note:2^40": (
            "query($n: ID!) { note(id: $n) { id } }",
            {"n": __import__("base64").b64encode(b"Note:1099511627776").decode()},
        ),
        "a 100,000-character email in signIn": (
            SIGN_IN,
            {"email": "a" * 100_000 + "@x.org", "password": "x"},
        ),
    }
    for name, (query, variables) in cases.items():
        response, _ = await stranger.post(query, variables)
        text = response.text
        # A validation error would mean the attack never reached the field it aims at.
        ok = response.status_code < 500 and not any(
            c in text for c in ("INTERNAL_SERVER_ERROR", "GRAPHQL_VALIDATION_FAILED")
        )
        report.add(
            "input at the edge",
            name,
            "a coded refusal or nothing found, never an internal error",
            f"HTTP {response.status_code} {_code(response)}",
            ok,
        )
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        forged = await http.get(
            "/graphql",
            params={"query": VIEWER},
            headers={
                "Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMDAwMDAwMDAwMDAwMDAwMDAwMDAifQ.x"
            },
        )
        report.add(
            "input at the edge",
            "a forged bearer token (sub 10^20)",
            "401 UNAUTHENTICATED",
            f"HTTP {forged.status_code} {_code(forged)}",
            forged.status_code == 401,
        )
        stamp = str(int(time.time()))
        signature = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.[]".encode(), hashlib.sha256).hexdigest()
        hook = await http.post(
            "/webhooks/stripe", content=b"[]", headers={"Stripe-Signature": f"t={stamp},v1={signature}"}
        )
        report.add(
            "input at the edge",
            "a webhook whose body is []",
            "400, never 500",
            f"HTTP {hook.status_code}",
            hook.status_code == 400,
        )


async def shutdown(
    report: Report, base: str, master: subprocess.Popen[bytes], database_url: str, token: str, note: str
) -> None:
    holder = await asyncpg.connect(database_url)
    await holder.execute("BEGIN")
    await holder.execute("SELECT id FROM notes WHERE id = $1 FOR UPDATE", _pk(note))
    waiting = asyncio.create_task(Stranger(base, _ip(8000), token).post(LIKE, {"n": note}, timeout=30))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    master.send_signal(signal.SIGTERM)
    while master.poll() is None and time.monotonic() - started < 60:
        await asyncio.sleep(0.1)
    took = time.monotonic() - started
    with contextlib.suppress(Exception):
        await waiting
    await holder.close()
    report.add(
        "shutdown",
        "SIGTERM while a request waits on a row lock",
        "the server exits within seconds",
        f"exited with {master.poll()} after {took:.1f} s",
        master.poll() is not None and took < 15,
    )


# --- the run --------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def deployment(args: Any) -> AsyncIterator[dict[str, Any]]:
    database_url = await _prepare_database(args.postgres, args.database, args.users)
    redis = RedisServer()
    redis.start()
    relay = Relay(int(args.postgres.rsplit(":", 1)[1].split("/")[0]))
    await relay.start()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    port = _free_port()
    via_relay = database_url.replace(f":{relay.target_port}/", f":{relay.port}/").replace(
        "postgresql://", "postgres://"
    )
    env = {
        **os.environ,
        "VERMILION_ENV": "production",
        "VERMILION_SECRET_KEY": SECRET,
        "VERMILION_DATABASE_URL": via_relay,
        "VERMILION_REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
        "VERMILION_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "VERMILION_TRUSTED_PROXIES": "127.0.0.1",
        # Payments configured (webhooks verified); Stripe itself is never reached by these attacks.
        "STRIPE_API_KEY": "sk_test_attack_bench",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{_free_port()}",
        "VERMILION_LOG_LEVEL": "WARNING",
    }
    log = open(RESULTS / "attack-server.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:app",
            "--workers",
            "2",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "5",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as http:  # async: the relay runs on this loop
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start; see bench/results/attack-server.log")
                await asyncio.sleep(0.3)
        yield {
            "base": base,
            "server": server,
            "redis": redis,
            "relay": relay,
            "mailbox": mailbox,
            "database_url": database_url,
        }
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(20)
            if server.poll() is None:
                server.kill()
        log.close()
        smtp.stop()
        await relay.close()
        redis.kill()


async def run(args: Any) -> Report:
    report = Report()
    async with deployment(args) as d:
        base, database_url = d["base"], d["database_url"]
        connection = await asyncpg.connect(database_url)
        users = await connection.fetch("SELECT id, email FROM users ORDER BY id LIMIT 60")
        await connection.close()
        emails = [u["email"] for u in users]
        # Sessions for the traffic below, each user from an address of their own.
        tokens: list[tuple[int, str]] = []
        for n, user in enumerate(users[3:23]):
            response, _ = await Stranger(base, _ip(100 + n)).post(
                SIGN_IN, {"email": user["email"], "password": PASSWORD}
            )
            tokens.append((user["id"], response.json()["data"]["signIn"]["token"]))
        response, _ = await Stranger(base, _ip(99)).post(NOTES)
        notes = [n["id"] for n in response.json()["data"]["topic"]["notes"]["nodes"]]

        await cost_bombs(report, base, d["server"].pid)
        await brute_force(report, base)
        await healthz_during_sign_ins(report, base, emails[23:])
        await asyncio.to_thread(fuzz, report, base, tokens[-1][1], args.examples)
        await redis_outage(report, base, d["redis"], database_url, tokens[:-1], notes[:50])
        await database_outage(report, base, d["relay"], database_url, tokens[:-1], notes[50:])
        await accounts(report, base, d["mailbox"], emails[0])
        await edge_input(report, base)
        await shutdown(report, base, d["server"], database_url, tokens[0][1], notes[0])
    return report


def _markdown(report: Report, args: Any) -> str:
    passed = sum(c.ok for c in report.checks)
    lines = [
        "# Attacks against a running deployment (bench/attack)",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; `uvicorn api.app:app --workers 2`, production mode, "
        f"default limits, PostgreSQL 15 (seeded, {args.users} users) behind a relay, Redis 7, aiosmtpd; "
        "each client its own X-Forwarded-For behind the trusted proxy. "
        f"**{passed} of {len(report.checks)} checks passed.**",
        "",
        "| | area | attack | expected | observed |",
        "|---|---|---|---|---|",
    ]
    for c in report.checks:
        lines.append(f"| {'✔' if c.ok else '✘'} | {c.section} | {c.name} | {c.expected} | {c.observed} |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="vermilion_attack")
    parser.add_argument("--users", type=int, default=120)
    parser.add_argument("--examples", type=int, default=8, help="fuzzing examples per operation and identity")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    report = asyncio.run(run(args))
    (RESULTS / "attack.md").write_text(_markdown(report, args))
    (RESULTS / "attack.json").write_text(
        json.dumps(
            {"checks": [asdict(c) for c in report.checks], "figures": report.figures},
            indent=2,
            ensure_ascii=False,
        )
    )
    print(_markdown(report, args))
    sys.exit(0 if all(c.ok for c in report.checks) else 1)


if __name__ == "__main__":
    main()
