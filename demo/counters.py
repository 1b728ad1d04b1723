"""Counters of the in-memory demo world, set from its rows as `social.counters` defines them."""

from __future__ import annotations

from demo.world import World


def tally(world: World) -> None:
    """Set every counter of the in-memory world from its rows (ids are list positions + 1)."""
    users, notes, comments = world.users, world.notes, world.comments
    for user in users:
        user.follower_count = user.following_count = user.note_count = user.likes_and_collects_count = 0
    for note in notes:
        note.like_count = note.collect_count = note.comment_count = 0
    for comment in comments:
        comment.reply_count = 0
    for board in world.boards:
        board.note_count = 0
    for topic in world.topics:
        topic.note_count = 0
    for product in world.products:
        product.review_count = product.rating_sum = 0

    for follow in world.follows:
        users[follow.followee_id - 1].follower_count += 1
        users[follow.follower_id - 1].following_count += 1
    for note in notes:
        if note.deleted_at is None:
            users[note.author_id - 1].note_count += 1
            if note.review_product_id is not None and note.review_rating is not None:
                product = world.products[note.review_product_id - 1]
                product.review_count += 1
                product.rating_sum += note.review_rating
    for like in world.likes:
        note = notes[like.note_id - 1]
        note.like_count += 1
        if note.deleted_at is None:
            users[note.author_id - 1].likes_and_collects_count += 1
    for collect in world.collects:
        note = notes[collect.note_id - 1]
        note.collect_count += 1
        world.boards[collect.board_id - 1].note_count += 1
        if note.deleted_at is None:
            users[note.author_id - 1].likes_and_collects_count += 1
    for comment in comments:
        if comment.deleted_at is None:
            notes[comment.note_id - 1].comment_count += 1
            if comment.root_id is not None:
                comments[comment.root_id - 1].reply_count += 1
    for link in world.note_topics:
        if notes[link.note_id - 1].deleted_at is None:
            world.topics[link.topic_id - 1].note_count += 1
