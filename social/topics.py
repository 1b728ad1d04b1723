"""Topic (hashtag) names: one canonical text per topic, whatever way it was typed."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from core.errors import ErrorCode
from core.validation import Checks

MAX_TOPIC_LENGTH = 64


def normalize_topic_name(raw: str) -> str:
    """NFKC, case-folded, without leading '#'s and surrounding or inner runs of whitespace.

    "#护肤", "护肤", " 护肤 " and "＃护肤" are one topic; "Skin  Care" and "skin care" are one topic.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = text.lstrip("#").strip()
    return " ".join(text.casefold().split())


def clean_topic_names(checks: Checks, field: str, raw_names: Sequence[str], *, maximum: int) -> list[str]:
    """Normalised, de-duplicated topic names in the order given; bad entries are recorded in `checks`."""
    if not checks.count(field, raw_names, maximum=maximum):
        return []
    names: list[str] = []
    for i, raw in enumerate(raw_names):
        name = normalize_topic_name(raw)
        if not name or len(name) > MAX_TOPIC_LENGTH:
            checks.fail([field, str(i)], ErrorCode.INVALID, f"Topics are 1–{MAX_TOPIC_LENGTH} characters.")
        elif name not in names:
            names.append(name)
    return names
