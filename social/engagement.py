"""Likes, collects into boards, and follows: idempotent, with counters changed in the same transaction."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.retry import retry_on_conflict
from core.validation import Checks
from models import Board, Collect, Follow, Like, Note, NotificationKind, User
from social.blocks import refuse_if_blocked
from social.counters import shift_follow_counts
from social.errors import CannotFollowSelf
from social.notifications import notify
from social.policy import audience_for, can_collect_into, can_view_board

MAX_BOARDS_PER_USER = 200
DEFAULT_BOARD_NAME = {"zh": "默认收藏", "en": "Collected"}


async def live_note(note_id: int, actor_id: int | None = None) -> Note:
    """A note `actor_id` may act on: not deleted, not withheld (unless it is theirs), and (BLOCKED) its
    author and the actor not in a block."""
    note = await Note.get_or_none(id=note_id, deleted_at=None)
    if note is None or (note.withheld and note.author_id != actor_id):  # type: ignore[attr-defined]
        raise NotFound("Note", "note_id")
    if actor_id is not None:
        await refuse_if_blocked(actor_id, note.author_id, "note_id")  # type: ignore[attr-defined]
    return note


@retry_on_conflict
async def like_note(*, user_id: int, note_id: int) -> Note:
    """Like once; liking again changes nothing."""
    note = await live_note(note_id, user_id)
    try:
        async with in_transaction():
            if await Like.filter(user_id=user_id, note_id=note_id).exists():
                return note
            await Like.create(user_id=user_id, note_id=note_id)
            await Note.filter(id=note_id).update(like_count=F("like_count") + 1)
            await User.filter(id=note.author_id).update(  # type: ignore[attr-defined]
                likes_and_collects_count=F("likes_and_collects_count") + 1
            )
            await notify(
                recipient_id=note.author_id,  # type: ignore[attr-defined]
                actor_id=user_id,
                kind=NotificationKind.LIKE,
                note_id=note_id,
            )
    except IntegrityError:  # the same like arrived twice at once; the other one counted it
        pass
    return note


@retry_on_conflict
async def unlike_note(*, user_id: int, note_id: int) -> Note:
    note = await live_note(note_id)
    async with in_transaction():
        if await Like.filter(user_id=user_id, note_id=note_id).delete():
            await Note.filter(id=note_id).update(like_count=F("like_count") - 1)
            await User.filter(id=note.author_id).update(  # type: ignore[attr-defined]
                likes_and_collects_count=F("likes_and_collects_count") - 1
            )
    return note


async def create_board(*, owner_id: int, name: str, description: str | None, is_private: bool) -> Board:
    checks = Checks()
    clean_name = checks.text("name", name, max_length=50)
    clean_description = checks.text("description", description or "", max_length=500, min_length=0)
    checks.done()
    if await Board.filter(owner_id=owner_id).count() >= MAX_BOARDS_PER_USER:
        # The request as a whole is refused, not one of its fields: the empty path.
        raise DomainError(ErrorCode.TOO_MANY, f"At most {MAX_BOARDS_PER_USER} boards per person.", ())
    return await Board.create(
        owner_id=owner_id, name=clean_name, description=clean_description or "", is_private=is_private
    )


async def create_default_board(user: User) -> Board:
    """The board a collect lands in when none is named, named in the user's first language."""
    language = "en" if (user.languages or ["zh"])[0].startswith("en") else "zh"
    return await Board.create(owner_id=user.id, name=DEFAULT_BOARD_NAME[language], is_default=True)


async def default_board(user_id: int) -> Board:
    """The user's default board (made at sign-up; made here for accounts that predate that)."""
    board = await Board.filter(owner_id=user_id, is_default=True).order_by("id").first()
    if board is None:
        await create_default_board(await User.get(id=user_id))
        # Two first collects at once may both create one: the oldest is the default for everyone.
        board = await Board.filter(owner_id=user_id, is_default=True).order_by("id").first()
        assert board is not None
    return board


