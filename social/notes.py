"""Notes: create, edit and delete, keeping topic, author and review counters exact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.retry import retry_on_conflict
from core.validation import Checks
from media.attach import MAX_NOTE_IMAGES, attach_to_note, attachable, release_note_media, snapshot
from models import (
    Media,
    MediaKind,
    MediaUse,
    Note,
    NoteKind,
    NoteProduct,
    NoteTopic,
    Product,
    SearchKind,
    Topic,
    User,
)
from search.documents import reindex
from search.language import detect_language
from social.errors import AlreadyReviewed
from social.policy import can_edit_note
from social.topics import clean_topic_names

MAX_TITLE = 100
MAX_BODY = 5000
MAX_MEDIA = 18
MAX_TOPICS = 10
MAX_PRODUCTS = 10
_VIDEO_SUFFIXES = (".mp4", ".mov", ".m3u8", ".webm")


def infer_kind(media: Sequence[str]) -> NoteKind:
    """The kind of a note whose client did not say: no media → TEXT, one video URL → VIDEO, else IMAGE."""
    if not media:
        return NoteKind.TEXT
    if len(media) == 1 and media[0].lower().split("?")[0].endswith(_VIDEO_SUFFIXES):
        return NoteKind.VIDEO
    return NoteKind.IMAGE


@dataclass(frozen=True)
class Review:
    product_id: int
    rating: int


@dataclass(frozen=True)
class NoteChanges:
    """An edit; None leaves a field as it is."""

    title: str | None = None
    body: str | None = None
    topics: Sequence[str] | None = None
    product_ids: Sequence[int] | None = None
    media: Sequence[str] | None = None
    # Uploaded media (READY, the editor's own), replacing the note's media; the note's kind stays.
    media_ids: Sequence[int] | None = None
    review: Review | None = None
    remove_review: bool = False


@dataclass(frozen=True)
class NoteInput:
    """Checked, cleaned input of a new note or an edit; None = not given (an edit keeps that field)."""

    title: str | None = None
    body: str | None = None
    topics: list[str] | None = None
    media: list[str] | None = None
    product_ids: list[int] | None = None  # de-duplicated, a given review's product first
    review: Review | None = None
    remove_review: bool = False


@dataclass(frozen=True)
class NoteState:
    """The stored fields an edit is planned from."""

    title: str
    body: str
    kind: NoteKind
    review: Review | None

    @classmethod
    def of(cls, note: Note) -> NoteState:
        """The state of a loaded note."""
        review_product_id = note.review_product_id  # type: ignore[attr-defined]
        review = (
            Review(review_product_id, note.review_rating)  # type: ignore[arg-type]
            if review_product_id is not None
            else None
        )
        return cls(title=note.title, body=note.body, kind=note.kind, review=review)


@dataclass(frozen=True)
class NoteEditPlan:
    """Everything an edit writes: `apply_note_edit` does exactly this. None = unchanged.

    Topics and product tags are replaced whole rather than diffed: their order is stored with them."""

    title: str | None
    body: str | None
    language: str | None  # detected again whenever the title or body changes
    media: list[str] | None
    review: Review | None  # the note's review after the edit (always written)
    # The topics become exactly these, in order: the current ones lose a use, these gain one.
    topics: list[str] | None
    products: list[int] | None  # the tagged products become exactly these, in order
    # The tagged products stay, with this reviewed product put in front when it is missing.
    tag_reviewed_product: int | None
    review_counts: tuple[tuple[Review, int], ...]  # (review, ±1) for its product's review counters
    reindex: bool  # the search document changes (title, body or topics)


@retry_on_conflict
async def create_note(
    *,
    author_id: int,
    kind: NoteKind | None,
    title: str,
    body: str,
    topics: Sequence[str] = (),
    product_ids: Sequence[int] = (),
    media: Sequence[str] = (),
    media_ids: Sequence[int] = (),
    review: Review | None = None,
) -> Note:
    """Post a note: the same check steps as an edit, then one transaction that writes it and its counts.
    `kind` None: inferred from the media (uploaded media, else URLs: `infer_kind`)."""
    uploads = await _uploads(author_id, media_ids, media)
    if kind is None:
        kind = uploads_kind(uploads) if uploads else infer_kind(media)
    new = check_new_note(
        kind=kind,
        title=title,
        body=body,
        topics=topics,
        product_ids=product_ids,
        media=media,
        review=review,
        uploads=uploads,
    )
    products = new.product_ids or []  # includes the reviewed product
    await check_tagged_products(author_id=author_id, product_ids=products, review=review)

    async with in_transaction():
        note = await Note.create(
            author_id=author_id,
            kind=kind,
            title=new.title,
            body=new.body or "",
            language=detect_language(f"{new.title}\n{new.body}"),
            media=[snapshot(m) for m in uploads] if uploads else new.media,
            review_product_id=review.product_id if review else None,
            review_rating=review.rating if review else None,
        )
        await _link_topics(note.id, new.topics or [])
        await _link_products(note.id, products)
        if uploads:
            await attach_to_note(note.id, uploads)
        await reindex(SearchKind.NOTE, [note.id])
        await User.filter(id=author_id).update(note_count=F("note_count") + 1)
        if review is not None:
            await _count_review(review, +1)
    return note


@retry_on_conflict
async def update_note(*, note_id: int, editor_id: int, changes: NoteChanges) -> Note:
    """Edit a note: check the input, plan the change, then write the plan in one transaction."""
    note = await _editable_note(note_id, editor_id)
    current = NoteState.of(note)
    uploads = None
    if changes.media_ids is not None:
        uploads = await _uploads(editor_id, changes.media_ids, changes.media or (), note_id=note.id)
    edit = check_note_edit(changes, kind=current.kind, uploads=uploads)
    await check_tagged_products(
        author_id=editor_id,
        product_ids=edit.product_ids or [],
        review=edit.review,
        current_review=current.review,
    )
    await apply_note_edit(note, plan_note_edit(current, edit), uploads=uploads)
    return note


async def _uploads(
    owner_id: int, media_ids: Sequence[int], urls: Sequence[str], *, note_id: int | None = None
) -> list[Media]:
    """The uploaded media a note takes, checked (the owner's, READY, not held by anything else)."""
    if media_ids and urls:
        raise DomainError(
            ErrorCode.INVALID, "Give uploaded media (mediaIds) or media URLs, not both.", "media_ids"
        )
    if not media_ids:
        return []
    reattach = (MediaUse.NOTE, note_id) if note_id is not None else None
    return await attachable(owner_id, media_ids, maximum=MAX_NOTE_IMAGES, reattach=reattach)


def uploads_kind(uploads: Sequence[Media]) -> NoteKind:
    """The kind of a note made of these uploads: a video makes a VIDEO note."""
    return NoteKind.VIDEO if any(m.kind is MediaKind.VIDEO for m in uploads) else NoteKind.IMAGE


def _check_uploads(checks: Checks, kind: NoteKind, uploads: Sequence[Media]) -> None:
    videos = sum(m.kind is MediaKind.VIDEO for m in uploads)
    if kind is NoteKind.VIDEO and (len(uploads) != 1 or videos != 1):
        checks.fail("media_ids", ErrorCode.INVALID, "A video note has exactly one media: the video.")
    elif kind is NoteKind.IMAGE and (not uploads or videos):
        checks.fail("media_ids", ErrorCode.INVALID, "An image note has 1 to 18 pictures and no video.")
    elif kind is NoteKind.TEXT and uploads:
        checks.fail("media_ids", ErrorCode.INVALID, "A text note has no media.")


# --- the steps of a create and an edit: check the input, check what it tags, plan, apply ------------------


def check_new_note(
    *,
    kind: NoteKind,
    title: str,
    body: str,
    topics: Sequence[str],
    product_ids: Sequence[int],
    media: Sequence[str],
    review: Review | None,
    uploads: Sequence[Media] = (),
) -> NoteInput:
    """The cleaned input of a new note, or every problem with it at once (ValidationErrors)."""
    checks = Checks()
    content = _check_content(
        checks, kind=kind, title=title, body=body, topics=topics, media=None if uploads else media
    )
    if uploads:
        _check_uploads(checks, kind, uploads)
    products = _check_product_ids(checks, product_ids, review)
    if review is not None:
        _check_rating(checks, review.rating)
    checks.done()
    return replace(content, product_ids=products, review=review)


def check_note_edit(
    changes: NoteChanges, *, kind: NoteKind, uploads: Sequence[Media] | None = None
) -> NoteInput:
    """The cleaned fields of an edit (only those given), or every problem with them at once."""
    checks = Checks()
    media = None if uploads is not None else changes.media
    content = _check_content(
        checks, kind=kind, title=changes.title, body=changes.body, topics=changes.topics, media=media
    )
    if uploads is not None:
        _check_uploads(checks, kind, uploads)
        content = replace(content, media=[])  # uploaded media replace any URLs
    if changes.review is not None:
        _check_rating(checks, changes.review.rating)
    products = (
        _check_product_ids(checks, changes.product_ids, changes.review)
        if changes.product_ids is not None
        else None
    )
    checks.done()
    return replace(content, product_ids=products, review=changes.review, remove_review=changes.remove_review)


def _check_content(
    checks: Checks,
    *,
    kind: NoteKind,
    title: str | None,
    body: str | None,
    topics: Sequence[str] | None,
    media: Sequence[str] | None,
) -> NoteInput:
    """Title, body, topics and media, each checked when given (in this order: the order of the errors)."""
    return NoteInput(
        title=checks.text("title", title, max_length=MAX_TITLE) if title is not None else None,
        body=checks.text("body", body, max_length=MAX_BODY, min_length=0) if body is not None else None,
        topics=clean_topic_names(checks, "topics", topics, maximum=MAX_TOPICS)
        if topics is not None
        else None,
        media=_check_media(checks, kind, media) if media is not None else None,
    )


async def check_tagged_products(
    *, author_id: int, product_ids: Sequence[int], review: Review | None, current_review: Review | None = None
) -> None:
    """Every tagged product exists (one query); a review of a product the note did not already review must
    be allowed (not the author's own product, not reviewed by them before)."""
    reviews_another_product = review is not None and (
        current_review is None or current_review.product_id != review.product_id
    )
    to_check = list(product_ids)
    if review is not None and reviews_another_product and review.product_id not in to_check:
        to_check.append(review.product_id)
    merchants = await _product_merchants(to_check)
    if review is not None and reviews_another_product:
        await _check_can_review(author_id, review.product_id, merchants[review.product_id])


def plan_note_edit(current: NoteState, edit: NoteInput) -> NoteEditPlan:
    """What a checked edit changes, decided without the database."""
    review = edit.review if edit.review is not None else current.review
    if edit.remove_review:  # wins over a review given in the same edit
        review = None
    language = None
    if edit.title is not None or edit.body is not None:
        title = edit.title if edit.title is not None else current.title
        body = edit.body if edit.body is not None else current.body
        language = detect_language(f"{title}\n{body}")
    products = None
    tag_reviewed_product = None
    if edit.product_ids is not None:
        products = list(edit.product_ids)
        if review is not None and review.product_id not in products:
            products.insert(0, review.product_id)  # a review kept from before stays tagged too
    elif review is not None and review != current.review:
        tag_reviewed_product = review.product_id
    review_counts: list[tuple[Review, int]] = []
    if review != current.review:
        if current.review is not None:
            review_counts.append((current.review, -1))
        if review is not None:
            review_counts.append((review, +1))
    return NoteEditPlan(
        title=edit.title,
        body=edit.body,
        language=language,
        media=edit.media,
        review=review,
        topics=edit.topics,
        products=products,
        tag_reviewed_product=tag_reviewed_product,
        review_counts=tuple(review_counts),
        reindex=edit.title is not None or edit.body is not None or edit.topics is not None,
    )


async def apply_note_edit(note: Note, plan: NoteEditPlan, *, uploads: Sequence[Media] | None = None) -> None:
    """Write a plan, with every counter it moves, in one transaction; `uploads`: the note's media become
    exactly these."""
    async with in_transaction():
        if uploads is not None:
            await attach_to_note(note.id, uploads)
        if plan.title is not None:
            note.title = plan.title
        if plan.body is not None:
            note.body = plan.body
        if plan.language is not None:
            note.language = plan.language
        if plan.media is not None:
            note.media = plan.media
        if uploads is not None:
            note.media = [snapshot(m) for m in uploads]
        note.review_product_id = plan.review.product_id if plan.review else None  # type: ignore[attr-defined]
        note.review_rating = plan.review.rating if plan.review else None
        await note.save()
        if plan.topics is not None:
            await _unlink_topics(note.id)
            await _link_topics(note.id, plan.topics)
        if plan.reindex:
            await reindex(SearchKind.NOTE, [note.id])
        if plan.products is not None or plan.tag_reviewed_product is not None:
            await _retag_products(note.id, plan.products, plan.tag_reviewed_product)
        for review, sign in plan.review_counts:
            await _count_review(review, sign)


async def _retag_products(note_id: int, products: list[int] | None, reviewed_product_id: int | None) -> None:
    """The note's product links become `products`, or the current ones with the reviewed product in front
    when it is missing; rewritten whole because the order is stored."""
    wanted = (
        list(products)
        if products is not None
        else [
            link.product_id  # type: ignore[attr-defined]
            for link in await NoteProduct.filter(note_id=note_id).order_by("position")
        ]
    )
    if reviewed_product_id is not None and reviewed_product_id not in wanted:
        wanted.insert(0, reviewed_product_id)
    await NoteProduct.filter(note_id=note_id).delete()
    await _link_products(note_id, wanted)


@retry_on_conflict
async def delete_note(*, note_id: int, editor_id: int) -> Note:
    """Soft-delete: the note disappears everywhere; orders that came from it keep their link."""
    note = await _editable_note(note_id, editor_id)
    async with in_transaction():
        updated = await Note.filter(id=note.id, deleted_at=None).update(deleted_at=datetime.now(UTC))
        if not updated:  # deleted concurrently: the counters were already adjusted
            return note
        await _unlink_topic_counts(note.id)
        await release_note_media(note.id)  # its files go at the media sweep's next pass
        await reindex(SearchKind.NOTE, [note.id])  # the note is hidden now: its document goes
        await User.filter(id=note.author_id).update(  # type: ignore[attr-defined]
            note_count=F("note_count") - 1,
            likes_and_collects_count=F("likes_and_collects_count") - (note.like_count + note.collect_count),
        )
        if note.review_product_id is not None:  # type: ignore[attr-defined]
            await _count_review(Review(note.review_product_id, note.review_rating or 0), -1)  # type: ignore[attr-defined]
    return note


async def _editable_note(note_id: int, editor_id: int) -> Note:
    note = await Note.get_or_none(id=note_id, deleted_at=None)
    if note is None:
        raise NotFound("Note", "id")
    if not can_edit_note(note, editor_id):
        raise Forbidden("Only the author can edit or delete this note.", "id")
    return note


def _check_media(checks: Checks, kind: NoteKind, media: Sequence[str]) -> list[str]:
    if kind is NoteKind.VIDEO and len(media) != 1:
        checks.fail("media", ErrorCode.INVALID, "A video note has exactly one media URL: the video.")
        return []
    if kind is NoteKind.IMAGE and not media:
        checks.fail("media", ErrorCode.REQUIRED, "An image note needs at least one image.")
        return []
    if not checks.count("media", media, maximum=MAX_MEDIA):
        return []
    urls = [checks.url(("media", i), url) for i, url in enumerate(media)]
    return [u for u in urls if u is not None]


def _check_product_ids(checks: Checks, product_ids: Sequence[int], review: Review | None) -> list[int]:
    ids = list(dict.fromkeys(product_ids))
    if review is not None and review.product_id not in ids:
        ids.insert(0, review.product_id)  # a review always tags the product it reviews
    checks.count("product_ids", ids, maximum=MAX_PRODUCTS)
    return ids


def _check_rating(checks: Checks, rating: int) -> None:
    if not 1 <= rating <= 5:
        checks.fail(("review", "rating"), ErrorCode.OUT_OF_RANGE, "Ratings are whole stars from 1 to 5.")


async def _product_merchants(product_ids: Sequence[int]) -> dict[int, int]:
    """Merchant id of each product, in one query; NOT_FOUND when any of them does not exist."""
    if not product_ids:
        return {}
    found = dict(
        await Product.filter(id__in=list(product_ids)).values_list("id", "merchant_id")  # type: ignore[arg-type]
    )
    if any(pid not in found for pid in product_ids):
        raise NotFound("Product", "product_ids", message="A tagged product does not exist.")
    return found


async def _check_can_review(author_id: int, product_id: int, merchant_id: int) -> None:
    if merchant_id == author_id:
        raise Forbidden("Merchants cannot review their own products.", ("review", "product_id"))
    if await Note.filter(author_id=author_id, review_product_id=product_id, deleted_at=None).exists():
        raise AlreadyReviewed(product_id, ("review", "product_id"))


async def _link_topics(note_id: int, names: Sequence[str]) -> None:
    if not names:
        return
    existing = {t.name: t for t in await Topic.filter(name__in=list(names))}
    created: list[int] = []
    for name in names:
        if name not in existing:
            topic, made = await Topic.get_or_create(name=name)
            existing[name] = topic
            if made:
                created.append(topic.id)
    await reindex(SearchKind.TOPIC, created)
    await NoteTopic.bulk_create(
        [NoteTopic(note_id=note_id, topic_id=existing[n].id, position=i) for i, n in enumerate(names)]
    )
    await Topic.filter(id__in=[existing[n].id for n in names]).update(note_count=F("note_count") + 1)


async def _unlink_topic_counts(note_id: int) -> None:
    topic_ids = await NoteTopic.filter(note_id=note_id).values_list("topic_id", flat=True)
    if topic_ids:
        await Topic.filter(id__in=list(topic_ids)).update(note_count=F("note_count") - 1)


async def _unlink_topics(note_id: int) -> None:
    await _unlink_topic_counts(note_id)
    await NoteTopic.filter(note_id=note_id).delete()


async def _link_products(note_id: int, product_ids: Sequence[int]) -> None:
    if product_ids:
        await NoteProduct.bulk_create(
            [NoteProduct(note_id=note_id, product_id=p, position=i) for i, p in enumerate(product_ids)]
        )


async def _count_review(review: Review, sign: int) -> None:
    await Product.filter(id=review.product_id).update(
        review_count=F("review_count") + sign, rating_sum=F("rating_sum") + sign * review.rating
    )
