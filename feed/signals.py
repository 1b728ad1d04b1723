"""Signals a person sends the feed directly: opening a note, and "not interested"."""

from __future__ import annotations

from datetime import UTC, datetime

from feed.recorder import SignalRecorder
from feed.snapshots import SnapshotStore
from models import FeedEvent, FeedEventKind, Note
from social.engagement import live_note


async def view_note(
    *, recorder: SignalRecorder, snapshots: SnapshotStore, viewer_id: int | None, note_id: int
) -> Note:
    """An open: counted on the note and its topics, and (signed in) a light interest signal, written
    after the response in a batch; and the note leaves the viewer's next feed sessions at once (the
    session store remembers it until the batch has written the open, which keeps it out for good)."""
    note = await live_note(note_id)
    recorder.open(viewer_id, note.id)
    if viewer_id:
        await snapshots.remember_served(viewer_id, [note.id])
    return note


async def mark_not_interested(*, viewer_id: int, note_id: int) -> Note:
    """The note leaves the viewer's future feeds for good; its author and its family are damped in them
    for a while (feed.ranking.dismissal_damping), a declared interest never below a place in every 20.
    Marking twice changes nothing."""
    note = await live_note(note_id)
    if not await FeedEvent.filter(
        user_id=viewer_id, note_id=note_id, kind=FeedEventKind.NOT_INTERESTED
    ).exists():
        await FeedEvent.create(
            user_id=viewer_id,
            note_id=note_id,
            kind=FeedEventKind.NOT_INTERESTED,
            created_at=datetime.now(UTC),
        )
    return note
