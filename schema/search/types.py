"""Search results: a union connection over notes, people, products and topics."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from schema.catalog.types import ProductType
from schema.notes.types import NoteType, TopicType
from schema.relay import PageInfo
from schema.users.types import UserType


@strawberry.enum(name="SearchType", description="What to search for.")
class SearchTypeEnum(Enum):
    NOTE = strawberry.enum_value("NOTE", description="Notes, by title, body and topics.")
    USER = strawberry.enum_value("USER", description="People, by handle, display name and bio.")
    PRODUCT = strawberry.enum_value(
        "PRODUCT", description="Products, by title, description and variant names."
    )
    TOPIC = strawberry.enum_value("TOPIC", description="Topics (hashtags), by name.")


@strawberry.enum(name="SearchSort", description="The order of search results.")
class SearchSortEnum(Enum):
    RELEVANCE = strawberry.enum_value(
        "RELEVANCE",
        description="Best match first, up to 500 results; notes in the viewer's languages rank higher.",
    )
    POPULAR = strawberry.enum_value(
        "POPULAR",
        description="Most popular first: notes by likes + collects + comments, people by followers, products "
        "by reviews, topics by notes.",
    )
    LATEST = strawberry.enum_value("LATEST", description="Newest first, among the matches.")


@strawberry.enum(name="SearchNotice", description="Why a query could not be answered as typed.")
class SearchNoticeEnum(Enum):
    KANA_ONLY = strawberry.enum_value(
        "KANA_ONLY",
        description="The query is only Japanese kana, which only Japanese notes hold, and none matched. "
        "Write it in Chinese characters (kanji work: 化粧水 finds 化妆水), English or pinyin.",
    )


SearchResult = Annotated[
    NoteType | UserType | ProductType | TopicType,
    strawberry.union("SearchResult", description="A note, a person, a product or a topic."),
]


@strawberry.type(description="One search result, with its cursor and score.")
class SearchEdge:
    cursor: str = strawberry.field(
        description="Opaque position in these results; pass it as `after` or `before`."
    )
    node: SearchResult = strawberry.field(description="The note, person, product or topic found.")
    score: float = strawberry.field(
        description="RELEVANCE: how well it matches (higher is better); POPULAR: its popularity; LATEST: 0."
    )


@strawberry.type(
    description="A page of search results; ask for the next with `after: pageInfo.endCursor`, the one before "
    "with `last` and `before: pageInfo.startCursor`."
)
class SearchConnection:
    edges: list[SearchEdge] = strawberry.field(description="The page's results, in the order asked for.")
    page_info: PageInfo = strawberry.field(
        description="Whether results precede or follow this page, and the cursors to get them."
    )
    total_count: int | None = strawberry.field(
        default=None,
        description="How many results there are, all pages: for RELEVANCE the length of the ranking (results "
        "hidden from you since are still counted); null for POPULAR and LATEST, where it would mean counting "
        "every match, and for a page of 0 results; 0 when the query has nothing searchable.",
    )
    terms: list[str] = strawberry.field(
        description="The words searched for, as Vermilion read the query (normalised, Simplified Chinese, "
        "cut into words); empty when the query had nothing searchable."
    )
    relaxed: bool = strawberry.field(
        description="True when nothing matched every word, so these results match only some of them."
    )
    suggestion: str | None = strawberry.field(
        default=None,
        description="What you probably meant, when the query found fewer than 3 results and some of its "
        "words are not in any document: a typo corrected from the words notes use (lipstik → lipstick) or "
        "pinyin written in Chinese (kouhong → 口红). Show it as “Did you mean …?”; search it to get its "
        "results. Null otherwise.",
    )
    corrected: bool = strawberry.field(
        default=False,
        description="True when the query itself found nothing and these are the results of `suggestion` "
        "instead (later pages, asked with these cursors and the same query, continue them).",
    )
    notice: SearchNoticeEnum | None = strawberry.field(
        default=None, description="Why the query could not be answered as typed, when it could not."
    )

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[SearchResult]:
        return [edge.node for edge in self.edges]
