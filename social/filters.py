"""Keyword filters: phrases a person does not want to see, matched the way search reads text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from models.safety import FilterAction, FilterContext


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
        if expires_at is not None and _moment(expires_at) <= moment:
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


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00").replace(" ", "T", 1))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
