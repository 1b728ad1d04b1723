"""GraphQL types of conversation and collections: comments and boards."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.cursors import PageRequest, page_request
from core.ids import to_global_id
from models import Board, Collect, Comment
from schema.context import Info
from schema.execution import batched
from schema.loaders import Window
from schema.relay import (
    OLDEST_FIRST,
    After,
    Before,
    Connection,
    First,
    KeysetPage,
    Last,
    Node,
    build_connection,
    empty_connection,
    keyset_window,
    linked_connection,
)
from schema.safety.filters import FILTERED_DESCRIPTION, FilteredBy, screened_comments
from schema.users.related import related_people
from social.filters import FilterHit
from social.policy import comment_filter, note_filter

if TYPE_CHECKING:
    from schema.notes.types import NoteType
    from schema.safety.moderation_types import ModerationStatus
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
ModerationStatusRef = Annotated["ModerationStatus", strawberry.lazy("schema.safety.moderation_types")]


_comment_authors = related_people("author_id")


@strawberry.type(name="Comment", description="A root comment on a note, or a reply in a root's thread.")
class CommentType(Node):
    row: strawberry.Private[Comment]
    body: str = strawberry.field(description="The text, 1–1000 characters. Plain text.")
    reply_count: int = strawberry.field(
        description="Replies in this thread (root comments only; 0 for replies)."
    )
    created_at: datetime = strawberry.field(description="When the comment was posted.")
    # The viewer's WARN filter this comment matched on the list that showed it (schema.safety.filters).
    filter_hit: strawberry.Private[FilterHit | None] = None

    @classmethod
    def from_row(cls, row: Comment) -> CommentType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Comment", row.id)),
            body=row.body,
            reply_count=row.reply_count,
            created_at=row.created_at,
        )

    @strawberry.field(description="True for a reply in a thread, false for a root comment on the note.")
    def is_reply(self) -> bool:
        return self.row.root_id is not None  # type: ignore[attr-defined]

    @strawberry.field(
        description="A moderator's decision on the comment and why (hidden or removed comments are seen by "
        "their author alone): for its author and staff; null for everyone else."
    )
    async def moderation(self, info: Info) -> ModerationStatusRef | None:
        from schema.safety.moderation_types import moderation_status

        return await moderation_status(info, self.row, self.row.author_id)  # type: ignore[attr-defined]

    @strawberry.field(description=FILTERED_DESCRIPTION)
    def filtered(self) -> FilteredBy | None:
        return FilteredBy.of(self.filter_hit)

    @strawberry.field(description="Who wrote the comment.", metadata=batched(_comment_authors))
    async def author(self, info: Info) -> UserRef:
        return (await _comment_authors([self], info))[0]  # type: ignore[no-any-return]

    @strawberry.field(description="The note commented on; null when it was deleted or is hidden from you.")
    async def note(self, info: Info) -> NoteRef | None:
        from schema.notes.types import load_note

        return await load_note(info, self.row.note_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The comment this one answers; null for roots or when it was deleted.")
    async def reply_to(self, info: Info) -> CommentType | None:
        return await load_comment(info, self.row.reply_to_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Replies in this thread, oldest first (empty for replies); `totalCount` is `replyCount`, "
        "kept with every reply and deletion. Your keyword filters of COMMENTS apply (HIDE leaves replies "
        "out, WARN sets `filtered`), so a page may hold fewer than `first`; its cursors continue where it "
        "ended all the same."
    )
    async def replies(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[CommentType]:
        request = page_request(first, after, last, before)
        if self.row.root_id is not None:  # type: ignore[attr-defined]
            return empty_connection(total_count=0)
        visible = comment_filter(await info.context.audience())
        page = await comment_page(
            info.context.loaders.replies_by_root,
            self.row.id,
            request,
            Comment.filter(visible, root_id=self.row.id),
        )
        connection = build_connection(page, None, CommentType.from_row, total_count=self.row.reply_count)
        return await screened_comments(info, connection)


async def comment_page(loader: Any, parent_id: int, request: PageRequest, queryset: Any) -> KeysetPage:
    """A page of comments, oldest first. Forwards through the windowed `loader`, so the first comments of
    every note (or thread) on a page cost one statement together; backwards, one keyset read of
    `queryset` (the same comments), as a client pages back through one thread at a time."""
    after = request.id_cursor()
    if request.backward:
        return await keyset_window(queryset, request, None if after is None else (after,), OLDEST_FIRST)
    if after is None:
        page = await loader.load(Window(parent_id, request.size, None))
        return KeysetPage(page.rows, page.has_next)
    # Ids are integers, so the window past `after - 1` starts at the cursor's own comment: when it is still
    # there it proves comments precede the page, with no second statement.
    page = await loader.load(Window(parent_id, request.size + 1, after - 1))
    rows = page.rows
    if rows and rows[0].id == after:
        return KeysetPage(rows[1:], page.has_next, has_previous=True)
    earlier = await queryset.filter(id__lt=after).limit(1).exists()
    return KeysetPage(rows[: request.size], len(rows) > request.size or page.has_next, earlier)


@strawberry.type(
    name="Board", description="A collection of collected notes; private boards are seen by their owner only."
)
class BoardType(Node):
    row: strawberry.Private[Board]
    name: str = strawberry.field(description="The board's name, 1–50 characters.")
    description: str = strawberry.field(description="The owner's text, up to 500 characters; may be empty.")
    is_private: bool = strawberry.field(description="True when only the owner can see the board.")
    is_default: bool = strawberry.field(
        description="True for the board every account starts with, where noteCollect puts notes when no "
        "board is named."
    )
    note_count: int = strawberry.field(description="How many notes the board holds.")
    created_at: datetime = strawberry.field(description="When the board was created.")

    @classmethod
    def from_row(cls, row: Board) -> BoardType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Board", row.id)),
            name=row.name,
            description=row.description,
            is_private=row.is_private,
            is_default=row.is_default,
            note_count=row.note_count,
            created_at=row.created_at,
        )

    @strawberry.field(description="Whose board it is.")
    async def owner(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.owner_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Notes collected into this board, most recently collected first; `totalCount` is "
        "`noteCount`, kept with every collect and uncollect."
    )
    async def notes(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[NoteRef]:
        from schema.notes.types import NoteType

        request = page_request(first, after, last, before)
        return await linked_connection(
            Collect.filter(note_filter(await info.context.audience(), via="note"), board_id=self.row.id),
            request,
            target_id=lambda link: link.note_id,
            loader=info.context.loaders.note_by_id,
            to_node=NoteType.from_row,
            total_count=self.row.note_count,
        )


async def load_comment(info: Info, comment_id: int | None) -> CommentType | None:
    """A comment by id through this request's loader, which returns only comments the audience may see."""
    row = await info.context.loaders.comment_by_id.load(comment_id) if comment_id is not None else None
    return CommentType.from_row(row) if row else None
