"""discoverFeed, and the signals a person sends it (noteView, noteMarkNotInterested)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.cursors import page_request
from core.errors import DomainError, ErrorCode
from core.ids import decode_global_id
from core.validation import Checks
from feed.service import FeedPage, discover_page, discover_page_before
from feed.signals import mark_not_interested, view_note
from models.safety import FilterContext
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.feed.types import DiscoverFeedConnection, DiscoverFeedEdge, FeedReason
from schema.notes.types import NoteType
from schema.relay import First, Last, PageInfo
from schema.safety.filters import keep_edges, screen_notes
from social.policy import visible_notes
from social.topics import clean_topic_names


@strawberry.type(description="The result of noteView and noteMarkNotInterested.")
class NoteSignalPayload:
    note: NoteType | None = strawberry.field(
        default=None,
        description="The note (after noteView, its viewCount includes this view); null when refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class FeedQuery:
    @strawberry.field(
        description="Notes ranked by what you are interested in — never by how famous their authors are. "
        "Signed in: from your likes, collects, comments, opens and interests. Anonymous: from `interests` "
        "(topic names), else from what is well received. A topic's names in either language count as one "
        "(健身, fitness, gym). A new session leaves out what you were shown or opened lately, at once. "
        "Pages never repeat or skip; `seed` makes the "
        "order reproducible (tests, debugging). Pages back with `last` and `before` within the session "
        "a cursor comes from (a feed has no end to count back from, so `last` needs `before`). "
        "`totalCount` is how many notes the session has ranked so far: it grows when paging past the end "
        "of a ranking continues with a fresh one. Your keyword filters of FEED apply (HIDE leaves notes "
        "out, WARN sets `filtered`), so a page may hold fewer than `first` notes; its cursors continue "
        "where it ended all the same."
    )
    async def discover_feed(
        self,
        info: Info,
        first: First = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The `pageInfo.endCursor` of the previous page; omit for the first page. Cursors "
                "are signed for the viewer: one from another person's feed is refused with INVALID."
            ),
        ] = None,
        last: Last = None,
        before: Annotated[
            str | None,
            strawberry.argument(
                description="The `pageInfo.startCursor` of the page after, to page backwards with `last` "
                "through the same session (the notes it showed, in the same order). Signed for the viewer "
                "like `after`: forged or another person's, refused with INVALID; with `after` or `first`, "
                "refused with INVALID. A session that has expired (after 24 hours) gives an empty page."
            ),
        ] = None,
        interests: Annotated[
            list[str] | None,
            strawberry.argument(
                description='Topic names to rank by, e.g. ["护肤", "穿搭"] (up to 10), for anonymous '
                "onboarding; signed in, they stand in for the profile's interests."
            ),
        ] = None,
        seed: Annotated[
            int | None,
            strawberry.argument(
                description="Fixes the shuffle so the same inputs give the same order (tests, debugging); "
                "omit in apps."
            ),
        ] = None,
    ) -> DiscoverFeedConnection:
        from schema.users.types import load_user

        ctx = info.context
        request = page_request(first, after, last, before)
        if request.backward and request.cursor is None:
            raise DomainError(
                ErrorCode.REQUIRED,
                "The feed has no end to count back from: pass `before` with `last`.",
                "before",
            )
        checks = Checks()
        chosen = clean_topic_names(checks, "interests", interests or [], maximum=10)
        checks.done()

        async def onboarding() -> list[str]:
            if ctx.viewer_id is None or chosen:
                return chosen
            viewer = await load_user(info, ctx.viewer_id)
            return list(viewer.row.interests or [])

        page: FeedPage
        if request.backward:
            page = await discover_page_before(
                viewer_id=ctx.viewer_id,
                last=request.size,
                before=str(request.cursor),
                secret=ctx.settings.secret_key,
                snapshots=ctx.snapshots,
            )
        else:
            page = await discover_page(
                viewer_id=ctx.viewer_id,
                onboarding=onboarding,
                first=request.size,
                after=request.cursor,
                secret=ctx.settings.secret_key,
                snapshots=ctx.snapshots,
                seed=seed,
                trending=ctx.trending,
                hidden_authors=(await ctx.audience()).hidden_author_ids,
            )
        loaders = ctx.loaders
        audience = await ctx.audience()
        for item in page.items:
            if item.note_id in page.unengaged:
                loaders.viewer_note_state.prime(item.note_id, (False, False))
        rows = visible_notes(
            await loaders.note_by_id.load_many([item.note_id for item in page.items]), audience
        )
        # Cursors are the snapshot's positions, so a note left out here never shifts the next page.
        edges = [
            DiscoverFeedEdge(
                cursor=item.cursor, node=NoteType.from_row(row), reason=FeedReason.of(item.reason)
            )
            for item, row in zip(page.items, rows, strict=True)
            if row is not None  # deleted since the snapshot was built, or hidden from this audience
        ]
        # The viewer's keyword filters of FEED; what they hide was not seen, so it is no impression.
        edges = keep_edges(edges, await screen_notes(info, FilterContext.FEED, [e.node for e in edges]))
        if not request.backward:  # paging back shows notes already served: no new impressions
            ctx.recorder.impressions(ctx.viewer_id, [e.node.row.id for e in edges])
        return DiscoverFeedConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                end_cursor=page.items[-1].cursor if page.items else None,
                start_cursor=page.items[0].cursor if page.items else None,
            ),
            total_count=page.total_count,
        )


@strawberry.type
class FeedMutation:
    @strawberry.mutation(
        description="The viewer opened a note (counts a view; a light interest signal). Signed in, the note "
        "leaves your next discoverFeed sessions at once."
    )
    @returns_errors
    async def note_view(
        self, info: Info, note_id: Annotated[strawberry.ID, strawberry.argument(description="The Note id.")]
    ) -> NoteSignalPayload:
        note = await view_note(
            recorder=info.context.recorder,
            snapshots=info.context.snapshots,
            viewer_id=info.context.viewer_id,
            note_id=decode_global_id(note_id, "Note", "note_id"),
        )
        # The view is recorded (written with its batch right after this answer): the count includes it.
        counted = NoteType.from_row(note)
        counted.view_count += 1
        return NoteSignalPayload(note=counted)

    @strawberry.mutation(
        description="Show me less like this: the note leaves your discovery feed for good, and its author "
        "and its topic family are shown less for about two weeks (an interest you chose stays in your feed)."
    )
    @returns_errors
    async def note_mark_not_interested(
        self, info: Info, note_id: Annotated[strawberry.ID, strawberry.argument(description="The Note id.")]
    ) -> NoteSignalPayload:
        note = await mark_not_interested(
            viewer_id=info.context.require_viewer_id(),
            note_id=decode_global_id(note_id, "Note", "note_id"),
        )
        return NoteSignalPayload(note=NoteType.from_row(note))
