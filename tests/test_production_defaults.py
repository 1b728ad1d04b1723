"""Production defaults: no GraphiQL unless asked for, no published signing key, and a container image and
compose file fit to run (no dev tools, non-root, health-checked, pinned, restarted, no secret fallback).

Docker does not run in the test environment, so the Dockerfile and docker-compose.yml are checked as text
and YAML, and the image's dependency set is computed from the same sources its build uses."""

from __future__ import annotations

import json
import os
import random
import re
import string
import subprocess
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from api.app import create_app
from api.graphiql import ASSET_PREFIX, VENDORED_ASSETS
from core.settings import DEFAULT_SECRET_KEY, PUBLISHED_SECRET_KEYS, Settings, secret_key_problem
from tests.conftest import DATABASE_URL, TEST_SECRET
from tests.test_cli import COMMAND

ROOT = Path(__file__).resolve().parent.parent
# The value docker-compose.yml once fell back to when VERMILION_SECRET_KEY was unset: public, so refused.
OLD_COMPOSE_FALLBACK = "change-me-to-a-long-random-string-of-32-chars+"
# A key as `secrets.token_urlsafe(36)` makes one (48 characters), drawn from a fixed seed.
RANDOM_KEY = "".join(random.Random(11).choices(string.ascii_letters + string.digits + "-_", k=48))


@pytest.fixture(autouse=True)
def _no_graphiql_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERMILION_GRAPHIQL", raising=False)


def _settings(env: str, **overrides: Any) -> Settings:
    values = {"VERMILION_DATABASE_URL": DATABASE_URL, "VERMILION_SECRET_KEY": TEST_SECRET, **overrides}
    return Settings(_env_file=None, VERMILION_ENV=env, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def _browser(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


async def _open_graphql_in_a_browser(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/graphql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})


# --- GraphiQL ------------------------------------------------------------------------------------------


async def test_production_serves_no_graphiql_page_and_no_assets(db: str) -> None:
    async with _browser(_settings("production")) as http:
        page = await _open_graphql_in_a_browser(http)
        # The documented answer: 404 Not Found, as plain text, not the IDE.
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/plain")
        assert "graphiql" not in page.text.lower()
        for asset in VENDORED_ASSETS:
            response = await http.get(ASSET_PREFIX + asset)
            assert response.status_code == 404, asset
        # GET queries themselves still work; only the IDE is gone.
        query = await http.get(
            "/graphql", params={"query": "{ __typename }"}, headers={"Accept": "text/html"}
        )
        assert query.status_code == 200
        assert query.json()["data"] == {"__typename": "Query"}


async def test_production_serves_graphiql_when_asked_to(db: str) -> None:
    async with _browser(_settings("production", VERMILION_GRAPHIQL="true")) as http:
        page = await _open_graphql_in_a_browser(http)
        assert page.status_code == 200
        assert 'id="graphiql"' in page.text
        asset = await http.get(ASSET_PREFIX + VENDORED_ASSETS[0])
        assert asset.status_code == 200 and asset.content


async def test_development_serves_graphiql_unless_turned_off(db: str) -> None:
    async with _browser(_settings("development")) as http:
        page = await _open_graphql_in_a_browser(http)
        assert page.status_code == 200 and 'id="graphiql"' in page.text
        assert (await http.get(ASSET_PREFIX + VENDORED_ASSETS[-1])).status_code == 200
    async with _browser(_settings("development", VERMILION_GRAPHIQL="false")) as http:
        assert (await _open_graphql_in_a_browser(http)).status_code == 404
        assert (await http.get(ASSET_PREFIX + VENDORED_ASSETS[-1])).status_code == 404


def test_graphiql_setting_defaults_by_environment() -> None:
    assert _settings("development").graphiql is True
    assert _settings("production").graphiql is False
    assert _settings("production", VERMILION_GRAPHIQL="true").graphiql is True


# --- The signing key -----------------------------------------------------------------------------------


@pytest.mark.parametrize("known", sorted(PUBLISHED_SECRET_KEYS | {OLD_COMPOSE_FALLBACK}))
def test_production_refuses_each_published_secret_key(known: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="must be set to a private value"):
        _settings("production", VERMILION_SECRET_KEY=known)


@pytest.mark.parametrize(
    "variant",
    [
        "VERMILION_DEVELOPMENT_SECRET_CHANGE_ME",  # the default, re-cased and re-punctuated
        "Change-Me-To-A-Long-Random-String-Of-32-Chars",
        "please-change-me-before-deploying-this-to-production",
        "replace_me_with_a_long_random_string_of_characters",
        "",
    ],
)
def test_production_refuses_placeholders_however_written(variant: str) -> None:
    assert secret_key_problem(variant) is not None
    with pytest.raises(pydantic.ValidationError, match="private value"):
        _settings("production", VERMILION_SECRET_KEY=variant)


@pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("k7#Qz9!x", "at least 32 characters"),
        (RANDOM_KEY[:31], "at least 32 characters"),
        ("a" * 64, "too easy to guess"),
        ("ab" * 20, "too easy to guess"),
        ("0123456789" * 4, "too easy to guess"),
        ("Xy7-Xy7-Xy7-Xy7-Xy7-Xy7-Xy7-Xy7-Xy7-", "too easy to guess"),
        ("1122334455667711223344556677", "at least 32 characters"),
        ("12345671234567123456712345671234567", "too easy to guess"),
    ],
)
def test_production_refuses_short_or_low_entropy_keys(weak: str, reason: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=reason):
        _settings("production", VERMILION_SECRET_KEY=weak)


