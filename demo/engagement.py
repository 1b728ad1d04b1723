"""What people do with notes: boards, likes, collects, comment threads, and a few deletions.

Every kind of row gets its ids in time order (sorted by timestamp before numbering), so "newest first by
id" lists show a believable history.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from demo import writing
from demo.content import CATEGORY_BY_KEY
from demo.sampling import cumulative, distinct_picks, later, stochastic_round
from demo.world import (
    DAY,
    HOUR,
    WINDOW_START,
    BoardRow,
    CollectRow,
    CommentRow,
    LikeRow,
    NoteRow,
    UserRow,
    World,
)

LIKES_PER_NOTE = 10
DELETED_NOTE_SHARE = 0.01
DELETED_COMMENT_SHARE = 0.03


def build_boards(rng: random.Random, users: list[UserRow]) -> list[BoardRow]:
    """One default board per user (made at sign-up) and, for some, a named public or private board."""
    drafts: list[BoardRow] = []
    for user in users:
        default_name = "Collected" if user.prefers_english else "默认收藏"
        drafts.append(BoardRow(0, user.id, default_name, "", False, True, user.created_at, None))
        extra = 2 if user.id == 1 else 1 if rng.random() < 0.45 else 0
        for number in range(extra):
            category = CATEGORY_BY_KEY[user.categories[number % len(user.categories)]]
            english = user.prefers_english or ("en" in user.languages and rng.random() < 0.5)
            name = category.board_en if english else category.board_zh
            description = "" if rng.random() < 0.5 else ("Saved for later" if english else "慢慢收藏的灵感")
            private = number == 1 or rng.random() < 0.3
            made = rng.randint(user.created_at + HOUR, WINDOW_START - HOUR)
            drafts.append(BoardRow(0, user.id, name, description, private, False, made, category.key))
    drafts.sort(key=lambda board: (board.created_at, board.owner_id, not board.is_default, board.name))
    for number, board in enumerate(drafts, start=1):
        board.id = number
    return drafts


class Engagement:
    """Likes, collects and comments on every note, drawn from the users' activity and the author's reach."""

    def __init__(self, rng: random.Random, world: World):
        self.rng = rng
        self.world = world
        self.users = world.users
        self.activity_cum = cumulative([user.activity for user in world.users])
        self.boards_of: dict[int, list[BoardRow]] = {}
        for board in world.boards:
            self.boards_of.setdefault(board.owner_id, []).append(board)
        self.like_drafts: list[tuple[int, int, int]] = []
        self.collect_drafts: list[tuple[int, int, int, int]] = []
        # [created_at, sequence, note_id, author_id, body, root sequence, reply_to sequence]
        self.comment_drafts: list[tuple[int, int, int, int, str, int | None, int | None]] = []
        self.last_activity: dict[int, int] = {}

    def build(self, progress: Iterable[NoteRow] | None = None) -> None:
        notes = self.world.notes
        targets = self._like_targets()
        for note in progress if progress is not None else notes:
            likers = self._likes(note, targets[note.id - 1])
            self._collects(note, likers)
            self._comments(note, len(likers))
        self._number_rows()
        self._delete_some()

    def _like_targets(self) -> list[int]:
        """Likes per note: heavy-tailed by author reach and luck, ~LIKES_PER_NOTE on average."""
        rng, users, notes = self.rng, self.users, self.world.notes
        if not notes:
            return []
        # Even a hit note is not liked by everyone in a small world.
        cap = max(0, int((len(users) - 1) * 0.75))
        newest = notes[-1].created_at
        scores = []
        for note in notes:
            age_days = (newest - note.created_at) / DAY
            # Notes from the last days have not had time to gather their likes yet.
            freshness = 0.35 + 0.65 * min(1.0, age_days / 10)
            author = users[note.author_id - 1]
            scores.append(author.popularity**0.6 * rng.lognormvariate(0, 0.9) * freshness)
        wanted = LIKES_PER_NOTE * len(notes)
        scale = wanted / sum(scores)
        for _ in range(4):
            # Caps (no more likes than people) leave a shortfall; spread it over the uncapped notes.
            total = sum(min(score * scale, cap) for score in scores)
            if total <= 0:
                break
            scale *= wanted / total
        return [min(cap, stochastic_round(rng, score * scale)) for score in scores]

    def _likes(self, note: NoteRow, count: int) -> list[int]:
        rng = self.rng
        picked = distinct_picks(rng, self.activity_cum, count, exclude=note.author_id - 1)
        likers = [index + 1 for index in picked]
        for user_id in likers:
            moment = later(rng, note.created_at, 2 * DAY)
            self.like_drafts.append((moment, note.id, user_id))
            self._touch(note.id, moment)
        return likers

    def _collects(self, note: NoteRow, likers: list[int]) -> None:
        rng = self.rng
        ratio = CATEGORY_BY_KEY[note.category].collect_ratio * rng.uniform(0.5, 1.5)
        count = min(len(likers), stochastic_round(rng, len(likers) * ratio))
        for user_id in rng.sample(likers, count):
            boards = self.boards_of[user_id]
            board = next(b for b in boards if b.is_default)
            for named in boards:
                if not named.is_default and (named.category == note.category or rng.random() < 0.1):
                    board = named
                    break
            moment = later(rng, note.created_at, 3 * DAY)
            self.collect_drafts.append((moment, note.id, user_id, board.id))
            self._touch(note.id, moment)

    def _comments(self, note: NoteRow, likes: int) -> None:
        rng = self.rng
        category = CATEGORY_BY_KEY[note.category]
        roots = min(40, stochastic_round(rng, likes * rng.uniform(0.04, 0.22)))
        for _ in range(roots):
            picked = distinct_picks(rng, self.activity_cum, 1, exclude=note.author_id - 1)
            if not picked:
                return
            author = self.users[picked[0]]
            root_at = later(rng, note.created_at, 1.5 * DAY)
            root_seq = self._add_comment(
                root_at,
                note,
                author.id,
                writing.comment_text(rng, category, _speaks(rng, author)),
                None,
                None,
            )
            thread = [(root_seq, author.id, root_at)]
            replies = 0 if rng.random() < 0.6 else 1 + min(5, int(rng.expovariate(0.8)))
            for _ in range(replies):
                target_seq, target_author, target_at = thread[0] if rng.random() < 0.6 else rng.choice(thread)
                replier = self._replier(note, thread, target_author)
                mention = None if target_seq == root_seq else self.users[target_author - 1].handle
                body = writing.reply_text(rng, _speaks(rng, self.users[replier - 1]), mention)
                reply_at = later(rng, target_at, 8 * HOUR)
                reply_seq = self._add_comment(reply_at, note, replier, body, root_seq, target_seq)
                thread.append((reply_seq, replier, reply_at))

    def _replier(self, note: NoteRow, thread: list[tuple[int, int, int]], target_author: int) -> int:
        """The note's author answers often; otherwise the thread starter or a passer-by."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.45 and target_author != note.author_id:
            return note.author_id
        if roll < 0.7 and thread[0][1] != target_author:
            return thread[0][1]
        picked = distinct_picks(rng, self.activity_cum, 1, exclude=target_author - 1)
        return picked[0] + 1 if picked else note.author_id

    def _add_comment(
        self, moment: int, note: NoteRow, author_id: int, body: str, root: int | None, reply_to: int | None
    ) -> int:
        sequence = len(self.comment_drafts)
        self.comment_drafts.append((moment, sequence, note.id, author_id, body, root, reply_to))
        self._touch(note.id, moment)
        return sequence

    def _touch(self, note_id: int, moment: int) -> None:
        if moment > self.last_activity.get(note_id, 0):
            self.last_activity[note_id] = moment

    def _number_rows(self) -> None:
        """Give likes, collects and comments ids in time order."""
        world = self.world
        self.like_drafts.sort()
        world.likes = [
            LikeRow(number, user_id, note_id, moment)
            for number, (moment, note_id, user_id) in enumerate(self.like_drafts, start=1)
        ]
        self.collect_drafts.sort()
        world.collects = [
            CollectRow(number, user_id, note_id, board_id, moment)
            for number, (moment, note_id, user_id, board_id) in enumerate(self.collect_drafts, start=1)
        ]
        # A reply is never earlier than what it answers and was drafted after it, so it sorts later.
        self.comment_drafts.sort()
        ids: dict[int, int] = {}
        comments = []
        for number, (moment, sequence, note_id, author_id, body, root, reply_to) in enumerate(
            self.comment_drafts, start=1
        ):
            ids[sequence] = number
            root_id = ids[root] if root is not None else None
            reply_to_id = ids[reply_to] if reply_to is not None else None
            comments.append(CommentRow(number, note_id, author_id, body, root_id, reply_to_id, moment))
        world.comments = comments
        self.like_drafts, self.collect_drafts, self.comment_drafts = [], [], []

    def _delete_some(self) -> None:
        """Soft-delete a few comments and notes, after everything that happened to them."""
        rng = self.rng
        for comment in self.world.comments:
            if rng.random() < DELETED_COMMENT_SHARE:
                comment.deleted_at = later(rng, comment.created_at, 2 * DAY)
        for note in self.world.notes:
            if rng.random() < DELETED_NOTE_SHARE:
                last = self.last_activity.get(note.id, note.created_at)
                note.deleted_at = later(rng, last, 3 * DAY)


def _speaks(rng: random.Random, user: UserRow) -> str:
    """The language a user writes a comment in."""
    if len(user.languages) > 1:
        return rng.choice(user.languages)
    return user.languages[0]
