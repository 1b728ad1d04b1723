"""Counters stay exact when the same actions arrive at once (duplicates included)."""

from __future__ import annotations

import asyncio

from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

LIKE = "mutation($n: ID!) { noteLike(noteId: $n) { errors { code } } }"
UNLIKE = "mutation($n: ID!) { noteUnlike(noteId: $n) { errors { code } } }"
COLLECT = "mutation($n: ID!) { noteCollect(noteId: $n) { errors { code } } }"
UNCOLLECT = "mutation($n: ID!) { noteUncollect(noteId: $n) { errors { code } } }"
FOLLOW = "mutation($u: ID!) { userFollow(userId: $u) { errors { code } } }"


async def test_simultaneous_likes_collects_and_follows_count_once_each(client: GraphQLClient) -> None:
    author = await sign_up(client, "popular")
    fans = [await sign_up(client, f"fan{i}") for i in range(8)]
    note = await create_note(client, author["token"])

    async def act(query: str, variables: dict[str, str], token: str) -> None:
        body = await client.data(query, variables, token=token)
        assert all(payload["errors"] == [] for payload in body.values()), body

    # given every fan likes, collects and follows three times at once
    jobs = []
    for fan in fans:
        for _ in range(3):
            jobs += [
                act(LIKE, {"n": note["id"]}, fan["token"]),
                act(COLLECT, {"n": note["id"]}, fan["token"]),
                act(FOLLOW, {"u": author["user"]["id"]}, fan["token"]),
            ]
    await asyncio.gather(*jobs)

    # then each counted once
    state = await client.data(
        "query($n: ID!) { note(id: $n) { likeCount collectCount author { followerCount likesAndCollectsCount } } }",
        {"n": note["id"]},
    )
    assert state["note"] == {
        "likeCount": 8,
        "collectCount": 8,
        "author": {"followerCount": 8, "likesAndCollectsCount": 16},
    }

    # when half unlike twice at once while the others like again
    jobs = [act(UNLIKE, {"n": note["id"]}, fan["token"]) for fan in fans[:4] for _ in range(2)]
    jobs += [act(LIKE, {"n": note["id"]}, fan["token"]) for fan in fans[4:]]
    await asyncio.gather(*jobs)
    state = await client.data("query($n: ID!) { note(id: $n) { likeCount } }", {"n": note["id"]})
    assert state["note"] == {"likeCount": 4}
    assert await counter_mismatches() == []


async def test_simultaneous_moves_and_uncollects_keep_board_counts_exact(client: GraphQLClient) -> None:
    author = await sign_up(client, "writer")
    reader = await sign_up(client, "reader")
    notes = [await create_note(client, author["token"], title=f"n{i}") for i in range(4)]
    boards = []
    for name in ("A", "B", "C"):
        body = await client.data(
            "mutation($i: BoardCreateInput!) { boardCreate(input: $i) { board { id } } }",
            {"i": {"name": name}},
            token=reader["token"],
        )
        boards.append(body["boardCreate"]["board"]["id"])
    move = "mutation($n: ID!, $b: ID) { noteCollect(noteId: $n, boardId: $b) { errors { code } } }"
    for note in notes:
        await client.data(move, {"n": note["id"], "b": boards[0]}, token=reader["token"])

    # each note is moved to B and to C and uncollected, all at once, several times over
    jobs = []
    for note in notes:
        for _ in range(3):
            jobs += [
                client.data(move, {"n": note["id"], "b": boards[1]}, token=reader["token"]),
                client.data(move, {"n": note["id"], "b": boards[2]}, token=reader["token"]),
            ]
        jobs.append(client.data(UNCOLLECT, {"n": note["id"]}, token=reader["token"]))
    await asyncio.gather(*jobs)
    assert await counter_mismatches() == []


async def test_everyone_following_everyone_at_once_counts_exactly(client: GraphQLClient) -> None:
    people = [await sign_up(client, f"peer{i}") for i in range(6)]
    jobs = [
        client.data(FOLLOW, {"u": other["user"]["id"]}, token=person["token"])
        for person in people
        for other in people
        if other is not person
        for _ in range(2)
    ]
    results = await asyncio.gather(*jobs)
    assert all(r["userFollow"]["errors"] == [] for r in results)
    counts = await client.data('{ user(handle: "peer0") { followerCount followingCount } }')
    assert counts["user"] == {"followerCount": 5, "followingCount": 5}
    assert await counter_mismatches() == []
