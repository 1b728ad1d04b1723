"""Housekeeping that runs in the background for the app's lifetime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_every(interval_seconds: float, *jobs: Callable[[], Awaitable[object]]) -> None:
    """Run each job every `interval_seconds`, forever; a failing job is logged and tried next round.
    Safe with many workers: every job here is made of conditional updates."""
    while True:
        await asyncio.sleep(interval_seconds)
        for job in jobs:
            try:
                await job()
            except Exception:
                log.exception("background job %s failed", getattr(job, "__name__", job))
