"""Notes: create, edit and delete, keeping topic, author and review counters exact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, forbidden, not_found
from core.retry import retry_on_conflict
from core.validation import Checks
from models import Note, NoteKind, NoteProduct, NoteTopic, Product, SearchKind, Topic, User
from search.documents import reindex
from search.language import detect_language
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
    review: Review | None = None
    remove_review: bool = False


@retry_on_conflict
async def create_note(
    *,
    author_id: int,
    kind: NoteKind,
    title: str,
    body: str,
    topics: Sequence[str] = (),
    product_ids: Sequence[int] = (),
    media: Sequence[str] = (),
    review: Review | None = None,
) -> Note:
    checks = Checks()
    clean_title = checks.text("title", title, max_length=MAX_TITLE)
    clean_body = checks.text("body", body, max_length=MAX_BODY, min_length=0)
    topic_names = clean_topic_names(checks, "topics", topics, maximum=MAX_TOPICS)
    clean_media = _check_media(checks, kind, media)
    products = _check_product_ids(checks, product_ids, review)
    if review is not None:
        _check_rating(checks, review.rating)
    checks.done()
    merchants = await _product_merchants(products)  # includes the reviewed product
    if review is not None:
        await _check_can_review(author_id, review.product_id, merchants[review.product_id])

    async with in_transaction():
        note = await Note.create(
            author_id=author_id,
            kind=kind,
            title=clean_title,
            body=clean_body or "",
            language=detect_language(f"{clean_title}\n{clean_body}"),
            media=clean_media,
            review_product_id=review.product_id if review else None,
            review_rating=review.rating if review else None,
        )
        await _link_topics(note.id, topic_names)
        await _link_products(note.id, products)
        await reindex(SearchKind.NOTE, [note.id])
        await User.filter(id=author_id).update(note_count=F("note_count") + 1)
        if review is not None:
            await _count_review(review, +1)
    return note


@retry_on_conflict
async def update_note(*, note_id: int, editor_id: int, changes: NoteChanges) -> Note:
    note = await _editable_note(note_id, editor_id)
    checks = Checks()
    title = checks.text("title", changes.title, max_length=MAX_TITLE) if changes.title is not None else None
    body = (
        checks.text("body", changes.body, max_length=MAX_BODY, min_length=0)
        if changes.body is not None
        else None
    )
    topic_names = (
        clean_topic_names(checks, "topics", changes.topics, maximum=MAX_TOPICS)
        if changes.topics is not None
        else None
    )
    media = _check_media(checks, note.kind, changes.media) if changes.media is not None else None
    new_review = changes.review
    if new_review is not None:
        _check_rating(checks, new_review.rating)
    product_ids = (
        _check_product_ids(checks, changes.product_ids, new_review)
        if changes.product_ids is not None
        else None
    )
    checks.done()
    old_review = (
        Review(note.review_product_id, note.review_rating)  # type: ignore[attr-defined,arg-type]
        if note.review_product_id is not None  # type: ignore[attr-defined]
        else None
    )
    reviews_another_product = new_review is not None and (
        old_review is None or old_review.product_id != new_review.product_id
    )
    to_check = list(product_ids or [])
    if new_review is not None and reviews_another_product and new_review.product_id not in to_check:
        to_check.append(new_review.product_id)
    merchants = await _product_merchants(to_check)
    if new_review is not None and reviews_another_product:
        await _check_can_review(editor_id, new_review.product_id, merchants[new_review.product_id])
    if changes.remove_review:
        new_review = None
    elif new_review is None:
        new_review = old_review

    async with in_transaction():
        if title is not None:
            note.title = title
        if body is not None:
            note.body = body
        if title is not None or body is not None:
            note.language = detect_language(f"{note.title}\n{note.body}")
        if media is not None:
            note.media = media
        note.review_product_id = new_review.product_id if new_review else None  # type: ignore[attr-defined]
        note.review_rating = new_review.rating if new_review else None
        await note.save()
        if topic_names is not None:
            await _unlink_topics(note.id)
            await _link_topics(note.id, topic_names)
        if title is not None or body is not None or topic_names is not None:
            await reindex(SearchKind.NOTE, [note.id])
        if product_ids is not None or (new_review and new_review != old_review):
            wanted: list[int] = (
                list(product_ids)
                if product_ids is not None
                else [
                    link.product_id  # type: ignore[attr-defined]
                    for link in await NoteProduct.filter(note_id=note.id).order_by("position")
                ]
            )
            if new_review and new_review.product_id not in wanted:
                wanted.insert(0, new_review.product_id)
            await NoteProduct.filter(note_id=note.id).delete()
            await _link_products(note.id, wanted)
        if old_review != new_review:
            if old_review is not None:
                await _count_review(old_review, -1)
            if new_review is not None:
                await _count_review(new_review, +1)
    return note


@retry_on_conflict
async def delete_note(*, note_id: int, editor_id: int) -> Note:
    """Soft-delete: the note disappears everywhere; orders that came from it keep their link."""
    note = await _editable_note(note_id, editor_id)
    async with in_transaction():
        updated = await Note.filter(id=note.id, deleted_at=None).update(deleted_at=datetime.now(UTC))
        if not updated:  # deleted concurrently: the counters were already adjusted
            return note
        await _unlink_topic_counts(note.id)
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
        raise not_found("Note", "id")
    if note.author_id != editor_id:  # type: ignore[attr-defined]
        raise forbidden("Only the author can edit or delete this note.", "id")
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
    urls = [checks.url(["media", str(i)], url) for i, url in enumerate(media)]
    return [u for u in urls if u is not None]


def _check_product_ids(checks: Checks, product_ids: Sequence[int], review: Review | None) -> list[int]:
    ids = list(dict.fromkeys(product_ids))
    if review is not None and review.product_id not in ids:
        ids.insert(0, review.product_id)  # a review always tags the product it reviews
    checks.count("productIds", ids, maximum=MAX_PRODUCTS)
    return ids


def _check_rating(checks: Checks, rating: int) -> None:
    if not 1 <= rating <= 5:
        checks.fail(["review", "rating"], ErrorCode.OUT_OF_RANGE, "Ratings are whole stars from 1 to 5.")


async def _product_merchants(product_ids: Sequence[int]) -> dict[int, int]:
    """Merchant id of each product, in one query; NOT_FOUND when any of them does not exist."""
    if not product_ids:
        return {}
    found = dict(
        await Product.filter(id__in=list(product_ids)).values_list("id", "merchant_id")  # type: ignore[arg-type]
    )
    if any(pid not in found for pid in product_ids):
        raise DomainError(ErrorCode.NOT_FOUND, "A tagged product does not exist.", ["input", "productIds"])
    return found


async def _check_can_review(author_id: int, product_id: int, merchant_id: int) -> None:
    if merchant_id == author_id:
        raise forbidden("Merchants cannot review their own products.", ["input", "review", "productId"])
    if await Note.filter(author_id=author_id, review_product_id=product_id, deleted_at=None).exists():
        raise DomainError(
            ErrorCode.ALREADY_REVIEWED,
            "You have already reviewed this product; edit that review instead.",
            ["input", "review", "productId"],
        )


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
