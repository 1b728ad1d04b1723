"""GET /healthz: 200 only when the database answers, and soon (a load balancer's probe must not hang)."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

from core.errors import RequestRefused

log = logging.getLogger(__name__)
# Well under a load balancer's usual probe timeout (5 s or more).
CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await connections.get("default").execute_query("SELECT 1")
    except (RequestRefused, TimeoutError) as exc:  # down, starting or saturated: known, no traceback
        log.warning("health check: database did not answer: %s", exc or type(exc).__name__)
        return _unavailable()
    except Exception:  # any other failure also means "not healthy"; the reason goes to the log
        log.exception("health check: database did not answer")
        return _unavailable()
    return JSONResponse({"status": "ok", "database": "up"})


def _unavailable() -> JSONResponse:
    return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