def test_production_accepts_a_random_key_and_says_how_to_make_one() -> None:
    assert len(RANDOM_KEY) == 48
    assert _settings("production", VERMILION_SECRET_KEY=RANDOM_KEY).secret_key == RANDOM_KEY
    assert secret_key_problem("9f86d081884c7d659a2feaa0c55ad015") is None  # 32 hex characters
    with pytest.raises(pydantic.ValidationError, match=r"secrets\.token_urlsafe"):
        _settings("production", VERMILION_SECRET_KEY=DEFAULT_SECRET_KEY)


def test_server_refuses_to_start_with_the_old_compose_fallback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "STRIPE_"))}
    env |= {
        "VERMILION_ENV": "production",
        "VERMILION_SECRET_KEY": OLD_COMPOSE_FALLBACK,
        "VERMILION_DATABASE_URL": f"sqlite://{tmp_path / 'never.sqlite3'}",
    }
    started = subprocess.run(
        [*COMMAND, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert started.returncode == 1
    assert "must be set to a private value" in started.stderr
    assert started.stderr.strip().count("\n") == 0  # one line, no traceback
    assert not (tmp_path / "never.sqlite3").exists()


def test_development_keeps_its_default_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERMILION_SECRET_KEY", raising=False)
    assert Settings(_env_file=None, VERMILION_ENV="development").secret_key == DEFAULT_SECRET_KEY  # type: ignore[call-arg]


# --- Dockerfile ----------------------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation line"
    return [(word.upper(), rest.strip()) for word, _, rest in (entry.partition(" ") for entry in logical)]


def _stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in instructions:
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _requirements_in(pyproject: dict[str, Any], key: str) -> list[Requirement]:
    if key == "runtime":
        return [Requirement(r) for r in pyproject["project"]["dependencies"]]
    return [Requirement(r) for r in pyproject["project"]["optional-dependencies"][key]]


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.strip().partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def _closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution that installing `requirements` brings in, from the installed metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    todo = [(canonicalize_name(r.name), frozenset(r.extras)) for r in requirements]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        names.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            pytest.fail(f"{name} is required at run time but is not installed from requirements.lock")
        for text in requires:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras}
            )
            if wanted:
                todo.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return names


