"""The demo world held in memory: every row the seed writes, with its id, timestamps and counters.

Timestamps are whole seconds since the Unix epoch, measured back from a fixed `BASE_TIME` rather than
now(), so the same seed always gives the same rows; the seed writes them on a `demo.clock.DemoClock`,
which moves them to the seeding day. Ids are assigned in creation order, because every list in the API
is newest-first by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from demo.brands import Brand

BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)
BASE_TS = int(BASE_TIME.timestamp())
HOUR = 3_600
DAY = 86_400
# Notes, likes, collects, comments and most follows happen in the last WINDOW_DAYS before BASE_TIME.
WINDOW_DAYS = 120
WINDOW_START = BASE_TS - WINDOW_DAYS * DAY
MEDIA_BASE = "https://media.vermilion.example"


@dataclass(slots=True)
class UserRow:
    id: int
    email: str
    handle: str
    display_name: str
    bio: str
    avatar_url: str | None
    languages: list[str]
    interests: list[str]
    created_at: int
    # Generation-only traits: what the user posts about, how visible they are (attracts follows and
    # likes), how active they are (gives likes and comments), how much they post, the shop they run.
    role: str
    categories: list[str]
    popularity: float
    activity: float
    posting: float
    brand: Brand | None = None
    follower_count: int = 0
    following_count: int = 0
    note_count: int = 0
    likes_and_collects_count: int = 0

    @property
    def prefers_english(self) -> bool:
        return self.languages == ["en"]


@dataclass(slots=True)
class ProductRow:
    id: int
    merchant_id: int
    title: str
    description: str
    category: str
    name_zh: str
    name_en: str
    created_at: int
    review_count: int = 0
    rating_sum: int = 0


class VariantRow(NamedTuple):
    id: int
    product_id: int
    sku: str
    name: str
    price_minor_units: int
    currency: str
    stock: int
    created_at: int


@dataclass(slots=True)
class TopicRow:
    id: int
    name: str
    created_at: int
    note_count: int = 0
    view_count: int = 0


@dataclass(slots=True)
class NoteRow:
    id: int
    author_id: int
    category: str
    kind: str
    title: str
    body: str
    language: str
    # URLs, or what a note keeps of uploaded media (media.attach.snapshot) once pictures are drawn.
    media: list[Any]
    review_product_id: int | None
    review_rating: int | None
    created_at: int
    deleted_at: int | None = None
    like_count: int = 0
    collect_count: int = 0
    comment_count: int = 0


class NoteTopicRow(NamedTuple):
    id: int
    note_id: int
    topic_id: int
    position: int


class NoteProductRow(NamedTuple):
    id: int
    note_id: int
    product_id: int
    position: int


class FollowRow(NamedTuple):
    id: int
    follower_id: int
    followee_id: int
    created_at: int


class LikeRow(NamedTuple):
    id: int
    user_id: int
    note_id: int
    created_at: int


@dataclass(slots=True)
class BoardRow:
    id: int
    owner_id: int
    name: str
    description: str
    is_private: bool
    is_default: bool
    created_at: int
    category: str | None
    note_count: int = 0


class CollectRow(NamedTuple):
    id: int
    user_id: int
    note_id: int
    board_id: int
    created_at: int


@dataclass(slots=True)
class CommentRow:
    id: int
    note_id: int
    author_id: int
    body: str
    root_id: int | None
    reply_to_id: int | None
    created_at: int
    deleted_at: int | None = None
    reply_count: int = 0


@dataclass
class World:
    """Every table's rows, in insertion (and id) order."""

    users: list[UserRow] = field(default_factory=list)
    topics: list[TopicRow] = field(default_factory=list)
    products: list[ProductRow] = field(default_factory=list)
    variants: list[VariantRow] = field(default_factory=list)
    notes: list[NoteRow] = field(default_factory=list)
    note_topics: list[NoteTopicRow] = field(default_factory=list)
    note_products: list[NoteProductRow] = field(default_factory=list)
    follows: list[FollowRow] = field(default_factory=list)
    likes: list[LikeRow] = field(default_factory=list)
    boards: list[BoardRow] = field(default_factory=list)
    collects: list[CollectRow] = field(default_factory=list)
    comments: list[CommentRow] = field(default_factory=list)
