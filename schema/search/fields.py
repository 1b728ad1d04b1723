"""`search` and `trendingTopics`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import strawberry

from core.cursors import MAX_PAGE_SIZE, page_request
from core.errors import DomainError, ErrorCode
from core.validation import without_unsafe_text
from models import SearchKind
from models.safety import FilterContext
from schema.catalog.types import ProductType
from schema.context import Info
from schema.notes.types import NoteType, TopicType
from schema.relay import After, Before, First, Last, PageInfo
from schema.safety.filters import keep_edges, screen_notes
from schema.search.types import (
    SearchConnection,
    SearchEdge,
    SearchNoticeEnum,
    SearchSortEnum,
    SearchTypeEnum,
)
from schema.users.types import UserType
from search.service import SearchSort, clean_language, search
from social.policy import Audience, can_view_note, can_view_product, can_view_user, search_exclusions
from social.topics import trending_topic_ids

MAX_TRENDING = MAX_PAGE_SIZE  # the same range as every other list


def accept_languages(header: str | None) -> list[str]:
    """Primary language codes from an Accept-Language header, best first.

    'zh-CN,zh;q=0.9,en;q=0.8' → ["zh", "en"].
    """
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().split("-")[0].casefold()
        if not code.isalpha() or len(code) > 8:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((-quality, i, code))
    return list(dict.fromkeys(code for _, _, code in sorted(weighted)))


async def _preferred_languages(info: Info) -> Sequence[str]:
    from schema.users.types import load_user

    ctx = info.context
    if ctx.viewer_id is not None:
        viewer = await load_user(info, ctx.viewer_id)
        if viewer.row.languages:
            return list(viewer.row.languages)
    return accept_languages(ctx.request.headers.get("accept-language"))


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description="Find notes, people, products or topics, in Chinese or English (or both at once: "
        "'Dior 口红'). Traditional characters find Simplified ones, 'lipsticks' finds 'lipstick', "
        "'lip' finds 'lipstick'. A word also finds what it means, ranked below the word itself: its topic "
        "in the other language and its synonyms (旅游 finds 旅行, sunscreen finds 防晒, 口红 finds "
        "lipstick; topic families admins keep), an emoji its names (💄: 口红, lipstick), a British "
        "spelling the American one. Every word must match; when nothing matches them all, results match "
        "most of them and `relaxed` says so; rare words count more than common ones (防晒霜 more than "
        "推荐). A query that finds little gets a `suggestion` (typos, pinyin), and one that finds nothing "
        "the suggestion's results (`corrected`). Notes in the viewer's languages (their profile, else the "
        "Accept-Language header) rank higher; `language` keeps only notes in one language, found by what "
        'the words mean too (口红 with language "en" finds lipstick notes). Pages both '
        "ways: `last` and `before` page back through the same results. `totalCount`: RELEVANCE, the "
        "length of the ranking (at most 500); POPULAR and LATEST, null (it would mean counting every "
        "match). Your keyword filters of SEARCH apply to notes (HIDE leaves them out, WARN sets "
        "`filtered`), so a page may hold fewer than `first` results; its cursors continue where it ended "
        "all the same."
    )
    async def search(
        self,
        info: Info,
        query: Annotated[
            str,
            strawberry.argument(
                description="What to look for, in any mix of Chinese and English; only its first 200 "
                "characters are read. No searchable words: no results."
            ),
        ],
        type: Annotated[SearchTypeEnum, strawberry.argument(description="What to search for.")] = (
            SearchTypeEnum.NOTE
        ),
        sort: Annotated[SearchSortEnum, strawberry.argument(description="The order of results.")] = (
            SearchSortEnum.RELEVANCE
        ),
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        language: Annotated[
            str | None,
            strawberry.argument(
                description='Keep only notes detected in this language, e.g. "zh" or "en" ("und": '
                "undetermined); ignored for other types. An unknown code is refused with INVALID."
            ),
        ] = None,
    ) -> SearchConnection:
        # Any text is a query (its first 200 characters are read): NUL and lone surrogates separate words
        # like punctuation does, instead of reaching the text pipeline and the database.
        query = without_unsafe_text(query)
        kind = SearchKind(type.name)  # each member is named as its value
        request = page_request(first, after, last, before)
        size = {"last": request.size} if request.backward else {"first": request.size}
        page = await search(
            query,
            kind=kind,
            sort=SearchSort(sort.name),
            **size,
            after=None if request.backward else request.cursor,
            before=request.cursor if request.backward else None,
            language=clean_language(language),
            preferred_languages=await _preferred_languages(info) if sort is SearchSortEnum.RELEVANCE else (),
            exclude_owners=search_exclusions(await info.context.audience(), kind),
        )
        nodes = await _load(info, kind, [hit.object_id for hit in page.hits])
        # Cursors are the hits' own positions, so a hit left out here never shifts the next page.
        edges = [
            SearchEdge(cursor=hit.cursor, node=node, score=_edge_score(sort, hit.score))
            for hit, node in zip(page.hits, nodes, strict=True)
            if node is not None  # deleted between the match and the load, or hidden from this audience
        ]
        if kind is SearchKind.NOTE:  # the viewer's keyword filters of SEARCH
            notes = [e.node for e in edges if isinstance(e.node, NoteType)]
            edges = keep_edges(edges, await screen_notes(info, FilterContext.SEARCH, notes))
        return SearchConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                end_cursor=page.hits[-1].cursor if page.hits else None,
                start_cursor=page.hits[0].cursor if page.hits else None,
            ),
            terms=page.terms,
            relaxed=page.relaxed,
            total_count=page.total_count,
            suggestion=page.suggestion,
            corrected=page.corrected,
            notice=None if page.notice is None else SearchNoticeEnum[page.notice.value],
        )

    @strawberry.field(
        description="Topics ranked by recent use (notes posted with them in the last 7 days, the latest days "
        "counting most); topics used most overall fill the list on a quiet site."
    )
    async def trending_topics(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=f"How many topics, 0–{MAX_TRENDING}, 10 when omitted or null. Outside that range "
                "the field is refused with an OUT_OF_RANGE error."
            ),
        ] = 10,
    ) -> list[TopicType]:
        size = 10 if first is None else first
        if not 0 <= size <= MAX_TRENDING:
            raise DomainError(
                ErrorCode.OUT_OF_RANGE, f"`first` must be between 0 and {MAX_TRENDING}.", "first"
            )
        if size == 0:
            return []
        ids = await trending_topic_ids(size)
        rows = await info.context.loaders.topic_by_id.load_many(ids)
        return [TopicType.from_row(row) for row in rows if row is not None]


def _edge_score(sort: SearchSortEnum, score: float) -> float:
    return 0.0 if sort is SearchSortEnum.LATEST else score


def _anyone(row: Any, audience: Audience) -> bool:
    return True


async def _load(info: Info, kind: SearchKind, ids: list[int]) -> list[Any]:
    """The page's objects in `ids` order (None where one vanished or is not visible to this audience),
    one batched statement."""
    loaders = info.context.loaders
    choices: dict[SearchKind, tuple[Any, Any, Any]] = {
        SearchKind.NOTE: (loaders.note_by_id, NoteType, can_view_note),
        SearchKind.USER: (loaders.user_by_id, UserType, can_view_user),
        SearchKind.PRODUCT: (loaders.product_by_id, ProductType, can_view_product),
        SearchKind.TOPIC: (loaders.topic_by_id, TopicType, _anyone),
    }
    loader, node, visible = choices[kind]
    audience = await info.context.audience()
    rows = await loader.load_many(ids)
    return [node.from_row(row) if row and visible(row, audience) else None for row in rows]
