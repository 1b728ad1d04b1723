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
-- A note document carries the note's language (kept by triggers, below), and each GIN index holds it beside
-- the words (btree_gin, shipped with PostgreSQL and trusted since 13: the database's owner may create it),
-- so a search in one language visits only the documents in it: 口红 in English notes at 100k notes read
-- 1,564 pages of documents instead of 8,674 (51 ms → 33 ms, cold).
CREATE EXTENSION IF NOT EXISTS btree_gin;
ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS language VARCHAR(8);

ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', head), 'A') || setweight(to_tsvector('simple', body), 'B')
) STORED;
DROP INDEX IF EXISTS search_documents_tsv_gin;
CREATE INDEX IF NOT EXISTS search_documents_tsv_language_gin ON search_documents USING GIN (tsv, language);

-- The head alone, unweighted, with a GIN index of its own (with the language). Matching the head through
-- `tsv` with weight A made PostgreSQL recheck every match against `tsv` itself (2 kB a note, kept out of
-- line), which was most of the relevance statement's time: GIN finds unweighted matches exactly, with
-- nothing to recheck.
ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS head_tsv tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', head)) STORED;
DROP INDEX IF EXISTS search_documents_head_gin;
CREATE INDEX IF NOT EXISTS search_documents_head_language_gin
    ON search_documents USING GIN (head_tsv, language);

-- A note document carries the note's popularity (likes + collects + comments), kept equal to the note's by
-- triggers, so the relevance statement picks its most popular matches without reading a note per match.
-- Not indexed: a like then updates the document in place (a heap-only update, no index touched), which
-- the free tenth of each page (fillfactor) leaves room for.
ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS popularity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE search_documents SET (fillfactor = 90);

CREATE OR REPLACE FUNCTION search_document_popularity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'NOTE' THEN
        NEW.popularity := COALESCE(
            (SELECT like_count + collect_count + comment_count FROM notes WHERE id = NEW.object_id), 0);
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS search_document_popularity ON search_documents;
CREATE TRIGGER search_document_popularity BEFORE INSERT ON search_documents
    FOR EACH ROW EXECUTE FUNCTION search_document_popularity();

CREATE OR REPLACE FUNCTION note_search_popularity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_documents SET popularity = NEW.like_count + NEW.collect_count + NEW.comment_count
        WHERE kind = 'NOTE' AND object_id = NEW.id;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS note_search_popularity ON notes;
CREATE TRIGGER note_search_popularity AFTER UPDATE OF like_count, collect_count, comment_count ON notes
    FOR EACH ROW WHEN (OLD.like_count + OLD.collect_count + OLD.comment_count
                       IS DISTINCT FROM NEW.like_count + NEW.collect_count + NEW.comment_count)
    EXECUTE FUNCTION note_search_popularity();

-- The note's language on its document (indexed above): a search in one language picks its candidates from
-- the documents alone. Joining every match's note to read its language was most of the time of a
-- language-filtered search of a broad word (skincare in Chinese notes, 428 ms at 100k notes).

CREATE OR REPLACE FUNCTION search_document_language() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'NOTE' THEN
        NEW.language := (SELECT language FROM notes WHERE id = NEW.object_id);
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS search_document_language ON search_documents;
CREATE TRIGGER search_document_language BEFORE INSERT OR UPDATE ON search_documents
    FOR EACH ROW EXECUTE FUNCTION search_document_language();

CREATE OR REPLACE FUNCTION note_search_language() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE search_documents SET language = NEW.language WHERE kind = 'NOTE' AND object_id = NEW.id;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS note_search_language ON notes;
CREATE TRIGGER note_search_language AFTER UPDATE OF language ON notes
    FOR EACH ROW WHEN (OLD.language IS DISTINCT FROM NEW.language) EXECUTE FUNCTION note_search_language();

UPDATE search_documents d SET language = n.language FROM notes n
    WHERE d.kind = 'NOTE' AND n.id = d.object_id AND d.language IS DISTINCT FROM n.language;

-- Documents written before the triggers existed (a migrated database); a no-op once they agree.
UPDATE search_documents d SET popularity = n.like_count + n.collect_count + n.comment_count FROM notes n
    WHERE d.kind = 'NOTE' AND n.id = d.object_id
    AND d.popularity <> n.like_count + n.collect_count + n.comment_count;
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
