"""Query protection through the HTTP API: depth, alias and token limits, body size, caches, and what
production hides (introspection, suggestions, unexpected errors)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pydantic
import pytest
import strawberry
from graphql import get_introspection_query
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.schema.config import StrawberryConfig

import api.app
from api.app import create_app
from core.errors import DomainError, ErrorCode
from core.settings import Settings
from schema.limits import (
    CACHE_SIZE,
    MASKED_MESSAGE,
    MAX_ALIASES,
    MAX_CACHED_QUERY_CHARS,
    MAX_DEPTH,
    MAX_TOKENS,
    ValidationResults,
    protection_extensions,
)
from tests.conftest import DATABASE_URL, TEST_SECRET, GraphQLClient

# --- A tiny schema served by the real app wiring, for what Vermilion's own schema cannot show ---------


@strawberry.type
class Node:
    @strawberry.field
    def child(self) -> Node:
        return Node()

    @strawberry.field
    def name(self) -> str:
        return "n"


@strawberry.type
class TinyQuery:
    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("connection to db-primary:5432 failed, password=hunter2")

    @strawberry.field
    def refused(self) -> str:
        raise DomainError(ErrorCode.FORBIDDEN, "Only the owner can see this.")

    @strawberry.field
    def double(self, n: int) -> int:
        return 2 * n

    @strawberry.field
    def weekday(self, d: datetime.date) -> int:
        return d.isoweekday()


def tiny_schema(settings: Settings) -> strawberry.Schema:
    """Configured like Vermilion's schema (see `schema.build_schema`)."""
    return strawberry.Schema(
        query=TinyQuery,
        extensions=protection_extensions(settings),
        config=StrawberryConfig(disable_field_suggestions=settings.is_production),
    )


def production_settings(**overrides: Any) -> Settings:
    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="production",
        **overrides,
    )


@asynccontextmanager
async def serve(
    settings: Settings, build_schema: Callable[[Settings], strawberry.Schema] | None = None
) -> AsyncIterator[GraphQLClient]:
    """A client of `create_app(settings)`, optionally with another schema in Vermilion's wiring."""
    original = api.app.build_schema
    if build_schema is not None:
        api.app.build_schema = build_schema  # type: ignore[assignment]
    try:
        app = create_app(settings, manage_database=False)
    finally:
        api.app.build_schema = original
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http)


@pytest.fixture
async def tiny(db: str, settings: Settings) -> AsyncIterator[GraphQLClient]:
    async with serve(settings, tiny_schema) as client:
        yield client


@pytest.fixture
async def tiny_production(db: str) -> AsyncIterator[GraphQLClient]:
    async with serve(production_settings(), tiny_schema) as client:
        yield client


@pytest.fixture
async def production(db: str) -> AsyncIterator[GraphQLClient]:
    async with serve(production_settings()) as client:
        yield client


def messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


def nested(levels: int) -> str:
    """`{ node { child { … { name } } } }` with `levels` levels of fields."""
    inner = "name"
    for _ in range(levels - 2):
        inner = f"child {{ {inner} }}"
    return f"{{ node {{ {inner} }} }}"


# --- Depth ---------------------------------------------------------------------------------------------


async def test_depth_at_the_limit_is_accepted(tiny: GraphQLClient) -> None:
    data = await tiny.data(nested(MAX_DEPTH))
    assert "node" in data


async def test_depth_over_the_limit_is_refused(tiny: GraphQLClient) -> None:
    body = await tiny.execute(nested(MAX_DEPTH + 1))
    assert body.get("data") is None
    assert messages(body) == [f"The operation is nested {MAX_DEPTH + 1} fields deep; the limit is 12."]


async def test_depth_counts_through_fragments_and_names_the_operation(tiny: GraphQLClient) -> None:
    query = (
        "query Deep { node { ...A } }"
        " fragment A on Node { child { ... on Node { child { ...B } } } }"
        " fragment B on Node { " + "child { " * 10 + "name" + " }" * 10 + " }"
    )
    body = await tiny.execute(query)
    assert messages(body) == ["Operation 'Deep' is nested 14 fields deep; the limit is 12."]


@pytest.mark.timeout(60)
async def test_fragments_spread_many_times_are_checked_in_linear_time(tiny: GraphQLClient) -> None:
    # Each of 11 fragments spreads the next 30 times: a walk that expands every spread visits 30¹⁰ nodes.
    levels, fan = 11, 30
    fragments = [
        f"fragment F{i} on Node {{ {' '.join(f'child {{ ...F{i + 1} }}' for _ in range(fan))} }}"
        for i in range(levels - 1)
    ]
    fragments.append(f"fragment F{levels - 1} on Node {{ name }}")
    data = await tiny.data("{ node { ...F0 } } " + " ".join(fragments))
    assert data["node"]["child"]["child"]["child"]


