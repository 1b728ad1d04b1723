"""The full-text index over `search_documents`, which Tortoise's models cannot describe.

PostgreSQL: a stored generated tsvector ('simple' configuration: our tokens are already normalised,
segmented and stemmed, so PostgreSQL must not change them) with the head weighted A and the body B, and a
GIN index over it. SQLite: an external-content FTS5 table over the same two columns, kept in step by
triggers. Both are applied by migration 0005 and, in the schema test, after building the tables from the
models.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from core.sql import dialect

POSTGRES_DDL = """
ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', head), 'A') || setweight(to_tsvector('simple', body), 'B')
) STORED;
CREATE INDEX IF NOT EXISTS search_documents_tsv_gin ON search_documents USING GIN (tsv);
"""

# unicode61 splits only at characters our tokens never contain (they are letters and digits), so FTS5 sees
# exactly the tokens we wrote; the prefix index serves English prefix queries ("lip" → "lipstick").
SQLITE_DDL = """
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    head, body, content='search_documents', content_rowid='id',
    tokenize='unicode61 remove_diacritics 0', prefix='2 3'
);
CREATE TRIGGER IF NOT EXISTS search_documents_fts_insert AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_fts(rowid, head, body) VALUES (new.id, new.head, new.body);
END;
CREATE TRIGGER IF NOT EXISTS search_documents_fts_delete AFTER DELETE ON search_documents BEGIN
    INSERT INTO search_fts(search_fts, rowid, head, body) VALUES ('delete', old.id, old.head, old.body);
END;
CREATE TRIGGER IF NOT EXISTS search_documents_fts_update AFTER UPDATE ON search_documents BEGIN
    INSERT INTO search_fts(search_fts, rowid, head, body) VALUES ('delete', old.id, old.head, old.body);
    INSERT INTO search_fts(rowid, head, body) VALUES (new.id, new.head, new.body);
END;
"""


# Notes in order of popularity (the expression search.service ranks them by): a broad word ("护肤" on a
# tenth of all notes) is served by walking this index and probing each note's document, instead of sorting
# every match (PostgreSQL, 100k notes: 125 ms → 32 ms); POPULAR pages walk it too.
POPULARITY_INDEX = """
CREATE INDEX IF NOT EXISTS notes_popularity
    ON notes ((like_count + collect_count + comment_count) DESC, id DESC);
"""


def ddl(dialect: str) -> str:
    return (POSTGRES_DDL if dialect == "postgres" else SQLITE_DDL) + POPULARITY_INDEX


async def install(connection: BaseDBAsyncClient) -> None:
    """Create the full-text index (idempotent)."""
    await connection.execute_script(ddl(dialect(connection)))
