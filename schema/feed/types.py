"""GraphQL types of the discovery feed: each item carries the reason it was shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from core.ids import to_global_id
from feed.ranking import Reason, ReasonKind
from schema.relay import PageInfo

if TYPE_CHECKING:
    from schema.notes.types import NoteType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]

FeedReasonKindEnum = strawberry.enum(
    ReasonKind,
    name="FeedReasonKind",
    description="MATCHED_TOPICS: your interests; SIMILAR_TO_LIKED: people who liked what you liked liked "
    "this; NEW_CREATOR: a fresh note from a small creator; TRENDING: busy right now; QUALITY: well received.",
)

_TEXT = {
    ReasonKind.MATCHED_TOPICS: "Because you're into {topics}",
    ReasonKind.SIMILAR_TO_LIKED: "Similar to notes you liked",
    ReasonKind.NEW_CREATOR: "New from a small creator",
    ReasonKind.TRENDING: "Trending in {topics}",
    ReasonKind.QUALITY: "Popular with readers",
}


@strawberry.type(description="Why the feed showed this note.")
class FeedReason:
    kind: FeedReasonKindEnum  # type: ignore[valid-type]
    topics: list[str] = strawberry.field(description="The topics it matched, normalised names.")
    similar_to_note_ids: list[strawberry.ID] = strawberry.field(
        description="For SIMILAR_TO_LIKED: notes of yours that led to it."
    )
    text: str = strawberry.field(description="A short English explanation; clients may localise by `kind`.")

    @classmethod
    def of(cls, reason: Reason) -> FeedReason:
        topics = list(reason.topics)
        shown = " ".join(f"#{t}" for t in topics[:2]) or "your interests"
        return cls(
            kind=reason.kind,
            topics=topics,
            similar_to_note_ids=[strawberry.ID(to_global_id("Note", n)) for n in reason.note_ids],
            text=_TEXT[reason.kind].format(topics=shown),
        )


@strawberry.type
class DiscoverFeedEdge:
    cursor: str
    node: NoteRef
    reason: FeedReason


@strawberry.type(description="A page of the discovery feed. Cursors are signed and tied to the viewer.")
class DiscoverFeedConnection:
    edges: list[DiscoverFeedEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[NoteRef]:
        return [e.node for e in self.edges]
