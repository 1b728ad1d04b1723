"""The discovery benchmark on a small world (seconds): the ranker that serves discoverFeed beats the
popularity and follow-graph baselines on precision@20 and spreads impressions more evenly (lower Gini).
The full-size run is `python -m bench.feed_eval` (bench/results/feed_eval.md)."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

import feed.candidates
import feed.ranking
from bench import feed_eval
from bench.feed_eval import (
    FOLLOW,
    NO_DIVERSITY,
    POPULARITY,
    RANDOM,
    RANKER,
    SMALL_CREATOR,
    World,
    WorldConfig,
    acceptance,
    evaluate,
    generate_world,
    gini,
    observe,
    summarise,
    world_neighbours,
)

SMALL = WorldConfig(seed=1, users=400, creators=150, notes=1500)


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(SMALL)


@pytest.fixture(scope="module")
def results(world: World) -> dict[float, dict[str, dict[str, float]]]:
    neighbours = world_neighbours(world)
    policies = (RANKER, NO_DIVERSITY, POPULARITY, FOLLOW, RANDOM)
    return {noise: evaluate(world, noise, neighbours=neighbours, policies=policies) for noise in (0.0, 0.4)}


@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_ranker_beats_popularity_and_follow_graph_on_precision(
    results: dict[float, dict[str, dict[str, float]]], noise: float
) -> None:
    found = results[noise]
    ranker = found[RANKER]["precision"]
    assert ranker > found[POPULARITY]["precision"]
    assert ranker > found[FOLLOW]["precision"]
    assert ranker > found[RANDOM]["precision"]


@pytest.mark.parametrize("noise", [0.0, 0.4])
def test_ranker_spreads_impressions_more_evenly_than_both_baselines(
    results: dict[float, dict[str, dict[str, float]]], noise: float
) -> None:
    found = results[noise]
    assert found[RANKER]["gini"] < found[POPULARITY]["gini"]
    assert found[RANKER]["gini"] < found[FOLLOW]["gini"]
    assert found[RANKER]["small_share"] > found[POPULARITY]["small_share"]


def test_the_benchmark_drives_the_serving_code() -> None:
    assert feed_eval.rank is feed.ranking.rank
    assert feed_eval.interest_profile is feed.ranking.interest_profile
    assert feed_eval.co_engagement is feed.ranking.co_engagement
    assert feed_eval.co_engagement_scores is feed.ranking.co_engagement_scores
    assert feed_eval.merge_pools is feed.candidates.merge_pools


def test_the_world_is_the_one_feed_md_describes(world: World) -> None:
    small = sum(f < SMALL_CREATOR for f in world.creator_followers) / len(world.creator_followers)
    assert 0.8 < small < 0.97
    on_main = statistics.fmean(
        world.note_topics[n][0] == world.creator_topic[a] for n, a in enumerate(world.note_author)
    )
    assert 0.8 < on_main < 0.95  # 85 % plus the off-topic notes that land on it by chance
    assert {len(i) for i in world.user_interests} == {2, 3}
    assert all(len(shown) == SMALL.exposures for shown in world.shown)
    prevalence = Counter(t for topics in world.note_topics for t in topics[:1])
    assert prevalence[0] > 3 * prevalence[len(world.topics) - 1]  # Zipf


def test_truth_is_fixed_per_seed_and_logged_engagements_follow_it(world: World) -> None:
    draws = [world.engaged(u, n) for u in range(20) for n in range(50)]
    assert draws == [world.engaged(u, n) for u in range(20) for n in range(50)]
    other = generate_world(WorldConfig(seed=2, users=20, creators=150, notes=1500))
    assert draws != [other.engaged(u, n) for u in range(20) for n in range(50)]
    for user in range(20):
        liked = {n for n, signal, _ in world.events[user] if signal is feed.ranking.Signal.LIKE}
        assert liked == {n for n in world.shown[user] if world.engaged(user, n)}


def test_tag_noise_changes_only_the_observed_tags(world: World) -> None:
    clean, noisy = observe(world, 0.0), observe(world, 0.4)
    assert clean.tags == [tuple(world.topics[t] for t in topics) for topics in world.note_topics]
    changed = statistics.fmean(a[0] != b[0] for a, b in zip(clean.tags, noisy.tags, strict=True))
    assert 0.3 < changed < 0.5
    assert [c.impressions for c in clean.candidates] == [c.impressions for c in noisy.candidates]


def test_gini_counts_creators_without_impressions() -> None:
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 20]) == pytest.approx(0.75)
    assert gini([0] * 96 + [1] * 4) > gini([1] * 4)


def test_acceptance_reports_each_criterion_and_fails_a_weak_ranker() -> None:
    def run(ranker: float, no_diversity: float, gini_value: float, small: float) -> dict[str, object]:
        metrics = {
            RANKER: {"precision": ranker, "gini": gini_value, "small_share": small},
            NO_DIVERSITY: {"precision": no_diversity, "gini": 0.8, "small_share": 0.5},
            POPULARITY: {"precision": 0.2, "gini": 0.99, "small_share": 0.0},
            FOLLOW: {"precision": 0.3, "gini": 0.8, "small_share": 0.6},
            RANDOM: {"precision": 0.1, "gini": 0.4, "small_share": 0.9},
        }
        return {"seed": 1, "noise": 0.0, "metrics": metrics}

    good = acceptance(summarise([run(0.6, 0.62, 0.7, 0.8)]))
    assert [c.passed for c in good] == [True, True, True, True]
    bad = acceptance(summarise([run(0.4, 0.5, 0.85, 0.3)]))
    assert [c.passed for c in bad] == [False, False, False, False]
