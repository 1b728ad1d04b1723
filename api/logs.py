"""Request ids and logging.

Every HTTP request and WebSocket connection gets an id: the client's `X-Request-ID` when it is a sane
token, else a fresh one. It is echoed in the `X-Request-ID` response header and written as
`request_id=…` on every log line emitted while the request is handled (`-` outside requests).

With `VERMILION_LOG_FORMAT=json` every line is one JSON object instead (python-json-logger):
`timestamp` (ISO 8601, UTC), `level`, `logger`, `message`, `request_id`, any `extra=` fields of the call
(the access line's, see api/access_log.py) and `exc_info` for a traceback.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

_request_id: ContextVar[str] = ContextVar("vermilion_request_id", default="-")

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode("latin-1")
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Messages that carry response headers: HTTP responses, WebSocket accepts and WebSocket denials.
_HEADER_MESSAGES = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"
# The fields of every JSON line, in this order, and their names there.
JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
JSON_NAMES = {"asctime": "timestamp", "levelname": "level", "name": "logger"}
# Uvicorn gives these loggers handlers of its own, which would print lines without the request id.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def current_request_id() -> str:
    """The id of the request being handled, or "-" outside any request."""
    return _request_id.get()


def _client_request_id(scope: Scope) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == _HEADER_KEY:
            candidate = value.decode("latin-1")
            return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else None
    return None


class RequestIdMiddleware:
    """Pure ASGI middleware: sets the request id for the whole request or connection and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or uuid.uuid4().hex
        header = (_HEADER_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] in _HEADER_MESSAGES:
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER_KEY]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


class RequestIdFormatter(logging.Formatter):
    """A formatter that can always print `%(request_id)s`, even for records made before set-up."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return super().format(record)


class JsonFormatter(OrjsonFormatter):
    """One JSON object per record (orjson: the fastest encoder python-json-logger offers)."""

    def __init__(self) -> None:
        super().__init__(
            JSON_FIELDS,
            rename_fields=JSON_NAMES,
            # uvicorn's colour copy of its message would only repeat it.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return super().format(record)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is at the time of writing (test runners replace it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _install_record_factory() -> None:
    """Give every LogRecord a `request_id` attribute, for any handler (tests, error trackers)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "vermilion_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = _request_id.get()
        return record

    factory.vermilion_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(settings: Settings) -> None:
    """Log to stderr with the request id on every line, at `settings.log_level`, as text or JSON
    (`settings.log_format`); safe to call again."""
    _install_record_factory()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    json_lines = settings.log_format == "json"
    if handler.formatter is None or isinstance(handler.formatter, JsonFormatter) != json_lines:
        handler.setFormatter(JsonFormatter() if json_lines else RequestIdFormatter(LOG_FORMAT))
    root.setLevel(settings.log_level.upper())
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        # A logger without handlers that does not propagate was silenced on purpose (`--no-access-log`).
        if logger.handlers:
            logger.handlers.clear()
            logger.propagate = True
