"""Persisted queries as Apollo Client's link speaks them (hash first, text when unknown), over POST and GET,
shared by workers through Redis, and trusted documents that let nothing else run."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.persisted import sha256_hex
from core.settings import Settings
from tests.conftest import TEST_SECRET

REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TRENDING = "query Trending { trendingTopics(first: 3) { name } }"


def _by_hash(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(text)}}


@contextlib.asynccontextmanager
async def _server(**env: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(VERMILION_SECRET_KEY=TEST_SECRET, **env)
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


async def test_a_hash_is_unknown_until_its_text_is_sent_once(db: str) -> None:
    async with _server() as http:
        first = (await http.post("/graphql", json={"extensions": _by_hash(TRENDING)})).json()
        registered = (
            await http.post("/graphql", json={"query": TRENDING, "extensions": _by_hash(TRENDING)})
        ).json()
        again = (await http.post("/graphql", json={"extensions": _by_hash(TRENDING)})).json()

    # What Apollo Client's persisted-queries link waits for before it sends the text.
    assert _code(first) == "PERSISTED_QUERY_NOT_FOUND"
    assert first["errors"][0]["message"] == "PersistedQueryNotFound"
    assert registered["data"] == {"trendingTopics": []} and again["data"] == registered["data"]


async def test_a_read_by_hash_over_get_is_cacheable_when_public(db: str) -> None:
    params = {"extensions": json.dumps(_by_hash(TRENDING))}
    async with _server() as http:
        await http.post("/graphql", json={"query": TRENDING, "extensions": _by_hash(TRENDING)})
        public = await http.get("/graphql", params=params)
        signed = await http.get("/graphql", params=params, headers={"Authorization": "Bearer not-a-token"})

    assert public.json()["data"] == {"trendingTopics": []}
    assert public.headers["Cache-Control"] == "public, max-age=60"
    assert "public" not in signed.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("extensions", "code"),
    [
        pytest.param(
            {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex("{ other }")}},
            "BAD_REQUEST",
            id="mismatch",
        ),
        pytest.param(
            {"persistedQuery": {"version": 2, "sha256Hash": sha256_hex(TRENDING)}},
            "BAD_REQUEST",
            id="version",
        ),
        pytest.param({"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}, "BAD_REQUEST", id="not a hash"),
    ],
)
async def test_a_malformed_persisted_query_is_refused_with_a_code(
    db: str, extensions: dict[str, Any], code: str
) -> None:
    async with _server() as http:
        body = (await http.post("/graphql", json={"query": TRENDING, "extensions": extensions})).json()

    assert body["data"] is None and _code(body) == code


async def test_workers_share_what_was_registered_through_redis(db: str) -> None:
    prefix = uuid.uuid4().hex  # this test's own keys (Redis outlives test runs)
    env = {"VERMILION_REDIS_URL": REDIS_URL, "VERMILION_RATE_LIMIT_PREFIX": prefix}
    async with _server(**env) as first, _server(**env) as second:
        await first.post("/graphql", json={"query": TRENDING, "extensions": _by_hash(TRENDING)})
        body = (await second.post("/graphql", json={"extensions": _by_hash(TRENDING)})).json()

    assert body["data"] == {"trendingTopics": []}


async def test_trusted_documents_run_only_the_listed_operations(db: str, tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-query-manifest.json"
    operation = {"id": sha256_hex(TRENDING), "name": "Trending", "type": "query", "body": TRENDING}
    manifest.write_text(
        json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]})
    )
    async with _server(VERMILION_TRUSTED_DOCUMENTS=str(manifest)) as http:
        by_hash = (await http.post("/graphql", json={"extensions": _by_hash(TRENDING)})).json()
        by_text = (await http.post("/graphql", json={"query": TRENDING})).json()
        other = (await http.post("/graphql", json={"query": "{ trendingTopics { name } }"})).json()
        unknown = (await http.post("/graphql", json={"extensions": _by_hash("{ __typename }")})).json()

    assert by_hash["data"] == by_text["data"] == {"trendingTopics": []}
    assert _code(other) == _code(unknown) == "PERSISTED_QUERY_NOT_IN_LIST"


def test_a_manifest_whose_hash_does_not_match_is_refused_at_start(tmp_path: Path) -> None:
    from core.persisted import load_manifest

    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({sha256_hex("{ a }"): "{ b }"}))
    with pytest.raises(ValueError, match="does not match"):
        load_manifest(manifest)
