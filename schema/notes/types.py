"""GraphQL types of notes and topics."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from core.cursors import page_request
from core.ids import to_global_id
from models import Comment, Note, NoteKind, Topic
from schema.context import Info
from schema.enums import described_enum
from schema.execution import batched
from schema.loaders import Window, load_all
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    KeysetPage,
    Last,
    Node,
    build_connection,
    keyset_connection,
)
from schema.safety.filters import FILTERED_DESCRIPTION, FilteredBy, screened_comments
from schema.users.related import related_people
from social.filters import FilterHit
from social.policy import can_see_sales, can_view_product, comment_filter, is_self, note_filter
from social.topics import topic_history

if TYPE_CHECKING:
    from schema.catalog.types import ProductType
    from schema.commerce.types import NoteSales
    from schema.media.types import MediaType
    from schema.safety.moderation_types import ModerationStatus
    from schema.social.types import CommentType
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
ProductRef = Annotated["ProductType", strawberry.lazy("schema.catalog.types")]
MediaRef = Annotated["MediaType", strawberry.lazy("schema.media.types")]
CommentRef = Annotated["CommentType", strawberry.lazy("schema.social.types")]
NoteSalesRef = Annotated["NoteSales", strawberry.lazy("schema.commerce.types")]
ModerationStatusRef = Annotated["ModerationStatus", strawberry.lazy("schema.safety.moderation_types")]

NoteKindEnum = described_enum(
    NoteKind,
    name="NoteKind",
    description="IMAGE carousel, VIDEO, or TEXT.",
    values={
        "IMAGE": "One or more images (up to 18), shown as a carousel in `media` order.",
        "VIDEO": "Exactly one video: the note's only media URL.",
        "TEXT": "Words only, no media.",
    },
)


class DisclosureKind(enum.Enum):
    COMMISSION = "COMMISSION"


DisclosureKindEnum = described_enum(
    DisclosureKind,
    name="DisclosureKind",
    description="Why a note carries a disclosure.",
    values={
        "COMMISSION": "Its author earns a commission on what shoppers buy from it: it tags a product, not "
        "their own, that pays creators (Product.creatorCommission above 0).",
    },
)
COMMISSION_DISCLOSURE = "Commission earned on tagged products · 含佣金推广"


@strawberry.type(
    description="What a client must show with a note whose author gains from it (a label near the title, "
    "e.g. 含佣金推广), so readers know a recommendation may be paid."
)
class NoteDisclosure:
    kind: DisclosureKindEnum = strawberry.field(description="Why.")  # type: ignore[valid-type]
    text: str = strawberry.field(description="The label to show as it is, in Chinese and English.")


async def _disclosures(notes: list[NoteType], info: Info) -> list[NoteDisclosure | None]:
    from commerce.catalog import pays_author
    from schema.catalog.types import commissions_of

    tagged = await load_all(info.context.loaders.products_by_note_id, [n.row.id for n in notes])
    products = [p for ps in tagged for p in ps]
    rates = iter(await commissions_of(products, info))  # the tagging statement read them: no statement
    disclosed = []
    for note, ps in zip(notes, tagged, strict=True):
        author_id = note.row.author_id  # type: ignore[attr-defined]
        earns = [pays_author(p, next(rates), author_id) for p in ps]
        disclosed.append(
            NoteDisclosure(kind=DisclosureKind.COMMISSION, text=COMMISSION_DISCLOSURE) if any(earns) else None
        )
    return disclosed


@strawberry.type(description="A note's verdict on one product.")
class NoteReview:
    rating: int = strawberry.field(description="Whole stars, 1–5.")
    product_id: strawberry.Private[int]
    author_id: strawberry.Private[int]

    @strawberry.field(
        description="The reviewer bought this product here: a paid order of it that was not refunded. An "
        "order refunded in full, or whose merchant of this product gave back all of their part of it, does "
        "not count; a partial refund does."
    )
    async def verified_purchase(self, info: Info) -> bool:
        return bool(await info.context.loaders.verified_purchase.load((self.author_id, self.product_id)))

    @strawberry.field(description="The product reviewed; null if it no longer exists.")
    async def product(self, info: Info) -> ProductRef | None:
        from schema.catalog.types import ProductType

        row = await info.context.loaders.product_by_id.load(self.product_id)
        return (
            ProductType.from_row(row)
            if row and can_view_product(row, await info.context.audience())
            else None
        )


@strawberry.type(description="How often a topic was used on one day (UTC).")
class TopicDay:
    date: str = strawberry.field(description="The UTC calendar day, as YYYY-MM-DD.")
    uses: int = strawberry.field(description="Notes posted that day carrying the topic.")


@strawberry.type(name="Topic", description="A hashtag; `#护肤`, `护肤` and ` 护肤 ` are one topic.")
class TopicType(Node):
    row: strawberry.Private[Topic]
    name: str = strawberry.field(
        description="The normalised name, 1–64 characters: case-folded, without # or extra spaces. Show it "
        "as #name."
    )
    note_count: int = strawberry.field(description="How many notes carry this topic now.")
    view_count: int = strawberry.field(description="How many times notes carrying this topic were opened.")

    @classmethod
    def from_row(cls, row: Topic) -> TopicType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Topic", row.id)),
            name=row.name,
            note_count=row.note_count,
            view_count=row.view_count,
        )

    @strawberry.field(
        description="Uses per day (notes posted with this topic) over the last `days` days (UTC, today "
        "included), oldest first, days without use included as 0."
    )
    async def history(
        self,
        days: Annotated[
            int,
            strawberry.argument(
                description="How many days, 1–365; outside that range the field is refused with OUT_OF_RANGE."
            ),
        ] = 30,
    ) -> list[TopicDay]:
        history = await topic_history(self.row.id, days=days)
        return [TopicDay(date=d.day.isoformat(), uses=d.uses) for d in history]

    @strawberry.field(
        description="Notes carrying this topic, newest first; `totalCount` is `noteCount`, kept with every "
        "note that takes or drops the topic."
    )
    async def notes(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[NoteType]:
        request = page_request(first, after, last, before)
        return await keyset_connection(
            Note.filter(note_filter(await info.context.audience()), topic_links__topic_id=self.row.id),
            request,
            NoteType.from_row,
            total_count=self.row.note_count,
        )


_authors = related_people("author_id")


async def _topics(notes: list[NoteType], info: Info) -> list[list[TopicType]]:
    found = await load_all(info.context.loaders.topics_by_note_id, [n.row.id for n in notes])
    return [[TopicType.from_row(t) for t in topics] for topics in found]


async def _products(notes: list[NoteType], info: Info) -> list[list[ProductType]]:
    from schema.catalog.types import ProductType

    found = await load_all(info.context.loaders.products_by_note_id, [n.row.id for n in notes])
    audience = await info.context.audience()
    return [
        [ProductType.from_row(p) for p in products if can_view_product(p, audience)] for products in found
    ]


async def _comments(
    notes: list[NoteType],
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[CommentType]]:
    from schema.social.types import CommentType, comment_page

    request = page_request(first, after, last, before)
    visible = comment_filter(await info.context.audience())
    loader = info.context.loaders.comments_by_note

    def roots(note: NoteType) -> Any:
        return Comment.filter(visible, note_id=note.row.id, root_id=None)

    def count(note: NoteType) -> Callable[[], Awaitable[int]]:
        # Built only when a client asks for totalCount.
        return lambda: roots(note).count()  # type: ignore[no-any-return]

    if request.backward or request.id_cursor() is not None:
        pages = list(
            await asyncio.gather(*(comment_page(loader, n.row.id, request, roots(n)) for n in notes))
        )
    else:
        # The first page of every note's comments: one windowed statement for all of them.
        windows = await load_all(loader, [Window(n.row.id, request.size, None) for n in notes])
        pages = [KeysetPage(w.rows, w.has_next) for w in windows]
    return [
        await screened_comments(
            info, build_connection(page, None, CommentType.from_row, total_count=count(note))
        )
        for page, note in zip(pages, notes, strict=True)
    ]


@strawberry.type(name="Note", description="A post: photos, a video or text, with topics and tagged products.")
class NoteType(Node):
    row: strawberry.Private[Note]
    kind: NoteKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="Whether it is an image carousel, a video or text only."
    )
    title: str = strawberry.field(description="The headline, 1–100 characters.")
    body: str = strawberry.field(description="The text, up to 5000 characters; may be empty. Plain text.")
    language: str = strawberry.field(
        description='Language detected from title and body: "zh", "en" or "und" (undetermined).'
    )
    like_count: int = strawberry.field(description="How many people like the note.")
    collect_count: int = strawberry.field(description="How many people collected the note into a board.")
    comment_count: int = strawberry.field(description="Comments on the note, replies included.")
    view_count: int = strawberry.field(description="Times the note was opened (noteView).")
    created_at: datetime = strawberry.field(description="When the note was posted.")
    updated_at: datetime = strawberry.field(
        description="When the note was last edited (its posting time if never)."
    )
    # The viewer's WARN filter this note matched on the surface that listed it (schema.safety.filters).
    filter_hit: strawberry.Private[FilterHit | None] = None

    @classmethod
    def from_row(cls, row: Note) -> NoteType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Note", row.id)),
            kind=row.kind,
            title=row.title,
            body=row.body,
            language=row.language,
            like_count=row.like_count,
            collect_count=row.collect_count,
            comment_count=row.comment_count,
            view_count=row.view_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field(
        description="The pictures or the video, in display order, with their sizes and placeholders; empty "
        "for TEXT notes. Notes posted with media URLs show each URL as a READY Media without sizes."
    )
    def media(self) -> list[MediaRef]:
        from schema.media.types import MediaType

        return [
            MediaType.from_url(self.row.id, i, item)
            if isinstance(item, str)
            else MediaType.from_snapshot(item)
            for i, item in enumerate(self.row.media or [])
        ]

    @strawberry.field(
        description="The media URLs the author gave, in order (notes posted before uploads).",
        deprecation_reason="Use `media { url(variant: FEED) videoUrl }`: uploaded media have no URL here.",
    )
    def media_urls(self) -> list[str]:
        return [item for item in self.row.media or [] if isinstance(item, str)]

    @strawberry.field(description="Who wrote the note.", metadata=batched(_authors))
    async def author(self, info: Info) -> UserRef:
        return (await _authors([self], info))[0]

    @strawberry.field(
        description="The note's hashtags, in the author's order (up to 10).", metadata=batched(_topics)
    )
    async def topics(self, info: Info) -> list[TopicType]:
        return (await _topics([self], info))[0]

    @strawberry.field(
        description="Products tagged in the note, in the author's order.", metadata=batched(_products)
    )
    async def products(self, info: Info) -> list[ProductRef]:
        return (await _products([self], info))[0]

    @strawberry.field(
        description="Set when the author earns from the note (a tagged product pays creators a commission): "
        "clients must show `text` with the note. Computed from today's rates, so it follows their changes; "
        "null otherwise.",
        metadata=batched(_disclosures),
    )
    async def disclosure(self, info: Info) -> NoteDisclosure | None:
        return (await _disclosures([self], info))[0]

    @strawberry.field(description="Set when the note reviews a product.")
    def review(self) -> NoteReview | None:
        product_id = self.row.review_product_id  # type: ignore[attr-defined]
        if product_id is None or self.row.review_rating is None:
            return None
        return NoteReview(
            rating=self.row.review_rating,
            product_id=product_id,
            author_id=self.row.author_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(
        description="What shoppers bought from this note (paid orders): only its author sees this, else null."
    )
    async def sales(self, info: Info) -> NoteSalesRef | None:
        from schema.commerce.types import NoteSales
        from schema.money import Money

        if not can_see_sales(self.row, info.context.viewer_id):
            return None
        sales = await info.context.loaders.note_sales.load(self.row.id)
        return NoteSales(
            items_sold=sales.items_sold,
            orders=sales.orders,
            revenue=[Money.of(amount, currency) for currency, amount in sorted(sales.revenue.items())],
            commission=[Money.of(amount, currency) for currency, amount in sorted(sales.commission.items())],
        )

    @strawberry.field(description="Shortcut for review.rating: whole stars 1–5; null when not a review.")
    def review_rating(self) -> int | None:
        return self.row.review_rating if self.row.review_product_id is not None else None  # type: ignore[attr-defined]

    @strawberry.field(description="Whether the signed-in person likes this note; false when anonymous.")
    async def viewer_has_liked(self, info: Info) -> bool:
        if info.context.viewer_id is None:
            return False
        return bool((await info.context.loaders.viewer_note_state.load(self.row.id))[0])

    @strawberry.field(
        description="Whether the signed-in person collected this note into a board; false when anonymous."
    )
    async def viewer_has_collected(self, info: Info) -> bool:
        if info.context.viewer_id is None:
            return False
        return bool((await info.context.loaders.viewer_note_state.load(self.row.id))[1])

    @strawberry.field(description="True when the signed-in person wrote this note.")
    def viewer_is_author(self, info: Info) -> bool:
        return is_self(self.row.author_id, info.context.viewer_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="A moderator's decision on the note and why (hidden or removed notes are seen by their "
        "author alone): for its author and staff; null for everyone else."
    )
    async def moderation(self, info: Info) -> ModerationStatusRef | None:
        from schema.safety.moderation_types import moderation_status

        return await moderation_status(info, self.row, self.row.author_id)  # type: ignore[attr-defined]

    @strawberry.field(description=FILTERED_DESCRIPTION)
    def filtered(self) -> FilteredBy | None:
        return FilteredBy.of(self.filter_hit)

    @strawberry.field(
        description="Root comments, oldest first; each has its replies. `totalCount` counts root comments "
        "when asked for (one indexed count per note; `commentCount`, kept exact, includes replies). Your "
        "keyword filters of COMMENTS apply (HIDE leaves comments out, WARN sets `filtered`), so a page may "
        "hold fewer than `first`; its cursors continue where it ended all the same.",
        metadata=batched(_comments),
    )
    async def comments(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[CommentRef]:
        return (await _comments([self], info, first=first, after=after, last=last, before=before))[0]


async def load_note(info: Info, note_id: int | None) -> NoteType | None:
    """A note by id through this request's loader, which returns only notes the audience may see."""
    row = await info.context.loaders.note_by_id.load(note_id) if note_id is not None else None
    return NoteType.from_row(row) if row else None
