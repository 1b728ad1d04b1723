"""Likes, collects and follows called directly (social/engagement.py): doing a thing twice counts once,
undoing it twice gives back once, and every counter stays exact (social.counters.counter_mismatches)."""

from __future__ import annotations

import pytest

from core.errors import DomainError, ErrorCode
from models import Board, Collect, Follow, Like, Note, Notification, NotificationKind, User
from social.counters import counter_mismatches
from social.engagement import (
    collect_note,
    create_board,
    follow_user,
    like_note,
    uncollect_note,
    unfollow_user,
    unlike_note,
)
from social.notes import delete_note
from tests.social.factories import create_note, create_user


async def _note_counts(note: Note) -> tuple[int, int]:
    fresh = await Note.get(id=note.id)
    return fresh.like_count, fresh.collect_count


async def _received(user: User) -> int:
    return (await User.get(id=user.id)).likes_and_collects_count


async def _board_count(board_id: int) -> int:
    return (await Board.get(id=board_id)).note_count


async def _notifications(kind: NotificationKind, recipient: User) -> int:
    return await Notification.filter(kind=kind, recipient_id=recipient.id).count()


# --- likes ------------------------------------------------------------------------------------------------


async def test_liking_twice_counts_and_notifies_once(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    note = await create_note(author=author)

    await like_note(user_id=fan.id, note_id=note.id)
    await like_note(user_id=fan.id, note_id=note.id)

    assert await Like.filter(note_id=note.id).count() == 1
    assert await _note_counts(note) == (1, 0)
    assert await _received(author) == 1
    assert await _notifications(NotificationKind.LIKE, author) == 1
    assert await counter_mismatches() == []


async def test_unliking_twice_gives_back_once_and_a_new_like_does_not_notify_again(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    other = await create_note(author=author, title="another")
    note = await create_note(author=author)
    await like_note(user_id=fan.id, note_id=other.id)
    await like_note(user_id=fan.id, note_id=note.id)

    await unlike_note(user_id=fan.id, note_id=note.id)
    await unlike_note(user_id=fan.id, note_id=note.id)

    assert await _note_counts(note) == (0, 0)
    assert await _note_counts(other) == (1, 0)
    assert await _received(author) == 1
    await like_note(user_id=fan.id, note_id=note.id)
    assert await _note_counts(note) == (1, 0)
    assert await _notifications(NotificationKind.LIKE, author) == 2  # one per note, none for the re-like
    assert await counter_mismatches() == []


async def test_own_likes_count_but_notify_nobody(db: str) -> None:
    author = await create_user(handle="ann")
    note = await create_note(author=author)

    await like_note(user_id=author.id, note_id=note.id)

    assert await _note_counts(note) == (1, 0)
    assert await _received(author) == 1
    assert await Notification.all().count() == 0


async def test_a_deleted_note_cannot_be_liked_and_its_likes_stop_counting(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    note = await create_note(author=author)
    await like_note(user_id=fan.id, note_id=note.id)
    await delete_note(note_id=note.id, editor_id=author.id)

    with pytest.raises(DomainError) as refused:
        await like_note(user_id=fan.id, note_id=note.id)
    with pytest.raises(DomainError):
        await unlike_note(user_id=fan.id, note_id=note.id)

    assert refused.value.code is ErrorCode.NOT_FOUND
    assert await _received(author) == 0
    assert await counter_mismatches() == []


# --- collects -----------------------------------------------------------------------------------------


async def test_collecting_twice_into_the_default_board_counts_once(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan", languages=["en"])
    note = await create_note(author=author)

    _, board = await collect_note(user_id=fan.id, note_id=note.id, board_id=None)
    _, again = await collect_note(user_id=fan.id, note_id=note.id, board_id=None)

    assert (board.id, board.is_default, board.name) == (again.id, True, "Collected")
    assert await Collect.filter(note_id=note.id).count() == 1
    assert await _note_counts(note) == (0, 1)
    assert await _board_count(board.id) == 1
    assert await _received(author) == 1
    assert await _notifications(NotificationKind.COLLECT, author) == 1
    assert await counter_mismatches() == []


async def test_collecting_into_another_board_moves_the_note(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    note = await create_note(author=author)
    _, default = await collect_note(user_id=fan.id, note_id=note.id, board_id=None)
    trips = await create_board(owner_id=fan.id, name="Trips", description=None, is_private=True)

    await collect_note(user_id=fan.id, note_id=note.id, board_id=trips.id)

    assert (await Collect.get(user_id=fan.id, note_id=note.id)).board_id == trips.id  # type: ignore[attr-defined]
    assert [await _board_count(default.id), await _board_count(trips.id)] == [0, 1]
    assert await _note_counts(note) == (0, 1)  # moved, not collected twice
    assert await _received(author) == 1
    assert await counter_mismatches() == []


async def test_uncollecting_twice_gives_back_once(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    note = await create_note(author=author)
    _, board = await collect_note(user_id=fan.id, note_id=note.id, board_id=None)

    await uncollect_note(user_id=fan.id, note_id=note.id)
    await uncollect_note(user_id=fan.id, note_id=note.id)

    assert await Collect.all().count() == 0
    assert await _note_counts(note) == (0, 0)
    assert await _board_count(board.id) == 0
    assert await _received(author) == 0
    assert await counter_mismatches() == []


async def test_only_your_own_boards_take_your_collects(db: str) -> None:
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    note = await create_note(author=author)
    private = await create_board(owner_id=author.id, name="Secret", description=None, is_private=True)
    public = await create_board(owner_id=author.id, name="Open", description=None, is_private=False)

    with pytest.raises(DomainError) as hidden:
        await collect_note(user_id=fan.id, note_id=note.id, board_id=private.id)
    with pytest.raises(DomainError) as not_yours:
        await collect_note(user_id=fan.id, note_id=note.id, board_id=public.id)

    assert hidden.value.code is ErrorCode.NOT_FOUND  # a private board is not told apart from none
    assert not_yours.value.code is ErrorCode.FORBIDDEN
    assert await Collect.all().count() == 0
    assert await _note_counts(note) == (0, 0)
    assert await counter_mismatches() == []


# --- follows -----------------------------------------------------------------------------------------------


async def test_following_twice_counts_and_notifies_once(db: str) -> None:
    ann = await create_user(handle="ann")
    bob = await create_user(handle="bob")

    await follow_user(follower_id=bob.id, followee_id=ann.id)
    await follow_user(follower_id=bob.id, followee_id=ann.id)

    assert await Follow.all().count() == 1
    followee, follower = await User.get(id=ann.id), await User.get(id=bob.id)
    assert (followee.follower_count, followee.following_count) == (1, 0)
    assert (follower.follower_count, follower.following_count) == (0, 1)
    assert await _notifications(NotificationKind.FOLLOW, ann) == 1
    assert await counter_mismatches() == []


async def test_unfollowing_twice_gives_back_once_and_mutual_follows_stay_apart(db: str) -> None:
    ann = await create_user(handle="ann")
    bob = await create_user(handle="bob")
    await follow_user(follower_id=bob.id, followee_id=ann.id)
    await follow_user(follower_id=ann.id, followee_id=bob.id)

    await unfollow_user(follower_id=bob.id, followee_id=ann.id)
    await unfollow_user(follower_id=bob.id, followee_id=ann.id)

    followee, follower = await User.get(id=ann.id), await User.get(id=bob.id)
    assert (followee.follower_count, followee.following_count) == (0, 1)
    assert (follower.follower_count, follower.following_count) == (1, 0)
    assert await counter_mismatches() == []


async def test_nobody_follows_themselves_or_someone_who_does_not_exist(db: str) -> None:
    ann = await create_user(handle="ann")

    with pytest.raises(DomainError) as self_follow:
        await follow_user(follower_id=ann.id, followee_id=ann.id)
    with pytest.raises(DomainError) as unknown:
        await follow_user(follower_id=ann.id, followee_id=ann.id + 100)
    with pytest.raises(DomainError) as unknown_unfollow:
        await unfollow_user(follower_id=ann.id, followee_id=ann.id + 100)

    assert self_follow.value.code is ErrorCode.CANNOT_FOLLOW_SELF
    assert unknown.value.code is ErrorCode.NOT_FOUND
    assert unknown_unfollow.value.code is ErrorCode.NOT_FOUND
    assert (await User.get(id=ann.id)).following_count == 0
    assert await Follow.all().count() == 0
