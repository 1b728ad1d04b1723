"""The follow graph: everyone follows a few people, mostly the most visible creators."""

from __future__ import annotations

import math
import random

from demo.sampling import cumulative, distinct_picks
from demo.world import BASE_TS, HOUR, FollowRow, NoteRow, UserRow

DEMO_USER_ID = 1
CREATOR_ID = 2
# The demo shopper's following feed must show at least this many notes (and a few more for margin).
DEMO_FEED_NOTES = 25


def build_follows(rng: random.Random, users: list[UserRow], notes: list[NoteRow]) -> list[FollowRow]:
    """Follows with ids in time order; the demo shopper follows enough creators to fill a feed."""
    popularity_cum = cumulative([user.popularity for user in users])
    drafts: list[tuple[int, int, int]] = []
    for follower in users:
        if follower.id == DEMO_USER_ID:
            followees = _demo_followees(users, notes)
        else:
            wanted = _follow_count(rng, len(users))
            followees = [index + 1 for index in distinct_picks(rng, popularity_cum, wanted, follower.id - 1)]
        for followee_id in followees:
            followee = users[followee_id - 1]
            start = max(follower.created_at, followee.created_at) + HOUR
            drafts.append((rng.randint(start, BASE_TS - HOUR), follower.id, followee_id))
    drafts.sort()
    return [
        FollowRow(number, follower_id, followee_id, moment)
        for number, (moment, follower_id, followee_id) in enumerate(drafts, start=1)
    ]


def _follow_count(rng: random.Random, population: int) -> int:
    """Log-normal around a fifth of a small world, around 30 in a large one."""
    typical = min(30, max(2, population // 5))
    return max(1, min(population - 1, round(rng.lognormvariate(math.log(typical), 0.8))))


def _demo_followees(users: list[UserRow], notes: list[NoteRow]) -> list[int]:
    """The documented creator, then prolific creators sharing the demo shopper's interests."""
    posted = [0] * (len(users) + 1)
    for note in notes:
        if note.deleted_at is None:
            posted[note.author_id] += 1
    demo = users[DEMO_USER_ID - 1]
    shared = set(demo.categories)

    def appeal(user: UserRow) -> tuple[int, int, int]:
        overlap = sum(1 for key in user.categories if key in shared)
        return (-min(overlap, 1), -posted[user.id], user.id)

    candidates = sorted(
        (user for user in users if user.id not in (DEMO_USER_ID, CREATOR_ID) and posted[user.id]), key=appeal
    )
    followees = [CREATOR_ID] if len(users) >= CREATOR_ID else []
    feed = sum(posted[user_id] for user_id in followees)
    for user in candidates:
        if feed >= DEMO_FEED_NOTES + 15 and len(followees) >= 10:
            break
        followees.append(user.id)
        feed += posted[user.id]
    return followees