async def test_deep_introspection_is_refused(client: GraphQLClient) -> None:
    body = await client.execute(
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    )
    assert messages(body) == ["Maximum introspection depth exceeded"]


async def test_graphiql_introspection_query_is_accepted(client: GraphQLClient) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    data = await client.data(query)
    assert data["__schema"]["queryType"]["name"] == "Query"


# --- Aliases and tokens --------------------------------------------------------------------------------


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


async def test_aliases_up_to_the_limit_are_accepted(client: GraphQLClient) -> None:
    data = await client.data(aliases(MAX_ALIASES))
    assert len(data) == MAX_ALIASES


async def test_too_many_aliases_are_refused(client: GraphQLClient) -> None:
    body = await client.execute(aliases(MAX_ALIASES + 1))
    assert body.get("data") is None
    assert messages(body) == ["The operation uses 31 aliases; the limit is 30."]


async def test_aliases_count_every_fragment_spread(client: GraphQLClient) -> None:
    query = (
        'query Spread { ...Twelve ... on Query { ...Twelve } x: __type(name: "Query") { ...Ten } }'
        " fragment Twelve on Query { " + " ".join(f"t{i}: __typename" for i in range(12)) + " }"
        " fragment Ten on __Type { " + " ".join(f"n{i}: name" for i in range(10)) + " }"
    )
    body = await client.execute(query)
    assert messages(body) == ["Operation 'Spread' uses 35 aliases; the limit is 30."]


def operations(count: int) -> str:
    """A document of `count` small operations: 5 tokens each, nothing repeated within one."""
    return " ".join(f"query Q{i} {{ __typename }}" for i in range(count))


