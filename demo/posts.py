"""The demo notes with their topics, tagged products and reviews, in chronological (id) order."""

from __future__ import annotations

import random
from collections.abc import Iterable

from demo.content import CATEGORIES, CATEGORY_BY_KEY, EVERYDAY_TOPICS_EN, EVERYDAY_TOPICS_ZH, Category
from demo.population import FIRST_JOINED
from demo.sampling import cumulative
from demo.world import (
    BASE_TS,
    DAY,
    HOUR,
    MEDIA_BASE,
    WINDOW_START,
    NoteProductRow,
    NoteRow,
    NoteTopicRow,
    ProductRow,
    TopicRow,
    UserRow,
)
from demo.writing import Mode, NoteWriter
from search.language import detect_language
from social.topics import normalize_topic_name

REVIEW_SHARE = 0.15
# Ratings skew high, as they do on every shopping app.
RATING_WEIGHTS = (3, 5, 12, 35, 45)
IMAGE_COUNT_WEIGHTS = (10, 10, 14, 14, 12, 12, 8, 6, 14)


class Topics:
    """Topic rows in id order: the categories' own topics first, then others as notes first use them."""

    def __init__(self) -> None:
        self.rows: dict[str, TopicRow] = {}
        onboarding = FIRST_JOINED - 60 * DAY
        for category in CATEGORIES:
            for raw in (category.topics_zh[0], category.topics_en[0]):
                self.get(raw, onboarding + len(self.rows) * HOUR)

    def get(self, raw: str, first_used: int) -> TopicRow:
        name = normalize_topic_name(raw)
        row = self.rows.get(name)
        if row is None:
            row = TopicRow(id=len(self.rows) + 1, name=name, created_at=first_used)
            self.rows[name] = row
        return row


class NoteBuilder:
    def __init__(self, rng: random.Random, users: list[UserRow], products: list[ProductRow]):
        self.rng = rng
        self.users = users
        self.products = products
        self.products_by_category: dict[str, list[ProductRow]] = {}
        for product in products:
            self.products_by_category.setdefault(product.category, []).append(product)
        self.topics = Topics()
        self.notes: list[NoteRow] = []
        self.note_topics: list[NoteTopicRow] = []
        self.note_products: list[NoteProductRow] = []

    def build(self, count: int, progress: Iterable[int] | None = None) -> None:
        rng = self.rng
        moments = _note_moments(rng, count)
        authors = rng.choices(self.users, cum_weights=cumulative([u.posting for u in self.users]), k=count)
        for index in progress if progress is not None else range(count):
            self.add_note(authors[index], moments[index])

    def add_note(self, author: UserRow, created_at: int) -> None:
        rng = self.rng
        note_id = len(self.notes) + 1
        category = _pick_category(rng, author)
        mode = _pick_mode(rng, author.languages)
        review = self._review_product(author, category) if rng.random() < REVIEW_SHARE else None
        if review:
            # A review talks about its product, whatever the author usually posts about.
            category = CATEGORY_BY_KEY[review.category]
        writer = NoteWriter(rng, category, mode, subject=(review.name_zh, review.name_en) if review else None)
        topics = _pick_topics(rng, category, mode)
        hashtags = [raw.lstrip("#") for raw in topics]

        tagged = [review] if review else []
        if (review and rng.random() < 0.25) or (not review and rng.random() < 0.3):
            wanted = rng.choices((1, 2, 3), weights=(60, 28, 12))[0]
            for _ in range(wanted):
                product = self._any_product(category)
                if product is not None and product not in tagged and len(tagged) < 3:
                    tagged.append(product)

        rating = None
        if review:
            rating = rng.choices((1, 2, 3, 4, 5), weights=RATING_WEIGHTS)[0]
            name = review.name_zh if mode == "zh" else review.name_en
            title, body = writer.review(name, rating, hashtags)
            kind = "IMAGE" if rng.random() < 0.85 else "VIDEO"
        else:
            title, body = writer.post(hashtags)
            kind = rng.choices(("IMAGE", "VIDEO", "TEXT"), weights=(72, 16, 12))[0]

        self.notes.append(
            NoteRow(
                id=note_id,
                author_id=author.id,
                category=category.key,
                kind=kind,
                title=title,
                body=body,
                language=detect_language(f"{title}\n{body}"),
                media=_media(rng, note_id, kind),
                review_product_id=review.id if review else None,
                review_rating=rating,
                created_at=created_at,
            )
        )
        for position, raw in enumerate(topics):
            topic = self.topics.get(raw, created_at)
            self.note_topics.append(NoteTopicRow(len(self.note_topics) + 1, note_id, topic.id, position))
        for position, product in enumerate(tagged):
            self.note_products.append(
                NoteProductRow(len(self.note_products) + 1, note_id, product.id, position)
            )

    def _review_product(self, author: UserRow, category: Category) -> ProductRow | None:
        """A product to review, preferably of the note's category; merchants never review their own."""
        candidates = [
            p for p in self.products_by_category.get(category.key, ()) if p.merchant_id != author.id
        ]
        if not candidates:
            candidates = [p for p in self.products if p.merchant_id != author.id]
        return self.rng.choice(candidates) if candidates else None

    def _any_product(self, category: Category) -> ProductRow | None:
        same = self.products_by_category.get(category.key)
        if same and self.rng.random() < 0.8:
            return self.rng.choice(same)
        return self.rng.choice(self.products) if self.products else None


