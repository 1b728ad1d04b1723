"""Keyword-only async factories for feed rule tests: the signals a viewer leaves on notes (likes,
collects, comments, opens, impressions, "not interested"), written through the rule functions where
the app has one. People and notes come from tests.social.factories."""

from __future__ import annotations

from datetime import datetime

from feed.recorder import SignalRecorder
from feed.signals import mark_not_interested, view_note
from feed.snapshots import TableSnapshots
from models import FeedImpression, Note, User
from social.comments import create_comment
from social.engagement import collect_note, like_note
from tests.social.factories import create_note, create_user

__all__ = ["collect", "comment", "create_note", "create_user", "dismiss", "like", "open_note", "serve"]


async def like(*, viewer: User, note: Note) -> None:
    await like_note(user_id=viewer.id, note_id=note.id)


async def collect(*, viewer: User, note: Note) -> None:
    """Into the viewer's default board."""
    await collect_note(user_id=viewer.id, note_id=note.id, board_id=None)


async def comment(*, viewer: User, note: Note, body: str = "好用吗？") -> None:
    await create_comment(author_id=viewer.id, note_id=note.id, body=body, reply_to_id=None)


async def dismiss(*, viewer: User, note: Note) -> None:
    """`noteMarkNotInterested`."""
    await mark_not_interested(viewer_id=viewer.id, note_id=note.id)


async def open_note(*, viewer: User | None, note: Note, drain: bool = True) -> SignalRecorder:
    """`noteView` with the table session store. Its batch is written before returning, unless `drain` is
    False: then the caller drains the returned recorder when it wants the batch written (as if requests
    came in between)."""
    recorder = SignalRecorder()
    await view_note(
        recorder=recorder,
        snapshots=TableSnapshots(),
        viewer_id=viewer.id if viewer else None,
        note_id=note.id,
    )
    if drain:
        await recorder.drain()
    return recorder


async def serve(*, viewer: User, note: Note, at: datetime) -> None:
    """An impression: the feed showed `note` to `viewer` at `at` (the recorder writes these in batches;
    here the time is chosen, to place it inside or outside the 7-day window)."""
    await FeedImpression.create(user_id=viewer.id, note_id=note.id, served_at=at)