async def post(client: GraphQLClient, payload: dict[str, Any]) -> dict[str, Any]:
    response = await client.http.post("/graphql", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


async def test_documents_within_the_token_limit_are_accepted(client: GraphQLClient) -> None:
    body = await post(client, {"query": operations(MAX_TOKENS // 5), "operationName": "Q7"})
    assert body["data"] == {"__typename": "Query"}


async def test_documents_over_the_token_limit_are_refused(client: GraphQLClient) -> None:
    body = await post(client, {"query": operations(MAX_TOKENS // 5 + 1), "operationName": "Q7"})
    assert body.get("data") is None
    assert messages(body) == ["Syntax Error: Document contains more than 5000 tokens. Parsing aborted."]


async def test_many_copies_of_one_field_abort_validation(client: GraphQLClient) -> None:
    # graphql-core compares repeated fields pairwise; Vermilion caps that work well below its default.
    body = await client.execute("{ " + "__typename " * 500 + "}")
    assert messages(body) == ["Validation aborted."]


# --- Request body size ---------------------------------------------------------------------------------


async def test_a_body_over_the_cap_is_refused_with_413_before_anything_runs(db: str) -> None:
    calls: list[int] = []

    @strawberry.type
    class CountingQuery:
        @strawberry.field
        def count(self) -> int:
            calls.append(1)
            return len(calls)

    settings = production_settings(VERMILION_MAX_BODY_BYTES=2_000)
    schema = strawberry.Schema(query=CountingQuery, extensions=protection_extensions(settings))
    async with serve(settings, lambda _: schema) as client:
        assert (await client.data("{ count }")) == {"count": 1}
        declared = await client.http.post(
            "/graphql", json={"query": "{ count }", "variables": {"pad": "x" * 2_000}}
        )

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"query": "{ count }", "variables": {"pad": "'
            for _ in range(5):
                yield b"x" * 500
            yield b'"}}'

        streamed = await client.http.post(
            "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.text == "Content Too Large"
    assert calls == [1]


async def test_the_default_body_cap_applies_to_the_real_app(client: GraphQLClient) -> None:
    too_big = {"query": "{ __typename }", "variables": {"pad": "x" * 1_000_001}}
    response = await client.http.post("/graphql", json=too_big)
    assert response.status_code == 413


# --- Caches --------------------------------------------------------------------------------------------


def cache_counts() -> list[tuple[int, int]]:
    """(hits, misses) of the parser cache and the validation cache the schema uses."""
    parsed = _get_parse_cache(CACHE_SIZE).cache_info()  # type: ignore[attr-defined]
    validated = ValidationResults.results
    return [(parsed.hits, parsed.misses), (validated.hits, validated.misses)]


async def test_repeated_operations_hit_the_parser_and_validation_caches(client: GraphQLClient) -> None:
    query = "query CacheProbe { probe: __typename }"
    await client.data(query)
    (parse_hits, _), (validate_hits, _) = cache_counts()
    await client.data(query)
    # A hit of the validation cache also proves the rules are the same classes on every request.
    assert [hits for hits, _ in cache_counts()] == [parse_hits + 1, validate_hits + 1]


async def test_large_operation_texts_are_not_cached(client: GraphQLClient) -> None:
    query = "{ __typename }" + " " * MAX_CACHED_QUERY_CHARS + "# large"
    before = cache_counts()
    for _ in range(2):
        assert (await client.data(query)) == {"__typename": "Query"}
    assert cache_counts() == before


# --- Production ----------------------------------------------------------------------------------------


def test_production_refuses_the_default_secret_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.delenv("VERMILION_SECRET_KEY", raising=False)
    monkeypatch.setenv("VERMILION_ENV", "production")
    with pytest.raises(pydantic.ValidationError, match="VERMILION_SECRET_KEY must be set"):
        create_app()
    with pytest.raises(pydantic.ValidationError, match="at least 32 characters"):
        Settings(VERMILION_ENV="production", VERMILION_SECRET_KEY="short-but-not-default")


async def test_production_refuses_introspection_but_answers_typename(production: GraphQLClient) -> None:
    assert (await production.data("{ __typename }")) == {"__typename": "Query"}
    schema = await production.execute("{ __schema { queryType { name } } }")
    assert schema.get("data") is None
    assert messages(schema)[0] == (
        "GraphQL introspection has been disabled, but the requested query contained the field '__schema'."
    )
    one_type = await production.execute('{ __type(name: "Query") { name } }')
    assert one_type.get("data") is None and len(messages(one_type)) == 1


async def test_production_gives_no_field_suggestions(
    client: GraphQLClient, production: GraphQLClient
) -> None:
    data = await client.data("{ __schema { queryType { fields { name } } } }")
    names = {field["name"] for field in data["__schema"]["queryType"]["fields"]}
    misspelt = next(iter(sorted(names))) + "x"
    assert misspelt not in names

    development = messages(await client.execute(f"{{ {misspelt} }}"))
    assert len(development) == 1 and "Did you mean" in development[0]  # the check below means something
    assert messages(await production.execute(f"{{ {misspelt} }}")) == [
        f"Cannot query field '{misspelt}' on type 'Query'."
    ]


async def test_production_masks_unexpected_errors_and_logs_them_once(
    tiny_production: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await tiny_production.http.post("/graphql", json={"query": "{ boom node { name } }"})
    body = response.json()
    assert body["data"] is None  # boom is non-null, so the error reaches the root
    assert body["errors"] == [
        {
            "message": MASKED_MESSAGE,
            "locations": [{"line": 1, "column": 3}],
            "path": ["boom"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "hunter2" not in response.text and set(body["extensions"]) == {"cost"}  # no request id, no SQL

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["vermilion.graphql"]
    (record,) = errors
    assert record.request_id == response.headers["X-Request-ID"]  # type: ignore[attr-defined]
    assert "hunter2" in record.getMessage() and "boom" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


async def test_production_shows_domain_errors_and_does_not_log_them(
    tiny_production: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = await tiny_production.execute("{ refused }")
    assert messages(body) == ["Only the owner can see this."]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_production_keeps_request_errors_readable(
    tiny_production: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert messages(await tiny_production.execute("{ node { nope } }")) == [
        "Cannot query field 'nope' on type 'Node'."
    ]
    assert messages(await tiny_production.execute("{ node { name }")) == [
        "Syntax Error: Expected Name, found <EOF>."
    ]
    wrong_int = await tiny_production.execute("query ($n: Int!) { double(n: $n) }", {"n": "three"})
    assert messages(wrong_int) == [
        "Variable '$n' has invalid value: Int cannot represent non-integer value: 'three'"
    ]
    wrong_date = await tiny_production.execute("query ($d: Date!) { weekday(d: $d) }", {"d": "someday"})
    assert messages(wrong_date)[0].startswith(
        "Variable '$d' has invalid value: Value cannot represent a Date: \"someday\"."
    )
    too_deep = await tiny_production.execute(nested(MAX_DEPTH + 1))
    assert messages(too_deep) == ["The operation is nested 13 fields deep; the limit is 12."]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_development_shows_unexpected_errors_and_logs_them(
    tiny: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = await tiny.execute("{ boom }")
    assert messages(body) == ["connection to db-primary:5432 failed, password=hunter2"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["vermilion.graphql"]
    assert errors[0].request_id == body["extensions"]["requestId"]  # type: ignore[attr-defined]
