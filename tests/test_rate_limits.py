"""Rate limits through the HTTP API: the cost bucket, write budgets, sign-in / sign-up / password-reset
throttles (per email, per IP behind trusted proxies, IPv6 per /64), on memory storage and on Redis
shared by two app instances (two workers)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from api.app import create_app
from core.settings import Settings
from tests.conftest import DATABASE_URL, TEST_SECRET, GraphQLClient
from tests.factories import create_note, sign_up

REDIS_URL = os.environ.get("VERMILION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SIGN_IN = """mutation($email: String!, $password: String!) {
  signIn(input: {email: $email, password: $password}) { token errors { code } }
}"""
SIGN_UP = """mutation($email: String!, $handle: String!) {
  signUp(input: {email: $email, password: "correct horse", handle: $handle}) { token errors { code } }
}"""
PAGE_OF_39 = "{ followingFeed(first: 39) { nodes { id } } }"  # costs 40


def limits(**overrides: Any) -> Settings:
    """Production figures except `overrides`, counted under a prefix of this test's own."""
    return Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        STRIPE_API_KEY=None,
        VERMILION_RATE_LIMIT_PREFIX=uuid.uuid4().hex,
        **overrides,
    )


@asynccontextmanager
async def connect(app: Any, peer: str) -> AsyncIterator[GraphQLClient]:
    """A client of `app` whose requests come from the socket address `peer`."""
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http, app)


@asynccontextmanager
async def serve(settings: Settings, peer: str = "127.0.0.1") -> AsyncIterator[GraphQLClient]:
    """A client of a fresh app (a worker of its own), from `peer`."""
    app = create_app(settings, manage_database=False)
    async with connect(app, peer) as client:
        yield client
    await app.state.rate_limiter.close()


