"""Notes rules called directly (social/notes.py): create, the check / plan / apply steps of an edit, delete,
and the counters they keep (checked with social.counters.counter_mismatches)."""

from __future__ import annotations

import pytest

from core.errors import DomainError, ErrorCode, ValidationErrors
from models import Note, NoteKind, NoteProduct, NoteTopic, Product, SearchDocument, SearchKind, Topic, User
from social.counters import counter_mismatches
from social.engagement import collect_note, like_note
from social.notes import (
    NoteChanges,
    NoteEditPlan,
    NoteInput,
    NoteState,
    Review,
    apply_note_edit,
    check_new_note,
    check_note_edit,
    check_tagged_products,
    delete_note,
    plan_note_edit,
    update_note,
)
from social.notes import (
    create_note as notes_create_note,
)
from tests.social.factories import create_note, create_product, create_user


def _problems(exc: DomainError) -> list[tuple[ErrorCode, tuple[str, ...]]]:
    """(code, field path) of every error a refusal carries, list indexes as text."""
    errors = exc.errors if isinstance(exc, ValidationErrors) else [exc]
    return [(e.code, tuple(str(step) for step in e.field or ())) for e in errors]


async def _topics(note_id: int) -> list[str]:
    links = await NoteTopic.filter(note_id=note_id).order_by("position").prefetch_related("topic")
    return [link.topic.name for link in links]


async def _product_ids(note_id: int) -> list[int]:
    links = await NoteProduct.filter(note_id=note_id).order_by("position")
    return [link.product_id for link in links]  # type: ignore[attr-defined]


async def _topic_uses(name: str) -> int:
    topic = await Topic.get_or_none(name=name)
    return topic.note_count if topic else 0


async def _search_head(note_id: int) -> str | None:
    document = await SearchDocument.get_or_none(kind=SearchKind.NOTE, object_id=note_id)
    return document.head if document else None


async def _reviews(product: Product) -> tuple[int, int]:
    fresh = await Product.get(id=product.id)
    return fresh.review_count, fresh.rating_sum


# --- create ------------------------------------------------------------------------------------------------


