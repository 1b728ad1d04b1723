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
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Q

from core.sql import fetch_all, model_from_row, select_list
from models import Board, Comment, Note, Notification, Product, Role, SearchKind, User
from social.blocks import SafetyState, safety_columns, safety_state
from social.filters import ActiveFilter


@dataclass(frozen=True)
class Audience:
    """Who is looking, and whose content is kept from them."""

    viewer_id: int | None
    # People in a block with the viewer, either way: their profile, notes, comments, boards and products are
    # hidden from the viewer (and the viewer's from them, by the same rule on their side).
    blocked_ids: frozenset[int] = frozenset()
    # People the viewer muted: their notes, comments, boards and notifications are hidden; their profile
    # is not.
    muted_ids: frozenset[int] = frozenset()
    # The viewer's keyword filters in force (applied by the surfaces of their contexts).
    filters: tuple[ActiveFilter, ...] = ()
    role: Role = Role.USER
    # Authors whose content this viewer must not see: blocked either way, or muted.
    hidden_author_ids: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_author_ids", self.blocked_ids | self.muted_ids)

    def hides(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.hidden_author_ids

    def blocks(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.blocked_ids


def audience_of(viewer: User, state: SafetyState) -> Audience:
    """The audience of `viewer` with the block, mute and filter state read for them."""
    return Audience(
        viewer_id=viewer.id,
        blocked_ids=state.blocked_ids,
        muted_ids=state.muted_ids,
        filters=state.filters,
        role=Role(viewer.role),
    )


async def audience_for(viewer_id: int | None) -> Audience:
    """The audience of one request (anonymous when `viewer_id` is None).

    The one place that decides whose content a viewer never sees. A signed-in request gets its audience
    from the session statement (`social.sessions.session_user` reads the blocks, mutes and filters with
    the viewer's row); this reads them on its own, one statement, where no session statement ran (an event
    delivered to a live subscription, a rule checking a board)."""
    if viewer_id is None:
        return Audience(viewer_id=None)
    rows = await fetch_all(
        f"SELECT {select_list(User, 'u')}, {safety_columns()} FROM users u WHERE u.id = $1", [viewer_id]
    )
    if not rows:
        return Audience(viewer_id=viewer_id)
    return audience_of(model_from_row(User, rows[0]), safety_state(rows[0]))


def _not_withheld(audience: Audience, column: str, owner_column: str) -> Q:
    """Rows not withheld by moderation, suspension or deletion, or owned by the viewer (who sees their
    own content with its state)."""
    condition: dict[str, Any] = {column: False}
    if audience.viewer_id is None:
        return Q(**condition)
    owned: dict[str, Any] = {owner_column: audience.viewer_id}
    return Q(**condition) | Q(**owned)


def _not_withheld_sql(audience: Audience, alias: str, owner_column: str, params: list[Any]) -> str:
    if audience.viewer_id is None:
        return f" AND {alias}.withheld = FALSE"
    params.append(audience.viewer_id)
    return f" AND ({alias}.withheld = FALSE OR {alias}.{owner_column} = ${len(params)})"


def _owned_or_visible(withheld: bool, owner_id: int | None, audience: Audience) -> bool:
    return not withheld or (owner_id is not None and owner_id == audience.viewer_id)


def _path(via: str, field: str) -> str:
    """`field` of the model itself, or of the related object `via` (`note` → `note__deleted_at`)."""
    return f"{via}__{field}" if via else field


def _not_hidden(audience: Audience, column: str, ids: frozenset[int] | None = None) -> Q:
    """`column` not among `ids` (the authors hidden from the audience by default)."""
    hidden = audience.hidden_author_ids if ids is None else ids
    # No condition at all while nothing is hidden: most requests' statements stay exactly as they were.
    if not hidden:
        return Q()
    condition: dict[str, Any] = {f"{column}__not_in": sorted(hidden)}
    return Q(**condition)


def _not_hidden_sql(
    audience: Audience, column: str, params: list[Any], ids: frozenset[int] | None = None
) -> str:
    hidden = audience.hidden_author_ids if ids is None else ids
    if not hidden:
        return ""
    start = len(params) + 1
    params.extend(sorted(hidden))
    marks = ", ".join(f"${i}" for i in range(start, len(params) + 1))
    return f" AND {column} NOT IN ({marks})"


# --- notes -----------------------------------------------------------------------------------------------


def note_filter(audience: Audience, *, via: str = "") -> Q:
    """Notes this audience may see: not deleted, not by a hidden author. `via` names the relation when
    filtering another model by its note (`Collect.filter(note_filter(a, via="note"))`)."""
    live: dict[str, Any] = {_path(via, "deleted_at"): None}
    return (
        Q(**live)
        & _not_withheld(audience, _path(via, "withheld"), _path(via, "author_id"))
        & _not_hidden(audience, _path(via, "author_id"))
    )


def note_sql(audience: Audience, alias: str, params: list[Any]) -> str:
    """`note_filter` as a raw SQL condition on the notes table aliased `alias` (its parameters appended
    to `params`)."""
    return (
        f"{alias}.deleted_at IS NULL"
        + _not_withheld_sql(audience, alias, "author_id", params)
        + _not_hidden_sql(audience, f"{alias}.author_id", params)
    )


def can_view_note(note: Note, audience: Audience) -> bool:
    """The row twin of `note_filter`."""
    author_id: int = note.author_id  # type: ignore[attr-defined]
    return (
        note.deleted_at is None
        and _owned_or_visible(note.withheld, author_id, audience)
        and not audience.hides(author_id)
    )


def visible_notes(notes: Iterable[Note | None], audience: Audience) -> list[Note | None]:
    """The same list with every note this audience may not see replaced by None (positions kept)."""
    return [note if note is not None and can_view_note(note, audience) else None for note in notes]


# --- comments --------------------------------------------------------------------------------------------


def comment_filter(audience: Audience) -> Q:
    """Comments this audience may see: not deleted, not withheld (unless theirs), not by a hidden author."""
    return (
        Q(deleted_at=None)
        & _not_withheld(audience, "withheld", "author_id")
        & _not_hidden(audience, "author_id")
    )


def comment_sql(audience: Audience, alias: str, params: list[Any]) -> str:
    """`comment_filter` as a raw SQL condition on the comments table aliased `alias` (appending its
    parameters to `params`, numbered after those already there)."""
    return (
        f"{alias}.deleted_at IS NULL"
        + _not_withheld_sql(audience, alias, "author_id", params)
        + _not_hidden_sql(audience, f"{alias}.author_id", params)
    )


def can_view_comment(comment: Comment, audience: Audience) -> bool:
    """The row twin of `comment_filter`."""
    author_id: int = comment.author_id  # type: ignore[attr-defined]
    return (
        comment.deleted_at is None
        and _owned_or_visible(comment.withheld, author_id, audience)
        and not audience.hides(author_id)
    )


# --- people ----------------------------------------------------------------------------------------------


def user_filter(audience: Audience, *, via: str = "") -> Q:
    """People this audience may see: everyone but those in a block with the viewer (a muted person's
    profile stays visible, so they can be unmuted); `via` names a link's user column
    (`Follow.filter(user_filter(a, via="follower"))`)."""
    return _not_hidden(audience, f"{via}_id" if via else "id", audience.blocked_ids)


def actor_filter(audience: Audience, *, via: str = "actor") -> Q:
    """People whose activity (a like, a comment, a follow) this audience may be told about: not blocked
    either way, not muted. `via` names the link's user column."""
    return _not_hidden(audience, f"{via}_id")


def actor_sql(audience: Audience, column: str, params: list[Any]) -> str:
    """`actor_filter` as a raw SQL condition on a column holding a person's id."""
    return _not_hidden_sql(audience, column, params)


def can_view_user(user: User, audience: Audience) -> bool:
    """The row twin of `user_filter`: a profile shown on its own (by id, handle, search or a list)."""
    return not audience.blocks(user.id)


# --- products --------------------------------------------------------------------------------------------


def can_view_product(product: Product, audience: Audience) -> bool:
    """A product this audience may see: not withheld (delisted, or the merchant suspended or leaving)
    unless the viewer is the merchant, and not sold by someone in a block with the viewer. Products are
    only ever shown by id, tagged on a note or found by search (`search_exclusions`): no SQL twin yet."""
    merchant_id: int = product.merchant_id  # type: ignore[attr-defined]
    return _owned_or_visible(product.withheld, merchant_id, audience) and not audience.blocks(merchant_id)


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


# --- search ----------------------------------------------------------------------------------------------


def search_exclusions(audience: Audience, kind: SearchKind) -> frozenset[int]:
    """Whose results this audience never sees, for search to leave out before paging: notes of people
    blocked or muted; people and products of people in a block with the viewer (a muted person can still
    be found)."""
    if kind is SearchKind.NOTE:
        return audience.hidden_author_ids
    return audience.blocked_ids if kind in (SearchKind.USER, SearchKind.PRODUCT) else frozenset()


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
