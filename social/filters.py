"""Keyword filters: phrases a person does not want to see, matched the way search reads text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode, NotFound
from core.sql import aware_datetime
from core.validation import Checks
from models import Comment, Note
from models.safety import ContentFilter, FilterAction, FilterContext
from search.phrases import compile_phrase, prepare


@dataclass(frozen=True)
class ActiveFilter:
    """One of the viewer's filters in force, as the request's audience carries it."""

    id: int
    phrase: str
    contexts: frozenset[FilterContext]
    action: FilterAction


def active_filters(rows: Iterable[Any], now: datetime | None = None) -> tuple[ActiveFilter, ...]:
    """The filters in force among `rows` ([id, phrase, contexts, action, expires_at] each, as the session
    statement reads them; `expires_at` an ISO text, a datetime or null)."""
    moment = now or datetime.now(UTC)
    found: list[ActiveFilter] = []
    for filter_id, phrase, contexts, action, expires_at in rows:
        if expires_at is not None and aware_datetime(expires_at) <= moment:
            continue
        found.append(
            ActiveFilter(
                id=int(filter_id),
                phrase=str(phrase),
                contexts=frozenset(FilterContext(c) for c in contexts or ()),
                action=FilterAction(action),
            )
        )
    return tuple(sorted(found, key=lambda f: f.id))


# --- a person's filters ----------------------------------------------------------------------------------

# A person's filters are read with every request of theirs (the session statement) and tried on every item
# of their pages: a hundred is plenty, and keeps both cheap.
MAX_FILTERS = 100
MAX_PHRASE = 100


async def create_filter(
    *,
    owner_id: int,
    phrase: str,
    contexts: Iterable[FilterContext | str],
    action: FilterAction | str,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> ContentFilter:
    """A new filter of `owner_id`'s: `phrase` (1–100 characters, with something to match once normalised:
    letters, digits, Chinese characters or emoji), hidden or behind a warning (`action`) on the surfaces
    of `contexts` (at least one), until `expires_at` (in the future; None: until deleted)."""
    moment = now or datetime.now(UTC)
    checks = Checks()
    clean_phrase = checks.text("phrase", phrase, max_length=MAX_PHRASE)
    if clean_phrase is not None and compile_phrase(clean_phrase).empty:
        checks.fail(
            "phrase",
            ErrorCode.INVALID,
            "The phrase has nothing to match: use letters, digits, Chinese characters or emoji, not only "
            "punctuation or spaces.",
        )
    chosen = _contexts(checks, contexts)
    chosen_action = _action(checks, action)
    until = aware_datetime(expires_at) if expires_at is not None else None
    if until is not None and until <= moment:
        checks.fail("expires_at", ErrorCode.INVALID, "The expiry must be in the future (or null: never).")
    checks.done()
    assert clean_phrase is not None and chosen_action is not None  # checks.done() raised otherwise
    async with in_transaction():
        # Expired filters are no longer shown or applied: they go now, so they never count against the limit.
        await ContentFilter.filter(owner_id=owner_id, expires_at__lte=moment).delete()
        if await ContentFilter.filter(owner_id=owner_id).count() >= MAX_FILTERS:
            # The request as a whole is refused, not one of its fields: the empty path.
            raise DomainError(ErrorCode.TOO_MANY, f"At most {MAX_FILTERS} filters per person.", ())
        return await ContentFilter.create(
            owner_id=owner_id,
            phrase=clean_phrase,
            contexts=[c.value for c in chosen],
            action=chosen_action,
            expires_at=until,
        )


async def delete_filter(*, owner_id: int, filter_id: int) -> ContentFilter:
    """Delete one of `owner_id`'s filters (NOT_FOUND for anyone else's: not told apart from none)."""
    found = await ContentFilter.get_or_none(id=filter_id, owner_id=owner_id)
    if found is None:
        raise NotFound("Filter", "id")
    await ContentFilter.filter(id=filter_id, owner_id=owner_id).delete()
    return found


async def filters_in_force(owner_id: int, now: datetime | None = None) -> list[ContentFilter]:
    """`owner_id`'s filters that have not expired, newest first."""
    moment = now or datetime.now(UTC)
    return list(
        await ContentFilter.filter(Q(expires_at=None) | Q(expires_at__gt=moment), owner_id=owner_id).order_by(
            "-id"
        )
    )


