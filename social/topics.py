"""Topic (hashtag) names: one canonical text per topic, whatever way it was typed."""

from __future__ import annotations

import unicodedata

MAX_TOPIC_LENGTH = 64


def normalize_topic_name(raw: str) -> str:
    """NFKC, case-folded, without leading '#'s and surrounding or inner runs of whitespace.

    "#护肤", "护肤", " 护肤 " and "＃护肤" are one topic; "Skin  Care" and "skin care" are one topic.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    text = text.lstrip("#").strip()
    return " ".join(text.casefold().split())
