"""The ASGI entry points and /healthz."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.conftest import TEST_SECRET, GraphQLClient


async def test_healthz_answers_when_the_database_does(client: GraphQLClient) -> None:
    response = await client.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


async def test_healthz_is_503_when_the_database_is_down(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unreachable:
        async def execute_query(self, sql: str) -> None:
            raise ConnectionRefusedError("database is down")

    monkeypatch.setattr("api.health.connections.get", lambda name: Unreachable())
    response = await client.http.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


def test_module_level_app_is_built_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import api.app as module

    monkeypatch.setenv("VERMILION_SECRET_KEY", TEST_SECRET)
    monkeypatch.delattr(module, "app", raising=False)
    built = module.app
    assert built.state.settings.secret_key == TEST_SECRET
    assert module.app is built


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValueError, match="VERMILION_SECRET_KEY"):
        Settings(VERMILION_ENV="production")


async def test_graphql_get_serves_queries_and_refuses_mutations(client: GraphQLClient) -> None:
    ok = await client.http.get("/graphql", params={"query": "{ __typename }"})
    assert ok.json()["data"] == {"__typename": "Query"}
    refused = await client.http.get(
        "/graphql", params={"query": 'mutation { boardCreate(input: {name: "x"}) { errors { code } } }'}
    )
    assert refused.status_code == 400  # mutations only over POST, so a link can never change data
    assert "mutation" in refused.text.lower()


async def test_cors_allows_configured_frontends_only(db: str) -> None:
    import httpx

    from api.app import create_app

    settings = Settings(
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ALLOWED_ORIGINS="https://app.example.com, https://m.example.com/",
    )
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        }
        allowed = await http.options("/graphql", headers={"Origin": "https://m.example.com", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://m.example.com"
        refused = await http.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400
        query = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://app.example.com"}
        )
        assert query.headers["access-control-allow-origin"] == "https://app.example.com"


@pytest.mark.parametrize(
    ("env", "allowed"),
    [
        pytest.param({}, True, id="development"),
        pytest.param({"VERMILION_ALLOW_LOCAL_ORIGINS": "false"}, False, id="development, turned off"),
        pytest.param({"VERMILION_ENV": "production"}, False, id="production"),
    ],
)
async def test_a_frontend_on_this_machine_is_allowed_in_development(
    db: str, env: dict[str, str], allowed: bool
) -> None:
    import httpx

    from api.app import create_app

    settings = Settings(VERMILION_SECRET_KEY=TEST_SECRET, **env)  # type: ignore[arg-type]
    app = create_app(settings, manage_database=False)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        answers = [
            await http.options("/graphql", headers={"Origin": origin, **preflight})
            for origin in ("http://localhost:3000", "http://127.0.0.1:5173")
        ]
        stranger = await http.options(
            "/graphql", headers={"Origin": "http://localhost.evil.example", **preflight}
        )

    for answer in answers:
        assert (answer.status_code == 200) is allowed
        assert (answer.headers.get("access-control-allow-origin") is not None) is allowed
    assert stranger.status_code == 400