async def post(
    client: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    forwarded_for: str | None = None,
) -> httpx.Response:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return await client.http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def assert_rate_limited(response: httpx.Response) -> int:
    """The refusal's retry time, after checking its shape: 429, Retry-After, RATE_LIMITED."""
    assert response.status_code == 429, response.text
    [error] = response.json()["errors"]
    retry = error["extensions"]["retryAfterSeconds"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": retry}
    assert isinstance(retry, int) and retry >= 1
    assert response.headers["Retry-After"] == str(retry)
    return retry


async def sign_in(client: GraphQLClient, email: str, password: str, ip: str | None = None) -> httpx.Response:
    return await post(client, SIGN_IN, {"email": email, "password": password}, forwarded_for=ip)


# --- The cost bucket -------------------------------------------------------------------------------------


async def test_the_cost_bucket_refuses_a_client_that_spent_it(db: str) -> None:
    settings = limits(VERMILION_COST_BUCKET_SIZE=100, VERMILION_COST_RESTORE_RATE_ANONYMOUS=1)
    async with serve(settings) as client:
        first, second, third = [await post(client, PAGE_OF_39) for _ in range(3)]
        user = await sign_up(client, "ann")  # a signed-in user has a bucket of their own
        signed_in = await post(client, PAGE_OF_39, token=user["token"])

    available = [
        r.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for r in (first, second)
    ]
    assert 60 <= available[0] <= 61 and 20 <= available[1] <= 21
    assert first.json()["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 1
    assert assert_rate_limited(third) <= 100
    assert third.json()["data"] is None
    assert third.json()["extensions"]["cost"]["actualQueryCost"] == 0
    assert signed_in.status_code == 200
    assert signed_in.json()["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 100


# --- Write budgets ---------------------------------------------------------------------------------------


async def test_mutations_draw_on_the_write_budget_by_their_points(db: str) -> None:
    async with serve(limits(VERMILION_WRITE_LIMITS="4/hour")) as client:
        author = await sign_up(client, "ann")  # sign-up costs no write points
        note = await create_note(client, author["token"])  # a create: 3 of 4
        second = await post(
            client,
            'mutation { noteCreate(input: {title: "again"}) { note { id } errors { code } } }',
            token=author["token"],
        )
        like = await post(
            client,
            "mutation($id: ID!) { noteLike(noteId: $id) { note { likeCount } errors { code } } }",
            {"id": note["id"]},
            token=author["token"],
        )

    assert_rate_limited(second)
    assert like.status_code == 200 and like.json()["data"]["noteLike"]["note"]["likeCount"] == 1


# --- Sign-in, sign-up and password reset -----------------------------------------------------------------


async def test_sign_in_is_throttled_per_email_across_addresses(db: str) -> None:
    settings = limits(VERMILION_TRUSTED_PROXIES="127.0.0.1", VERMILION_SIGN_IN_LIMITS_PER_EMAIL="3/5minutes")
    async with serve(settings) as client:
        await sign_up(client, "ann")
        wrong = [await sign_in(client, "ann@example.com", "guess", f"198.51.100.{i}") for i in range(3)]
        # The right password from yet another address: the email is throttled, whoever asks.
        right = await sign_in(client, "ANN@example.com", "correct horse", "198.51.100.99")
        other = await sign_in(client, "bob@example.com", "guess", "198.51.100.1")

    assert [r.json()["data"]["signIn"]["errors"] for r in wrong] == [[{"code": "INVALID_CREDENTIALS"}]] * 3
    assert assert_rate_limited(right) <= 300
    assert other.status_code == 200 and other.json()["data"]["signIn"]["errors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]


async def test_sign_in_is_throttled_per_address_across_emails(db: str) -> None:
    settings = limits(VERMILION_TRUSTED_PROXIES="127.0.0.1", VERMILION_SIGN_IN_LIMITS_PER_IP="3/5minutes")
    async with serve(settings) as client:
        tries = [await sign_in(client, f"u{i}@example.com", "guess", "203.0.113.5") for i in range(4)]
        elsewhere = await sign_in(client, "u9@example.com", "guess", "203.0.113.6")

    assert [r.status_code for r in tries[:3]] == [200, 200, 200]
    assert_rate_limited(tries[3])
    assert elsewhere.status_code == 200


async def test_x_forwarded_for_from_an_untrusted_peer_changes_nothing(db: str) -> None:
    async with serve(limits(VERMILION_SIGN_IN_LIMITS_PER_IP="2/5minutes")) as client:
        tries = [await sign_in(client, f"u{i}@example.com", "guess", f"203.0.113.{i}") for i in range(3)]

    assert [r.status_code for r in tries] == [200, 200, 429]


async def test_sign_up_is_throttled_per_ipv6_64(db: str) -> None:
    app = create_app(limits(VERMILION_SIGN_UP_LIMITS_PER_IP="2/30minutes"), manage_database=False)
    variables = [{"email": f"p{i}@example.com", "handle": f"person{i}"} for i in range(4)]
    async with (
        connect(app, "2001:db8:1:2::1") as first,
        connect(app, "2001:db8:1:2::ffff") as same_64,
        connect(app, "2001:db8:1:3::1") as next_64,
    ):
        answers = [await post(first, SIGN_UP, variables[0]), await post(same_64, SIGN_UP, variables[1])]
        third = await post(same_64, SIGN_UP, variables[2])
        fresh = await post(next_64, SIGN_UP, variables[3])

    assert [a.json()["data"]["signUp"]["errors"] for a in answers] == [[], []]
    assert_rate_limited(third)
    assert fresh.status_code == 200 and fresh.json()["data"]["signUp"]["errors"] == []


async def test_password_reset_requests_are_throttled_per_email(db: str) -> None:
    settings = limits(VERMILION_PASSWORD_RESET_LIMITS_PER_EMAIL="2/30minutes")
    query = "mutation($e: String!) { passwordResetRequest(input: {email: $e}) { errors { code } } }"
    async with serve(settings) as client:
        answers = [await post(client, query, {"e": "ann@example.com"}) for _ in range(3)]
        other = await post(client, query, {"e": "bob@example.com"})

    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_rate_limited(answers[2])
    assert other.status_code == 200


# --- Redis: two workers share the counts -----------------------------------------------------------------


async def test_two_workers_on_redis_share_sign_in_and_cost_counts(db: str) -> None:
    settings = limits(
        VERMILION_REDIS_URL=REDIS_URL,
        VERMILION_SIGN_IN_LIMITS_PER_EMAIL="3/5minutes",
        VERMILION_COST_BUCKET_SIZE=150,
        VERMILION_COST_RESTORE_RATE_ANONYMOUS=1,
    )
    async with serve(settings) as worker_a, serve(settings) as worker_b:
        attempts = [
            await sign_in(worker, "ann@example.com", "guess")
            for worker in (worker_a, worker_b, worker_a, worker_b)
        ]
        pages = [await post(worker, PAGE_OF_39) for worker in (worker_a, worker_b, worker_a)]

    assert [a.status_code for a in attempts] == [200, 200, 200, 429]
    assert_rate_limited(attempts[3])
    # Sign-ins cost 11 each (a payload and its errors), pages 40: one Redis count reaches 44 + 80 + 40 > 150,
    # where each worker counting alone would have reached 22 + 80 = 102 and 22 + 40 = 62.
    assert [p.status_code for p in pages] == [200, 200, 429]
