"""Set-up shared by the search benchmarks (bench/search_bench.py, bench/search_quality.py).

Both start the app the way `vermilion serve` does, so that a search in a benchmark runs as one behind the
API: Tortoise connected with the server's pool, jieba loaded from the shared dictionary and taught the
topic names (api/app.py's lifespan). A benchmark that set up Tortoise alone would cut queries differently
from the server and measure another search.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from api.app import create_app
from core.settings import Settings
from core.sql import fetch_all


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app, started (its lifespan entered) until the block ends."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def corpus_counts() -> dict[str, int]:
    """How many notes and search documents the database holds (every report's header says)."""
    rows = await fetch_all(
        "SELECT (SELECT COUNT(*) FROM notes) AS notes, (SELECT COUNT(*) FROM search_documents) AS documents"
    )
    return {"notes": int(rows[0]["notes"]), "documents": int(rows[0]["documents"])}
