"""Outgoing email: the message, and the doors it leaves through (SMTP, or the log in development).

Rules never send mail themselves: they write to the outbox (`social.mail`), whose background sender hands
each message to a `Mailer` after the transaction that wrote it has committed.
"""

from __future__ import annotations

import email.utils
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from core.settings import Settings

log = logging.getLogger("vermilion.mail")

SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, message: Email) -> None:
        """Deliver `message` or raise; the outbox retries what raised."""


def build_message(message: Email, *, sender: str) -> EmailMessage:
    """A plain-text UTF-8 message with the headers mail servers expect."""
    built = EmailMessage()
    built["From"] = sender
    built["To"] = message.to
    built["Subject"] = message.subject
    built["Date"] = email.utils.formatdate(localtime=False)
    built["Message-ID"] = email.utils.make_msgid(
        domain=email.utils.parseaddr(sender)[1].partition("@")[2] or None
    )
    built.set_content(message.body)
    return built


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through an SMTP server named by a URL: `smtp://user:pass@host:587` (STARTTLS when the server
    offers it, and required when credentials are given, so they never cross the network in clear) or
    `smtps://user:pass@host:465` (TLS from the first byte)."""

    hostname: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False

    @classmethod
    def from_url(cls, url: str, *, sender: str) -> SmtpMailer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "VERMILION_SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465"
            )
        implicit_tls = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if implicit_tls else 587),
            sender=sender,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
        )

    async def send(self, message: Email) -> None:
        await aiosmtplib.send(
            build_message(message, sender=self.sender),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            # None: STARTTLS when the server offers it; True: refuse to go on without it.
            start_tls=None if self.implicit_tls or self.username is None else True,
            timeout=SMTP_TIMEOUT_SECONDS,
        )


class LogMailer:
    """Development without SMTP: the message goes to the log (a reset link can be copied from there)."""

    async def send(self, message: Email) -> None:
        log.warning(
            "No VERMILION_SMTP_URL: email to %s not sent.\nSubject: %s\n\n%s",
            message.to,
            message.subject,
            message.body,
        )


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """SMTP when `VERMILION_SMTP_URL` is set; else the log in development, and nothing in production, where
    a log line must not carry a working reset link (messages then wait in the outbox until SMTP is set)."""
    if settings.smtp_url:
        return SmtpMailer.from_url(settings.smtp_url, sender=settings.mail_from)
    if settings.is_production:
        log.warning("VERMILION_SMTP_URL is not set: emails (password resets) wait in the outbox unsent")
        return None
    return LogMailer()
