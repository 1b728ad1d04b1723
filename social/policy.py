"""Who may see and change what in the social half: notes, comments, people, boards, notifications.

Every surface that returns these objects asks this module, so a new rule ("hidden from people this author
blocked", "hidden by a moderator") is written once here and takes effect in every list, feed, search,
node fetch and subscription.

Visibility comes in pairs kept side by side: a SQL filter (a Tortoise `Q`, or a raw SQL condition) for
queries, and a row predicate for rows that arrive another way (by id through a loader, from the feed's or
search's own SQL). The two must always agree. Both take an `Audience`: the viewer and what is hidden from
them, built once per request by `audience_for`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from models import Board, Comment, Note, Notification, User


@dataclass(frozen=True)
class Audience:
    """Who is looking, and whose content is kept from them."""

    viewer_id: int | None
    # Authors whose notes, comments, boards and profile this viewer must not see. Empty today; block lists
    # and moderation fill it in `audience_for`.
    hidden_author_ids: frozenset[int] = frozenset()

    def hides(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.hidden_author_ids


async def audience_for(viewer_id: int | None) -> Audience:
    """The audience of one request (anonymous when `viewer_id` is None).

    The one place that decides whose content a viewer never sees: extend it (one read of the viewer's
    blocks, say) and every surface follows. It is called once per request and cached on the request's
    context, so what it reads costs one statement per request, not one per object. Today it reads nothing.
    """
    return Audience(viewer_id=viewer_id)


def _path(via: str, field: str) -> str:
    """`field` of the model itself, or of the related object `via` (`note` → `note__deleted_at`)."""
    return f"{via}__{field}" if via else field


def _not_hidden(audience: Audience, column: str) -> Q:
    # No condition at all while nothing is hidden: today's statements stay exactly as they were.
    if not audience.hidden_author_ids:
        return Q()
    condition: dict[str, Any] = {f"{column}__not_in": sorted(audience.hidden_author_ids)}
    return Q(**condition)


def _not_hidden_sql(audience: Audience, column: str, params: list[Any]) -> str:
    if not audience.hidden_author_ids:
        return ""
    start = len(params) + 1
    params.extend(sorted(audience.hidden_author_ids))
    marks = ", ".join(f"${i}" for i in range(start, len(params) + 1))
    return f" AND {column} NOT IN ({marks})"


# --- notes -----------------------------------------------------------------------------------------------


def note_filter(audience: Audience, *, via: str = "") -> Q:
    """Notes this audience may see: not deleted, not by a hidden author. `via` names the relation when
    filtering another model by its note (`Collect.filter(note_filter(a, via="note"))`)."""
    live: dict[str, Any] = {_path(via, "deleted_at"): None}
    return Q(**live) & _not_hidden(audience, _path(via, "author_id"))


def note_sql(audience: Audience, alias: str, params: list[Any]) -> str:
    """`note_filter` as a raw SQL condition on the notes table aliased `alias` (its parameters appended
    to `params`)."""
    return f"{alias}.deleted_at IS NULL" + _not_hidden_sql(audience, f"{alias}.author_id", params)


def can_view_note(note: Note, audience: Audience) -> bool:
    """The row twin of `note_filter`."""
    return note.deleted_at is None and not audience.hides(note.author_id)  # type: ignore[attr-defined]


def visible_notes(notes: Iterable[Note | None], audience: Audience) -> list[Note | None]:
    """The same list with every note this audience may not see replaced by None (positions kept)."""
    return [note if note is not None and can_view_note(note, audience) else None for note in notes]


# --- comments --------------------------------------------------------------------------------------------


def comment_filter(audience: Audience) -> Q:
    """Comments this audience may see: not deleted, not by a hidden author."""
    return Q(deleted_at=None) & _not_hidden(audience, "author_id")


def comment_sql(audience: Audience, alias: str, params: list[Any]) -> str:
    """`comment_filter` as a raw SQL condition on the comments table aliased `alias` (appending its
    parameters to `params`, numbered after those already there)."""
    return f"{alias}.deleted_at IS NULL" + _not_hidden_sql(audience, f"{alias}.author_id", params)


def can_view_comment(comment: Comment, audience: Audience) -> bool:
    """The row twin of `comment_filter`."""
    return comment.deleted_at is None and not audience.hides(comment.author_id)  # type: ignore[attr-defined]


# --- people ----------------------------------------------------------------------------------------------


def user_sql(audience: Audience, column: str, params: list[Any]) -> str:
    """`user_filter` as a raw SQL condition on a column holding a person's id (`AND …`, or nothing when
    nobody is hidden), its parameters appended to `params`."""
    return _not_hidden_sql(audience, column, params)


def user_filter(audience: Audience, *, via: str = "") -> Q:
    """People this audience may see; `via` names a link's user column (`Follow.filter(user_filter(a,
    via="follower"))`)."""
    return _not_hidden(audience, f"{via}_id" if via else "id")


def can_view_user(user: User, audience: Audience) -> bool:
    """The row twin of `user_filter`: a profile shown on its own (by id, handle, search or a list)."""
    return not audience.hides(user.id)


def is_self(user_id: int, viewer_id: int | None) -> bool:
    """Private profile fields (email, notifications, cart, orders, sales) are for their owner alone."""
    return viewer_id is not None and viewer_id == user_id


# --- boards ----------------------------------------------------------------------------------------------


def visible_boards(owner_id: int, audience: Audience) -> Q:
    """One person's boards this audience may see: private boards only for their owner."""
    if audience.hides(owner_id):
        return Q(id__in=[])
    if is_self(owner_id, audience.viewer_id):
        return Q(owner_id=owner_id)
    return Q(owner_id=owner_id, is_private=False)


def can_view_board(board: Board, audience: Audience) -> bool:
    """The row twin of `visible_boards`."""
    owner_id: int = board.owner_id  # type: ignore[attr-defined]
    return not audience.hides(owner_id) and (not board.is_private or is_self(owner_id, audience.viewer_id))


# --- notifications ---------------------------------------------------------------------------------------


def notification_filter(recipient_id: int, audience: Audience) -> Q:
    """A person's notifications: their own only, none caused by someone hidden from them."""
    if not is_self(recipient_id, audience.viewer_id):
        return Q(id__in=[])
    return Q(recipient_id=recipient_id) & _not_hidden(audience, "actor_id")


def can_view_notification(notification: Notification, audience: Audience) -> bool:
    """The row twin of `notification_filter`."""
    recipient_id: int = notification.recipient_id  # type: ignore[attr-defined]
    return is_self(recipient_id, audience.viewer_id) and not audience.hides(
        notification.actor_id  # type: ignore[attr-defined]
    )


# --- permissions -----------------------------------------------------------------------------------------


def can_edit_note(note: Note, editor_id: int | None) -> bool:
    """Only a note's author edits or deletes it."""
    return is_self(note.author_id, editor_id)  # type: ignore[attr-defined]


def can_delete_comment(comment: Comment, note: Note, editor_id: int | None) -> bool:
    """A comment is deleted by its author or by the author of the note it is on."""
    return is_self(comment.author_id, editor_id) or is_self(note.author_id, editor_id)  # type: ignore[attr-defined]


def can_collect_into(board: Board, user_id: int) -> bool:
    """Notes are collected into one's own boards only."""
    return is_self(board.owner_id, user_id)  # type: ignore[attr-defined]


def can_see_sales(note: Note, viewer_id: int | None) -> bool:
    """What shoppers bought from a note is for its author alone."""
    return is_self(note.author_id, viewer_id)  # type: ignore[attr-defined]
