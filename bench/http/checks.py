"""Before timing: the gate on every kind; SQL statements per request from Vermilion's own counter, and
PostgreSQL transactions per request."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from bench.http.gate import GateRefused, compare, has_errors
from bench.http.prepare import post
from bench.http.queries import Kind
from bench.http.servers import Postgres
from bench.raw_ceiling import STATEMENTS as RAW_STATEMENTS

SQL_METRIC = "vermilion_graphql_sql_statements"


def _has_content(answer: Any) -> bool:
    """The root field answered something: not null, and a list's first page not empty."""
    data = answer.get("data") or {}
    for value in data.values():
        if value is None:
            return False
        if isinstance(value, dict) and "edges" in value and not value["edges"]:
            return False
        if isinstance(value, dict) and value.get("cart", True) is None:
            return False
    return bool(data)


async def gate(kinds: list[Kind], vermilion: str, raw: str) -> dict[str, Any]:
    """Every kind answered without errors and with content; Vermilion's JSON equal to the raw ceiling's
    (ids normalised, though they are meant to be identical too). Raises GateRefused otherwise."""
    verdicts: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=vermilion, timeout=60) as ours,
        httpx.AsyncClient(base_url=raw, timeout=60) as theirs,
    ):
        for kind in kinds:
            request, auth = kind.bodies[0], kind.token(0)
            response = await post(ours, request, auth)
            answer = orjson.loads(response.content)
            if response.status_code != 200 or has_errors(answer) or not _has_content(answer):
                raise GateRefused(f"{kind.name}: Vermilion answered {response.status_code} {answer}"[:2000])
            verdict: dict[str, Any] = {"bytes": len(response.content)}
            if kind.raw:
                raw_response = await post(theirs, request, auth)
                raw_answer = orjson.loads(raw_response.content)
                if raw_response.status_code != 200 or has_errors(raw_answer):
                    raise GateRefused(f"{kind.name}: raw answered {raw_response.status_code} {raw_answer}")
                verdict |= compare(response.content, raw_response.content)
                if not verdict["equal"]:
                    raise GateRefused(f"{kind.name}: Vermilion and raw differ at {verdict['difference']}")
            verdicts[kind.name] = verdict
    return verdicts


def sql_totals(exposition: str) -> tuple[float, float]:
    """(sum, count) of the SQL-statements histogram over all its labels, from a /metrics answer."""
    from prometheus_client.parser import text_string_to_metric_families

    total = count = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == f"{SQL_METRIC}_sum":
                total += sample.value
            elif sample.name == f"{SQL_METRIC}_count":
                count += sample.value
    return total, count


# PostgreSQL 15 backends report their transactions when idle, at most once a second; what is pending then
# is reported by an idle timeout 10 s later (PGSTAT_IDLE_INTERVAL). Reading 11 s after the last request
# sees them all.
STATS_IDLE_SECONDS = 11.0


async def _settled(postgres: Postgres) -> int:
    """The database's transaction count once every backend has reported what it has done so far."""
    await asyncio.sleep(STATS_IDLE_SECONDS)
    last = await postgres.transactions()
    for _ in range(3):
        await asyncio.sleep(0.5)
        now = await postgres.transactions()
        if now == last:
            break
        last = now
        await asyncio.sleep(STATS_IDLE_SECONDS)
    return last


async def _send(http: httpx.AsyncClient, kind: Kind, requests: int) -> None:
    for i in range(requests):
        response = await post(http, kind.bodies[i % len(kind.bodies)], kind.token(i))
        if response.status_code != 200 or has_errors(orjson.loads(response.content)):
            raise GateRefused(f"{kind.name}: {response.status_code} {response.text[:500]}")


async def sql_per_request(kinds: list[Kind], base: str, requests: int = 10) -> dict[str, Any]:
    """Statements per request of each kind, from the counting server's /metrics around `requests` of it
    (sent one at a time, so nothing else is counted in between); the raw ceiling's by construction."""
    counted: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        for kind in kinds:
            before = sql_totals((await http.get("/metrics")).text)
            await _send(http, kind, requests)
            after = sql_totals((await http.get("/metrics")).text)
            statements, observed = after[0] - before[0], after[1] - before[1]
            if observed != requests:
                raise GateRefused(f"{kind.name}: /metrics counted {observed:g} requests of {requests}")
            counted[kind.name] = {"vermilion": statements / observed, "requests": requests}
            if kind.sql_budget is not None:
                counted[kind.name]["budget"] = kind.sql_budget
            if kind.raw:
                counted[kind.name]["raw"] = RAW_STATEMENTS[kind.bodies[0]["operationName"]]
    return counted


async def transactions_per_request(
    kinds: list[Kind], vermilion: str, raw: str, postgres: Postgres, requests: int = 10
) -> dict[str, dict[str, float]]:
    """PostgreSQL transactions per request of each kind (and of the raw ceiling's), exact: the database's
    count settled before and after `requests` of it sent one at a time, nothing else using the database
    meanwhile. Each reading waits for the statistics (11 s), so a quick run counts the feed only."""
    counted: dict[str, dict[str, float]] = {}
    async with (
        httpx.AsyncClient(base_url=vermilion, timeout=60) as ours,
        httpx.AsyncClient(base_url=raw, timeout=60) as theirs,
    ):
        xacts = await _settled(postgres)
        for kind in kinds:
            await _send(ours, kind, requests)
            xacts, previous = await _settled(postgres), xacts
            counted[kind.name] = {"vermilion_xacts": (xacts - previous) / requests}
            if kind.raw:
                await _send(theirs, kind, requests)
                xacts, previous = await _settled(postgres), xacts
                counted[kind.name]["raw_xacts"] = (xacts - previous) / requests
    return counted
