"""Per-request dataloaders: one loader per access path, each batch is one SQL statement.

Created in `build_context` for every request, never shared: a loader caches what it loaded.
Windowed loaders serve nested connections (the first N comments of each note in a page) with one
statement for the whole page, whatever its size.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from aiodataloader import DataLoader

from commerce.catalog import merchant_default_commissions
from commerce.sales import NoteSales, sales_by_note, verified_purchases
from core.sql import fetch_rows, model_from_row, placeholders, select_list
from models import Board, Comment, Follow, Media, Note, Product, ProductVariant, Topic, User
from social import policy
from social.policy import Audience, actor_sql, comment_sql


async def load_all(loader: DataLoader, keys: list[Any]) -> list[Any]:
    """`loader.load_many(keys)` without asyncio.gather's callback and outer future per key: the futures
    of one batch resolve together, so awaiting them in turn suspends once."""
    futures = [loader.load(key) for key in keys]
    try:
        return [await future for future in futures]
    except BaseException:
        for future in futures:  # the batch's error, on every key: retrieved, so none is logged as lost
            if future.done() and not future.cancelled():
                future.exception()
        raise


def _make_loader(fn: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]], cache: bool = True) -> DataLoader:
    return DataLoader(batch_load_fn=fn, max_batch_size=1000, cache=cache)


async def _by_id(
    model: type[Any], keys: list[int], condition: str = "", params: list[Any] | None = None
) -> list[Any]:
    """Rows by primary key, in the order of `keys` (None where there is none), in one hand-written
    statement: on a page's hot path the ORM's query building cost more than the query."""
    params = [*(params or []), *keys]
    marks = placeholders(len(keys), len(params) - len(keys) + 1)
    where = f"{condition} AND " if condition else ""
    found = await fetch_rows(
        f"SELECT {select_list(model, 't')} FROM {model._meta.db_table} t WHERE {where}t.id IN ({marks})",
        params,
    )
    rows = {row["id"]: model_from_row(model, row) for row in found}
    return [rows.get(k) for k in keys]


# A person joined into a statement as `u`, the columns prefixed: the author of a note or comment, a
# product's merchant, a notification's actor come with their rows and go into the request's user loader.
PERSON_PREFIX = "u__"
_PERSON_ID = PERSON_PREFIX + "id"


def person_columns() -> str:
    """The select list of the person joined as `u` (read back by `prime_person`)."""
    return select_list(User, "u", PERSON_PREFIX)


def held(loader: DataLoader, key: Any) -> Any:
    """What `loader` already holds for `key` (loaded or primed), else None; reads nothing."""
    future = loader._cache.get(key)
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return None


def prime_person(people: DataLoader, row: Any) -> User:
    """The person joined into `row`, put in `people` (the request's user loader). One the loader holds
    already is not built again (`prime` would keep the loader's own anyway): a page's comments come
    from a few people."""
    held = people._cache.get(row[_PERSON_ID])
    if held is not None and held.done() and not held.cancelled() and held.exception() is None:
        return held.result()  # type: ignore[no-any-return]
    person: User = model_from_row(User, row, PERSON_PREFIX)
    people.prime(person.id, person)
    return person


@dataclass(frozen=True)
class Window:
    """One page of a nested list: up to `first` rows after the row with id `after`."""

    parent_id: int
    first: int
    after: int | None


@dataclass
class Page:
    rows: list[Any]
    has_next: bool


async def _window_pages(
    windows: list[Window],
    fetch: Callable[[int, int | None, list[int]], Coroutine[Any, Any, dict[int, list[Any]]]],
) -> list[Page]:
    """Pages of a nested list for many parents: one `fetch(first, after, parent ids)` per distinct page
    size and start, which returns up to `first + 1` rows per parent (the extra one tells a next page)."""
    pages: dict[Window, Page] = {}
    groups: dict[tuple[int, int | None], list[Window]] = defaultdict(list)
    for w in windows:
        groups[(w.first, w.after)].append(w)
    for (first, after), group in groups.items():
        found = await fetch(first, after, sorted({w.parent_id for w in group}))
        for w in group:
            rows = found.get(w.parent_id, [])
            pages[w] = Page(rows=rows[:first], has_next=len(rows) > first)
    return [pages[w] for w in windows]


class Loaders:
    """This request's loaders, and its audience (see `social.policy`).

    `note_by_id`, `comment_by_id` and the comment windows return only what the audience may see: every
    field leading to a note or a comment may be null. `user_by_id` and `board_by_id` return any row,
    because a note's author or a board's owner is never null; surfaces that show a person or a board on
    its own check `can_view_user` / `can_view_board`.
    """

    def __init__(self, viewer_id: int | None, *, cache: bool = True) -> None:
        self.viewer_id = viewer_id
        self._cache = cache
        self._audience: Audience | None = None
        self._primed_audience: Audience | None = None
        self._audience_lock = asyncio.Lock()

    # Each loader is made on first use: a request touches a few of them, and every request pays for the
    # ones it makes.

    def _loader(self, fn: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]) -> DataLoader:
        return _make_loader(fn, cache=self._cache)

    @cached_property
    def user_by_id(self) -> DataLoader:
        return self._loader(partial(_by_id, User))

    @cached_property
    def note_by_id(self) -> DataLoader:
        return self._loader(self._notes_by_id)

    @cached_property
    def product_by_id(self) -> DataLoader:
        return self._loader(self._products_by_id)

    @cached_property
    def board_by_id(self) -> DataLoader:
        return self._loader(partial(_by_id, Board))

    @cached_property
    def comment_by_id(self) -> DataLoader:
        return self._loader(self._comments_by_id)

    @cached_property
    def topic_by_id(self) -> DataLoader:
        return self._loader(partial(_by_id, Topic))

    @cached_property
    def topics_by_note_id(self) -> DataLoader:
        return self._loader(self._topics_by_note_id)

    @cached_property
    def images_by_product_id(self) -> DataLoader:
        return self._loader(self._images_by_product_id)

    @cached_property
    def products_by_note_id(self) -> DataLoader:
        return self._loader(self._products_by_note_id)

    @cached_property
    def variants_by_product_id(self) -> DataLoader:
        return self._loader(self._variants_by_product_id)

    @cached_property
    def default_commission_by_merchant_id(self) -> DataLoader:
        return self._loader(self._default_commission_by_merchant_id)

    @cached_property
    def comments_by_note(self) -> DataLoader:
        return self._loader(self._comments_by_note)

    @cached_property
    def replies_by_root(self) -> DataLoader:
        return self._loader(self._replies_by_root)

    @cached_property
    def viewer_note_state(self) -> DataLoader:
        return self._loader(self._viewer_note_state)

    @cached_property
    def viewer_follows(self) -> DataLoader:
        return self._loader(self._viewer_follows)

    @cached_property
    def note_sales(self) -> DataLoader:
        return self._loader(self._note_sales)

    @cached_property
    def verified_purchase(self) -> DataLoader:
        return self._loader(self._verified_purchase)

    @cached_property
    def actors_by_notification(self) -> DataLoader:
        return self._loader(self._actors_by_notification)

    def release(self) -> None:
        """Drop the loaders made so far, with what they hold (a later use makes a fresh one).

        A loader and this object refer to each other (its batch function is a method here), so the rows
        a request read would otherwise wait for the cycle collector, not be freed when the operation
        ends: measured on the following feed, collecting them cost a quarter of a request's CPU."""
        for name, value in list(vars(self).items()):
            if isinstance(value, DataLoader):
                value.clear_all()
                del self.__dict__[name]

    def forget_audience(self) -> None:
        """Read the audience afresh at its next use (after a block or mute changed it)."""
        self._audience, self._primed_audience = None, None

    def prime_audience(self, audience: Audience) -> None:
        """The audience read with the session: the first `audience()` of this operation returns it without
        a statement (on a long-lived connection, later ones read afresh)."""
        self._primed_audience = audience

    async def audience(self) -> Audience:
        """Whom this request shows things to: built once per request; on a long-lived connection (no
        cache) again for every operation and event, so a later change applies to live subscriptions."""
        async with self._audience_lock:
            if self._audience is not None:
                return self._audience
            primed, self._primed_audience = self._primed_audience, None
            audience = primed if primed is not None else await policy.audience_for(self.viewer_id)
            if self._cache:
                self._audience = audience
            return audience

    async def _with_people(
        self,
        model: type[Any],
        keys: list[int],
        person: str,
        condition: str = "",
        params: list[Any] | None = None,
    ) -> list[Any]:
        """Rows by primary key (as `_by_id`), each with the person its column `person` points at in the
        same statement (a join on the primary key), put in the user loader."""
        params = [*(params or []), *keys]
        where = f"{condition} AND " if condition else ""
        found = await fetch_rows(
            f"SELECT {select_list(model, 't')}, {person_columns()}"
            f" FROM {model._meta.db_table} t JOIN users u ON u.id = t.{person}"
            f" WHERE {where}t.id IN ({placeholders(len(keys), len(params) - len(keys) + 1)})",
            params,
        )
        rows: dict[int, Any] = {}
        for row in found:
            prime_person(self.user_by_id, row)
            rows[row["id"]] = model_from_row(model, row)
        return [rows.get(k) for k in keys]

    async def _products_by_id(self, keys: list[int]) -> list[Product | None]:
        # The merchant comes in the same statement: a product page shows who sells it, and its reviews'
        # authors then come with the reviews (PERFORMANCE.md's budget: product page ≤ 4).
        return await self._with_people(Product, keys, "merchant_id")

    async def _notes_by_id(self, keys: list[int]) -> list[Note | None]:
        # The author comes in the same statement, as a product's merchant does: a note is hardly ever
        # shown without its author, and a page of notes read by id (the discovery feed) then needs no
        # statement for its authors.
        params: list[Any] = []
        condition = policy.note_sql(await self.audience(), "t", params)
        return await self._with_people(Note, keys, "author_id", condition, params)

    async def _comments_by_id(self, keys: list[int]) -> list[Comment | None]:
        params: list[Any] = []
        condition = comment_sql(await self.audience(), "t", params)
        return await _by_id(Comment, keys, condition, params)

    async def _topics_by_note_id(self, note_ids: list[int]) -> list[list[Topic]]:
        grouped: dict[int, list[Topic]] = defaultdict(list)
        rows = await fetch_rows(
            f"SELECT nt.note_id AS nt_note_id, {select_list(Topic, 't')} FROM note_topics nt"
            f" JOIN topics t ON t.id = nt.topic_id WHERE nt.note_id IN ({placeholders(len(note_ids))})"
            " ORDER BY nt.note_id, nt.position, nt.id",
            note_ids,
        )
        topics: dict[int, Topic] = {}  # a topic on many notes of the page is built once
        for row in rows:
            topic = topics.get(row["id"])
            if topic is None:
                topic = topics[row["id"]] = model_from_row(Topic, row)
            grouped[row["nt_note_id"]].append(topic)
        return [grouped[n] for n in note_ids]

    async def _images_by_product_id(self, product_ids: list[int]) -> list[list[Media]]:
        """Each product's images in order: one statement for a page of products."""
        grouped: dict[int, list[Media]] = defaultdict(list)
        rows = await fetch_rows(
            f"SELECT pm.product_id AS pm_product_id, {select_list(Media, 'm')} FROM product_media pm"
            f" JOIN media m ON m.id = pm.media_id WHERE pm.product_id IN ({placeholders(len(product_ids))})"
            " ORDER BY pm.product_id, pm.position, pm.id",
            product_ids,
        )
        for row in rows:
            grouped[row["pm_product_id"]].append(model_from_row(Media, row))
        return [grouped[p] for p in product_ids]

    async def _products_by_note_id(self, note_ids: list[int]) -> list[list[Product]]:
        """Tagged products with their variants and their merchants' default commission in one statement;
        primes the product, variant and default commission loaders (`Note.disclosure` and
        `Product.creatorCommission` then read nothing more)."""
        rows = await fetch_rows(
            f"SELECT np.note_id AS np_note_id, {select_list(Product, 'p')},"
            f" {select_list(ProductVariant, 'v', 'v__')}, m.default_commission_basis_points AS m__rate"
            " FROM note_products np JOIN products p ON p.id = np.product_id"
            " JOIN users m ON m.id = p.merchant_id"
            " LEFT JOIN product_variants v ON v.product_id = p.id"
            f" WHERE np.note_id IN ({placeholders(len(note_ids))})"
            " ORDER BY np.note_id, np.position, v.id",
            note_ids,
        )
        # One row per (note, product, variant): a product tagged by several notes repeats its variants.
        products: dict[int, Product] = {}
        variants: dict[int, list[ProductVariant]] = defaultdict(list)
        by_note: dict[int, list[Product]] = defaultdict(list)
        tagged: set[tuple[int, int]] = set()
        seen_variants: set[int] = set()
        for row in rows:
            product = products.get(row["id"]) or model_from_row(Product, row)
            products[product.id] = product
            if (row["np_note_id"], product.id) not in tagged:
                tagged.add((row["np_note_id"], product.id))
                by_note[row["np_note_id"]].append(product)
            if row["v__id"] is not None and row["v__id"] not in seen_variants:
                seen_variants.add(row["v__id"])
                variants[product.id].append(model_from_row(ProductVariant, row, "v__"))
            self.default_commission_by_merchant_id.prime(row["merchant_id"], int(row["m__rate"] or 0))
        for pid, product in products.items():
            self.product_by_id.prime(pid, product)
            self.variants_by_product_id.prime(pid, variants.get(pid, []))
        return [by_note[n] for n in note_ids]

    async def _variants_by_product_id(self, product_ids: list[int]) -> list[list[ProductVariant]]:
        grouped: dict[int, list[ProductVariant]] = defaultdict(list)
        rows = await fetch_rows(
            f"SELECT {select_list(ProductVariant, 'v')} FROM product_variants v"
            f" WHERE v.product_id IN ({placeholders(len(product_ids))}) ORDER BY v.id",
            product_ids,
        )
        for row in rows:
            variant = model_from_row(ProductVariant, row)
            grouped[variant.product_id].append(variant)  # type: ignore[attr-defined]
        return [grouped[p] for p in product_ids]

    async def _default_commission_by_merchant_id(self, merchant_ids: list[int]) -> list[int]:
        """Each merchant's default commission (basis points): from merchants this request already read
        (a product's page reads its merchant with it), the others in one statement."""
        people = self.__dict__.get("user_by_id")
        known: dict[int, int] = {}
        for merchant_id in merchant_ids:
            person = held(people, merchant_id) if people is not None else None
            if person is not None:
                known[merchant_id] = person.default_commission_basis_points
        missing = [m for m in merchant_ids if m not in known]
        if missing:
            known.update(await merchant_default_commissions(missing))
        return [known.get(m, 0) for m in merchant_ids]

    async def _comments_by_note(self, windows: list[Window]) -> list[Page]:
        return await self._windowed_comments(windows, "note_id", "c.root_id IS NULL")

    async def _replies_by_root(self, windows: list[Window]) -> list[Page]:
        return await self._windowed_comments(windows, "root_id", "1 = 1")

    async def _windowed_comments(self, windows: list[Window], partition: str, where: str) -> list[Page]:
        """Oldest-first comment pages for many parents; authors come in the same statement."""
        audience = await self.audience()

        async def fetch(first: int, after: int | None, parents: list[int]) -> dict[int, list[Any]]:
            params: list[Any] = [*parents, first + 1]
            after_sql = ""
            if after is not None:
                params.append(after)
                after_sql = f" AND c.id > ${len(params)}"
            # Filtered in SQL, before the window counts rows: a hidden comment never shortens a page.
            visible = comment_sql(audience, "c", params)
            rows = await fetch_rows(
                f"SELECT ranked.*, {person_columns()} FROM ("
                f" SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.{partition} ORDER BY c.id) AS rn"
                f" FROM comments c WHERE c.{partition} IN ({placeholders(len(parents))})"
                f" AND {visible} AND {where}{after_sql}"
                f") ranked JOIN users u ON u.id = ranked.author_id"
                f" WHERE ranked.rn <= ${len(parents) + 1} ORDER BY ranked.id",
                params,
            )
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                prime_person(self.user_by_id, row)
                grouped[row[partition]].append(model_from_row(Comment, row))
            return grouped

        return await _window_pages(windows, fetch)

    async def _actors_by_notification(self, windows: list[Window]) -> list[Page]:
        """Pages of the people in notification entries, most recent first: (activity id, User) pairs, for
        many entries in one statement per page size; `after` is an activity id."""
        audience = await self.audience()

        async def fetch(first: int, after: int | None, parents: list[int]) -> dict[int, list[Any]]:
            params: list[Any] = [*parents, first + 1]
            conditions = ""
            if after is not None:
                params.append(after)
                conditions += f" AND a.id < ${len(params)}"
            # Filtered in SQL, before the window counts rows: a hidden person never shortens a page.
            conditions += actor_sql(audience, "a.actor_id", params)
            rows = await fetch_rows(
                f"SELECT ranked.activity_id, ranked.notification_id, {person_columns()} FROM ("
                " SELECT a.id AS activity_id, a.notification_id, a.actor_id,"
                "  ROW_NUMBER() OVER (PARTITION BY a.notification_id ORDER BY a.id DESC) AS rn"
                f" FROM notification_activities a WHERE a.notification_id IN ({placeholders(len(parents))})"
                f" AND a.actor_id IS NOT NULL{conditions}"
                ") ranked JOIN users u ON u.id = ranked.actor_id"
                f" WHERE ranked.rn <= ${len(parents) + 1} ORDER BY ranked.activity_id DESC",
                params,
            )
            found: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                user = prime_person(self.user_by_id, row)
                found[int(row["notification_id"])].append((int(row["activity_id"]), user))
            return found

        return await _window_pages(windows, fetch)

    async def _viewer_note_state(self, note_ids: list[int]) -> list[tuple[bool, bool]]:
        """(liked, collected) by the viewer for each note, in one statement."""
        if self.viewer_id is None:
            return [(False, False)] * len(note_ids)
        marks = placeholders(len(note_ids), 2)
        rows = await fetch_rows(
            f"SELECT note_id, 'L' AS kind FROM likes WHERE user_id = $1 AND note_id IN ({marks})"
            " UNION ALL"
            f" SELECT note_id, 'C' AS kind FROM collects WHERE user_id = $1 AND note_id IN ({marks})",
            [self.viewer_id, *note_ids],
        )
        liked = {r["note_id"] for r in rows if r["kind"] == "L"}
        collected = {r["note_id"] for r in rows if r["kind"] == "C"}
        return [(n in liked, n in collected) for n in note_ids]

    async def _viewer_follows(self, user_ids: list[int]) -> list[bool]:
        if self.viewer_id is None:
            return [False] * len(user_ids)
        followed = set(
            await Follow.filter(follower_id=self.viewer_id, followee_id__in=user_ids).values_list(
                "followee_id", flat=True
            )
        )
        return [u in followed for u in user_ids]

    async def _note_sales(self, note_ids: list[int]) -> list[NoteSales]:
        found = await sales_by_note(note_ids)
        return [found[n] for n in note_ids]

    async def _verified_purchase(self, pairs: list[tuple[int, int]]) -> list[bool]:
        """Keys are (reviewer id, product id)."""
        bought = await verified_purchases(pairs)
        return [p in bought for p in pairs]