async def test_create_note_writes_topics_products_review_and_every_counter(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    lip, cushion = (
        await create_product(merchant=merchant),
        await create_product(merchant=merchant, title="Cushion"),
    )

    note = await create_note(
        author=author,
        title="  Matte lipstick 试色  ",
        body="越用越喜欢，推荐给大家",
        topics=["#护肤", "Skin  Care", "＃护肤"],
        products=[cushion, cushion],
        media=["https://media.example/1.jpg"],
        review=Review(product_id=lip.id, rating=4),
    )

    assert (note.title, note.kind, note.language) == ("Matte lipstick 试色", NoteKind.IMAGE, "zh")
    assert await _topics(note.id) == ["护肤", "skin care"]
    assert await _product_ids(note.id) == [lip.id, cushion.id]  # the reviewed product first, once each
    assert (await User.get(id=author.id)).note_count == 1
    assert await _topic_uses("护肤") == 1
    assert await _reviews(lip) == (1, 4)
    assert await _search_head(note.id) is not None
    assert await counter_mismatches() == []


async def test_create_note_reports_every_input_problem_at_once_and_writes_nothing(db: str) -> None:
    author = await create_user(handle="ann")
    with pytest.raises(ValidationErrors) as refused:
        await notes_create_note(
            author_id=author.id,
            kind=NoteKind.VIDEO,
            title="x" * 101,
            body="b" * 5001,
            topics=["#"],
            product_ids=list(range(1, 12)),
            media=["https://media.example/a.mp4", "https://media.example/b.mp4"],
            review=Review(product_id=1, rating=6),
        )
    assert _problems(refused.value) == [
        (ErrorCode.TOO_LONG, ("title",)),
        (ErrorCode.TOO_LONG, ("body",)),
        (ErrorCode.INVALID, ("topics", "0")),
        (ErrorCode.INVALID, ("media",)),
        (ErrorCode.TOO_MANY, ("product_ids",)),  # a new note: products before the rating
        (ErrorCode.OUT_OF_RANGE, ("review", "rating")),
    ]
    assert await Note.all().count() == 0
    assert (await User.get(id=author.id)).note_count == 0


async def test_create_note_refuses_unknown_products_own_products_and_a_second_review(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    lip = await create_product(merchant=merchant)

    with pytest.raises(DomainError) as unknown:
        await create_note(author=author, review=Review(product_id=lip.id + 1000, rating=3))
    with pytest.raises(DomainError) as own:
        await create_note(author=merchant, review=Review(product_id=lip.id, rating=5))
    await create_note(author=author, review=Review(product_id=lip.id, rating=5))
    with pytest.raises(DomainError) as twice:
        await create_note(author=author, title="again", review=Review(product_id=lip.id, rating=1))

    assert _problems(unknown.value) == [(ErrorCode.NOT_FOUND, ("product_ids",))]
    assert _problems(own.value) == [(ErrorCode.FORBIDDEN, ("review", "product_id"))]
    assert _problems(twice.value) == [(ErrorCode.ALREADY_REVIEWED, ("review", "product_id"))]
    assert await Note.all().count() == 1
    assert await _reviews(lip) == (1, 5)
    assert await counter_mismatches() == []


# --- edit: the check step -----------------------------------------------------------------------------------


def test_check_note_edit_cleans_only_the_fields_given() -> None:
    edit = check_note_edit(
        NoteChanges(title="  新标题 ", topics=["#护肤", "护肤", "Skin  Care"], product_ids=[3, 3, 2]),
        kind=NoteKind.TEXT,
    )
    assert edit == NoteInput(title="新标题", topics=["护肤", "skin care"], product_ids=[3, 2])
    assert check_note_edit(NoteChanges(), kind=NoteKind.TEXT) == NoteInput()


def test_check_note_edit_puts_a_reviewed_product_first_and_keeps_remove_review() -> None:
    review = Review(product_id=7, rating=5)
    edit = check_note_edit(
        NoteChanges(product_ids=[2, 7, 3], review=review, remove_review=True), kind=NoteKind.TEXT
    )
    assert edit.product_ids == [2, 7, 3]  # already tagged: stays where it is
    assert (edit.review, edit.remove_review) == (review, True)
    edit = check_note_edit(NoteChanges(product_ids=[2, 3], review=review), kind=NoteKind.TEXT)
    assert edit.product_ids == [7, 2, 3]


def test_check_note_edit_collects_every_problem_in_field_order() -> None:
    with pytest.raises(ValidationErrors) as refused:
        check_note_edit(
            NoteChanges(
                title="   ",
                body="b" * 5001,
                topics=["ok", "#"],
                media=["javascript:alert(1)"],
                review=Review(product_id=1, rating=0),
                product_ids=list(range(1, 12)),
            ),
            kind=NoteKind.IMAGE,
        )
    assert _problems(refused.value) == [
        (ErrorCode.REQUIRED, ("title",)),
        (ErrorCode.TOO_LONG, ("body",)),
        (ErrorCode.INVALID, ("topics", "1")),
        (ErrorCode.INVALID, ("media", "0")),
        (ErrorCode.OUT_OF_RANGE, ("review", "rating")),  # an edit: the rating before the products
        (ErrorCode.TOO_MANY, ("product_ids",)),
    ]


def test_check_note_edit_checks_media_against_the_notes_kind() -> None:
    two = ["https://media.example/a.mp4", "https://media.example/b.mp4"]
    with pytest.raises(DomainError) as video:
        check_note_edit(NoteChanges(media=two), kind=NoteKind.VIDEO)
    with pytest.raises(DomainError) as image:
        check_note_edit(NoteChanges(media=[]), kind=NoteKind.IMAGE)
    assert _problems(video.value) == [(ErrorCode.INVALID, ("media",))]
    assert _problems(image.value) == [(ErrorCode.REQUIRED, ("media",))]
    assert check_note_edit(NoteChanges(media=two), kind=NoteKind.IMAGE).media == two
    assert check_note_edit(NoteChanges(media=[]), kind=NoteKind.TEXT).media == []


def test_check_new_note_reports_products_before_the_rating() -> None:
    with pytest.raises(ValidationErrors) as refused:
        check_new_note(
            kind=NoteKind.TEXT,
            title="ok",
            body="",
            topics=(),
            product_ids=list(range(1, 12)),
            media=(),
            review=Review(product_id=1, rating=9),
        )
    assert _problems(refused.value) == [
        (ErrorCode.TOO_MANY, ("product_ids",)),
        (ErrorCode.OUT_OF_RANGE, ("review", "rating")),
    ]


async def test_check_tagged_products_skips_the_review_rules_for_the_product_already_reviewed(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    lip, cushion = (
        await create_product(merchant=merchant),
        await create_product(merchant=merchant, title="Cushion"),
    )
    await create_note(author=author, review=Review(product_id=lip.id, rating=3))
    current = Review(product_id=lip.id, rating=3)

    # Re-rating the note's own review is allowed although a review of that product exists (this one).
    await check_tagged_products(
        author_id=author.id, product_ids=[lip.id], review=Review(lip.id, 5), current_review=current
    )
    with pytest.raises(DomainError) as again:  # from another note, the same product is a second review
        await check_tagged_products(author_id=author.id, product_ids=[], review=Review(lip.id, 5))
    with pytest.raises(DomainError) as own:
        await check_tagged_products(
            author_id=merchant.id, product_ids=[], review=Review(cushion.id, 5), current_review=current
        )
    with pytest.raises(DomainError) as missing:  # the reviewed product is checked even when not listed
        await check_tagged_products(
            author_id=author.id,
            product_ids=[cushion.id],
            review=Review(cushion.id + 99, 5),
            current_review=current,
        )
    assert _problems(again.value) == [(ErrorCode.ALREADY_REVIEWED, ("review", "product_id"))]
    assert _problems(own.value) == [(ErrorCode.FORBIDDEN, ("review", "product_id"))]
    assert _problems(missing.value) == [(ErrorCode.NOT_FOUND, ("product_ids",))]


# --- edit: the plan step (no database) ----------------------------------------------------------------------

REVIEWED = NoteState(
    title="First try", body="It is fine", kind=NoteKind.TEXT, review=Review(product_id=1, rating=2)
)
PLAIN = NoteState(title="First try", body="It is fine", kind=NoteKind.TEXT, review=None)


def test_plan_of_an_empty_edit_changes_nothing_but_keeps_the_review() -> None:
    assert plan_note_edit(REVIEWED, NoteInput()) == NoteEditPlan(
        title=None,
        body=None,
        language=None,
        media=None,
        review=Review(product_id=1, rating=2),
        topics=None,
        products=None,
        tag_reviewed_product=None,
        review_counts=(),
        reindex=False,
    )


def test_plan_detects_the_language_again_from_the_new_and_the_kept_text() -> None:
    title_only = plan_note_edit(PLAIN, NoteInput(title="用了一个月后的感受"))
    assert (title_only.title, title_only.body, title_only.language, title_only.reindex) == (
        "用了一个月后的感受",
        None,
        "zh",  # Chinese title with the kept short English body
        True,
    )
    body_only = plan_note_edit(
        NoteState(title="试色", body="", kind=NoteKind.TEXT, review=None),
        NoteInput(body="A long English review of how this lipstick wears over a whole working day."),
    )
    assert (body_only.language, body_only.reindex) == ("en", True)
    assert plan_note_edit(PLAIN, NoteInput(media=["https://media.example/1.jpg"])).language is None


def test_plan_replaces_topics_and_reindexes_only_for_text_or_topics() -> None:
    topics = plan_note_edit(PLAIN, NoteInput(topics=["彩妆", "makeup"]))
    assert (topics.topics, topics.reindex, topics.language) == (["彩妆", "makeup"], True, None)
    cleared = plan_note_edit(PLAIN, NoteInput(topics=[]))
    assert (cleared.topics, cleared.reindex) == ([], True)
    media = plan_note_edit(PLAIN, NoteInput(media=[]))
    assert (media.media, media.topics, media.reindex) == ([], None, False)


def test_plan_keeps_a_kept_review_tagged_when_the_products_change() -> None:
    plan = plan_note_edit(REVIEWED, NoteInput(product_ids=[5, 6]))
    assert (plan.products, plan.tag_reviewed_product, plan.review_counts) == ([1, 5, 6], None, ())
    untouched = plan_note_edit(PLAIN, NoteInput(product_ids=[5, 6]))
    assert (untouched.products, untouched.review) == ([5, 6], None)
    assert plan_note_edit(PLAIN, NoteInput(product_ids=[])).products == []


def test_plan_of_a_new_rating_moves_the_counts_and_retags_the_kept_products() -> None:
    plan = plan_note_edit(REVIEWED, NoteInput(review=Review(product_id=1, rating=5)))
    assert plan.review == Review(product_id=1, rating=5)
    assert plan.review_counts == ((Review(1, 2), -1), (Review(1, 5), +1))
    assert (plan.products, plan.tag_reviewed_product) == (None, 1)


def test_plan_of_the_same_review_moves_nothing() -> None:
    plan = plan_note_edit(REVIEWED, NoteInput(review=Review(product_id=1, rating=2)))
    assert (plan.review_counts, plan.products, plan.tag_reviewed_product) == ((), None, None)


def test_plan_of_a_review_of_another_product() -> None:
    plan = plan_note_edit(REVIEWED, NoteInput(review=Review(product_id=9, rating=4), product_ids=[9, 3]))
    assert plan.review_counts == ((Review(1, 2), -1), (Review(9, 4), +1))
    assert (plan.products, plan.tag_reviewed_product) == ([9, 3], None)
    first = plan_note_edit(PLAIN, NoteInput(review=Review(product_id=9, rating=4)))
    assert (first.review_counts, first.tag_reviewed_product) == (((Review(9, 4), +1),), 9)


def test_plan_of_remove_review_wins_over_a_review_in_the_same_edit() -> None:
    removed = plan_note_edit(REVIEWED, NoteInput(remove_review=True))
    both = plan_note_edit(REVIEWED, NoteInput(review=Review(product_id=9, rating=4), remove_review=True))
    for plan in (removed, both):
        assert (plan.review, plan.review_counts) == (None, ((Review(1, 2), -1),))
        assert (plan.products, plan.tag_reviewed_product) == (None, None)  # the product stays tagged
    nothing = plan_note_edit(PLAIN, NoteInput(remove_review=True))
    assert (nothing.review, nothing.review_counts) == (None, ())


# --- edit: the apply step, and the whole edit -----------------------------------------------------------


async def test_apply_writes_the_plan_and_moves_topic_and_review_counts(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    lip, cushion = (
        await create_product(merchant=merchant),
        await create_product(merchant=merchant, title="Cushion"),
    )
    note = await create_note(
        author=author,
        topics=["makeup", "old"],
        products=[cushion],
        review=Review(product_id=lip.id, rating=2),
    )
    plan = NoteEditPlan(
        title="New title",
        body=None,
        language="en",
        media=["https://media.example/9.jpg"],
        review=Review(product_id=lip.id, rating=5),
        topics=["new", "makeup"],
        products=None,
        tag_reviewed_product=lip.id,
        review_counts=((Review(lip.id, 2), -1), (Review(lip.id, 5), +1)),
        reindex=True,
    )

    await apply_note_edit(note, plan)

    stored = await Note.get(id=note.id)
    assert (stored.title, stored.body, stored.language, stored.media) == (
        "New title",
        "记录一下",
        "en",
        ["https://media.example/9.jpg"],
    )
    assert (stored.review_product_id, stored.review_rating) == (lip.id, 5)  # type: ignore[attr-defined]
    assert await _topics(note.id) == ["new", "makeup"]
    assert "new" in (await _search_head(note.id) or "").split()  # reindexed with the new title
    assert [await _topic_uses(t) for t in ("makeup", "old", "new")] == [1, 0, 1]
    assert await _product_ids(note.id) == [lip.id, cushion.id]  # already tagged: order kept
    assert await _reviews(lip) == (1, 5)
    assert await counter_mismatches() == []


async def test_apply_puts_a_missing_reviewed_product_in_front_of_the_kept_ones(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    lip, cushion = (
        await create_product(merchant=merchant),
        await create_product(merchant=merchant, title="Cushion"),
    )
    note = await create_note(author=author, products=[cushion])
    plan = plan_note_edit(NoteState.of(note), NoteInput(review=Review(product_id=lip.id, rating=4)))

    await apply_note_edit(note, plan)

    assert await _product_ids(note.id) == [lip.id, cushion.id]
    assert await _reviews(lip) == (1, 4)
    assert await counter_mismatches() == []


async def test_update_note_edits_everything_and_keeps_counters_exact(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    lip, cushion = (
        await create_product(merchant=merchant),
        await create_product(merchant=merchant, title="Cushion"),
    )
    note = await create_note(
        author=author, title="First try", body="It is fine", topics=["makeup"], review=Review(lip.id, 2)
    )
    assert note.language == "en"

    edited = await update_note(
        note_id=note.id,
        editor_id=author.id,
        changes=NoteChanges(
            title="用了一个月后的感受",
            body="越用越喜欢，推荐给大家",
            topics=["彩妆", "#Makeup"],
            product_ids=[cushion.id],
            review=Review(lip.id, 5),
        ),
    )

    assert (edited.title, edited.language) == ("用了一个月后的感受", "zh")
    assert await _topics(note.id) == ["彩妆", "makeup"]
    assert await _product_ids(note.id) == [lip.id, cushion.id]
    assert await _reviews(lip) == (1, 5)
    await update_note(note_id=note.id, editor_id=author.id, changes=NoteChanges(remove_review=True))
    assert await _reviews(lip) == (0, 0)
    assert (await Note.get(id=note.id)).review_rating is None
    assert await counter_mismatches() == []


async def test_update_note_is_for_the_author_only_and_refusals_change_nothing(db: str) -> None:
    author = await create_user(handle="ann")
    intruder = await create_user(handle="bob")
    note = await create_note(author=author, title="Original", topics=["skincare"])

    with pytest.raises(DomainError) as forbidden:
        await update_note(note_id=note.id, editor_id=intruder.id, changes=NoteChanges(title="Hacked"))
    with pytest.raises(ValidationErrors) as invalid:
        await update_note(note_id=note.id, editor_id=author.id, changes=NoteChanges(title=" ", topics=["#"]))
    with pytest.raises(DomainError) as unknown_product:
        await update_note(
            note_id=note.id, editor_id=author.id, changes=NoteChanges(title="Fine", product_ids=[12345])
        )
    with pytest.raises(DomainError) as missing:
        await update_note(note_id=note.id + 1, editor_id=author.id, changes=NoteChanges(title="Hacked"))

    assert _problems(forbidden.value) == [(ErrorCode.FORBIDDEN, ("id",))]
    assert _problems(invalid.value) == [
        (ErrorCode.REQUIRED, ("title",)),
        (ErrorCode.INVALID, ("topics", "0")),
    ]
    assert _problems(unknown_product.value) == [(ErrorCode.NOT_FOUND, ("product_ids",))]
    assert _problems(missing.value) == [(ErrorCode.NOT_FOUND, ("id",))]
    stored = await Note.get(id=note.id)
    assert stored.title == "Original"
    assert await _topics(note.id) == ["skincare"]


# --- delete -----------------------------------------------------------------------------------------------


async def test_delete_note_hides_it_and_gives_back_every_counter(db: str) -> None:
    merchant = await create_user(handle="shop")
    author = await create_user(handle="ann")
    fan = await create_user(handle="fan")
    lip = await create_product(merchant=merchant)
    note = await create_note(author=author, topics=["#护肤"], review=Review(lip.id, 4))
    kept = await create_note(author=author, title="kept", topics=["护肤"])
    await like_note(user_id=fan.id, note_id=note.id)
    await collect_note(user_id=fan.id, note_id=note.id, board_id=None)
    assert (await User.get(id=author.id)).likes_and_collects_count == 2

    await delete_note(note_id=note.id, editor_id=author.id)

    profile = await User.get(id=author.id)
    assert (profile.note_count, profile.likes_and_collects_count) == (1, 0)
    assert await _topic_uses("护肤") == 1  # the kept note still uses it
    assert await _reviews(lip) == (0, 0)
    assert (await Note.get(id=note.id)).deleted_at is not None
    assert await _search_head(note.id) is None  # hidden notes leave the search index
    assert await _search_head(kept.id) is not None
    with pytest.raises(DomainError) as again:
        await delete_note(note_id=note.id, editor_id=author.id)
    assert _problems(again.value) == [(ErrorCode.NOT_FOUND, ("id",))]
    assert await counter_mismatches() == []


async def test_delete_note_is_for_the_author_only(db: str) -> None:
    author = await create_user(handle="ann")
    intruder = await create_user(handle="bob")
    note = await create_note(author=author)

    with pytest.raises(DomainError) as refused:
        await delete_note(note_id=note.id, editor_id=intruder.id)

    assert _problems(refused.value) == [(ErrorCode.FORBIDDEN, ("id",))]
    assert (await Note.get(id=note.id)).deleted_at is None
    assert (await User.get(id=author.id)).note_count == 1


# --- the counter check itself --------------------------------------------------------------------------


async def test_counter_mismatches_reports_a_counter_that_drifted(db: str) -> None:
    author = await create_user(handle="ann")
    await create_note(author=author, topics=["护肤"])
    assert await counter_mismatches() == []

    await User.filter(id=author.id).update(note_count=5)
    await Topic.filter(name="护肤").update(note_count=0)

    problems = await counter_mismatches()
    assert f"users.note_count of id {author.id}: stored 5, counted 1" in problems
    topic = await Topic.get(name="护肤")
    assert f"topics.note_count of id {topic.id}: stored 0, counted 1" in problems
    assert len(problems) == 2, problems
