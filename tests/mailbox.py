"""A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.loopback import free_port

RESET_TOKEN = re.compile(r"token=([A-Za-z0-9_-]{43})")


class Mailbox:
    """Messages received, in order; `wait_for(n)` blocks (bounded) until n have arrived."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._arrived = threading.Condition()
        self.url = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the name aiosmtpd calls
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)

    def reset_token(self, index: int = -1) -> str:
        """The reset token in the link of message `index`."""
        body = self.messages[index].get_content()
        found = RESET_TOKEN.search(body)
        assert found, body
        return found.group(1)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A running SMTP server; its `smtp://` URL is `mailbox.url`."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield mailbox
    finally:
        controller.stop()
