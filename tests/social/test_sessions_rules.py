"""The account rules without HTTP: token claims, live sessions, sign-out, password change, the outbox."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from core.errors import DomainError, ErrorCode
from core.mail import Email, LogMailer, SmtpMailer, mailer_from_settings
from core.settings import Settings
from models import OutboxEmail, RevokedToken
from social.accounts import change_password
from social.errors import WrongPassword
from social.mail import MAX_ATTEMPTS, deliver_due, enqueue_email, retry_delay
from social.password_reset import complete_password_reset, request_password_reset
from social.sessions import session_user, sign_out
from social.tokens import MAX_ID, TokenClaims, issue_token, read_claims
from tests.social.factories import PASSWORD, create_user

KEY = "k" * 40


def claims_of(token: str) -> TokenClaims:
    claims = read_claims(token, secret_key=KEY)
    assert claims is not None
    return claims


def test_claims_are_strict() -> None:
    claims = claims_of(issue_token(user_id=7, session_version=3, secret_key=KEY, ttl_seconds=60))
    assert (claims.user_id, claims.session_version) == (7, 3)
    assert claims_of(issue_token(user_id=7, secret_key=KEY, ttl_seconds=60)).token_id != claims.token_id

    def forge(**changes: object) -> str:
        base = {"sub": "7", "ver": 0, "jti": "a" * 22, "exp": 2**40, "aud": "vermilion"}
        return jwt.encode({**base, **changes}, KEY, algorithm="HS256")

    assert read_claims(forge(), secret_key=KEY) is not None
    for changes in (
        {"sub": str(MAX_ID + 1)},
        {"sub": str(10**20)},
        {"sub": "07"},
        {"sub": "0"},
        {"sub": "7 "},
        {"ver": -1},
        {"ver": 1.5},
        {"ver": True},
        {"jti": "short"},
        {"jti": "a" * 22 + "!"},
        {"aud": "elsewhere"},
        {"exp": 1},
    ):
        assert read_claims(forge(**changes), secret_key=KEY) is None, changes
    assert read_claims(forge(sub=str(MAX_ID)), secret_key=KEY) is not None


async def test_a_session_is_live_until_signed_out(db: str) -> None:
    user = await create_user(handle="ann")
    one = claims_of(issue_token(user_id=user.id, secret_key=KEY, ttl_seconds=60))
    two = claims_of(issue_token(user_id=user.id, secret_key=KEY, ttl_seconds=60))
    live = await session_user(one)
    assert live is not None and live[0].handle == "ann"

    await sign_out(claims=one)
    await sign_out(claims=one)  # twice is harmless
    assert await session_user(one) is None
    assert await session_user(two) is not None

    await sign_out(claims=two, everywhere=True)
    assert await session_user(two) is None
    assert await RevokedToken.filter(user_id=user.id).count() == 0  # superseded by the version
    fresh = claims_of(issue_token(user_id=user.id, session_version=1, secret_key=KEY, ttl_seconds=60))
    assert await session_user(fresh) is not None


async def test_sign_out_forgets_revocations_past_their_expiry(db: str) -> None:
    user = await create_user(handle="bob")
    old = TokenClaims(user_id=user.id, session_version=0, token_id="o" * 22, expires_at=60)
    await RevokedToken.create(id=old.token_id, user_id=user.id, expires_at=datetime.fromtimestamp(60, UTC))
    await sign_out(claims=claims_of(issue_token(user_id=user.id, secret_key=KEY, ttl_seconds=60)))
    assert await RevokedToken.filter(id=old.token_id).count() == 0
    assert await RevokedToken.filter(user_id=user.id).count() == 1


async def test_password_change_needs_the_current_password(db: str) -> None:
    user = await create_user(handle="cyd")
    with pytest.raises(WrongPassword):
        await change_password(user_id=user.id, current_password="wrong one", new_password="another one")
    with pytest.raises(DomainError) as short:
        await change_password(user_id=user.id, current_password=PASSWORD, new_password="tiny")
    assert short.value.code is ErrorCode.TOO_SHORT and short.value.field == ["new_password"]
    changed = await change_password(user_id=user.id, current_password=PASSWORD, new_password="another one")
    assert changed.session_version == user.session_version + 1


async def test_reset_rules_bound_their_input_before_any_query(db: str) -> None:
    with pytest.raises(DomainError) as refused:
        await request_password_reset(email="x" * 100_000, link_template="{token}", ttl_seconds=60)
    assert refused.value.field == ["email"]
    with pytest.raises(DomainError) as bad_token:
        await complete_password_reset(token="t" * 100_000, new_password="long enough")
    assert bad_token.value.field == ["token"]


class FlakyMailer:
    """Fails the first `failures` sends, then records."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Email] = []

    async def send(self, message: Email) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("SMTP is down")
        self.sent.append(message)


