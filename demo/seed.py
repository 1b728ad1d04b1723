"""Writes the demo world into an empty, migrated database (Tortoise already initialised by the caller)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction
from tqdm import tqdm

from core.settings import Settings
from core.sql import dialect
from demo.build import build_world
from demo.clock import DemoClock
from demo.earnings import set_demo_commission, write_demo_earnings, write_demo_sales
from demo.media import DemoMedia, make_demo_media
from demo.notifications import write_demo_notifications
from demo.orders import write_demo_orders
from demo.population import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoAccount
from demo.safety import MODERATOR, seed_safety
from demo.selling import write_demo_selling
from demo.world import (
    BoardRow,
    CollectRow,
    CommentRow,
    FollowRow,
    LikeRow,
    NoteProductRow,
    NoteRow,
    NoteTopicRow,
    ProductRow,
    TopicRow,
    UserRow,
    VariantRow,
    World,
)
from feed.neighbours import rebuild_neighbours
from media.service import storage_from_settings
from media.storage import Storage
from models import (
    Board,
    Collect,
    Comment,
    Follow,
    Like,
    Media,
    Note,
    NoteMedia,
    NoteProduct,
    NoteTopic,
    Product,
    ProductMedia,
    ProductVariant,
    Topic,
    User,
)
from search.documents import rebuild_index
from social.counters import counter_mismatches
from social.passwords import hash_password

CHUNK = 1_000


@dataclass
class SeedSummary:
    """What the seed wrote: rows per table (in insertion order) and the documented sign-in accounts."""

    seed: int
    rows: dict[str, int]
    as_of: date | None = None
    accounts: tuple[DemoAccount, ...] = (*DEMO_ACCOUNTS, MODERATOR)
    password: str = DEMO_PASSWORD
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        """A short human-readable report, for the CLI to print."""
        dated = f", dated as of {self.as_of:%Y-%m-%d}" if self.as_of else ""
        out = [f"Seeded {self.total_rows:,} rows in {self.seconds:.1f} s (seed {self.seed}{dated}):"]
        out += [f"  {table:<16} {count:>9,}" for table, count in self.rows.items()]
        out.append(f"Demo accounts (password {self.password!r}):")
        out += [f"  {a.email:<26} @{a.handle:<10} {a.role:<9} {a.description}" for a in self.accounts]
        return out


async def database_is_empty() -> bool:
    """True when no user exists yet (the seed assumes an empty database)."""
    return not await User.exists()


async def seed_database(
    *,
    users: int = 60,
    notes: int | None = None,
    products: int | None = None,
    seed: int = 7,
    as_of: date | None = None,
    progress: bool = True,
    pictures: bool = False,
    media_storage: Storage | None = None,
) -> SeedSummary:
    """Fill an empty database with a deterministic bilingual demo world; same arguments, same rows.

    `as_of`: the day the world's present falls on (default: today, UTC). Every day's world is the same
    rows, moved whole days so that it ends at that day's midnight (demo.clock): pin it for the same dates.
    `pictures`: also draw every avatar, product shot and note photo (demo.media), stored in
    `media_storage` (default: the one the settings configure). Off by default: it costs seconds.
    """
    started = time.perf_counter()
    clock = DemoClock.as_of(as_of)
    note_total = users * 8 if notes is None else notes
    product_total = max(12, users // 8) if products is None else products
    # Building is CPU-bound: keep the event loop free for the caller meanwhile.
    world = await asyncio.to_thread(
        build_world, users=users, notes=note_total, products=product_total, seed=seed, progress=progress
    )
    media = DemoMedia()
    if pictures:
        # Files first, rows in the transaction below: a failed seed leaves files nothing refers to (the
        # next seed writes over them), never rows without files.
        storage = media_storage or _configured_storage()
        media = await make_demo_media(world, seed=seed, storage=storage, progress=progress, clock=clock)
        media.apply_to(world)
    # Argon2 is slow on purpose: hash the one shared demo password once.
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    rows = await _write(world, media, password_hash, clock, progress)
    rows["search_documents"] = sum((await rebuild_index(progress=progress)).values())
    # After the index: the fake-review rule and reports read the world as the API would.
    for table, count in (await seed_safety(password_hash=password_hash, seed=seed, now=clock.now)).items():
        rows[table] = rows.get(table, 0) + count
    # What `vermilion feed rebuild` would find at the world's present, so SIMILAR_TO_LIKED works at once
    # (the server does not rebuild them itself).
    rows["note_neighbours"] = (await rebuild_neighbours(now=clock.now, progress=progress)).pairs
    if dialect() == "postgres":
        # Written after the seed's ANALYZE of every table (_write).
        await connections.get("default").execute_script("ANALYZE search_documents, note_neighbours")
    # The world's counters were tallied in memory; the database must agree with the writers' definition.
    if problems := await counter_mismatches():
        raise RuntimeError("the seed wrote inexact counters: " + "; ".join(problems))
    return SeedSummary(seed=seed, rows=rows, as_of=clock.day, seconds=time.perf_counter() - started)


def _configured_storage() -> Storage:
    return storage_from_settings(Settings())


async def _write(
    world: World, media: DemoMedia, password_hash: str, clock: DemoClock, progress: bool
) -> dict[str, int]:
    """Insert every table in one transaction, so a failed seed leaves the database empty."""
    tables: list[tuple[type[Model], Sequence[Any], Callable[[Any], Model]]] = [
        (User, world.users, lambda u: _user(u, password_hash, clock)),
        (Topic, world.topics, lambda t: _topic(t, clock)),
        (Product, world.products, lambda p: _product(p, clock)),
        (ProductVariant, world.variants, lambda v: _variant(v, clock)),
        (Note, world.notes, lambda n: _note(n, clock)),
        (NoteTopic, world.note_topics, _note_topic),
        (NoteProduct, world.note_products, _note_product),
        (Follow, world.follows, lambda f: _follow(f, clock)),
        (Like, world.likes, lambda like: _like(like, clock)),
        (Board, world.boards, lambda b: _board(b, clock)),
        (Collect, world.collects, lambda c: _collect(c, clock)),
        (Comment, world.comments, lambda c: _comment(c, clock)),
        (Media, media.media, _as_is),
        (NoteMedia, media.note_media, _as_is),
        (ProductMedia, media.product_media, _as_is),
    ]
    written: dict[str, int] = {}
    async with in_transaction() as connection:
        for model, rows, make in tables:
            table = model._meta.db_table
            with tqdm(total=len(rows), desc=f"write {table}", unit="row", disable=not progress) as bar:
                for start in range(0, len(rows), CHUNK):
                    chunk = rows[start : start + CHUNK]
                    await model.bulk_create([make(row) for row in chunk], using_db=connection)
                    bar.update(len(chunk))
            written[table] = len(rows)
        written["notifications"] = await write_demo_notifications(connection)
        # The demo merchant's commission first: orders keep the terms in force when they were paid.
        await set_demo_commission(connection)
        sales = await write_demo_orders(connection)
        sales += await write_demo_sales(connection, now=clock.now)
        written["orders"] = len(sales)
        written["earning_entries"], written["payouts"] = await write_demo_earnings(
            connection, sales, now=clock.now
        )
        written["shipping_rates"], written["discount_codes"] = await write_demo_selling(connection, clock)
        # bulk_create stamps auto_now fields with the wall clock; the demo's history is dated by the seed.
        for table in ("notes", "products"):
            await connection.execute_query(f"UPDATE {table} SET updated_at = created_at")
        if dialect(connection) == "postgres":
            # Only the tables written with explicit ids (the demo orders are keyed by UUIDs).
            await _advance_sequences(connection, [model._meta.db_table for model, _, _ in tables])
    if dialect() == "postgres":
        # Fresh planner statistics, or the first queries on a big seed pick sequential scans.
        await connections.get("default").execute_script("ANALYZE")
    return written


async def _advance_sequences(connection: BaseDBAsyncClient, tables: list[str]) -> None:
    """Rows were inserted with explicit ids: move each id sequence past them so later inserts work."""
    for table in tables:
        await connection.execute_query(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def _as_is(row: Model) -> Model:
    return row


def _user(row: UserRow, password_hash: str, clock: DemoClock) -> User:
    return User(
        id=row.id,
        email=row.email,
        handle=row.handle,
        display_name=row.display_name,
        bio=row.bio,
        avatar_url=row.avatar_url,
        languages=row.languages,
        interests=row.interests,
        password_hash=password_hash,
        follower_count=row.follower_count,
        following_count=row.following_count,
        note_count=row.note_count,
        likes_and_collects_count=row.likes_and_collects_count,
        created_at=clock.at(row.created_at),
    )


def _topic(row: TopicRow, clock: DemoClock) -> Topic:
    return Topic(
        id=row.id,
        name=row.name,
        note_count=row.note_count,
        view_count=row.view_count,
        created_at=clock.at(row.created_at),
    )


def _product(row: ProductRow, clock: DemoClock) -> Product:
    created = clock.at(row.created_at)
    return Product(
        id=row.id,
        merchant_id=row.merchant_id,
        title=row.title,
        description=row.description,
        review_count=row.review_count,
        rating_sum=row.rating_sum,
        created_at=created,
        updated_at=created,
    )


def _variant(row: VariantRow, clock: DemoClock) -> ProductVariant:
    return ProductVariant(
        id=row.id,
        product_id=row.product_id,
        sku=row.sku,
        name=row.name,
        price_minor_units=row.price_minor_units,
        currency=row.currency,
        stock=row.stock,
        created_at=clock.at(row.created_at),
    )


def _note(row: NoteRow, clock: DemoClock) -> Note:
    created = clock.at(row.created_at)
    return Note(
        id=row.id,
        author_id=row.author_id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        language=row.language,
        media=row.media,
        review_product_id=row.review_product_id,
        review_rating=row.review_rating,
        like_count=row.like_count,
        collect_count=row.collect_count,
        comment_count=row.comment_count,
        created_at=created,
        updated_at=created,
        deleted_at=clock.at(row.deleted_at) if row.deleted_at is not None else None,
    )


def _note_topic(row: NoteTopicRow) -> NoteTopic:
    return NoteTopic(id=row.id, note_id=row.note_id, topic_id=row.topic_id, position=row.position)


def _note_product(row: NoteProductRow) -> NoteProduct:
    return NoteProduct(id=row.id, note_id=row.note_id, product_id=row.product_id, position=row.position)


def _follow(row: FollowRow, clock: DemoClock) -> Follow:
    return Follow(
        id=row.id,
        follower_id=row.follower_id,
        followee_id=row.followee_id,
        created_at=clock.at(row.created_at),
    )


def _like(row: LikeRow, clock: DemoClock) -> Like:
    return Like(id=row.id, user_id=row.user_id, note_id=row.note_id, created_at=clock.at(row.created_at))


def _board(row: BoardRow, clock: DemoClock) -> Board:
    return Board(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        description=row.description,
        is_private=row.is_private,
        is_default=row.is_default,
        note_count=row.note_count,
        created_at=clock.at(row.created_at),
    )


def _collect(row: CollectRow, clock: DemoClock) -> Collect:
    return Collect(
        id=row.id,
        user_id=row.user_id,
        note_id=row.note_id,
        board_id=row.board_id,
        created_at=clock.at(row.created_at),
    )


def _comment(row: CommentRow, clock: DemoClock) -> Comment:
    return Comment(
        id=row.id,
        note_id=row.note_id,
        author_id=row.author_id,
        body=row.body,
        root_id=row.root_id,
        reply_to_id=row.reply_to_id,
        reply_count=row.reply_count,
        created_at=clock.at(row.created_at),
        deleted_at=clock.at(row.deleted_at) if row.deleted_at is not None else None,
    )
