"""How much a topic's recent use counts: each day's uses halve every two days (`social/topics.py`)."""

from __future__ import annotations

import math

import pytest

from social.topics import TRENDING_HALF_LIFE_DAYS, trending_score


def test_trending_score_halves_every_half_life() -> None:
    assert TRENDING_HALF_LIFE_DAYS == 2.0
    assert trending_score({}) == 0.0
    assert trending_score({0: 4}) == 4.0
    assert trending_score({2: 4}) == pytest.approx(2.0)
    assert trending_score({4: 4}) == pytest.approx(1.0)
    assert trending_score({1: 1}) == pytest.approx(1 / math.sqrt(2))
    assert trending_score({0: 1, 2: 1, 4: 1}) == pytest.approx(1.75)
    assert trending_score({1: 2}, half_life_days=1.0) == pytest.approx(1.0)
    assert trending_score({0: 0, 3: 0}) == 0.0


def test_trending_score_prefers_recent_use_to_more_older_use() -> None:
    recent = trending_score({0: 1, 1: 1, 2: 1})
    older = trending_score({5: 5})
    assert recent == pytest.approx(1 + 2**-0.5 + 0.5)
    assert older == pytest.approx(5 * 2**-2.5)
    assert recent > trending_score({0: 1}) > older
    # But enough older use still wins.
    assert trending_score({5: 20}) > recent
