"""Logging with a request id on every line (placeholder: completed by the protection work)."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from api.settings import Settings

_request_id: ContextVar[str] = ContextVar("vermilion_request_id", default="-")


def current_request_id() -> str:
    return _request_id.get()


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level)


class RequestIdMiddleware:
    """Placeholder; the protection work gives every request an id."""

    def __init__(self, app):  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        await self.app(scope, receive, send)
