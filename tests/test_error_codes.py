"""One error model for clients: every top-level error carries `extensions.code`, and an argument at fault
is named in `extensions.argumentPath` — syntax, validation, variables, arguments, tokens alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient

DEEP = "{ a { b { c { d { e { f { g { h { i { j { k { l { m } } } } } } } } } } } } }"


@pytest.mark.parametrize(
    ("query", "variables", "code", "argument"),
    [
        pytest.param("{ viewer { ", {}, "GRAPHQL_PARSE_FAILED", None, id="a syntax error"),
        pytest.param("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED", None, id="an unknown field"),
        pytest.param(DEEP, {}, "GRAPHQL_VALIDATION_FAILED", None, id="too deep"),
        pytest.param(
            "query($n: Int!) { trendingTopics(first: $n) { name } }",
            {"n": "ten"},
            "BAD_USER_INPUT",
            None,
            id="a variable of the wrong type",
        ),
        pytest.param(
            "{ trendingTopics(first: 500) { name } }", {}, "OUT_OF_RANGE", ["first"], id="first out of range"
        ),
        pytest.param(
            '{ discoverFeed(first: 5, after: "forged") { edges { cursor } } }',
            {},
            "INVALID",
            ["after"],
            id="a bad cursor",
        ),
        pytest.param(
            'subscription { noteLikeCount(noteId: "Tm90ZTox") { likeCount } }',
            {},
            "BAD_REQUEST",
            None,
            id="a subscription over plain HTTP",
        ),
    ],
)
async def test_every_top_level_error_has_a_code(
    client: GraphQLClient, query: str, variables: dict[str, Any], code: str, argument: list[str] | None
) -> None:
    response = await client.http.post("/graphql", json={"query": query, "variables": variables})

    errors = response.json()["errors"]
    assert errors, response.text
    assert all(error.get("extensions", {}).get("code") for error in errors), errors
    assert errors[0]["extensions"]["code"] == code
    assert errors[0]["extensions"].get("argumentPath") == argument


async def test_a_garbage_bearer_token_is_refused_not_served_anonymously(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", json={"query": "{ trendingTopics { name } }"}, headers={"Authorization": "Bearer garbage"}
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
