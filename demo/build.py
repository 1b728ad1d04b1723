"""Builds the whole demo world in memory, phase by phase, from one seed."""

from __future__ import annotations

import random

from tqdm import tqdm

from demo.catalog import build_products
from demo.counters import tally
from demo.engagement import Engagement, build_boards
from demo.follows import build_follows
from demo.population import build_users
from demo.posts import NoteBuilder
from demo.world import World


def _rng(seed: int, phase: str) -> random.Random:
    # One generator per phase (seeded from text, which hashes the same in every process), so a change
    # to one phase does not reshuffle the others.
    return random.Random(f"vermilion-demo:{seed}:{phase}")


def build_world(*, users: int, notes: int, products: int, seed: int, progress: bool) -> World:
    """Every row of the demo world with ids, timestamps and exact counters; same arguments, same world."""
    world = World()
    world.users = build_users(_rng(seed, "users"), users)
    world.products, world.variants = build_products(_rng(seed, "products"), world.users, products)

    posts = NoteBuilder(_rng(seed, "notes"), world.users, world.products)
    with tqdm(range(notes), desc="compose notes", unit="note", disable=not progress, leave=False) as bar:
        posts.build(notes, bar)
    world.notes, world.note_topics, world.note_products = posts.notes, posts.note_topics, posts.note_products
    world.topics = list(posts.topics.rows.values())

    world.boards = build_boards(_rng(seed, "boards"), world.users)
    engagement = Engagement(_rng(seed, "engagement"), world)
    with tqdm(world.notes, desc="engagement", unit="note", disable=not progress, leave=False) as bar:
        engagement.build(bar)
    world.follows = build_follows(_rng(seed, "follows"), world.users, world.notes)

    tally(world)
    views = _rng(seed, "views")
    for topic in world.topics:
        # Views are not a row count: a believable multiple of the notes, for trending lists.
        topic.view_count = topic.note_count * views.randint(40, 400) + views.randint(0, 500)
    return world
