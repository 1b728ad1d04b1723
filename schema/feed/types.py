"""GraphQL types of the discovery feed: each item carries the reason it was shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from core.ids import to_global_id
from feed.ranking import Reason, ReasonKind
from schema.enums import described_enum
from schema.relay import PageInfo

if TYPE_CHECKING:
    from schema.notes.types import NoteType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]

FeedReasonKindEnum = described_enum(
    ReasonKind,
    name="FeedReasonKind",
    description="MATCHED_TOPICS: your interests; SIMILAR_TO_LIKED: people who liked what you liked liked "
    "this; NEW_CREATOR: a fresh note from a small creator; TRENDING: busy right now; QUALITY: well received.",
    values={
        "MATCHED_TOPICS": "Its topics match your interests (`FeedReason.topics` says which).",
        "SIMILAR_TO_LIKED": "People who liked what you liked liked this (`similarToNoteIds` says what).",
        "NEW_CREATOR": "A recent note few readers have seen yet, from a creator with a small audience.",
        "TRENDING": "Busy right now in its topics.",
        "QUALITY": "Well received by readers in general.",
    },
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
    kind: FeedReasonKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="The kind of reason, for a client to choose its own wording or icon."
    )
    topics: list[str] = strawberry.field(
        description="Topics behind the reason, normalised names: the note's own topics that matched your "
        "interests (by family: an interest in 健身 matches a note tagged fitness, named fitness here), else "
        "the note's main topics; may be empty."
    )
    similar_to_note_ids: list[strawberry.ID] = strawberry.field(
        description="For SIMILAR_TO_LIKED: ids of the notes you engaged with that led to it; empty otherwise."
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


@strawberry.type(description="One note of the discovery feed, with why it was shown.")
class DiscoverFeedEdge:
    cursor: str = strawberry.field(
        description="Opaque position in this feed, for `after` or `before`; signed and tied to the viewer."
    )
    node: NoteRef = strawberry.field(description="The note.")
    reason: FeedReason = strawberry.field(description="Why the feed showed this note.")


@strawberry.type(description="A page of the discovery feed. Cursors are signed and tied to the viewer.")
class DiscoverFeedConnection:
    edges: list[DiscoverFeedEdge] = strawberry.field(description="The page's notes in ranked order.")
    page_info: PageInfo = strawberry.field(
        description="Whether notes precede or follow this page, and the cursors to get them."
    )
    total_count: int | None = strawberry.field(
        default=None,
        description="How many notes this feed session has ranked so far, all pages (a note deleted since "
        "is left out of its page but still counted); grows when paging past the end of a ranking continues "
        "with a fresh one. Null for an expired session.",
    )

    @strawberry.field(description="The notes of `edges`, for clients that need no cursors or reasons.")
    def nodes(self) -> list[NoteRef]:
        return [e.node for e in self.edges]
