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
    NOTE = "NOTE"
    USER = "USER"
    PRODUCT = "PRODUCT"
    TOPIC = "TOPIC"


@strawberry.enum(name="SearchSort", description="The order of search results.")
class SearchSortEnum(Enum):
    RELEVANCE = "RELEVANCE"
    POPULAR = "POPULAR"
    LATEST = "LATEST"


SearchResult = Annotated[
    NoteType | UserType | ProductType | TopicType,
    strawberry.union("SearchResult", description="A note, a person, a product or a topic."),
]


@strawberry.type
class SearchEdge:
    cursor: str
    node: SearchResult
    score: float = strawberry.field(
        description="RELEVANCE: how well it matches (higher is better); POPULAR: its popularity; LATEST: 0."
    )


@strawberry.type(description="A page of search results; ask for the next with `after: pageInfo.endCursor`.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
    terms: list[str] = strawberry.field(
        description="The words searched for, as Vermilion read the query (normalised, Simplified Chinese, "
        "cut into words); empty when the query had nothing searchable."
    )
    relaxed: bool = strawberry.field(
        description="True when nothing matched every word, so these results match only some of them."
    )

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[SearchResult]:
        return [edge.node for edge in self.edges]
