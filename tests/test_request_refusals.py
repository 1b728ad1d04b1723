"""A refusal of the whole request (`core.errors.RequestRefused`) reaches the client as a top-level error with
`extensions.code` and its data, and sets the HTTP status and headers."""

from __future__ import annotations

import pytest

from core.errors import RequestCode, RequestRefused
from social import policy
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up


async def test_a_refusal_raised_while_resolving_sets_code_status_and_headers(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    author = await sign_up(client, "ann")
    note = await create_note(client, author["token"], title="一杯咖啡")

    async def refuse(viewer_id: int | None) -> policy.Audience:
        refusal = RequestRefused(RequestCode.RATE_LIMITED, "Slow down.", http_status=429, retryAfterSeconds=7)
        refusal.headers["Retry-After"] = "7"
        raise refusal

    monkeypatch.setattr(policy, "audience_for", refuse)
    response = await client.http.post(
        "/graphql",
        json={"query": "query($id: ID!) { note(id: $id) { title } }", "variables": {"id": note["id"]}},
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    [error] = response.json()["errors"]
    assert error["message"] == "Slow down."
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": 7}


async def test_an_ordinary_request_keeps_status_200(client: GraphQLClient) -> None:
    response = await client.http.post("/graphql", json={"query": "{ viewer { id } }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": None}
