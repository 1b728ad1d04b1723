"""Denormalised counters: what each one counts, and a check of every stored counter against COUNT queries.

The writers that keep them exact live beside this table (social/engagement.py, social/notes.py,
social/comments.py, commerce/catalog.py); the demo seed sets them with `demo.counters.tally`.

What each counter counts (writers and seed keep exactly this; `counter_mismatches` checks exactly this):

| counter                          | rows counted                                                    |
|----------------------------------|-----------------------------------------------------------------|
| users.follower_count             | follows whose followee is the user                              |
| users.following_count            | follows whose follower is the user                              |
| users.note_count                 | the user's notes that are not deleted                           |
| users.likes_and_collects_count   | likes + collects on the user's notes that are not deleted       |
| notes.like_count / collect_count | likes / collects of the note                                    |
| notes.comment_count              | the note's comments (roots and replies) that are not deleted    |
| comments.reply_count             | replies in the root comment's thread that are not deleted       |
| boards.note_count                | collects into the board                                         |
| topics.note_count                | notes carrying the topic that are not deleted                   |
| products.review_count/rating_sum | review notes of the product that are not deleted (count / sum)  |
"""

from __future__ import annotations

from typing import NamedTuple

from tortoise import connections
from tortoise.expressions import F

from models import User

MAX_REPORTED_PER_COUNTER = 20


class CounterCheck(NamedTuple):
    table: str
    column: str
    # SELECT returning (k, n): the counted value n for each row id k that has any rows to count.
    counted: str


CHECKS = (
    CounterCheck(
        "users", "follower_count", "SELECT followee_id AS k, COUNT(*) AS n FROM follows GROUP BY followee_id"
    ),
    CounterCheck(
        "users", "following_count", "SELECT follower_id AS k, COUNT(*) AS n FROM follows GROUP BY follower_id"
    ),
    CounterCheck(
        "users",
        "note_count",
        "SELECT author_id AS k, COUNT(*) AS n FROM notes WHERE deleted_at IS NULL GROUP BY author_id",
    ),
    CounterCheck(
        "users",
        "likes_and_collects_count",
        "SELECT k, SUM(n) AS n FROM ("
        " SELECT x.author_id AS k, COUNT(*) AS n FROM likes l JOIN notes x ON x.id = l.note_id"
        " WHERE x.deleted_at IS NULL GROUP BY x.author_id"
        " UNION ALL"
        " SELECT x.author_id AS k, COUNT(*) AS n FROM collects c JOIN notes x ON x.id = c.note_id"
        " WHERE x.deleted_at IS NULL GROUP BY x.author_id"
        ") received GROUP BY k",
    ),
    CounterCheck("notes", "like_count", "SELECT note_id AS k, COUNT(*) AS n FROM likes GROUP BY note_id"),
    CounterCheck(
        "notes", "collect_count", "SELECT note_id AS k, COUNT(*) AS n FROM collects GROUP BY note_id"
    ),
    CounterCheck(
        "notes",
        "comment_count",
        "SELECT note_id AS k, COUNT(*) AS n FROM comments WHERE deleted_at IS NULL GROUP BY note_id",
    ),
    CounterCheck(
        "comments",
        "reply_count",
        "SELECT root_id AS k, COUNT(*) AS n FROM comments"
        " WHERE root_id IS NOT NULL AND deleted_at IS NULL GROUP BY root_id",
    ),
    CounterCheck(
        "boards", "note_count", "SELECT board_id AS k, COUNT(*) AS n FROM collects GROUP BY board_id"
    ),
    CounterCheck(
        "topics",
        "note_count",
        "SELECT nt.topic_id AS k, COUNT(*) AS n FROM note_topics nt JOIN notes x ON x.id = nt.note_id"
        " WHERE x.deleted_at IS NULL GROUP BY nt.topic_id",
    ),
    CounterCheck(
        "products",
        "review_count",
        "SELECT review_product_id AS k, COUNT(*) AS n FROM notes"
        " WHERE review_product_id IS NOT NULL AND deleted_at IS NULL GROUP BY review_product_id",
    ),
    CounterCheck(
        "products",
        "rating_sum",
        "SELECT review_product_id AS k, SUM(review_rating) AS n FROM notes"
        " WHERE review_product_id IS NOT NULL AND deleted_at IS NULL GROUP BY review_product_id",
    ),
)


async def counter_mismatches() -> list[str]:
    """Every stored counter that differs from a COUNT of its rows, as readable lines; [] when all exact."""
    connection = connections.get("default")
    problems: list[str] = []
    for check in CHECKS:
        rows = await connection.execute_query_dict(
            f"SELECT t.id AS id, t.{check.column} AS stored, COALESCE(c.n, 0) AS counted"
            f" FROM {check.table} t LEFT JOIN ({check.counted}) c ON c.k = t.id"
            f" WHERE t.{check.column} <> COALESCE(c.n, 0) ORDER BY t.id"
        )
        for row in rows[:MAX_REPORTED_PER_COUNTER]:
            problems.append(
                f"{check.table}.{check.column} of id {row['id']}: stored {row['stored']},"
                f" counted {int(row['counted'])}"
            )
        if len(rows) > MAX_REPORTED_PER_COUNTER:
            problems.append(
                f"{check.table}.{check.column}: {len(rows) - MAX_REPORTED_PER_COUNTER} more rows differ"
            )
    return problems


async def shift_follow_counts(follower_id: int, followee_id: int, delta: int) -> None:
    """Both users' counts, in id order: A following B while B follows A must not deadlock."""
    for user_id in sorted((follower_id, followee_id)):
        if user_id == followee_id:
            await User.filter(id=user_id).update(follower_count=F("follower_count") + delta)
        else:
            await User.filter(id=user_id).update(following_count=F("following_count") + delta)
