"""Search documents: what each note, person, product and topic is found by, kept current by the write paths.

Every write path that changes searchable text calls `reindex(kind, ids)` inside its own transaction, so
the document changes (or disappears) together with the row; `rebuild_index` rewrites all of them (after a
bulk load or a change to the text pipeline) and is what `vermilion search reindex` runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tqdm import tqdm

from core.sql import execute_many, fetch_all, placeholders
from models.search import SearchKind
from search.terms import refresh_terms
from search.text import index_text, segmenter

# (object id, head text, body text); None as texts: the object is gone or hidden, drop its document.
Document = tuple[int, str, str]
Loader = Callable[[Sequence[int], BaseDBAsyncClient | None], Awaitable[tuple[list[Document], list[int]]]]

REBUILD_CHUNK = 1000


async def _note_documents(
    ids: Sequence[int], connection: BaseDBAsyncClient | None
) -> tuple[list[Document], list[int]]:
    marks = placeholders(len(ids))
    notes = await fetch_all(
        f"SELECT id, title, body, deleted_at FROM notes WHERE id IN ({marks})", ids, connection
    )
    topics: dict[int, list[str]] = defaultdict(list)
    for row in await fetch_all(
        f"SELECT nt.note_id, t.name FROM note_topics nt JOIN topics t ON t.id = nt.topic_id"
        f" WHERE nt.note_id IN ({marks}) ORDER BY nt.note_id, nt.position",
        ids,
        connection,
    ):
        topics[row["note_id"]].append(row["name"])
    live = [n for n in notes if n["deleted_at"] is None]
    documents = [
        (n["id"], index_text(" ".join([n["title"], *topics[n["id"]]])), index_text(n["body"])) for n in live
    ]
    return documents, _missing(ids, documents)


async def _user_documents(
    ids: Sequence[int], connection: BaseDBAsyncClient | None
) -> tuple[list[Document], list[int]]:
    rows = await fetch_all(
        f"SELECT id, handle, display_name, bio FROM users WHERE id IN ({placeholders(len(ids))})",
        ids,
        connection,
    )
    documents = [
        (r["id"], index_text(f"{r['handle']} {r['display_name']}"), index_text(r["bio"])) for r in rows
    ]
    return documents, _missing(ids, documents)


async def _product_documents(
    ids: Sequence[int], connection: BaseDBAsyncClient | None
) -> tuple[list[Document], list[int]]:
    marks = placeholders(len(ids))
    rows = await fetch_all(
        f"SELECT id, title, description FROM products WHERE id IN ({marks})", ids, connection
    )
    variants: dict[int, list[str]] = defaultdict(list)
    for row in await fetch_all(
        f"SELECT product_id, name FROM product_variants WHERE product_id IN ({marks}) ORDER BY id",
        ids,
        connection,
    ):
        variants[row["product_id"]].append(row["name"])
    documents = [
        (r["id"], index_text(r["title"]), index_text(" ".join([r["description"], *variants[r["id"]]])))
        for r in rows
    ]
    return documents, _missing(ids, documents)


async def _topic_documents(
    ids: Sequence[int], connection: BaseDBAsyncClient | None
) -> tuple[list[Document], list[int]]:
    rows = await fetch_all(
        f"SELECT id, name FROM topics WHERE id IN ({placeholders(len(ids))})", ids, connection
    )
    segmenter.add_words(r["name"] for r in rows)
    documents = [(r["id"], index_text(r["name"]), "") for r in rows]
    return documents, _missing(ids, documents)


def _missing(ids: Sequence[int], documents: list[Document]) -> list[int]:
    present = {d[0] for d in documents}
    return [i for i in ids if i not in present]


LOADERS: dict[SearchKind, tuple[str, Loader]] = {
    SearchKind.TOPIC: ("topics", _topic_documents),  # first: topic names join jieba's dictionary
    SearchKind.USER: ("users", _user_documents),
    SearchKind.PRODUCT: ("products", _product_documents),
    SearchKind.NOTE: ("notes", _note_documents),
}

_UPSERT = (
    "INSERT INTO search_documents (kind, object_id, head, body, updated_at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (kind, object_id) DO UPDATE SET head = excluded.head, body = excluded.body,"
    " updated_at = excluded.updated_at"
)


async def reindex(kind: SearchKind, ids: Sequence[int], connection: BaseDBAsyncClient | None = None) -> None:
    """Bring these objects' documents up to date: written, rewritten, or deleted when the object is gone."""
    ids = sorted(set(ids))
    if not ids:
        return
    _, load = LOADERS[kind]
    documents, gone = await load(ids, connection)
    now = datetime.now(UTC)
    await execute_many(_UPSERT, [(kind.value, i, head, body, now) for i, head, body in documents], connection)
    if gone:
        await fetch_all(
            f"DELETE FROM search_documents WHERE kind = $1 AND object_id IN ({placeholders(len(gone), 2)})",
            [kind.value, *gone],
            connection,
        )


async def load_topic_words(connection: BaseDBAsyncClient | None = None) -> int:
    """Teach the segmenter every topic name (at start-up, so queries cut the app's words as indexing did)."""
    rows = await fetch_all("SELECT name FROM topics", (), connection)
    segmenter.add_words(r["name"] for r in rows)
    return len(rows)


async def rebuild_index(
    connection: BaseDBAsyncClient | None = None, *, progress: bool = True, vocabulary: bool = True
) -> dict[str, int]:
    """Rewrite every document from the tables, in chunks, with a progress bar per kind, then (unless told
    not to: migration 0005 runs before the vocabulary's table exists) count the vocabulary again; returns
    the documents written per kind."""
    counts: dict[str, int] = {}
    await fetch_all("DELETE FROM search_documents", (), connection)
    for kind, (table, _) in LOADERS.items():
        total = (await fetch_all(f"SELECT COUNT(*) AS n FROM {table}", (), connection))[0]["n"]
        written = 0
        last = 0
        with tqdm(total=total, desc=f"index {table}", unit="row", disable=not progress) as bar:
            while True:
                rows = await fetch_all(
                    f"SELECT id FROM {table} WHERE id > $1 ORDER BY id LIMIT {REBUILD_CHUNK}",
                    [last],
                    connection,
                )
                if not rows:
                    break
                ids = [r["id"] for r in rows]
                await reindex(kind, ids, connection)
                written += len(ids)
                last = ids[-1]
                bar.update(len(ids))
        counts[kind.value.lower()] = written
    if vocabulary:  # its counts come from the documents just written (search/terms.py)
        await refresh_terms(connection)
    return counts
