"""Password reset through the public API, with the email crossing a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from core.mail import SmtpMailer
from models import OutboxEmail, PasswordReset
from social.mail import deliver_due
from social.password_reset import request_password_reset
from tests.conftest import GraphQLClient
from tests.factories import sign_up
from tests.mailbox import Mailbox, smtp_server

REQUEST = """
mutation($input: PasswordResetRequestInput!) { passwordResetRequest(input: $input) { errors { field code } } }"""
COMPLETE = """
mutation($input: PasswordResetCompleteInput!) {
  passwordResetComplete(input: $input) { errors { field message code } }
}"""
SIGN_IN = """
mutation($input: SignInInput!) { signIn(input: $input) { token errors { code } } }"""
RESET_URL = "https://app.example/reset?token={token}"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


def mailer(mailbox: Mailbox) -> SmtpMailer:
    return SmtpMailer.from_url(mailbox.url, sender="Vermilion <no-reply@vermilion.test>")


async def post(client: GraphQLClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def sign_in(client: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    data = await client.data(SIGN_IN, {"input": {"email": email, "password": password}}, anonymous=True)
    return dict(data["signIn"])


async def test_reset_end_to_end_through_smtp(client: GraphQLClient, mailbox: Mailbox) -> None:
    account = await sign_up(client, "rin")
    other_device = (await sign_in(client, "rin@example.com", "correct horse"))["token"]

    asked = await client.data(REQUEST, {"input": {"email": " RIN@example.com "}}, anonymous=True)
    assert asked["passwordResetRequest"] == {"errors": []}
    assert await deliver_due(mailer(mailbox)) == 1

    [message] = mailbox.messages
    assert message["To"] == "rin@example.com"
    assert "Reset your Vermilion password" in message["Subject"]
    assert mailbox.envelopes == [("no-reply@vermilion.test", ["rin@example.com"])]
    token = mailbox.reset_token()
    assert f"http://localhost:3000/reset-password?token={token}" in message.get_content()
    # Only the digest is stored: the token itself opens nothing in a copy of the database.
    assert not await PasswordReset.filter(token_hash=token).exists()

    done = await client.data(
        COMPLETE, {"input": {"token": token, "newPassword": "a new horse"}}, anonymous=True
    )
    assert done["passwordResetComplete"] == {"errors": []}

    for old in (account["token"], other_device):  # every session ended
        response = await post(client, "{ viewer { handle } }", {}, token=old)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await sign_in(client, "rin@example.com", "correct horse"))["errors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]
    fresh = await sign_in(client, "rin@example.com", "a new horse")
    viewer = await client.data("{ viewer { handle } }", token=fresh["token"])
    assert viewer["viewer"] == {"handle": "rin"}
    assert await OutboxEmail.filter(sent_at__isnull=False).count() == 1


async def test_known_and_unknown_addresses_get_the_same_answer(client: GraphQLClient) -> None:
    await sign_up(client, "mei")
    answers = []
    for address in ("mei@example.com", "nobody@example.com"):
        response = await post(client, REQUEST, {"input": {"email": address}})
        body = response.json()
        answers.append((response.status_code, body["data"], body.get("errors")))
    assert answers[0] == answers[1] == (200, {"passwordResetRequest": {"errors": []}}, None)
    # Only the real account got mail.
    assert await OutboxEmail.all().values_list("to_address", flat=True) == ["mei@example.com"]
    bad = await client.data(REQUEST, {"input": {"email": "not an email"}}, anonymous=True)
    assert bad["passwordResetRequest"]["errors"] == [{"field": ["input", "email"], "code": "INVALID"}]


async def test_a_token_works_once(client: GraphQLClient, mailbox: Mailbox) -> None:
    await sign_up(client, "ivy")
    await client.data(REQUEST, {"input": {"email": "ivy@example.com"}}, anonymous=True)
    await deliver_due(mailer(mailbox))
    token = mailbox.reset_token()
    first = await client.data(
        COMPLETE, {"input": {"token": token, "newPassword": "first new"}}, anonymous=True
    )
    assert first["passwordResetComplete"]["errors"] == []
    again = await client.data(
        COMPLETE, {"input": {"token": token, "newPassword": "second new"}}, anonymous=True
    )
    [error] = again["passwordResetComplete"]["errors"]
    assert (error["field"], error["code"]) == (["input", "token"], "INVALID")
    assert (await sign_in(client, "ivy@example.com", "first new"))["errors"] == []
    assert (await sign_in(client, "ivy@example.com", "second new"))["errors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]


async def test_a_token_expires_after_an_hour(client: GraphQLClient, mailbox: Mailbox) -> None:
    await sign_up(client, "old")
    # Asked an hour and a minute ago (the rule takes the clock; the API uses the real one).
    await request_password_reset(
        email="old@example.com",
        link_template=RESET_URL,
        ttl_seconds=3600,
        now=datetime.now(UTC) - timedelta(minutes=61),
    )
    await deliver_due(mailer(mailbox))
    token = mailbox.reset_token()
    assert mailbox.messages[0].get_content().count(f"https://app.example/reset?token={token}") == 1
    late = await client.data(
        COMPLETE, {"input": {"token": token, "newPassword": "too late now"}}, anonymous=True
    )
    assert late["passwordResetComplete"]["errors"][0]["code"] == "INVALID"
    assert (await sign_in(client, "old@example.com", "correct horse"))["errors"] == []


async def test_made_up_tokens_and_short_passwords_are_refused(client: GraphQLClient) -> None:
    await sign_up(client, "pat")
    for token in ("", "x" * 43, "garbage", "a" * 10_000):
        body = await client.data(
            COMPLETE, {"input": {"token": token, "newPassword": "long enough"}}, anonymous=True
        )
        assert [e["code"] for e in body["passwordResetComplete"]["errors"]] == ["INVALID"]
    short = await client.data(
        COMPLETE, {"input": {"token": "x" * 43, "newPassword": "short"}}, anonymous=True
    )
    assert short["passwordResetComplete"]["errors"][0]["field"] == ["input", "newPassword"]
    assert short["passwordResetComplete"]["errors"][0]["code"] == "TOO_SHORT"


async def test_a_password_change_voids_reset_links_sent_before_it(
    client: GraphQLClient, mailbox: Mailbox
) -> None:
    account = await sign_up(client, "eve")
    await client.data(REQUEST, {"input": {"email": "eve@example.com"}}, anonymous=True)
    await deliver_due(mailer(mailbox))
    changed = await client.data(
        """mutation { viewerPasswordChange(input: {currentPassword: "correct horse", newPassword: "brand new one"})
           { token errors { code } } }""",
        token=account["token"],
    )
    assert changed["viewerPasswordChange"]["errors"] == []
    body = await client.data(
        COMPLETE, {"input": {"token": mailbox.reset_token(), "newPassword": "attacker's"}}, anonymous=True
    )
    assert body["passwordResetComplete"]["errors"][0]["code"] == "INVALID"


async def test_nothing_is_sent_when_the_request_is_refused_before_commit(client: GraphQLClient) -> None:
    """The email is written in the reset's transaction: no account, no message; the outbox is the only door."""
    await client.data(REQUEST, {"input": {"email": "ghost@example.com"}}, anonymous=True)
    assert await OutboxEmail.all().count() == 0
    assert await PasswordReset.all().count() == 0


