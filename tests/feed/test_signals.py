"""Signals a person sends the feed directly (feed/signals.py), called directly: opens and "not interested"."""

from __future__ import annotations

import pytest

from core.errors import DomainError, ErrorCode
from models import FeedEvent, FeedEventKind, Note, Topic
from social.notes import delete_note
from tests.feed.factories import create_note, create_user, dismiss, open_note


async def test_an_open_counts_on_the_note_and_its_topics_and_in_the_viewers_history(db: str) -> None:
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    note = await create_note(author=author, topics=["护肤", "干皮"])
    await open_note(viewer=viewer, note=note)
    await open_note(viewer=None, note=note)  # anonymous: counted, but nobody's signal

    assert (await Note.get(id=note.id)).view_count == 2
    assert {t.name: t.view_count for t in await Topic.filter(name__in=["护肤", "干皮"])} == {
        "护肤": 2,
        "干皮": 2,
    }
    events = await FeedEvent.filter(note_id=note.id).values_list("user_id", "kind")
    assert events == [(viewer.id, FeedEventKind.OPEN)]


async def test_not_interested_is_recorded_once(db: str) -> None:
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    note = await create_note(author=author)
    await dismiss(viewer=viewer, note=note)
    await dismiss(viewer=viewer, note=note)
    kinds = await FeedEvent.filter(user_id=viewer.id, note_id=note.id).values_list("kind", flat=True)
    assert kinds == [FeedEventKind.NOT_INTERESTED]


async def test_signals_on_a_deleted_note_are_refused(db: str) -> None:
    author, viewer = await create_user(handle="author"), await create_user(handle="viewer")
    note = await create_note(author=author)
    await delete_note(note_id=note.id, editor_id=author.id)
    for signal in (dismiss, open_note):
        with pytest.raises(DomainError) as refused:
            await signal(viewer=viewer, note=note)
        assert refused.value.code == ErrorCode.NOT_FOUND
    assert await FeedEvent.all().count() == 0
