"""PostgreSQL's relevance statement for notes (search.service.note_relevance_statement) reads the
popularity each note document carries: the triggers of search/schema.py keep it equal to the note's
through every change of its counts, and the statement picks the same candidates as the general one."""

from __future__ import annotations

import pytest

import search.service
from core.sql import fetch_all
from models import Note, SearchKind
from search.service import general_relevance_statement, note_relevance_statement, rank_candidates
from search.text import parse_query
from social.notes import delete_note
from tests.conftest import IS_POSTGRES
from tests.feed.factories import collect, comment, like
from tests.social.factories import create_note, create_user

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="the popularity column and its triggers are PostgreSQL's"
)


async def _disagreements() -> list[dict[str, object]]:
    """Note documents whose popularity is not their note's likes + collects + comments."""
    return await fetch_all(
        "SELECT d.object_id, d.popularity, n.like_count + n.collect_count + n.comment_count AS note"
        " FROM search_documents d JOIN notes n ON n.id = d.object_id"
        " WHERE d.kind = 'NOTE' AND d.popularity <> n.like_count + n.collect_count + n.comment_count"
    )


async def test_a_documents_popularity_follows_its_notes_counts(db: str) -> None:
    author = await create_user(handle="author")
    fans = [await create_user(handle=f"fan{i}") for i in range(3)]
    note = await create_note(author=author, title="口红试色", topics=["彩妆"])
    for fan in fans:
        await like(viewer=fan, note=note)
    await collect(viewer=fans[0], note=note)
    await comment(viewer=fans[1], note=note)
    rows = await fetch_all(
        "SELECT popularity FROM search_documents WHERE kind = 'NOTE' AND object_id = $1", [note.id]
    )
    assert rows == [{"popularity": 5}]
    assert await _disagreements() == []
    # Counts changed behind the write paths' back (a repair, a bulk load) are followed too.
    await Note.filter(id=note.id).update(like_count=40)
    assert await _disagreements() == []
    # A document written after its note has counts starts from them.
    await fetch_all("DELETE FROM search_documents WHERE kind = 'NOTE' AND object_id = $1", [note.id])
    from search.documents import reindex

    await reindex(SearchKind.NOTE, [note.id])
    assert await _disagreements() == []
    await delete_note(note_id=note.id, editor_id=author.id)
    assert await fetch_all("SELECT 1 FROM search_documents WHERE kind = 'NOTE'") == []


async def test_the_note_statement_picks_the_candidates_of_the_general_one(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fewer candidates per tier than matches, so which ones are picked matters.
    monkeypatch.setattr(search.service, "CANDIDATES", 4)
    author = await create_user(handle="author")
    readers = [await create_user(handle=f"reader{i}") for i in range(6)]
    titles = [
        "口红试色",
        "口红推荐 平价",
        "这款口红色号",
        "护肤心得 口红",
        "周末咖啡",
        "lipstick review",
        "red lipsticks",
    ]
    for i, title in enumerate(titles * 3):
        note = await create_note(author=author, title=title, body="口红" if i % 4 == 0 else "日常")
        for reader in readers[: i % 7]:
            await like(viewer=reader, note=note)
    hidden = await create_note(author=author, title="删掉的口红")
    await delete_note(note_id=hidden.id, editor_id=author.id)
    for text in ("口红", "lipstick", "口红 推荐", "咖啡 口红", "red"):
        query = parse_query(text)
        for relaxed in (False, True):
            fast = await fetch_all(*note_relevance_statement(query, relaxed=relaxed))
            general = await fetch_all(
                *general_relevance_statement(query, SearchKind.NOTE, "postgres", relaxed=relaxed)
            )
            assert hidden.id not in {r["id"] for r in fast}
            assert rank_candidates(query, fast, relaxed, []) == rank_candidates(
                query, general, relaxed, []
            ), (
                text,
                relaxed,
            )
            assert len(fast) > 0 or (text == "咖啡 口红" and not relaxed), text
