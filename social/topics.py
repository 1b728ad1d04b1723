"""Topic (hashtag) names: one canonical text per topic, whatever way it was typed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from core.errors import DomainError, ErrorCode
from core.sql import dialect, fetch_all
from core.validation import Checks, is_unsafe_text
from search.families import normalize_name

MAX_TOPIC_LENGTH = 64


# One rule for topic names and the names of topic families (search/families.py): "#护肤", "护肤", " 护肤 ",
# "＃护肤" and "护\u200b肤" are one topic; "Skin  Care" and "skin care" are one topic.
normalize_topic_name = normalize_name


def topic_name_or_none(raw: str) -> str | None:
    """The normalised name a lookup by `raw` means, or None when no topic can have it (empty, too long,
    or with a NUL or lone surrogate); bounded before normalising, so a huge argument costs nothing."""
    if len(raw) > 4 * MAX_TOPIC_LENGTH or is_unsafe_text(raw):
        return None
    name = normalize_topic_name(raw)
    return name if 0 < len(name) <= MAX_TOPIC_LENGTH else None


def clean_topic_names(checks: Checks, field: str, raw_names: Sequence[str], *, maximum: int) -> list[str]:
    """Normalised, de-duplicated topic names in the order given; bad entries are recorded in `checks`."""
    if not checks.count(field, raw_names, maximum=maximum):
        return []
    names: list[str] = []
    for i, raw in enumerate(raw_names):
        name = "" if is_unsafe_text(raw) else normalize_topic_name(raw)
        if not name or len(name) > MAX_TOPIC_LENGTH:
            checks.fail((field, i), ErrorCode.INVALID, f"Topics are 1–{MAX_TOPIC_LENGTH} characters.")
        elif name not in names:
            names.append(name)
    return names


# --- use over time ---------------------------------------------------------------------------------------

TRENDING_WINDOW_DAYS = 7
TRENDING_HALF_LIFE_DAYS = 2.0
MAX_HISTORY_DAYS = 365


@dataclass(frozen=True)
class DayUses:
    day: date
    uses: int


def _day_sql() -> str:
    """The UTC calendar day of `n.created_at` as 'YYYY-MM-DD' text, on either database."""
    if dialect() == "postgres":
        return "to_char(n.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return "substr(n.created_at, 1, 10)"  # SQLite keeps ISO-8601 text in UTC


async def topic_history(topic_id: int, *, days: int, today: date | None = None) -> list[DayUses]:
    """Uses (notes carrying the topic, by the day they were posted) for each of the last `days` days, oldest
    first, zeros included so the series can be charted as it is."""
    if not 1 <= days <= MAX_HISTORY_DAYS:
        raise DomainError(ErrorCode.OUT_OF_RANGE, f"`days` must be between 1 and {MAX_HISTORY_DAYS}.", "days")
    today = today or datetime.now(UTC).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=UTC)
    rows = await fetch_all(
        f"SELECT {_day_sql()} AS day, COUNT(*) AS uses FROM note_topics nt JOIN notes n ON n.id = nt.note_id"
        " WHERE nt.topic_id = $1 AND n.created_at >= $2 AND n.deleted_at IS NULL GROUP BY 1",
        [topic_id, since],
    )
    counts = {str(r["day"]): int(r["uses"]) for r in rows}
    days_list = [first_day + timedelta(days=i) for i in range(days)]
    return [DayUses(day, counts.get(day.isoformat(), 0)) for day in days_list]


def trending_score(uses_by_age: dict[int, int], half_life_days: float = TRENDING_HALF_LIFE_DAYS) -> float:
    """Recent use, each day's uses halving in weight every `half_life_days` (age 0 = today)."""
    return sum(uses * 0.5 ** (age / half_life_days) for age, uses in uses_by_age.items())


async def trending_topic_ids(limit: int, *, now: datetime | None = None) -> list[int]:
    """Topics ranked by recent use (see `trending_score`); when fewer were used lately, the most used ever
    fill the list, so a quiet site still shows its main topics."""
    now = now or datetime.now(UTC)
    since = datetime.combine(now.date() - timedelta(days=TRENDING_WINDOW_DAYS - 1), time.min, tzinfo=UTC)
    rows = await fetch_all(
        f"SELECT nt.topic_id, {_day_sql()} AS day, COUNT(*) AS uses FROM notes n"
        " JOIN note_topics nt ON nt.note_id = n.id"
        " WHERE n.created_at >= $1 AND n.deleted_at IS NULL GROUP BY nt.topic_id, 2",
        [since],
    )
    by_topic: dict[int, dict[int, int]] = {}
    for row in rows:
        age = (now.date() - date.fromisoformat(str(row["day"]))).days
        by_topic.setdefault(row["topic_id"], {})[age] = int(row["uses"])
    ranked = sorted(by_topic, key=lambda t: (-trending_score(by_topic[t]), -sum(by_topic[t].values()), t))
    ranked = ranked[:limit]
    if len(ranked) < limit:
        marks = ",".join(str(int(t)) for t in ranked) or "0"
        rows = await fetch_all(
            f"SELECT id FROM topics WHERE id NOT IN ({marks}) AND note_count > 0"
            f" ORDER BY note_count DESC, id LIMIT {limit - len(ranked)}"
        )
        ranked.extend(r["id"] for r in rows)
    return ranked