def _note_moments(rng: random.Random, count: int) -> list[int]:
    """Strictly increasing posting times over the window, denser lately as the community grows."""
    span = BASE_TS - HOUR - WINDOW_START
    moments = sorted(WINDOW_START + int(rng.random() ** 0.8 * span) for _ in range(count))
    for index in range(1, count):
        if moments[index] <= moments[index - 1]:
            moments[index] = moments[index - 1] + 1
    return moments


def _pick_category(rng: random.Random, author: UserRow) -> Category:
    roll = rng.random()
    if roll < 0.1:
        return rng.choice(CATEGORIES)
    if roll < 0.6 or len(author.categories) == 1:
        return CATEGORY_BY_KEY[author.categories[0]]
    return CATEGORY_BY_KEY[rng.choice(author.categories[1:])]


def _pick_mode(rng: random.Random, languages: list[str]) -> Mode:
    roll = rng.random()
    if languages == ["zh"]:
        return "zh" if roll < 0.92 else "mixed"
    if languages == ["en"]:
        return "en" if roll < 0.9 else "mixed"
    return "zh" if roll < 0.45 else "en" if roll < 0.8 else "mixed"


def _pick_topics(rng: random.Random, category: Category, mode: Mode) -> list[str]:
    """1–4 topics as typed (e.g. "#SkincareRoutine"), distinct once normalised, the category's first."""
    if mode == "en":
        main, pool = category.topics_en[0], list(category.topics_en[1:])
    elif mode == "zh":
        main, pool = category.topics_zh[0], list(category.topics_zh[1:])
    else:
        main, pool = category.topics_zh[0], list(category.topics_zh[1:]) + list(category.topics_en)
    total = rng.choices((1, 2, 3, 4), weights=(25, 35, 25, 15))[0]
    picked = [main, *rng.sample(pool, min(total - 1, len(pool)))]
    if len(picked) < 4 and rng.random() < 0.12:
        picked.append(rng.choice(EVERYDAY_TOPICS_EN if mode == "en" else EVERYDAY_TOPICS_ZH))
    distinct: dict[str, str] = {}
    for raw in picked:
        distinct.setdefault(normalize_topic_name(raw), raw)
    return list(distinct.values())


def _media(rng: random.Random, note_id: int, kind: str) -> list[str]:
    if kind == "VIDEO":
        return [f"{MEDIA_BASE}/notes/{note_id}/video.mp4"]
    if kind == "TEXT":
        return []
    count = rng.choices(range(1, 10), weights=IMAGE_COUNT_WEIGHTS)[0]
    return [f"{MEDIA_BASE}/notes/{note_id}/{index}.jpg" for index in range(1, count + 1)]
