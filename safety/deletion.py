"""Deleting an account: asked for with the password, a grace period, then the purge.

1. `request_deletion` (viewerDelete): the password confirms it; `deletion_requested_at` is set, every
   session ends and all the person's content is withheld at once (`safety.withholding`).
2. Signing in within GRACE cancels it (`cancel_deletion`, called by signIn): the content comes back as it
   was. After GRACE the account signs in no more.
3. `purge_due` (periodic, and `vermilion users purge-deleted`) removes what GRACE has passed for
   (`purge_account`). Each step is idempotent and keeps every counter exact as it goes, so a purge that
   stops halfway is finished by the next run; `deleted_at` is set last.

What a purge removes and what it keeps (GDPR: personal data goes, accounting records stay):
- notes: deleted through `social.notes.delete_note` (topic, author, review and search counts as for any
  deletion), then emptied of title, body and media;
- comments: removed and emptied, except a root comment others replied to: it stays, emptied, as the
  deleted account's, so their replies keep their thread ("Deleted account" answered by them);
- likes, collects, boards, follows both ways (every counter they move adjusted), blocks, mutes, filters,
  notifications to the person and their part in anyone else's, feed history, media with their files,
  data exports, password resets, open carts and queued email;
- kept: reports they made (without the reporter), appeals and the moderation log; orders and the payment
  ledger, with the buyer's email and address scrubbed (the country stays); products they sold, withheld;
- the users row stays as a tombstone: email and handle replaced by placeholders that no sign-up can
  take (freeing the originals), "Deleted account", nothing else, a password nothing matches.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core.errors import NotFound
from core.retry import retry_on_conflict
from core.sql import fetch_all, placeholders
from media.storage import Storage
from models import (
    Block,
    Board,
    Cart,
    CartStatus,
    Comment,
    ContentFilter,
    FeedEvent,
    FeedImpression,
    FeedSnapshot,
    Media,
    ModerationState,
    Mute,
    Note,
    Notification,
    Order,
    OutboxEmail,
    PasswordReset,
    Report,
    RevokedToken,
    Role,
    SearchDocument,
    SearchKind,
    User,
)
from safety.export import delete_exports_of
from safety.withholding import refresh_owner
from social.accounts import MAX_PASSWORD
from social.comments import delete_comment
from social.errors import InvalidCredentials, WrongPassword
from social.notes import delete_note
from social.notifications import regroup
from social.passwords import in_password_thread, verify_password
from social.sessions import end_all_sessions

log = logging.getLogger(__name__)

GRACE = timedelta(days=30)
DELETED_NAME = "Deleted account"
# Argon2 can never produce it: no password matches (social.passwords.verify_password answers False).
UNUSABLE_PASSWORD = "!"
# Rows removed per statement: a person with 50,000 likes is purged in bounded transactions.
CHUNK = 500
# Accounts purged per run of `purge_due` (the next run takes the rest).
PURGE_BATCH = 100
# How often the server looks for accounts to purge: the look reads the users table, and a day's delay on a
# 30-day grace period is nothing.
PURGE_INTERVAL_SECONDS = 3600


def placeholder_email(user_id: int) -> str:
    """A unique address no sign-up, sign-in or reset can use: its domain has no dot, which
    `social.accounts.EMAIL` requires."""
    return f"deleted-{user_id}@deleted"


def placeholder_handle(user_id: int) -> str:
    """A unique handle no sign-up can take ("-" is not allowed in handles) and no lookup by handle finds."""
    return f"deleted-{user_id}"


# --- asking, and changing one's mind -----------------------------------------------------------------------


async def request_deletion(*, user_id: int, password: str, now: datetime | None = None) -> User:
    """Ask for the account's deletion (INVALID_CREDENTIALS on a wrong password, and nothing changes):
    every session ends and the person's notes, comments and products are withheld until they sign in
    again within GRACE, or the purge removes them."""
    user = await User.get(id=user_id)
    matches = len(password) <= MAX_PASSWORD and await in_password_thread(
        verify_password, user.password_hash, password
    )
    if not matches:
        raise WrongPassword("password")
    moment = now or datetime.now(UTC)
    # Asking twice keeps the first date: the grace period does not move.
    await User.filter(id=user_id, deletion_requested_at=None, deleted_at=None).update(
        deletion_requested_at=moment
    )
    await end_all_sessions(user_id=user_id)
    await refresh_owner(user_id)
    return await User.get(id=user_id)


async def cancel_deletion(user: User, *, now: datetime | None = None) -> bool:
    """At sign-in: a deletion asked for within GRACE is cancelled and the content comes back (True);
    after GRACE the account is on its way out and signs in no more (INVALID_CREDENTIALS, as for an
    account that is gone). False when no deletion was asked for."""
    if user.deletion_requested_at is None:
        return False
    moment = now or datetime.now(UTC)
    # Conditional on the grace period: a purge that has begun is never raced by a late sign-in.
    cancelled = await User.filter(
        id=user.id, deleted_at=None, deletion_requested_at__gt=moment - GRACE
    ).update(deletion_requested_at=None)
    if not cancelled:
        raise InvalidCredentials()
    await refresh_owner(user.id)
    user.deletion_requested_at = None
    return True


def purge_due_at(user: User) -> datetime | None:
    """When the account will be purged; None when no deletion is pending."""
    if user.deletion_requested_at is None or user.deleted_at is not None:
        return None
    return user.deletion_requested_at + GRACE


# --- the purge ---------------------------------------------------------------------------------------------


async def purge_due(*, storage: Storage, now: datetime | None = None, limit: int = PURGE_BATCH) -> list[int]:
    """Purge accounts whose grace period has passed (at most `limit`); returns their ids. Idempotent: an
    account half purged by a run that stopped is finished by the next."""
    moment = now or datetime.now(UTC)
    due = await (
        User.filter(deletion_requested_at__lte=moment - GRACE, deleted_at=None)
        .order_by("id")
        .limit(limit)
        .values_list("id", flat=True)
    )
    purged = []
    for user_id in due:
        account = int(user_id)  # type: ignore[call-overload]
        try:
            if await purge_account(account, storage=storage, now=moment):
                purged.append(account)
        except Exception:  # one account's trouble (storage down) must not hold back the others
            log.exception("purging account %s stopped; the next run resumes it", account)
    return purged


async def purge_account(user_id: int, *, storage: Storage, now: datetime | None = None) -> bool:
    """Remove one account whose grace period has passed (see the module's docstring); False when it is not
    due (never asked, cancelled, too early, or already purged)."""
    moment = now or datetime.now(UTC)
    user = await User.get_or_none(id=user_id)
    if (
        user is None
        or user.deleted_at is not None
        or user.deletion_requested_at is None
        or user.deletion_requested_at > moment - GRACE
    ):
        return False
    log.info("purging account %s (deletion asked for at %s)", user_id, user.deletion_requested_at)
    await _remove_notes(user_id)
    await _remove_comments(user_id)
    await _until_done(_likes_chunk, user_id)
    await _until_done(_collects_chunk, user_id)
    await Board.filter(owner_id=user_id).delete()  # empty now: their collects went above
    await _until_done(_following_chunk, user_id)
    await _until_done(_followers_chunk, user_id)
    await Block.filter(Q(blocker_id=user_id) | Q(blocked_id=user_id)).delete()
    await Mute.filter(Q(muter_id=user_id) | Q(muted_id=user_id)).delete()
    await ContentFilter.filter(owner_id=user_id).delete()
    await _remove_notifications(user_id)
    await Report.filter(reporter_id=user_id).update(reporter_id=None)
    await FeedImpression.filter(user_id=user_id).delete()
    await FeedEvent.filter(user_id=user_id).delete()
    await FeedSnapshot.filter(user_id=user_id).delete()
    await _remove_media(user_id, storage)
    await delete_exports_of(user_id, storage)
    await _scrub_orders(user_id)
    await Cart.filter(owner_id=user_id, status=CartStatus.OPEN).delete()
    await PasswordReset.filter(user_id=user_id).delete()
    await RevokedToken.filter(user_id=user_id).delete()
    await OutboxEmail.filter(to_address=user.email).delete()
    await _close_account(user, moment)
    return True


async def _remove_notes(user_id: int) -> None:
    """Each note as its author would delete it, then emptied (the row stays: orders may point at it)."""
    for note_id in await Note.filter(author_id=user_id, deleted_at=None).values_list("id", flat=True):
        with contextlib.suppress(NotFound):  # deleted meanwhile
            await delete_note(note_id=int(note_id), editor_id=user_id)  # type: ignore[call-overload]
    await Note.filter(author_id=user_id).update(title="", body="", media=[])


async def _remove_comments(user_id: int) -> None:
    """Replies first, each as its author would delete it (its thread's and note's counts with it); then
    roots: one nobody else answered is removed, one with others' replies stays as the deleted account's;
    then all of them are emptied."""
    replies = Comment.filter(author_id=user_id, deleted_at=None, root_id__not_isnull=True)
    for reply_id in await replies.values_list("id", flat=True):
        with contextlib.suppress(NotFound):  # deleted meanwhile
            await delete_comment(comment_id=int(reply_id), editor_id=user_id)  # type: ignore[call-overload]
    for root in await Comment.filter(author_id=user_id, deleted_at=None, root_id=None):
        await _remove_root(root)
    await Comment.filter(author_id=user_id).update(body="")


@retry_on_conflict
async def _remove_root(root: Comment) -> None:
    """Not `delete_comment`, which takes a root's replies with it: a root others answered stays."""
    async with in_transaction():
        # The root's row locked first, so a reply arriving now waits and then finds the thread's state.
        await Comment.select_for_update().filter(id=root.id).first()
        if await Comment.filter(root_id=root.id, deleted_at=None).exists():
            return
        if await Comment.filter(id=root.id, deleted_at=None).update(deleted_at=datetime.now(UTC)):
            await Note.filter(id=root.note_id).update(comment_count=F("comment_count") - 1)  # type: ignore[attr-defined]


async def _shift(table: str, column: str, deltas: Counter[int]) -> None:
    """`column -= n` for each row id of `table`, in id order (the rules lock rows in id order: no deadlock),
    one statement per distinct n."""
    by_amount: dict[int, list[int]] = {}
    for row_id in sorted(deltas):
        by_amount.setdefault(deltas[row_id], []).append(row_id)
    for amount, ids in by_amount.items():
        await fetch_all(
            f"UPDATE {table} SET {column} = {column} - $1 WHERE id IN ({placeholders(len(ids), 2)})",
            [amount, *ids],
        )


async def _live_authors(note_ids: Sequence[int]) -> Counter[int]:
    """How many of these notes (not deleted) each author has: their likes_and_collects_count counts those."""
    if not note_ids:
        return Counter()
    rows = await fetch_all(
        f"SELECT author_id FROM notes WHERE id IN ({placeholders(len(note_ids))}) AND deleted_at IS NULL",
        note_ids,
    )
    return Counter(int(r["author_id"]) for r in rows)


_TAKE = "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} = $1 ORDER BY id LIMIT {n})"


async def _take(table: str, column: str, user_id: int, returning: str) -> list[dict[str, Any]]:
    """Delete a chunk of a person's rows and return what each said (RETURNING: exactly the rows this
    statement removed, whatever a concurrent unlike or unfollow removed meanwhile)."""
    return await fetch_all(
        _TAKE.format(table=table, column=column, n=CHUNK) + f" RETURNING {returning}", [user_id]
    )


async def _until_done(step: Callable[[int], Awaitable[bool]], user_id: int) -> None:
    """Run a chunk step (one transaction each) until it finds nothing left."""
    while await step(user_id):
        pass


@retry_on_conflict
async def _likes_chunk(user_id: int) -> bool:
    async with in_transaction():
        taken = await _take("likes", "user_id", user_id, "note_id")
        notes = [int(r["note_id"]) for r in taken]
        await _shift("notes", "like_count", Counter(notes))
        await _shift("users", "likes_and_collects_count", await _live_authors(notes))
    return bool(taken)


@retry_on_conflict
async def _collects_chunk(user_id: int) -> bool:
    async with in_transaction():
        taken = await _take("collects", "user_id", user_id, "note_id, board_id")
        notes = [int(r["note_id"]) for r in taken]
        await _shift("notes", "collect_count", Counter(notes))
        await _shift("boards", "note_count", Counter(int(r["board_id"]) for r in taken))
        await _shift("users", "likes_and_collects_count", await _live_authors(notes))
    return bool(taken)


@retry_on_conflict
async def _following_chunk(user_id: int) -> bool:
    return await _follows_chunk(user_id, own="follower_id", other="followee_id")


@retry_on_conflict
async def _followers_chunk(user_id: int) -> bool:
    return await _follows_chunk(user_id, own="followee_id", other="follower_id")


async def _follows_chunk(user_id: int, *, own: str, other: str) -> bool:
    """A chunk of the person's follows on one side (`own`: follower_id or followee_id), both sides'
    counts adjusted in one id-ordered pass."""
    own_count, other_count = (
        ("following_count", "follower_count")
        if own == "follower_id"
        else ("follower_count", "following_count")
    )
    async with in_transaction():
        taken = await _take("follows", own, user_id, other)
        shifts = {int(r[other]): (other_count, 1) for r in taken}  # one follow per pair
        if taken:
            shifts[user_id] = (own_count, len(taken))
        for uid in sorted(shifts):
            column, n = shifts[uid]
            await _shift("users", column, Counter({uid: n}))
    return bool(taken)


@retry_on_conflict
async def _activities_chunk(user_id: int) -> bool:
    """Their activities in others' notification entries, each entry regrouped without them."""
    async with in_transaction():
        taken = await _take("notification_activities", "actor_id", user_id, "notification_id")
        for notification_id in sorted({int(r["notification_id"]) for r in taken}):
            await regroup(notification_id)
    return bool(taken)


async def _remove_notifications(user_id: int) -> None:
    """Their own list goes; in everyone else's, their activities go, and an entry left with nobody goes
    too (a follow, a comment, a purchase of theirs) while a grouped one shows its remaining people."""
    await Notification.filter(recipient_id=user_id).delete()  # activities cascade
    await _until_done(_activities_chunk, user_id)


async def _remove_media(user_id: int, storage: Storage) -> None:
    """Every upload of theirs with its files: the files first, so a storage failure leaves the rows for the
    next run to try again (the purge then stops here, with `deleted_at` still unset)."""
    while True:
        media = await Media.filter(owner_id=user_id).order_by("id").limit(CHUNK)
        if not media:
            return
        keys = [k for m in media for k in (m.upload_key, *(f["key"] for f in (m.files or {}).values()))]
        await storage.delete(*keys)
        await Media.filter(id__in=[m.id for m in media]).delete()  # their note and product links go too


async def _scrub_orders(user_id: int) -> None:
    """Orders stay for accounting (amounts, currency, lines, the ledger) without the buyer's personal
    data: the receipt email and the address go, the country stays (tax and statistics)."""
    for order in await Order.filter(buyer_id=user_id):
        address = order.shipping_address or {}
        kept = {"country": address["country"]} if address.get("country") else {}
        await Order.filter(id=order.id).update(email="", shipping_address=kept)


async def _close_account(user: User, now: datetime) -> None:
    """The last step: content withheld for good, then the row becomes a tombstone."""
    await refresh_owner(user.id)
    # Root comments others answered stay in sight (emptied, by "Deleted account"), unless a moderator took
    # them down: their replies are shown through them.
    await Comment.filter(author_id=user.id, deleted_at=None, moderation=ModerationState.NONE).update(
        withheld=False
    )
    async with in_transaction():
        await User.filter(id=user.id).update(
            email=placeholder_email(user.id),
            handle=placeholder_handle(user.id),
            display_name=DELETED_NAME,
            bio="",
            avatar_url=None,
            languages=[],
            interests=[],
            password_hash=UNUSABLE_PASSWORD,
            session_version=F("session_version") + 1,
            role=Role.USER,
            suspension_reason="",
            deleted_at=now,
        )
        await SearchDocument.filter(kind=SearchKind.USER, object_id=user.id).delete()
