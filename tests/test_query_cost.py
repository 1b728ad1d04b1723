"""Query cost (Shopify's model): the calculator on a table of documents, and through the HTTP API the
QUERY_TOO_COSTLY refusal before execution and `extensions.cost` on every response."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    parse,
)

from api.app import create_app
from core.settings import Settings
from schema import build_schema
from schema.cost import ARGUMENT_BOUNDS, ELEMENT_BOUNDS, LIST_BOUNDS, PAGE_LISTS, operation_cost
from schema.throttle import WRITE_POINTS, PlanCache, RequestBudgets
from tests.conftest import DATABASE_URL, TEST_SECRET, GraphQLClient
from tests.factories import sign_up

# The README's "Trying the API" feed query, verbatim.
README_QUERY = """{
  viewer { handle followingCount }
  followingFeed(first: 10) {
    edges { node { id title language author { displayName } topics { name }
                   products { title price { amount currency } }
                   comments(first: 3) { edges { node { body author { handle } } } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# The anonymous 200-byte query that took a worker down (issue: minutes of work, 560 MB).
TOPIC_BOMB = (
    '{topic(name:"家居"){notes(first:100){nodes{topics{notes(first:100){nodes{topics{notes(first:100)'
    "{nodes{id title}}}}}}}}}}"
)
# A ~200-byte query of the kind that ran 2,223 SQL statements: pages nested in pages.
NESTED_PAGES = (
    "{followingFeed(first:100){nodes{author{notes(first:100){nodes{comments(first:100){nodes{"
    "replies(first:100){nodes{author{handle}}}}}}}}}}}"
)


@pytest.fixture(scope="module")
def graphql_schema() -> GraphQLSchema:
    return build_schema(Settings(VERMILION_SECRET_KEY=TEST_SECRET))._schema


def cost(schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None) -> int:
    return operation_cost(schema, parse(query), None, variables)


NOTE_FIELDS = "topics { name } products { title variants { sku } } media { url }"

COSTS = [
    pytest.param("{ __typename }", None, 1, id="an operation costs at least 1"),
    pytest.param("{ viewer { id handle followerCount } }", None, 1, id="an object with scalars"),
    pytest.param("{ viewer { notes { nodes { id } } } }", None, 1 + 1 + 20, id="first absent: 20"),
    pytest.param(
        "{ viewer { notes(first: 5) { edges { cursor node { id author { id } } } pageInfo { hasNextPage } } } }",
        None,
        1 + 1 + 1 + 5 * 2,
        id="connection: itself, pageInfo, first x item (edge wrappers free)",
    ),
    pytest.param(
        "query($n: Int) { followingFeed(first: $n) { nodes { id } } }", {"n": 7}, 1 + 7, id="variable"
    ),
    pytest.param(
        "query($n: Int) { followingFeed(first: $n) { nodes { id } } }", {}, 1 + 20, id="variable absent"
    ),
    pytest.param(
        "query($n: Int = 4) { followingFeed(first: $n) { nodes { id } } }",
        {},
        1 + 4,
        id="variable default",
    ),
    pytest.param(
        "query($n: Int = 4) { followingFeed(first: $n) { nodes { id } } }",
        {"n": None},
        1 + 20,
        id="variable null: the field's default",
    ),
    pytest.param(
        "query($n: Int) { followingFeed(first: $n) { nodes { id } } }",
        {"n": 5000},
        1 + 100,
        id="first beyond 100 priced at 100 (the resolver refuses it)",
    ),
    pytest.param(
        "{ followingFeed(first: -3) { nodes { id } } }", None, 1, id="negative first priced at 0 items"
    ),
    pytest.param(
        f'{{ note(id: "x") {{ {NOTE_FIELDS} }} }}',
        None,
        1 + 10 + 10 * (1 + 50) + 18,
        id="plain lists: topics 10, products 10, variants 50, media 18",
    ),
    pytest.param(
        "fragment N on Note { author { id } topics { id } }"
        " { followingFeed(first: 2) { nodes { ...N } edges { node { ...N } } } }",
        None,
        1 + 2 * (1 + 1 + 10) * 2,
        id="fragments expanded where spread",
    ),
    pytest.param(
        '{ search(query: "x", first: 3) { nodes { ... on Note { author { id } } '
        "... on Product { variants { id } } ... on User { id } } } }",
        None,
        1 + 3 * (1 + 50),
        id="union: the most expensive member",
    ),
    pytest.param(
        '{ node(id: "x") { id ... on Note { topics { id } } ... on Product { merchant { id } } } }',
        None,
        1 + 10,
        id="interface: the most expensive member",
    ),
    pytest.param(
        'fragment P on Product { variants { id } } { node(id: "x") { ...P } }',
        None,
        1 + 50,
        id="a fragment on one member of an interface",
    ),
    pytest.param('{ topic(name: "x") { history { uses } } }', None, 1 + 30, id="argument bound default"),
    pytest.param('{ topic(name: "x") { history(days: 900) { uses } } }', None, 1 + 365, id="argument max"),
    pytest.param("{ trendingTopics(first: 3) { name } }", None, 3, id="trendingTopics(first)"),
    pytest.param("{ __schema { types { name fields { name } } } }", None, 1, id="introspection is free"),
    pytest.param(
        'mutation { noteLike(noteId: "x") { note { id } errors { code } } }',
        None,
        1 + 1 + 10,
        id="mutation payloads priced like queries",
    ),
    pytest.param(
        '{ user(handle: "x") { notes(last: 100) { nodes { id } } } }', None, 1 + 1 + 100, id="last: 100"
    ),
    pytest.param(
        'query($n: Int) { user(handle: "x") { notes(last: $n, before: "c") { nodes { id } } } }',
        {"n": 70},
        1 + 1 + 70,
        id="last from a variable",
    ),
    pytest.param(
        '{ user(handle: "x") { notes(last: 5) { nodes { id } } } }',
        None,
        1 + 1 + 5,
        id="last: 5, not the default",
    ),
    pytest.param(
        '{ user(handle: "x") { notes(first: 10, last: 90) { nodes { id } } } }',
        None,
        1 + 1 + 90,
        id="first and last: the larger",
    ),
    pytest.param(README_QUERY, None, 1 + 1 + 1 + 10 * (1 + 1 + 10 + 10 * 2 + 1 + 3 * 2), id="README"),
]


@pytest.mark.parametrize(("query", "variables", "expected"), COSTS)
def test_costs(graphql_schema: GraphQLSchema, query: str, variables: Any, expected: int) -> None:
    assert cost(graphql_schema, query, variables) == expected


def test_the_readme_feed_query_costs_well_under_the_budget(graphql_schema: GraphQLSchema) -> None:
    assert cost(graphql_schema, README_QUERY) == 393
    assert cost(graphql_schema, README_QUERY) < Settings().query_cost_budget / 2


def test_the_attack_queries_cost_far_more_than_the_budget(graphql_schema: GraphQLSchema) -> None:
    # topic, its page, 100 notes × (the note, 10 topics × (the topic, its page, 100 notes × (…)))
    assert cost(graphql_schema, TOPIC_BOMB) == 2 + 100 * (1 + 10 * (2 + 100 * (1 + 10 * (2 + 100))))
    assert cost(graphql_schema, NESTED_PAGES) > 100 * Settings().query_cost_budget


def test_a_fragment_spread_many_times_counts_once_as_execution_merges_it(
    graphql_schema: GraphQLSchema,
) -> None:
    # 2^40 copies of `viewer` once expanded, merged by execution into one: planned in 41 small steps.
    fragments = "\n".join(f"fragment f{i} on Query {{ ...f{i + 1} ...f{i + 1} }}" for i in range(40))
    query = "{ ...f0 }\n" + fragments + "\nfragment f40 on Query { viewer { notes { nodes { id } } } }"
    assert cost(graphql_schema, query) == 1 + 1 + 20


def test_fields_under_one_response_key_count_once(graphql_schema: GraphQLSchema) -> None:
    merged = "{ viewer { notes { nodes { id } } } viewer { notes { nodes { title } } } }"
    aliased = "{ a: viewer { notes { nodes { id } } } b: viewer { notes { nodes { title } } } }"
    assert cost(graphql_schema, merged) == 22
    assert cost(graphql_schema, aliased) == 44
    # Merged selections add up: topics from one copy, products from the other.
    both = '{ note(id: "x") { topics { id } } note(id: "x") { products { id } } }'
    assert cost(graphql_schema, both) == 1 + 10 + 10


def test_a_long_fragment_chain_does_not_exhaust_the_stack(graphql_schema: GraphQLSchema) -> None:
    chain = "\n".join(f"fragment f{i} on Query {{ ...f{i + 1} }}" for i in range(3000))
    query = "{ ...f0 }\n" + chain + "\nfragment f3000 on Query { viewer { notes { nodes { id } } } }"
    assert cost(graphql_schema, query) == 1 + 1 + 20


def test_the_named_operation_is_priced(graphql_schema: GraphQLSchema) -> None:
    document = parse("query A { viewer { id } } query B { followingFeed { nodes { id } } }")
    assert operation_cost(graphql_schema, document, "A") == 1
    assert operation_cost(graphql_schema, document, "B") == 21


def test_every_list_of_objects_has_a_decided_bound(graphql_schema: GraphQLSchema) -> None:
    """A new list field must say how many items it can hold (LIST_BOUNDS, ARGUMENT_BOUNDS, ELEMENT_BOUNDS),
    or be the edges/nodes of a connection; otherwise it is priced as a full page of 100."""
    undecided: list[str] = []
    for name, named in graphql_schema.type_map.items():
        if name.startswith("__") or not isinstance(named, GraphQLObjectType):
            continue
        for field_name, field in named.fields.items():
            kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            element = get_named_type(kind)
            if not isinstance(kind, GraphQLList) or element is None or is_leaf_type(element):
                continue
            coordinate = f"{name}.{field_name}"
            decided = (
                coordinate in LIST_BOUNDS
                or coordinate in ARGUMENT_BOUNDS
                or element.name in ELEMENT_BOUNDS
                or (name.endswith("Connection") and field_name in PAGE_LISTS)
            )
            if not decided:
                undecided.append(coordinate)
    assert undecided == []


def test_every_mutation_has_write_points(graphql_schema: GraphQLSchema) -> None:
    mutation = graphql_schema.mutation_type
    assert mutation is not None
    assert sorted(set(mutation.fields) - set(WRITE_POINTS)) == []


# --- Through the API -------------------------------------------------------------------------------------


def default_limits_settings(**overrides: Any) -> Settings:
    """The production figures of the cost budget and rate limits (not the test suite's generous ones)."""
    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=None,
        **overrides,
    )


@pytest.fixture
async def api(db: str) -> AsyncIterator[GraphQLClient]:
    app = create_app(default_limits_settings(), manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app)


async def post(client: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
    return await client.http.post("/graphql", json={"query": query, "variables": variables or {}})


@pytest.mark.parametrize("query", [TOPIC_BOMB, NESTED_PAGES], ids=["topic bomb", "nested pages"])
async def test_the_attack_queries_are_refused_before_execution(
    api: GraphQLClient, graphql_schema: GraphQLSchema, query: str
) -> None:
    response = await post(api, query)

    body = response.json()
    expected = cost(graphql_schema, query)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": expected, "budget": 1000}
    assert "at most 1000" in error["message"]
    # Nothing ran: not one SQL statement, and the bucket was not charged.
    assert body["extensions"]["sqlStatements"] == 0
    cost_report = body["extensions"]["cost"]
    assert cost_report["requestedQueryCost"] == expected
    assert cost_report["actualQueryCost"] == 0
    assert cost_report["throttleStatus"]["currentlyAvailable"] == 2000


async def test_a_variable_decides_whether_the_query_fits(api: GraphQLClient) -> None:
    query = "query($n: Int) { followingFeed(first: $n) { nodes { products { variants { id } } } } }"

    refused = (await post(api, query, {"n": 2})).json()
    accepted = (await post(api, query, {"n": 1})).json()

    assert refused["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "cost": 1 + 2 * 511,
        "budget": 1000,
    }
    assert accepted["data"] == {"followingFeed": {"nodes": []}}
    assert (
        accepted["extensions"]["cost"]["requestedQueryCost"] == 1 + 511
    )  # a note: itself and 10 × (product, 50 variants)


async def test_the_budget_is_a_setting(db: str) -> None:
    app = create_app(default_limits_settings(VERMILION_QUERY_COST_BUDGET=20), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        client = GraphQLClient(http, app)
        over = (await post(client, "{ followingFeed { nodes { id } } }")).json()
        within = (await post(client, "{ followingFeed(first: 19) { nodes { id } } }")).json()
    assert over["errors"][0]["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 21, "budget": 20}
    assert "errors" not in within


async def test_the_readme_feed_query_runs_and_reports_its_cost(api: GraphQLClient) -> None:
    user = await sign_up(api, "reader")

    body = await api.execute(README_QUERY, token=user["token"])

    assert "errors" not in body, body["errors"]
    assert body["data"]["viewer"]["handle"] == "reader"
    assert body["extensions"]["cost"] == {
        "requestedQueryCost": 393,
        "actualQueryCost": 393,
        # The bucket is charged the requested cost: it held 2000, and restores 100/s signed in.
        "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 2000 - 393, "restoreRate": 100},
    }


@pytest.mark.parametrize(
    ("query", "requested"),
    [
        pytest.param("{ viewer { id } }", 1, id="a query"),
        pytest.param(
            'mutation { signIn(input: {email: "a@b.co", password: "x"}) { token } }', 1, id="mutation"
        ),
        pytest.param("{ viewer { id ", 0, id="a syntax error"),
        pytest.param("{ viewer { nope } }", 0, id="a validation error"),
    ],
)
async def test_every_response_carries_the_cost(api: GraphQLClient, query: str, requested: int) -> None:
    response = await post(api, query)

    cost_report = response.json()["extensions"]["cost"]
    assert cost_report["requestedQueryCost"] == requested
    assert cost_report["actualQueryCost"] == requested
    assert cost_report["throttleStatus"]["maximumAvailable"] == 2000
    assert cost_report["throttleStatus"]["restoreRate"] == 50  # anonymous
    assert cost_report["throttleStatus"]["currentlyAvailable"] == 2000 - requested


async def test_costs_are_planned_once_per_document(api: GraphQLClient) -> None:
    view = next(route for route in api.app.routes if getattr(route, "path", None) == "/graphql").endpoint
    factory = next(e for e in view.schema.extensions if isinstance(e, partial) and e.func is RequestBudgets)
    plans: PlanCache = factory.keywords["plans"]
    query = "query PlanProbe { viewer { id } }"
    await post(api, query)
    misses, hits = plans.misses, plans.hits

    await post(api, query)

    assert (plans.misses, plans.hits) == (misses, hits + 1)
