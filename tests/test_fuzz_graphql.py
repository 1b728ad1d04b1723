"""Schemathesis fuzzes every query and mutation of `schema.graphql`, anonymously and signed in, against a
real server in production mode (unexpected errors masked). No answer may be a 5xx or carry an
`INTERNAL_SERVER_ERROR` / "Unexpected error.", and the server's log may hold no unexpected error.

Deterministic (Hypothesis derandomised, no example database) and bounded: EXAMPLES per operation and
identity, so the whole run takes well under a minute on SQLite. On PostgreSQL (where NUL bytes and
out-of-range integers fail in the database itself) the server gets a fresh database of its own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok

from tests.conftest import DATABASE_URL, IS_POSTGRES, TEST_SECRET
from tests.databases import drop_postgres_database
from tests.loopback import serve_on_loopback

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = 12
MASKED = "Unexpected error."

# The server: migrates a fresh database (SQLite, or PostgreSQL when the suite runs on it) and serves the app in production mode, logging to a file the
# test reads afterwards. Argon2 runs with cheap parameters: every signUp / signIn example would otherwise
# spend 0.4 s of CPU hashing, and hashing cost is not what is fuzzed here.
SERVER = """
import asyncio, logging, socket, sys
import uvicorn
from argon2 import PasswordHasher
from tortoise import Tortoise
import social.passwords
from api.app import create_app
from api.db import apply_migrations, tortoise_config
from api.logs import LOG_FORMAT, RequestIdFormatter
from core.settings import Settings

fd, url, secret, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
social.passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

async def migrate():
    await Tortoise.init(config=tortoise_config(url), _create_db=url.startswith("postgres"))
    await apply_migrations()
    await Tortoise.close_connections()

asyncio.run(migrate())
settings = Settings(VERMILION_DATABASE_URL=url, VERMILION_SECRET_KEY=secret, VERMILION_ENV="production")
app = create_app(settings)
handler = logging.FileHandler(log_path)
handler.setFormatter(RequestIdFormatter(LOG_FORMAT))
logging.getLogger().addHandler(handler)
config = uvicorn.Config(app, log_level="warning")
uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])
"""

# Limits generous enough that the fuzzer exercises the operations, not the throttles.
GENEROUS = "1000000/minute"
LIMITS_ENV = {
    "VERMILION_COST_BUCKET_SIZE": "100000000",
    "VERMILION_COST_RESTORE_RATE": "1000000",
    "VERMILION_COST_RESTORE_RATE_ANONYMOUS": "1000000",
    "VERMILION_WRITE_LIMITS": GENEROUS,
    "VERMILION_SIGN_IN_LIMITS_PER_EMAIL": GENEROUS,
    "VERMILION_SIGN_IN_LIMITS_PER_IP": GENEROUS,
    "VERMILION_SIGN_UP_LIMITS_PER_IP": GENEROUS,
    "VERMILION_PASSWORD_RESET_LIMITS_PER_EMAIL": GENEROUS,
    "VERMILION_PASSWORD_RESET_LIMITS_PER_IP": GENEROUS,
    "VERMILION_RATE_LIMIT_PREFIX": "fuzz",
    "VERMILION_LOG_LEVEL": "WARNING",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(base URL, log file) of a production server on loopback with a database of its own."""
    directory = tmp_path_factory.mktemp("fuzz")
    log_path = directory / "server.log"
    env = {**LIMITS_ENV, "VERMILION_CACHE_DIR": str(ROOT / "data" / "cache")}
    url = f"{DATABASE_URL}_fuzz" if IS_POSTGRES else f"sqlite://{directory / 'fuzz.sqlite3'}"
    try:
        with serve_on_loopback(
            "server",
            SERVER,
            [url, TEST_SECRET, str(log_path)],
            lambda base: httpx.get(f"{base}/healthz", timeout=1).status_code == 200,
            timeout=30,
            cwd=ROOT,
            env=env,
        ) as base:
            yield base, log_path
    finally:
        if IS_POSTGRES:
            asyncio.run(drop_postgres_database(url))


def _post(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()


def _signed_in_world(base: str) -> str:
    """A merchant with a product and a note tagging it (so lookups and lists have rows); their token."""
    signed_up = _post(
        base,
        "mutation($input: SignUpInput!) { signUp(input: $input) { token errors { code } } }",
        {"input": {"email": "fuzz@example.com", "password": "fuzzing-password", "handle": "fuzzer"}},
    )["data"]["signUp"]
    assert signed_up["errors"] == [] and signed_up["token"]
    token: str = signed_up["token"]
    product = _post(
        base,
        "mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id } errors { code } } }",
        {
            "input": {
                "title": "口红 Lipstick",
                "variants": [
                    {"sku": "L1", "name": "Red", "priceMinorUnits": 1250, "currency": "USD", "stock": 5}
                ],
            }
        },
        token,
    )["data"]["productCreate"]
    assert product["errors"] == [], product
    note = _post(
        base,
        "mutation($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code } } }",
        {
            "input": {
                "title": "今天的口红",
                "body": "#护肤 lipstick",
                "topics": ["护肤"],
                "productIds": [product["product"]["id"]],
            }
        },
        token,
    )["data"]["noteCreate"]
    assert note["errors"] == [], note
    return token


def _problems(response: Any) -> list[str]:
    """Why one fuzzed answer is an internal error, if it is one."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code} without JSON: {response.text[:300]}"]
    found = []
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR" or error.get("message") == MASKED:
            found.append(f"{error.get('path')}: {error.get('message')} ({code})")
    return found


def _fuzz(operation: Any, base: str, headers: dict[str, str]) -> dict[str, str]:
    """Problems found for one operation: {problem: the query that caused it}."""
    found: dict[str, str] = {}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=f"{base}/graphql", headers=headers, timeout=30)
        for problem in _problems(response):
            found.setdefault(problem, str(case.body)[:500])

    run()
    return found


def test_fuzzing_every_operation_finds_no_internal_error(server: tuple[str, Path]) -> None:
    base, log_path = server
    token = _signed_in_world(base)
    schema = schemathesis.graphql.from_file((ROOT / "schema.graphql").read_text())
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) > 40  # every query and mutation field, not a schema that failed to load
    # Signing out revokes the token the other signed-in examples use: it goes last.
    operations.sort(key=lambda operation: operation.label.endswith(".signOut"))

    found: dict[str, str] = {}
    for identity, headers in (("anonymous", {}), ("signed in", {"Authorization": f"Bearer {token}"})):
        for operation in operations:
            for problem, query in _fuzz(operation, base, headers).items():
                found[f"{identity} {operation.label}: {problem}"] = query

    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)
    logged = [line for line in log_path.read_text().splitlines() if "Unexpected error" in line]
    assert logged == []