def test_image_installs_the_runtime_set_only_pinned_by_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    runs = [args for word, args in _instructions(ROOT / "Dockerfile") if word == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    # The runtime set comes from [project].dependencies, each package held to the lock's pin.
    assert "['project']['dependencies']" in dockerfile
    assert any("-c requirements.lock" in run for run in installs)
    # Never the dev extra, never the whole lock (which pins the dev tools too).
    assert "[dev]" not in dockerfile
    assert not any(re.search(r"-r\s+requirements\.lock", run) for run in installs)
    assert not any(re.search(r"\s-e\s", run) for run in installs), "an editable install needs the sources"

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = _closure(_requirements_in(pyproject, "runtime"))
    lock = _lock()
    assert runtime - set(lock) == set(), "a runtime package is not pinned by requirements.lock"
    dev_tools = {canonicalize_name(r.name) for r in _requirements_in(pyproject, "dev")}
    # httpx is also the Stripe SDK's async HTTP client (stripe[async]); every other dev tool stays out.
    assert runtime & dev_tools == {"httpx"}
    assert {"pytest", "mypy", "ruff", "playwright", "localstripe", "schemathesis"} <= set(lock) - runtime


def test_image_runs_as_a_non_root_user_from_a_slim_final_stage() -> None:
    stages = _stages(_instructions(ROOT / "Dockerfile"))
    assert len(stages) >= 2, "a multi-stage build: tools and sources stay in the build stage"
    final = stages[-1]
    base = final[0][1]
    assert "AS" not in base.upper().split(), "the final stage is the last, unnamed one"
    copies = [args for word, args in final if word == "COPY"]
    assert copies and all(args.startswith("--from=") for args in copies), copies
    users = [args for word, args in final if word == "USER"]
    assert users, "the final stage sets a USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # Nothing after USER switches back to root.
    after_user = final[[word for word, _ in final].index("USER") :]
    assert not any(word == "USER" and args.split(":")[0] in {"root", "0"} for word, args in after_user)


def test_image_base_is_pinned_to_a_patch_release() -> None:
    instructions = _instructions(ROOT / "Dockerfile")
    arguments = {}
    for word, args in instructions:
        if word == "ARG" and "=" in args:
            name, _, value = args.partition("=")
            arguments[name] = value
    for _, args in (i for i in instructions if i[0] == "FROM"):
        image = args.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], image)
        assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", image), image


def test_image_health_check_asks_healthz_with_python_and_stops_on_sigterm() -> None:
    final = _stages(_instructions(ROOT / "Dockerfile"))[-1]
    checks = [args for word, args in final if word == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD")
    assert "--interval=" in options and "--timeout=" in options and "--start-period=" in options
    argv = json.loads(command)  # the exec form
    assert argv[:2] == ["python", "-c"], "slim images have no curl"
    assert "http://127.0.0.1:8000/healthz" in argv[2]
    compile(argv[2], "HEALTHCHECK", "exec")
    assert dict(final)["STOPSIGNAL"] == "SIGTERM"
    assert dict(final)["EXPOSE"] == "8000"
    cmd = " ".join(json.loads(dict(final)["CMD"]))
    # The server replaces the shell (exec), so SIGTERM reaches uvicorn; it listens where the check asks.
    assert "exec vermilion serve" in cmd and "--port 8000" in cmd


def test_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()}
    assert {".env", ".git", ".venv", "data"} <= ignored


# --- docker-compose.yml --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_services_restart_and_use_pinned_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"app", "worker", "postgres", "redis", "minio", "minio-bucket"}
    for name, service in services.items():
        if name == "minio-bucket":  # a one-shot set-up step: it must end, not restart
            assert "restart" not in service
            continue
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}, name
    assert re.fullmatch(r"postgres:15\.\d+-[a-z0-9.]+", services["postgres"]["image"])
    assert re.fullmatch(r"redis:7\.\d+\.\d+-[a-z0-9.]+", services["redis"]["image"])
    assert re.fullmatch(r"minio/minio:RELEASE\.[0-9TZ-]+", services["minio"]["image"])
    assert re.fullmatch(r"minio/mc:RELEASE\.[0-9TZ-]+", services["minio-bucket"]["image"])
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "latest" not in text
    assert "build" in services["app"]


def test_compose_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "app", "minio"):
        assert services[name]["healthcheck"]["test"], name
    assert services["app"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "minio-bucket": {"condition": "service_completed_successfully"},
    }
    assert "/healthz" in " ".join(services["app"]["healthcheck"]["test"])


def test_compose_requires_the_secret_and_runs_as_production(compose: dict[str, Any]) -> None:
    environment = compose["services"]["app"]["environment"]
    secret = environment["VERMILION_SECRET_KEY"]
    # `${VAR:?message}`: compose refuses to start when it is unset or empty; no `:-` fallback.
    assert re.fullmatch(r"\$\{VERMILION_SECRET_KEY:\?[^}]+\}", secret), secret
    assert OLD_COMPOSE_FALLBACK not in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert environment["VERMILION_ENV"] == "${VERMILION_ENV:-production}"
    assert environment["VERMILION_GRAPHIQL"] == "${VERMILION_GRAPHIQL:-false}"


def test_compose_gives_shutdown_time_to_finish(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert app["stop_signal"] == "SIGTERM"
    grace = re.fullmatch(r"(\d+)s", app["stop_grace_period"])
    assert grace, app["stop_grace_period"]
    in_flight = Settings.model_fields["shutdown_timeout_seconds"].default
    # Requests in flight get their time, then the bounded clean-up; Docker's SIGKILL must come after both.
    assert int(grace.group(1)) >= in_flight + 15
