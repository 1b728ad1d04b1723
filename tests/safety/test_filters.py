"""Keyword filters' rules (social/filters.py): what a filter may be, and the verdict on an item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import DomainError, ErrorCode, ValidationErrors
from models import ContentFilter
from models.safety import FilterAction, FilterContext
from social.accounts import sign_up
from social.filters import (
    MAX_FILTERS,
    ActiveFilter,
    FilterHit,
    create_filter,
    delete_filter,
    filters_in_force,
    verdict,
)

FEED, SEARCH, COMMENTS = FilterContext.FEED, FilterContext.SEARCH, FilterContext.COMMENTS
HIDE, WARN = FilterAction.HIDE, FilterAction.WARN


def active(
    filter_id: int, phrase: str, action: FilterAction = HIDE, *contexts: FilterContext
) -> ActiveFilter:
    return ActiveFilter(filter_id, phrase, frozenset(contexts or (FEED,)), action)


# --- the verdict -------------------------------------------------------------------------------------------


def test_no_filter_no_verdict() -> None:
    assert verdict((), FEED, ["口红"]) is None
    assert verdict((active(1, "眼影"),), FEED, ["口红"]) is None


def test_a_traditional_phrase_hides_simplified_text() -> None:
    assert verdict((active(7, "護膚"),), FEED, ["今日份", "护肤分享"]) == FilterHit(HIDE, 7, "護膚")


def test_only_the_filters_of_the_context_apply() -> None:
    feed_only = active(1, "口红", HIDE, FEED)
    assert verdict((feed_only,), FEED, ["口红"]) is not None
    assert verdict((feed_only,), SEARCH, ["口红"]) is None
    assert verdict((active(2, "口红", HIDE, FEED, SEARCH),), SEARCH, ["口红"]) is not None


def test_hide_wins_over_warn() -> None:
    warn = active(1, "口红", WARN)
    hide = active(2, "lipstick", HIDE)
    hit = verdict((warn, hide), FEED, ["口红 lipstick"])
    assert hit == FilterHit(HIDE, 2, "lipstick")
    assert hit is not None and hit.hides
    # Among filters of one action, the oldest.
    assert verdict((active(9, "口红", WARN), warn), FEED, ["口红"]) == FilterHit(WARN, 1, "口红")


def test_a_phrase_never_spans_two_texts() -> None:
    assert verdict((active(1, "口红"),), FEED, ["试了口", "红色"]) is None
    assert verdict((active(1, "matte lipstick"),), FEED, ["matte", "lipstick"]) is None


def test_english_whole_words_by_stem() -> None:
    filters = (active(1, "and"), active(2, "lipstick", WARN))
    assert verdict(filters, FEED, ["sand castle"]) is None
    assert verdict(filters, FEED, ["Lipsticks!"]) == FilterHit(WARN, 2, "lipstick")


# --- creating and deleting -----------------------------------------------------------------------------


async def person(handle: str) -> int:
    user = await sign_up(
        email=f"{handle}@example.com", password="password1", handle=handle, display_name=None
    )
    return user.id


def later(**delta: float) -> datetime:
    return datetime.now(UTC) + timedelta(**delta)


async def test_create_keeps_the_phrase_as_typed(db: str) -> None:
    owner = await person("lin")
    row = await create_filter(
        owner_id=owner, phrase="  護膚 品 ", contexts=["SEARCH", FEED, FEED], action="WARN", expires_at=None
    )
    assert row.phrase == "護膚 品"
    assert row.contexts == ["FEED", "SEARCH"]  # once each, in the enum's order
    assert row.action is WARN and row.expires_at is None


@pytest.mark.parametrize(
    ("phrase", "code"),
    [
        ("", ErrorCode.REQUIRED),
        ("   ", ErrorCode.REQUIRED),
        ("!!! ...", ErrorCode.INVALID),  # nothing to match once normalised
        ("\u200b\u200d", ErrorCode.REQUIRED),  # invisible characters are cleaned away
        ("《》", ErrorCode.INVALID),
        ("口" * 101, ErrorCode.TOO_LONG),
        ("a\x00b", ErrorCode.INVALID),
    ],
)
async def test_bad_phrases_are_refused(db: str, phrase: str, code: ErrorCode) -> None:
    owner = await person("lin")
    with pytest.raises(DomainError) as refused:
        await create_filter(owner_id=owner, phrase=phrase, contexts=[FEED], action=HIDE, expires_at=None)
    assert (refused.value.code, refused.value.field) == (code, ["phrase"])
    assert await ContentFilter.all().count() == 0


async def test_contexts_action_and_expiry_are_checked_together(db: str) -> None:
    owner = await person("lin")
    with pytest.raises(ValidationErrors) as refused:
        await create_filter(
            owner_id=owner, phrase="口红", contexts=[], action="MAYBE", expires_at=later(seconds=-1)
        )
    found = {(e.code, tuple(e.field or ())) for e in refused.value.errors}
    assert found == {
        (ErrorCode.REQUIRED, ("contexts",)),
        (ErrorCode.INVALID, ("action",)),
        (ErrorCode.INVALID, ("expires_at",)),
    }
    with pytest.raises(DomainError) as unknown:
        await create_filter(
            owner_id=owner, phrase="口红", contexts=["TIMELINE"], action=HIDE, expires_at=None
        )
    assert (unknown.value.code, unknown.value.field) == (ErrorCode.INVALID, ["contexts"])
    assert await ContentFilter.all().count() == 0


async def test_a_time_without_a_zone_is_utc(db: str) -> None:
    owner = await person("lin")
    naive = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)
    row = await create_filter(owner_id=owner, phrase="口红", contexts=[FEED], action=HIDE, expires_at=naive)
    assert row.expires_at == naive.replace(tzinfo=UTC)
    with pytest.raises(DomainError):
        await create_filter(
            owner_id=owner, phrase="口红", contexts=[FEED], action=HIDE, expires_at=naive - timedelta(hours=2)
        )


async def test_at_most_100_in_force_and_expired_ones_make_room(db: str) -> None:
    owner, other = await person("lin"), await person("mei")
    now = datetime.now(UTC)
    await ContentFilter.bulk_create(
        [ContentFilter(owner_id=owner, phrase=f"word{i}", contexts=["FEED"]) for i in range(MAX_FILTERS)]
        + [ContentFilter(owner_id=owner, phrase="old", contexts=["FEED"], expires_at=now - timedelta(days=1))]
    )
    with pytest.raises(DomainError) as refused:
        await create_filter(owner_id=owner, phrase="口红", contexts=[FEED], action=HIDE, expires_at=None)
    assert (refused.value.code, refused.value.field) == (ErrorCode.TOO_MANY, [])
    # The refusal changed nothing, the expired filter included (its deletion was rolled back).
    assert await ContentFilter.filter(owner_id=owner).count() == MAX_FILTERS + 1
    await ContentFilter.filter(owner_id=owner, phrase="word0").delete()
    await create_filter(owner_id=owner, phrase="口红", contexts=[FEED], action=HIDE, expires_at=None)
    # The expired one went to make room; the new one is the 100th.
    assert await ContentFilter.filter(owner_id=owner).count() == MAX_FILTERS
    assert not await ContentFilter.filter(owner_id=owner, phrase="old").exists()
    # Another person's limit is their own.
    await create_filter(owner_id=other, phrase="口红", contexts=[FEED], action=HIDE, expires_at=None)


async def test_in_force_newest_first_without_the_expired(db: str) -> None:
    owner, other = await person("lin"), await person("mei")
    first = await create_filter(owner_id=owner, phrase="a1", contexts=[FEED], action=HIDE, expires_at=None)
    second = await create_filter(
        owner_id=owner, phrase="a2", contexts=[FEED], action=HIDE, expires_at=later(hours=1)
    )
    await ContentFilter.create(
        owner_id=owner, phrase="gone", contexts=["FEED"], expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    await create_filter(owner_id=other, phrase="a3", contexts=[FEED], action=HIDE, expires_at=None)
    assert [f.id for f in await filters_in_force(owner)] == [second.id, first.id]


async def test_delete_only_ones_own(db: str) -> None:
    owner, other = await person("lin"), await person("mei")
    row = await create_filter(owner_id=owner, phrase="口红", contexts=[FEED], action=HIDE, expires_at=None)
    with pytest.raises(DomainError) as refused:
        await delete_filter(owner_id=other, filter_id=row.id)
    assert (refused.value.code, refused.value.field) == (ErrorCode.NOT_FOUND, ["id"])
    assert await ContentFilter.filter(id=row.id).exists()
    await delete_filter(owner_id=owner, filter_id=row.id)
    assert not await ContentFilter.filter(id=row.id).exists()
    with pytest.raises(DomainError):
        await delete_filter(owner_id=owner, filter_id=row.id)
