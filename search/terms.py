"""The index's vocabulary: every token and how many documents hold it, in the table `search_terms`.

Ranking weighs a query's words by it (a word in few documents says more than one in many: 防晒霜 outweighs
推荐), and typo and pinyin corrections choose among its words (search/suggest.py). Counting tokens in the
full-text index is a pass over all of it, so `refresh_terms` writes the counts to the table every
REFRESH_SECONDS (and after `vermilion search reindex`), and searches read the table: the weights move with
the corpus, slowly, and are the same on both databases, which count documents per token alike (PostgreSQL's
ts_stat, SQLite's fts5vocab).

Tokens in a single document are not kept (most are chance pairs of Chinese characters), but for words of
three or more Latin letters, which a typo may have meant: a token missing from the table counts as held by
one document. The row of the empty token holds the number of documents.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.sql import dialect, execute_many, fetch_all, placeholders

log = logging.getLogger(__name__)

REFRESH_SECONDS = 6 * 3600.0
MIN_DOCUMENTS = 2
TOTAL = ""  # the token no document can hold: its row counts the documents
MAX_TERM_LENGTH = 128
WRITE_CHUNK = 5000
# How long a process trusts the counts it read (they change only when the table is refreshed).
CACHE_SECONDS = 600.0
CACHE_SIZE = 50_000


async def count_terms(connection: BaseDBAsyncClient | None = None) -> tuple[int, list[tuple[str, int]]]:
    """(documents, [(token, documents holding it)]) straight from the full-text index."""
    total = (await fetch_all("SELECT COUNT(*) AS n FROM search_documents", (), connection))[0]["n"]
    if dialect(connection) == "postgres":
        rows = await fetch_all(
            "SELECT word AS term, ndoc AS documents FROM ts_stat('SELECT tsv FROM search_documents')"
            f" WHERE ndoc >= {MIN_DOCUMENTS} OR word ~ '^[a-z]{{3,}}$'",
            (),
            connection,
        )
    else:
        # fts5vocab's "row" table: one row per token with the number of rows holding it.
        await fetch_all(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocabulary"
            " USING fts5vocab(main, search_fts, row)",
            (),
            connection,
        )
        rows = await fetch_all(
            f"SELECT term, doc AS documents FROM temp.search_vocabulary WHERE doc >= {MIN_DOCUMENTS}"
            " OR (length(term) >= 3 AND term NOT GLOB '*[^a-z]*')",
            (),
            connection,
        )
    terms = [
        (str(r["term"]), int(r["documents"])) for r in rows if 0 < len(str(r["term"])) <= MAX_TERM_LENGTH
    ]
    return int(total), terms


async def refresh_terms(connection: BaseDBAsyncClient | None = None) -> int:
    """Rewrite `search_terms` from the index (readers see the old counts until it commits); returns how
    many tokens it wrote."""
    total, terms = await count_terms(connection)
    rows = [(TOTAL, total), *terms]

    async def write(conn: BaseDBAsyncClient) -> None:
        await fetch_all("DELETE FROM search_terms", (), conn)
        for start in range(0, len(rows), WRITE_CHUNK):
            await execute_many(
                "INSERT INTO search_terms (term, documents) VALUES ($1, $2)",
                rows[start : start + WRITE_CHUNK],
                conn,
            )

    if connection is not None:
        await write(connection)
    else:
        async with in_transaction() as conn:
            await write(conn)
    term_counts.invalidate()
    return len(terms)


def always_listed(token: str) -> bool:
    """Whether the table lists the token even when one document holds it (words of Latin letters)."""
    return len(token) >= 3 and token.isascii() and token.isalpha() and token.islower()


def unlisted(token: str) -> int:
    """How many documents hold a token the table does not list: none for a word it always lists, else at
    most one (counted as one)."""
    return 0 if always_listed(token) else 1


class TermCounts:
    """Document counts of tokens as this process last read them from `search_terms`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts: dict[str, int] = {}
        self._read_at = clock()

    def invalidate(self) -> None:
        self._counts.clear()

    async def counts(self, tokens: Iterable[str]) -> dict[str, int]:
        """Documents holding each token (`unlisted` for one not in the table), and the total under TOTAL;
        at most one statement, none when every token was read lately."""
        now = self._clock()
        if now - self._read_at > CACHE_SECONDS or len(self._counts) > CACHE_SIZE:
            self._counts.clear()
            self._read_at = now
        wanted = list(dict.fromkeys([TOTAL, *tokens]))
        missing = [t for t in wanted if t not in self._counts]
        if missing:
            rows = await fetch_all(
                f"SELECT term, documents FROM search_terms WHERE term IN ({placeholders(len(missing))})",
                missing,
            )
            found = {r["term"]: int(r["documents"]) for r in rows}
            for token in missing:
                self._counts[token] = found.get(token, 0 if token == TOTAL else unlisted(token))
        return {t: self._counts[t] for t in wanted}


term_counts = TermCounts()


def idf(documents: int, total: int) -> float:
    """BM25's inverse document frequency: log(1 + (N − n + 0.5) / (n + 0.5)); 1.0 when nothing is counted
    yet (an index never refreshed weighs every word alike, as before the counts existed)."""
    if total <= 0:
        return 1.0
    n = min(max(documents, 0), total)
    return math.log(1.0 + (total - n + 0.5) / (n + 0.5))


def term_weights(counts: dict[str, int], groups: Sequence[Sequence[str]]) -> list[float]:
    """A weight per query term (each given as its tokens): the idf of its rarest token, scaled so the
    weights average 1 (a one-word query scores as it always did)."""
    total = counts.get(TOTAL, 0)
    raw = [max((idf(counts.get(t, 1), total) for t in tokens), default=1.0) for tokens in groups]
    mean = sum(raw) / len(raw) if raw else 1.0
    return [w / mean if mean > 0 else 1.0 for w in raw]


async def refresh_if_due(clock: Callable[[], float] = time.monotonic) -> None:
    """The periodic job: refresh the counts every REFRESH_SECONDS in this process."""
    global _refreshed_at
    now = clock()
    if _refreshed_at is not None and now - _refreshed_at < REFRESH_SECONDS:
        return
    _refreshed_at = now
    started = time.perf_counter()
    count = await refresh_terms()
    log.info("search vocabulary refreshed: %d tokens in %.1f s", count, time.perf_counter() - started)


_refreshed_at: float | None = None