@retry_on_conflict
async def collect_note(*, user_id: int, note_id: int, board_id: int | None) -> tuple[Note, Board]:
    """Collect into a board (the default one when none is named); collecting again moves the note."""
    note = await live_note(note_id, user_id)
    if board_id is None:
        board = await default_board(user_id)
    else:
        found = await Board.get_or_none(id=board_id)
        if found is None or not can_view_board(found, await audience_for(user_id)):
            raise NotFound("Board", "board_id")
        if not can_collect_into(found, user_id):
            raise Forbidden("You can only collect into your own boards.", "board_id")
        board = found
    try:
        async with in_transaction():
            existing = await Collect.get_or_none(user_id=user_id, note_id=note_id)
            if existing is not None:
                old_board = existing.board_id  # type: ignore[attr-defined]
                # Conditional on the board we read: of two moves at once only one changes the row,
                # and only that one moves the counts.
                if old_board != board.id and await Collect.filter(id=existing.id, board_id=old_board).update(
                    board_id=board.id
                ):
                    await _shift_board_counts({old_board: -1, board.id: +1})
                return note, board
            await Collect.create(user_id=user_id, note_id=note_id, board_id=board.id)
            await Note.filter(id=note_id).update(collect_count=F("collect_count") + 1)
            await Board.filter(id=board.id).update(note_count=F("note_count") + 1)
            await User.filter(id=note.author_id).update(  # type: ignore[attr-defined]
                likes_and_collects_count=F("likes_and_collects_count") + 1
            )
            await notify(
                recipient_id=note.author_id,  # type: ignore[attr-defined]
                actor_id=user_id,
                kind=NotificationKind.COLLECT,
                note_id=note_id,
            )
    except IntegrityError:  # a concurrent identical collect won; it did the counting
        pass
    return note, board


@retry_on_conflict
async def uncollect_note(*, user_id: int, note_id: int) -> Note:
    note = await live_note(note_id)
    for _ in range(3):  # a concurrent move changes the board under us: read again
        async with in_transaction():
            existing = await Collect.get_or_none(user_id=user_id, note_id=note_id)
            if existing is None:
                return note
            board_id = existing.board_id  # type: ignore[attr-defined]
            if not await Collect.filter(id=existing.id, board_id=board_id).delete():
                continue
            await Note.filter(id=note_id).update(collect_count=F("collect_count") - 1)
            await Board.filter(id=board_id).update(note_count=F("note_count") - 1)
            await User.filter(id=note.author_id).update(  # type: ignore[attr-defined]
                likes_and_collects_count=F("likes_and_collects_count") - 1
            )
            return note
    return note


@retry_on_conflict
async def follow_user(*, follower_id: int, followee_id: int) -> User:
    if follower_id == followee_id:
        raise CannotFollowSelf("user_id")
    followee = await User.get_or_none(id=followee_id, deleted_at=None)
    if followee is None:
        raise NotFound("User", "user_id")
    await refuse_if_blocked(follower_id, followee_id, "user_id")
    try:
        async with in_transaction():
            if not await Follow.filter(follower_id=follower_id, followee_id=followee_id).exists():
                await Follow.create(follower_id=follower_id, followee_id=followee_id)
                await shift_follow_counts(follower_id, followee_id, +1)
                await notify(recipient_id=followee_id, actor_id=follower_id, kind=NotificationKind.FOLLOW)
    except IntegrityError:  # the same follow arrived twice at once
        pass
    return followee


@retry_on_conflict
async def unfollow_user(*, follower_id: int, followee_id: int) -> User:
    followee = await User.get_or_none(id=followee_id)
    if followee is None:
        raise NotFound("User", "user_id")
    async with in_transaction():
        if await Follow.filter(follower_id=follower_id, followee_id=followee_id).delete():
            await shift_follow_counts(follower_id, followee_id, -1)
    return followee


async def _shift_board_counts(deltas: dict[int, int]) -> None:
    """Change several boards' counts, locking them in id order so that opposite moves cannot deadlock."""
    for board_id in sorted(deltas):
        await Board.filter(id=board_id).update(note_count=F("note_count") + deltas[board_id])