async def test_a_live_server_sends_the_email_in_the_background(tmp_path: Any, mailbox: Mailbox) -> None:
    """uvicorn, the app's own sender task and SMTP: request → email → reset, with nothing driven by hand."""
    from tests.live_server import live_server

    with live_server(
        f"sqlite://{tmp_path / 'mail.sqlite3'}", env={"VERMILION_SMTP_URL": mailbox.url}
    ) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            signed_up = await http.post(
                "/graphql",
                json={
                    "query": "mutation($i: SignUpInput!) { signUp(input: $i) { token errors { code } } }",
                    "variables": {
                        "i": {"email": "live@example.com", "password": "correct horse", "handle": "live"}
                    },
                },
            )
            old_token = signed_up.json()["data"]["signUp"]["token"]
            await http.post(
                "/graphql", json={"query": REQUEST, "variables": {"input": {"email": "live@example.com"}}}
            )
            assert await asyncio.to_thread(mailbox.wait_for, 1), "no email arrived"
            completed = await http.post(
                "/graphql",
                json={
                    "query": COMPLETE,
                    "variables": {"input": {"token": mailbox.reset_token(), "newPassword": "from the mail"}},
                },
            )
            assert completed.json()["data"]["passwordResetComplete"]["errors"] == []
            refused = await http.post(
                "/graphql",
                json={"query": "{ viewer { id } }"},
                headers={"Authorization": f"Bearer {old_token}"},
            )
            assert refused.status_code == 401