async def test_the_outbox_retries_then_marks_sent(db: str) -> None:
    await enqueue_email(Email(to="a@example.com", subject="Hi", body="body"))
    mailer = FlakyMailer(failures=2)
    now = datetime.now(UTC)
    assert await deliver_due(mailer, now=now) == 0
    row = await OutboxEmail.get()
    assert (row.attempts, row.sent_at) == (1, None) and "SMTP is down" in row.last_error
    assert row.next_attempt_at >= now + retry_delay(1) - timedelta(seconds=1)
    assert await deliver_due(mailer, now=now) == 0  # not due yet
    assert await deliver_due(mailer, now=now + timedelta(minutes=1)) == 0  # second failure
    assert await deliver_due(mailer, now=now + timedelta(hours=2)) == 1
    row = await OutboxEmail.get()
    assert row.sent_at is not None and row.attempts == 3 and row.last_error == ""
    assert [m.to for m in mailer.sent] == ["a@example.com"]
    assert await deliver_due(mailer, now=now + timedelta(days=1)) == 0  # sent once only


async def test_the_outbox_gives_up_after_its_attempts(db: str) -> None:
    await enqueue_email(Email(to="b@example.com", subject="Hi", body="body"))
    mailer = FlakyMailer(failures=100)
    now = datetime.now(UTC)
    for day in range(MAX_ATTEMPTS + 2):
        await deliver_due(mailer, now=now + timedelta(days=day))
    row = await OutboxEmail.get()
    assert row.attempts == MAX_ATTEMPTS and row.failed_at is not None and row.sent_at is None


def test_retry_delays_double_up_to_an_hour() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(20) == timedelta(hours=1)


def test_smtp_urls_and_the_development_fallback(caplog: pytest.LogCaptureFixture) -> None:
    plain = SmtpMailer.from_url("smtp://user%40x:p%3Ass@mail.example:2525", sender="a@b.c")
    assert (plain.hostname, plain.port, plain.username, plain.password, plain.implicit_tls) == (
        "mail.example", 2525, "user@x", "p:ss", False
    )  # fmt: skip
    tls = SmtpMailer.from_url("smtps://mail.example", sender="a@b.c")
    assert (tls.port, tls.implicit_tls) == (465, True)
    assert SmtpMailer.from_url("smtp://mail.example", sender="a@b.c").port == 587
    with pytest.raises(ValueError):
        SmtpMailer.from_url("http://mail.example", sender="a@b.c")
    assert isinstance(mailer_from_settings(Settings(VERMILION_SMTP_URL=None)), LogMailer)
    production = Settings(
        VERMILION_ENV="production", VERMILION_SECRET_KEY=secrets.token_urlsafe(48), VERMILION_SMTP_URL=None
    )
    with caplog.at_level(logging.WARNING, logger="vermilion.mail"):
        assert mailer_from_settings(production) is None  # a log line must not carry a reset link
    assert "VERMILION_SMTP_URL" in caplog.text


async def test_the_development_mailer_logs_the_message(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="vermilion.mail"):
        await LogMailer().send(Email(to="c@example.com", subject="Reset", body="https://x/reset?token=abc"))
    assert "c@example.com" in caplog.text and "https://x/reset?token=abc" in caplog.text


def test_the_reset_url_must_hold_the_token() -> None:
    with pytest.raises(ValueError):
        Settings(VERMILION_PASSWORD_RESET_URL="https://app.example/reset")
    assert Settings(VERMILION_PASSWORD_RESET_URL="https://app.example/r/{token}").password_reset_url.endswith(
        "{token}"
    )