def _contexts(checks: Checks, contexts: Iterable[FilterContext | str]) -> list[FilterContext]:
    chosen: list[FilterContext] = []
    for value in contexts:
        try:
            context = FilterContext(value)
        except ValueError:
            names = ", ".join(c.value for c in FilterContext)
            checks.fail("contexts", ErrorCode.INVALID, f"Contexts are {names}.")
            return []
        if context not in chosen:
            chosen.append(context)
    if not chosen:
        checks.fail("contexts", ErrorCode.REQUIRED, "Name at least one context the filter applies to.")
    return sorted(chosen, key=list(FilterContext).index)


def _action(checks: Checks, action: FilterAction | str) -> FilterAction | None:
    try:
        return FilterAction(action)
    except ValueError:
        checks.fail("action", ErrorCode.INVALID, "The action is HIDE or WARN.")
        return None


# --- the verdict -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterHit:
    """The filter that matched an item: hide it, or show it behind a warning naming the phrase."""

    action: FilterAction
    filter_id: int
    phrase: str

    @property
    def hides(self) -> bool:
        return self.action is FilterAction.HIDE


@dataclass(frozen=True)
class Screen:
    """A viewer's filters of one surface, ready to judge the items of a page (`screen`): chosen and put in
    the order they are tried once for the page, not once per item."""

    viewer_id: int | None
    filters: tuple[ActiveFilter, ...]  # HIDE before WARN; among filters of one action, the oldest first

    def judges(self, author_id: int | None) -> bool:
        """Whether an item by `author_id` is judged at all: not without filters, never the viewer's own."""
        return bool(self.filters) and author_id != self.viewer_id

    def texts(self, texts: Sequence[str]) -> FilterHit | None:
        """The first filter that matches one of `texts`; None when none does."""
        if not self.filters:
            return None
        text = prepare(*texts)  # once for all the filters
        for candidate in self.filters:
            if compile_phrase(candidate.phrase).matches(text):
                return FilterHit(candidate.action, candidate.id, candidate.phrase)
        return None

    def note(self, note: Note, topics: Sequence[str] = ()) -> FilterHit | None:
        """The verdict on a note, read by its title, body and `topics` (their names; each apart, so a
        phrase never spans two); None for the viewer's own."""
        if not self.judges(note.author_id):  # type: ignore[attr-defined]
            return None
        return self.texts([note.title, note.body, *topics])

    def comment(self, comment: Comment) -> FilterHit | None:
        """The verdict on a comment, read by its body; None for the viewer's own."""
        if not self.judges(comment.author_id):  # type: ignore[attr-defined]
            return None
        return self.texts([comment.body])


def screen(filters: Iterable[ActiveFilter], context: FilterContext, viewer_id: int | None = None) -> Screen:
    """`filters` (the viewer's in force) that apply on a surface of `context`, to judge items shown there
    to `viewer_id`. HIDE wins over WARN; among filters of one action, the oldest."""
    relevant = sorted(
        (f for f in filters if context in f.contexts),
        key=lambda f: (f.action is not FilterAction.HIDE, f.id),
    )
    return Screen(viewer_id, tuple(relevant))


def verdict(
    filters: Iterable[ActiveFilter], context: FilterContext, texts: Sequence[str]
) -> FilterHit | None:
    """What the viewer's `filters` say of an item whose text is `texts` (a note's title, body and topics;
    a comment's body) on a surface of `context`: None when none of them matches (`screen`, for one item)."""
    return screen(filters, context).texts(texts)
