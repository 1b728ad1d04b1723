"""The discovery-feed benchmark of ../shared/design/FEED.md: a seeded synthetic world, the history a logging
policy leaves in it, and the ranker that serves `discoverFeed` (feed.ranking, driven here, never copied)
against popularity, follow-graph and random baselines, scored on notes each person was not shown against the
world's realised truth.

    .venv/bin/python -m bench.feed_eval                  # 3 seeds × tag noise 0.0 and 0.4, default sizes
    .venv/bin/python -m bench.feed_eval --seeds 1 --users 500 --creators 150 --notes 1500

The ranker sees only what a log would show: impressions, engagements (with the tags the notes carry, which
may be wrong), follower counts and the interests people declared when they signed up. The truth
p = σ(−6 + 6·affinity + 2·quality + 0.5·fame) only decides what people do and how slates are scored.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import accumulate
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.stats import percentile
from feed.candidates import DEFAULT_PLAN, CandidatePlan, merge_pools
from feed.ranking import (
    DAY,
    DEFAULT_PARAMS,
    POSITIVE,
    SIGNAL_WEIGHTS,
    Candidate,
    Engagement,
    Params,
    Signal,
    Viewer,
    co_engagement,
    co_engagement_scores,
    interest_profile,
    rank,
    seeded_rng,
    top_topics,
)

K = 20  # slate length the metrics are taken at
SMALL_CREATOR = 1_000  # followers
NOW = 1_767_225_600.0  # the moment the feed is asked for (2026-01-01 UTC); the world lies before it
NEIGHBOURS = 50  # co-engagement neighbours kept per note (FEED.md)
HISTORY_LIMIT = 300  # the viewer's latest signals the API reads (feed/store.py)
EXPLORE_MAX_IMPRESSIONS = 200  # the explore pool's bound, as in feed/store.py

TOPIC_NAMES = (
    "skincare", "makeup", "fashion", "food", "travel", "fitness", "home", "baking",
    "pets", "parenting", "photography", "books", "gaming", "tech", "coffee", "hiking",
    "gardening", "crafts", "music", "film", "study", "cars", "finance", "tea",
)  # fmt: skip

RANKER, NO_DIVERSITY, RAW_COUNTS, TAGS_ONLY = "ranker", "no_diversity", "raw_counts", "tags_only"
POPULARITY, FOLLOW, RANDOM = "popularity", "follow", "random"
POLICIES: dict[str, str] = {
    RANKER: "interest + co-engagement + diversity (feed.ranking)",
    NO_DIVERSITY: "ablation: without the diversity re-rank",
    RAW_COUNTS: "ablation: × raw engagement counts",
    TAGS_ONLY: "ablation: tags only (no co-engagement)",
    POPULARITY: "baseline: popularity (raw counts)",
    FOLLOW: "baseline: follow graph + popular fill",
    RANDOM: "baseline: random",
}
BASELINES = (POPULARITY, FOLLOW, RANDOM)
METRICS: dict[str, str] = {
    "precision": "P@20",
    "ndcg": "NDCG@20",
    "coverage": "coverage",
    "gini": "creator Gini",
    "small_share": "to <1k creators",
    "authors_per_slate": "authors/slate",
}


@dataclass(frozen=True)
class WorldConfig:
    """The synthetic world of FEED.md. Everything but the observed tags is the same for every tag noise."""

    seed: int = 1
    topics: int = 24
    zipf: float = 1.0  # topic prevalence ∝ 1 / rank^zipf
    creators: int = 600
    pareto_min: float = 50.0  # followers ~ Pareto(min, alpha): P(≥ 1,000) = (50 / 1,000)^0.77 ≈ 10 %
    pareto_alpha: float = 0.77
    notes: int = 6_000
    main_topic_share: float = 0.85  # notes on their creator's main topic
    second_topic_share: float = 0.25  # notes that also touch a second topic (half the affinity)
    quality_spread: float = 0.15  # a note's quality = creator craft + N(0, spread), clipped to [0, 1]
    days: float = 28.0  # notes are created over this many days before NOW
    users: int = 2_000
    # Affinity to the 2nd and 3rd interest ~ U(low, high); the 1st is 1. FEED.md's "2–3 interests" are
    # equal by default: with (0.7, 1.0) even a ranker that knew p would lose ~5 % P@20 to the rule "no
    # two neighbours share a main topic", with (0.85, 1.0) ~2 %, with (1, 1) ~1 %.
    other_interest_strength: tuple[float, float] = (1.0, 1.0)
    declared_recall: float = 0.8  # each true interest is declared at sign-up with this chance
    declared_extra: float = 0.3  # chance of declaring one topic one is not really into
    follows_min: int = 10
    follows_max: int = 40
    follows_by_popularity: float = 0.7  # the rest are chosen among creators of one's interests
    exposures: int = 200  # distinct notes the logging policy showed each person
    policy_popular: float = 0.4
    policy_followed: float = 0.3  # the rest (0.3) uniform


# --- the world -------------------------------------------------------------------------------------

_M64 = (1 << 64) - 1


def unit(seed: int, a: int, b: int) -> float:
    """A uniform draw in [0, 1) fixed by (seed, a, b) whatever order it is asked in (splitmix64)."""
    x = (seed * 0x9E3779B97F4A7C15 + a * 0xD1B54A32D192ED03 + b * 0xABC98388FB8FAC03 + 1) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return ((x ^ (x >> 31)) >> 11) / 9007199254740992.0


def topic_names(count: int) -> list[str]:
    return [TOPIC_NAMES[i] if i < len(TOPIC_NAMES) else f"topic-{i}" for i in range(count)]


@dataclass
class World:
    """Ground truth (interests, quality, fame) and the log a popularity/follow/uniform policy produced."""

    config: WorldConfig
    now: float
    topics: list[str]
    creator_topic: list[int]
    creator_followers: list[int]  # the creator's follower count, of which `follows` is the simulated sample
    creator_fame: list[float]
    creator_language: list[str]
    note_author: list[int]
    note_topics: list[tuple[int, ...]]  # true topics, main first
    note_quality: list[float]
    note_created: list[float]
    note_logit: list[float]  # −6 + 2·quality + 0.5·fame: the truth's logit before affinity
    user_interests: list[dict[int, float]]  # topic → strength (the main interest 1.0)
    user_declared: list[tuple[int, ...]]
    follows: list[set[int]]
    shown: list[set[int]] = field(default_factory=list)
    events: list[list[tuple[int, Signal, float]]] = field(default_factory=list)  # per user, oldest first
    impressions: list[int] = field(default_factory=list)
    engagements: list[int] = field(default_factory=list)  # likes + collects + comments
    notes_by_topic: list[list[int]] = field(default_factory=list)  # by true topic

    def affinity(self, user: int, note: int) -> float:
        interests = self.user_interests[user]
        topics = self.note_topics[note]
        best = interests.get(topics[0], 0.0)
        for topic in topics[1:]:
            best = max(best, 0.5 * interests.get(topic, 0.0))
        return best

    def probability(self, user: int, note: int) -> float:
        """Ground truth: p = σ(−6 + 6·affinity + 2·quality + 0.5·fame)."""
        return 1.0 / (1.0 + math.exp(-(self.note_logit[note] + 6.0 * self.affinity(user, note))))

    def engaged(self, user: int, note: int) -> bool:
        """The realised truth: one Bernoulli draw of p per (user, note), fixed by the seed."""
        return unit(self.config.seed, user, note) < self.probability(user, note)

    def ideal_hits(self, user: int, k: int = K) -> int:
        """How many of k slots a perfect slate of unshown notes fills with realised engagements."""
        shown = self.shown[user]
        found = 0
        seen: set[int] = set()
        for topic in self.user_interests[user]:
            for note in self.notes_by_topic[topic]:
                if note in shown or note in seen:
                    continue
                seen.add(note)
                if self.engaged(user, note):
                    found += 1
                    if found >= k:
                        return k
        for note in range(len(self.note_author)):
            if note not in shown and note not in seen and self.engaged(user, note):
                found += 1
                if found >= k:
                    return k
        return found


def generate_world(config: WorldConfig) -> World:
    """The seeded world and its logged history (identical for every tag noise)."""
    rng = seeded_rng("world", config.seed)
    n_topics, n_creators, n_notes, n_users = config.topics, config.creators, config.notes, config.users
    topic_cum = list(accumulate(1.0 / (k + 1) ** config.zipf for k in range(n_topics)))
    topic_ids = range(n_topics)

    def draw_topic() -> int:
        return rng.choices(topic_ids, cum_weights=topic_cum)[0]

    creator_topic = [draw_topic() for _ in range(n_creators)]
    creator_followers = [
        min(int(config.pareto_min / (1.0 - rng.random()) ** (1.0 / config.pareto_alpha)), 5_000_000)
        for _ in range(n_creators)
    ]
    creator_fame = [
        min(1.0, max(0.0, math.log10(f / config.pareto_min) / 4.0)) for f in creator_followers
    ]  # 0 for the smallest, 1 from 500,000 followers
    creator_craft = [rng.betavariate(2.0, 2.0) for _ in range(n_creators)]
    creator_language = ["en" if rng.random() < 0.15 else "zh" for _ in range(n_creators)]
    activity = [rng.lognormvariate(0.0, 0.75) for _ in range(n_creators)]

    # Every creator has at least one note; the rest go to the more active ones.
    authors = list(range(min(n_creators, n_notes)))
    authors += rng.choices(range(n_creators), weights=activity, k=max(n_notes - n_creators, 0))
    rng.shuffle(authors)
    note_topics: list[tuple[int, ...]] = []
    note_quality: list[float] = []
    note_created: list[float] = []
    note_logit: list[float] = []
    now = NOW
    for author in authors:
        main = creator_topic[author] if rng.random() < config.main_topic_share else draw_topic()
        topics: tuple[int, ...] = (main,)
        if rng.random() < config.second_topic_share:
            second = draw_topic()
            if second != main:
                topics = (main, second)
        quality = min(1.0, max(0.0, creator_craft[author] + rng.gauss(0.0, config.quality_spread)))
        note_topics.append(topics)
        note_quality.append(quality)
        note_created.append(now - rng.random() * config.days * DAY)
        note_logit.append(-6.0 + 2.0 * quality + 0.5 * creator_fame[author])

    user_interests: list[dict[int, float]] = []
    user_declared: list[tuple[int, ...]] = []
    for _ in range(n_users):
        wanted = rng.choice((2, 3))
        chosen: list[int] = []
        while len(chosen) < min(wanted, n_topics):
            topic = draw_topic()
            if topic not in chosen:
                chosen.append(topic)
        low, high = config.other_interest_strength
        user_interests.append({t: 1.0 if i == 0 else rng.uniform(low, high) for i, t in enumerate(chosen)})
        declared = [t for t in chosen if rng.random() < config.declared_recall] or [chosen[0]]
        if rng.random() < config.declared_extra:
            extra = draw_topic()
            if extra not in declared:
                declared.append(extra)
        user_declared.append(tuple(declared))

    creators_by_topic: list[list[int]] = [[] for _ in topic_ids]
    for creator, topic in enumerate(creator_topic):
        creators_by_topic[topic].append(creator)
    follower_cum = list(accumulate(creator_followers))
    creator_ids = range(n_creators)
    follows: list[set[int]] = []
    for interests in user_interests:
        wanted = min(rng.randint(config.follows_min, config.follows_max), n_creators)
        by_popularity = round(wanted * config.follows_by_popularity)
        followed: set[int] = set()
        for _ in range(wanted * 20):  # distinct creators, most of them chosen by popularity
            if len(followed) >= by_popularity:
                break
            followed.add(rng.choices(creator_ids, cum_weights=follower_cum)[0])
        pool = sorted({c for t in interests for c in creators_by_topic[t]} - followed)
        followed.update(rng.sample(pool, min(wanted - len(followed), len(pool))))
        follows.append(followed)

    world = World(
        config=config,
        now=now,
        topics=topic_names(n_topics),
        creator_topic=creator_topic,
        creator_followers=creator_followers,
        creator_fame=creator_fame,
        creator_language=creator_language,
        note_author=authors,
        note_topics=note_topics,
        note_quality=note_quality,
        note_created=note_created,
        note_logit=note_logit,
        user_interests=user_interests,
        user_declared=user_declared,
        follows=follows,
    )
    world.notes_by_topic = [[] for _ in topic_ids]
    for note, topics in enumerate(note_topics):
        for topic in topics:
            world.notes_by_topic[topic].append(note)
    _log(world, rng)
    return world


def _log(world: World, rng: random.Random) -> None:
    """What the old feed showed (popular 40 %: notes drawn by their creator's followers^0.75, as a
    follower-network feed pushes them; followed creators 30 %; uniform 30 %) and what people did: the
    realised truth decides engagement; a like may come with a collect, comment or follow; otherwise an
    open, or now and then "not interested" on a note of no interest."""
    config = world.config
    n_notes = len(world.note_author)
    notes_by_creator: list[list[int]] = [[] for _ in world.creator_followers]
    for note, author in enumerate(world.note_author):
        notes_by_creator[author].append(note)
    popular_cum = list(accumulate(world.creator_followers[a] ** 0.75 for a in world.note_author))
    note_ids = range(n_notes)
    wanted = min(config.exposures, n_notes)
    n_popular = round(wanted * config.policy_popular)
    n_followed = round(wanted * config.policy_followed)
    world.impressions = [0] * n_notes
    world.engagements = [0] * n_notes
    now = world.now
    for user in range(len(world.user_interests)):
        seen: set[int] = set()
        picks: list[int] = []

        def show(note: int, seen: set[int] = seen, picks: list[int] = picks) -> None:
            if note not in seen:
                seen.add(note)
                picks.append(note)

        for _ in range(4):  # a few rounds top up what repeats took away
            missing = n_popular - len(picks)
            if missing <= 0:
                break
            for note in rng.choices(note_ids, cum_weights=popular_cum, k=missing):
                show(note)
        followed = [c for c in world.follows[user] if notes_by_creator[c]]
        target = len(picks) + n_followed
        for _ in range(n_followed * 3):
            if len(picks) >= target or not followed:
                break
            show(rng.choice(notes_by_creator[rng.choice(followed)]))
        while len(picks) < wanted:
            show(rng.randrange(n_notes))

        events: list[tuple[int, Signal, float]] = []
        for note in picks:
            created = world.note_created[note]
            at = created + rng.random() * (now - created)
            world.impressions[note] += 1
            p = world.probability(user, note)
            if unit(config.seed, user, note) < p:  # the same draw as the realised truth
                events.append((note, Signal.LIKE, at))
                count = 1
                if rng.random() < 0.35:
                    events.append((note, Signal.COLLECT, at + 30.0))
                    count += 1
                if rng.random() < 0.15:
                    events.append((note, Signal.COMMENT, at + 60.0))
                    count += 1
                if rng.random() < 0.03:
                    events.append((note, Signal.FOLLOW_AFTER_VIEW, at + 90.0))
                    world.follows[user].add(world.note_author[note])
                world.engagements[note] += count
            elif rng.random() < 0.05 + 0.5 * p:
                events.append((note, Signal.OPEN, at))
            elif world.affinity(user, note) == 0.0 and rng.random() < 0.03:
                events.append((note, Signal.NOT_INTERESTED, at))
        events.sort(key=lambda e: e[2])
        world.shown.append(seen)
        world.events.append(events)


def positive_engagers(world: World) -> dict[int, list[int]]:
    """user → the notes they engaged with positively, most recent first (input of co_engagement)."""
    engagers: dict[int, list[int]] = {}
    for user, events in enumerate(world.events):
        engagers[user] = [note for note, signal, _ in reversed(events) if signal in POSITIVE]
    return engagers


def world_neighbours(world: World) -> dict[int, list[tuple[int, float]]]:
    """The precomputed item-to-item table, by feed.ranking.co_engagement over the logged positives."""
    return co_engagement(positive_engagers(world), neighbours=NEIGHBOURS)


# --- what the ranker may see, for one tag noise ------------------------------------------------------


@dataclass
class Observed:
    """The notes as the platform sees them: observed tags, logged counts, follower counts."""

    tags: list[tuple[str, ...]]
    candidates: list[Candidate]  # one template per note; merge_pools copies them
    by_tag: dict[str, list[int]]  # newest first
    explorable: list[int]  # fresh, few impressions, small creator; newest first
    trending: list[int]  # the last days' notes by engagements
    popular: list[int]  # recent notes by smoothed engagement rate (for a viewer with no profile at all)
    by_engagements: list[int]  # every note by raw engagement count (the popularity baseline)


def observe(world: World, noise: float, plan: CandidatePlan = DEFAULT_PLAN) -> Observed:
    """Tag the notes (each true topic replaced by a random other one with chance `noise`) and index them
    the way feed/store.py's pools read them."""
    rng = seeded_rng("tags", world.config.seed, noise)
    n_topics = len(world.topics)
    tags: list[tuple[str, ...]] = []
    for topics in world.note_topics:
        seen: list[int] = []
        for topic in topics:
            if noise > 0 and rng.random() < noise:
                topic = (topic + rng.randrange(1, n_topics)) % n_topics  # any other topic
            if topic not in seen:
                seen.append(topic)
        tags.append(tuple(world.topics[t] for t in seen))
    now = world.now
    candidates = [
        Candidate(
            note_id=note,
            author_id=author,
            topics=tags[note],
            language=world.creator_language[author],
            created_at=world.note_created[note],
            impressions=world.impressions[note],
            engagements=world.engagements[note],
            author_followers=world.creator_followers[author],
        )
        for note, author in enumerate(world.note_author)
    ]
    newest = sorted(range(len(candidates)), key=lambda n: (-world.note_created[n], n))
    by_tag: dict[str, list[int]] = defaultdict(list)
    for note in newest:
        for tag in candidates[note].topics:
            by_tag[tag].append(note)
    explore_since = now - plan.explore_window_days * DAY
    explorable = [
        n
        for n in newest
        if world.note_created[n] >= explore_since
        and world.impressions[n] < EXPLORE_MAX_IMPRESSIONS
        and candidates[n].author_followers < SMALL_CREATOR
    ]
    trending_since = now - plan.trending_window_days * DAY
    recent = [n for n in newest if world.note_created[n] >= trending_since]
    trending = sorted(recent, key=lambda n: (-world.engagements[n], n))
    fresh = [n for n in newest if world.note_created[n] >= explore_since]
    popular = sorted(fresh, key=lambda n: (-(world.engagements[n] + 1.0) / (world.impressions[n] + 20.0), n))
    by_engagements = sorted(range(len(candidates)), key=lambda n: (-world.engagements[n], n))
    return Observed(tags, candidates, dict(by_tag), explorable, trending, popular, by_engagements)


@dataclass
class ViewerInputs:
    viewer: Viewer
    candidates: list[Candidate]


def recent_positives(history: Sequence[Engagement], limit: int) -> list[tuple[int, float]]:
    """The viewer's most recent positively engaged notes with their strongest signal's weight (as
    feed/store.positives does for the API); `history` most recent first."""
    found: dict[int, float] = {}
    for event in history:
        weight = SIGNAL_WEIGHTS[event.signal]
        if weight >= 1.0:
            found[event.note_id] = max(found.get(event.note_id, 0.0), weight)
        if len(found) >= limit:
            break
    return list(found.items())


def viewer_inputs(
    world: World,
    observed: Observed,
    user: int,
    neighbours: dict[int, list[tuple[int, float]]],
    plan: CandidatePlan = DEFAULT_PLAN,
    params: Params = DEFAULT_PARAMS,
) -> ViewerInputs:
    """What discoverFeed loads for `user`, built from the log: the viewer (their latest signals and
    declared interests) and the pools of CandidatePlan, each cut to its size and then filtered of what
    the user was already shown (as the SQL of feed/store.py does), merged by merge_pools."""
    now = world.now
    tags, templates = observed.tags, observed.candidates
    history = [
        Engagement(note, signal, at, tags[note], templates[note].language)
        for note, signal, at in reversed(world.events[user][-HISTORY_LIMIT:])
    ]  # most recent first
    declared = tuple(world.topics[t] for t in world.user_declared[user])
    viewer = Viewer(user_id=user, history=history, onboarding=declared)
    viewer.profile = interest_profile(history, declared, now, params)
    cf = co_engagement_scores(recent_positives(history, plan.positives), neighbours)

    pools: dict[str, list[int]] = {}
    interests = top_topics(viewer.profile, plan.top_topics)
    pools["topic"] = [n for t in interests for n in observed.by_tag.get(t, [])[: plan.per_topic]]
    pools["neighbour"] = [n for _, n in heapq.nsmallest(plan.neighbours, [(-v[0], n) for n, v in cf.items()])]
    pools["explore"] = observed.explorable[: plan.explore]
    pools["trending"] = observed.trending[: plan.trending]
    if not viewer.profile:
        pools["popular"] = observed.popular[: plan.snapshot_size]
    shown = world.shown[user]
    filtered = {name: [templates[n] for n in notes if n not in shown] for name, notes in pools.items()}
    return ViewerInputs(viewer, merge_pools(filtered, cf))


def _first_unshown(notes: Iterable[int], shown: set[int], limit: int) -> list[int]:
    """The first `limit` notes not in `shown`."""
    taken: list[int] = []
    if limit <= 0:
        return taken
    for note in notes:
        if note not in shown:
            taken.append(note)
            if len(taken) >= limit:
                break
    return taken


# --- metrics ---------------------------------------------------------------------------------------


def gini(values: Sequence[float]) -> float:
    """0 when every creator gets the same, → 1 when one gets everything (zeros count)."""
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total <= 0:
        return 0.0
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return 2.0 * weighted / (n * total) - (n + 1.0) / n


_DISCOUNT = [1.0 / math.log2(i + 2) for i in range(K)]


@dataclass
class Tally:
    slates: int = 0
    precision: float = 0.0
    ndcg: float = 0.0
    authors: int = 0
    notes: set[int] = field(default_factory=set)
    creator_impressions: Counter[int] = field(default_factory=Counter)

    def add(self, world: World, user: int, slate: Sequence[int], ideal: int) -> None:
        hits = [world.engaged(user, n) for n in slate[:K]]
        self.slates += 1
        self.precision += sum(hits) / K
        dcg = sum(d for d, hit in zip(_DISCOUNT, hits, strict=False) if hit)
        self.ndcg += dcg / sum(_DISCOUNT[:ideal]) if ideal else 0.0
        authors = [world.note_author[n] for n in slate[:K]]
        self.authors += len(set(authors))
        self.notes.update(slate[:K])
        self.creator_impressions.update(authors)

    def result(self, world: World) -> dict[str, float]:
        slates = max(self.slates, 1)
        total = sum(self.creator_impressions.values())
        small = sum(
            v for c, v in self.creator_impressions.items() if world.creator_followers[c] < SMALL_CREATOR
        )
        return {
            "precision": self.precision / slates,
            "ndcg": self.ndcg / slates,
            "coverage": len(self.notes) / len(world.note_author),
            "gini": gini([self.creator_impressions.get(c, 0) for c in range(len(world.creator_followers))]),
            "small_share": small / total if total else 0.0,
            "authors_per_slate": self.authors / slates,
        }


# --- one run ---------------------------------------------------------------------------------------


def ranker_variants(params: Params) -> dict[str, Params]:
    return {
        RANKER: params,
        NO_DIVERSITY: replace(params, diversity=False),
        RAW_COUNTS: replace(params, raw_count_boost=True),
        TAGS_ONLY: replace(params, cf_weight=0.0),
    }


def evaluate(
    world: World,
    noise: float,
    *,
    neighbours: dict[int, list[tuple[int, float]]] | None = None,
    params: Params = DEFAULT_PARAMS,
    plan: CandidatePlan = DEFAULT_PLAN,
    policies: Sequence[str] = tuple(POLICIES),
    progress: bool = False,
    users: Sequence[int] | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics per policy for one world at one tag noise: each person's slate of K unshown notes
    (everyone's, or only `users`')."""
    if neighbours is None:
        neighbours = world_neighbours(world)
    observed = observe(world, noise, plan)
    variants = {name: p for name, p in ranker_variants(params).items() if name in policies}
    tallies = {name: Tally() for name in policies}
    seed = world.config.seed
    if users is None:
        users = range(len(world.user_interests))
    label = f"seed {seed} noise {noise:.1f}"
    by_creator: list[list[int]] = [[] for _ in world.creator_followers]
    for note, author in enumerate(world.note_author):
        by_creator[author].append(note)
    for user in tqdm(users, desc=label, unit="user", disable=not progress, leave=False):
        ideal = world.ideal_hits(user)
        shown = world.shown[user]
        if variants:
            inputs = viewer_inputs(world, observed, user, neighbours, plan, params)
            for name, variant in variants.items():
                ranked = rank(
                    inputs.viewer,
                    inputs.candidates,
                    now=world.now,
                    rng=seeded_rng(user, seed),
                    limit=K,
                    params=variant,
                )
                tallies[name].add(world, user, [r.note_id for r in ranked], ideal)
        if POPULARITY in tallies:
            popular = _first_unshown(observed.by_engagements, shown, K)
            tallies[POPULARITY].add(world, user, popular, ideal)
        if FOLLOW in tallies:
            slate = _follow_slate(world, user, by_creator, observed.by_engagements)
            tallies[FOLLOW].add(world, user, slate, ideal)
        if RANDOM in tallies:
            rng = seeded_rng("random", user, seed)
            slate = []
            while len(slate) < K and len(slate) + len(shown) < len(world.note_author):
                note = rng.randrange(len(world.note_author))
                if note not in shown and note not in slate:
                    slate.append(note)
            tallies[RANDOM].add(world, user, slate, ideal)
    return {name: tallies[name].result(world) for name in policies}


def _follow_slate(
    world: World, user: int, by_creator: Sequence[Sequence[int]], by_engagements: Sequence[int]
) -> list[int]:
    """The newest unshown notes of the creators the user follows, then the most engaged notes."""
    shown = world.shown[user]
    followed = [n for c in world.follows[user] for n in by_creator[c] if n not in shown]
    followed.sort(key=lambda n: (-world.note_created[n], n))
    slate = followed[:K]
    chosen = set(slate)
    slate += _first_unshown(by_engagements, shown | chosen, K - len(slate))
    return slate


def time_rank(
    world: World,
    noise: float,
    neighbours: dict[int, list[tuple[int, float]]],
    *,
    params: Params = DEFAULT_PARAMS,
    plan: CandidatePlan = DEFAULT_PLAN,
    users: int = 100,
    size: int = 600,
) -> dict[str, float]:
    """Milliseconds per feed.ranking.rank call on `size` candidates (a user's pools topped up with other
    unshown notes), at the API's snapshot size and at one slate: median and 95th percentile."""
    observed = observe(world, noise, plan)
    rng = seeded_rng("timing", world.config.seed)
    limits = {"snapshot": plan.snapshot_size, "slate": K}
    samples: dict[str, list[float]] = {name: [] for name in limits}
    for user in range(min(users, len(world.user_interests))):
        inputs = viewer_inputs(world, observed, user, neighbours, plan, params)
        present = {c.note_id for c in inputs.candidates} | world.shown[user]
        every = range(len(world.note_author))
        extra = [n for n in rng.sample(every, min(3 * size, len(every))) if n not in present]
        topped = inputs.candidates + [
            replace(observed.candidates[n], sources=frozenset({"topic"}))
            for n in extra[: max(size - len(inputs.candidates), 0)]
        ]
        for name, limit in limits.items():
            started = time.perf_counter()
            rank(
                inputs.viewer, topped[:size], now=world.now, rng=seeded_rng(user), limit=limit, params=params
            )
            samples[name].append((time.perf_counter() - started) * 1000.0)
    found = {"candidates": float(size), "calls": float(len(samples["slate"]))}
    for name, values in samples.items():
        values.sort()
        found[f"{name}_limit"] = float(limits[name])
        found[f"{name}_median_ms"] = statistics.median(values)
        found[f"{name}_p95_ms"] = percentile(values, 0.95)
    return found


def run_world(
    config: WorldConfig,
    noises: Sequence[float],
    *,
    params: Params = DEFAULT_PARAMS,
    plan: CandidatePlan = DEFAULT_PLAN,
    policies: Sequence[str] = tuple(POLICIES),
    progress: bool = False,
    timing: bool = False,
) -> list[dict[str, Any]]:
    """Generate one seed's world, then evaluate every policy at each tag noise (and, with `timing`, time
    `rank` on the first)."""
    world = generate_world(config)
    neighbours = world_neighbours(world)
    runs: list[dict[str, Any]] = []
    for noise in noises:
        metrics = evaluate(
            world,
            noise,
            neighbours=neighbours,
            params=params,
            plan=plan,
            policies=policies,
            progress=progress,
        )
        runs.append({"seed": config.seed, "noise": noise, "metrics": metrics})
    if timing and noises:
        runs[0]["rank_ms"] = time_rank(world, noises[0], neighbours, params=params, plan=plan)
    return runs


def _run_job(job: tuple[WorldConfig, float, Params, CandidatePlan, bool]) -> list[dict[str, Any]]:
    config, noise, params, plan, timing = job
    return run_world(config, [noise], params=params, plan=plan, timing=timing)


# --- summary, acceptance, report -------------------------------------------------------------------


def summarise(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """noise → policy → metric → {mean, sd (over seeds), min, max}."""
    grouped: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for run in runs:
        for policy, metrics in run["metrics"].items():
            for metric, value in metrics.items():
                grouped[_noise_key(run["noise"])][policy][metric].append(value)
    return {
        noise: {
            policy: {
                metric: {
                    "mean": statistics.fmean(values),
                    "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                    "min": min(values),
                    "max": max(values),
                }
                for metric, values in metrics.items()
            }
            for policy, metrics in policies.items()
        }
        for noise, policies in grouped.items()
    }


def _noise_key(noise: float) -> str:
    return f"{noise:.2f}"


@dataclass(frozen=True)
class Criterion:
    noise: str
    name: str
    value: float
    threshold: float
    passed: bool
    detail: str


def acceptance(summary: dict[str, dict[str, dict[str, dict[str, float]]]]) -> list[Criterion]:
    """FEED.md's bar, on the means over seeds, for every tag noise."""
    found: list[Criterion] = []
    for noise, policies in summary.items():

        def mean(policy: str, metric: str, policies: Any = policies) -> float:
            return float(policies[policy][metric]["mean"])

        p = mean(RANKER, "precision")
        best_name = max(BASELINES, key=lambda b: mean(b, "precision"))
        best = mean(best_name, "precision")
        found.append(
            Criterion(noise, "P@20 ≥ 1.5 × best baseline", p, 1.5 * best, p >= 1.5 * best,
                      f"ranker {p:.3f} vs 1.5 × {best_name} {best:.3f} = {1.5 * best:.3f}")
        )  # fmt: skip
        g = mean(RANKER, "gini")
        bar = min(mean(POPULARITY, "gini"), mean(FOLLOW, "gini"))
        found.append(
            Criterion(noise, "Gini below both baselines", g, bar, g < bar,
                      f"ranker {g:.3f} vs popularity {mean(POPULARITY, 'gini'):.3f}, "
                      f"follow {mean(FOLLOW, 'gini'):.3f}")
        )  # fmt: skip
        s = mean(RANKER, "small_share")
        found.append(
            Criterion(noise, "≥ 50 % impressions to small creators", s, 0.5, s >= 0.5,
                      f"ranker {s:.1%} of impressions to creators with < 1,000 followers")
        )  # fmt: skip
        plain = mean(NO_DIVERSITY, "precision")
        cost = (plain - p) / plain if plain > 0 else 0.0
        found.append(
            Criterion(noise, "diversity costs ≤ 5 % relative P@20", cost, 0.05, cost <= 0.05,
                      f"without diversity {plain:.3f}, with {p:.3f}: cost {cost:.1%}")
        )  # fmt: skip
    return found


HOW = [
    "World: topics by Zipf prevalence; creators with Pareto followers (~90 % under 1,000) and a craft "
    "level; notes 85 % on their creator's main topic (25 % touch a second one, at half the affinity), "
    "quality = craft ± noise; users with 2–3 equally strong interests (drawn by prevalence), declared at "
    "sign-up with 80 % recall plus a stray topic 30 % of the time; follows 70 % by popularity. Truth "
    "p = σ(−6 + 6·affinity + 2·quality + 0.5·fame), one seeded Bernoulli draw per (user, note). The log: "
    "200 distinct exposures per user (popular 40 % by followers^0.75, followed 30 %, uniform 30 %); each "
    "is an impression, and the truth's draw decides the like (with collects, comments, follows), else "
    'maybe an open or a "not interested". Tag noise replaces each tag by another topic.',
    "",
    "Ranker inputs, from the log only: the user's latest 300 signals and declared interests "
    "(feed.ranking.interest_profile); co-engagement neighbours by feed.ranking.co_engagement over logged "
    "positives, scored by co_engagement_scores over the 50 latest positives; the pools of "
    "feed/candidates.CandidatePlan as feed/store.py reads them (each pool cut to its size, then filtered "
    "of what the user was shown), merged by merge_pools and ranked by feed.ranking.rank. Baselines read "
    "the same log: popularity = most logged engagements; follow graph = newest notes of followed "
    "creators, then popular.",
]


def markdown(report: dict[str, Any]) -> str:
    config = report["config"]
    lines = [
        "# Discovery feed benchmark",
        "",
        f"Generated by `python -m bench.feed_eval` in {report['seconds']:.1f} s. Seeds {report['seeds']}; "
        f"{config['topics']} topics, {config['creators']} creators, {config['notes']} notes, "
        f"{config['users']} users, {config['exposures']} logged exposures per user. "
        f"Metrics at K={K} on notes each user was not shown, against the realised truth; "
        "mean ± sd over seeds.",
    ]
    lines += ["", *HOW]
    for noise, policies in report["summary"].items():
        lines += ["", f"## Tag noise {float(noise):.1f}", ""]
        lines.append("| policy | " + " | ".join(METRICS.values()) + " |")
        lines.append("|---|" + "---:|" * len(METRICS))
        for policy, metrics in policies.items():
            cells = []
            for metric in METRICS:
                m = metrics[metric]
                cells.append(f"{m['mean']:.3f} ± {m['sd']:.3f}")
            lines.append(f"| {POLICIES.get(policy, policy)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Acceptance (FEED.md)",
        "",
        "| noise | criterion | result | detail |",
        "|---|---|---|---|",
    ]
    for c in report["acceptance"]:
        verdict = "PASS" if c["passed"] else "FAIL"
        lines.append(f"| {float(c['noise']):.1f} | {c['name']} | **{verdict}** | {c['detail']} |")
    timing = report.get("rank_ms")
    if timing:
        t = timing
        lines += [
            "",
            "## Speed of `feed.ranking.rank`",
            "",
            f"On {t['candidates']:.0f} candidates, {t['calls']:.0f} users of seed {report['seeds'][0]}, "
            "timed while the benchmark runs: "
            f"limit {t['snapshot_limit']:.0f} (the API's snapshot) median {t['snapshot_median_ms']:.1f} ms, "
            f"p95 {t['snapshot_p95_ms']:.1f} ms; limit {t['slate_limit']:.0f} median "
            f"{t['slate_median_ms']:.1f} ms, p95 {t['slate_p95_ms']:.1f} ms.",
        ]
    lines += ["", "## Params", "", "```", json.dumps(report["params"], indent=1), "```", ""]
    return "\n".join(lines)


def run(
    seeds: Sequence[int],
    noises: Sequence[float],
    base: WorldConfig = WorldConfig(),
    *,
    params: Params = DEFAULT_PARAMS,
    plan: CandidatePlan = DEFAULT_PLAN,
    jobs: int = 1,
) -> dict[str, Any]:
    """The whole benchmark: every seed × noise, summarised, with the acceptance bar checked."""
    started = time.perf_counter()
    runs: list[dict[str, Any]] = []
    if jobs > 1:
        work = [
            (replace(base, seed=s), n, params, plan, i == 0)
            for i, (s, n) in enumerate((s, n) for s in seeds for n in noises)
        ]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            bar = tqdm(pool.map(_run_job, work), total=len(work), desc="seed × noise", unit="run")
            for found in bar:
                runs += found
    else:
        for i, seed in enumerate(tqdm(seeds, desc="seeds", unit="seed")):
            config = replace(base, seed=seed)
            runs += run_world(config, noises, params=params, plan=plan, progress=True, timing=i == 0)
    summary = summarise(runs)
    timings = [r.pop("rank_ms") for r in runs if "rank_ms" in r]
    return {
        "seeds": list(seeds),
        "noises": list(noises),
        "config": {k: v for k, v in asdict(base).items() if k != "seed"},
        "params": asdict(params),
        "plan": asdict(plan),
        "runs": runs,
        "summary": summary,
        "acceptance": [asdict(c) for c in acceptance(summary)],
        "rank_ms": timings[0] if timings else None,
        "seconds": time.perf_counter() - started,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.4], help="tag noise levels")
    parser.add_argument("--users", type=int, default=WorldConfig.users)
    parser.add_argument("--creators", type=int, default=WorldConfig.creators)
    parser.add_argument("--notes", type=int, default=WorldConfig.notes)
    parser.add_argument("--topics", type=int, default=WorldConfig.topics)
    parser.add_argument("--exposures", type=int, default=WorldConfig.exposures)
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 6), help="worker processes")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    base = WorldConfig(
        users=args.users,
        creators=args.creators,
        notes=args.notes,
        topics=args.topics,
        exposures=args.exposures,
    )
    jobs = max(1, min(args.jobs, len(args.seeds) * len(args.noise)))
    report = run(args.seeds, args.noise, base, jobs=jobs)
    text = markdown(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "feed_eval.md").write_text(text, encoding="utf-8")
    (args.out / "feed_eval.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(text)
    failed = [c for c in report["acceptance"] if not c["passed"]]
    for c in report["acceptance"]:
        print(
            f"{'PASS' if c['passed'] else 'FAIL'}  noise {float(c['noise']):.1f}  {c['name']}: {c['detail']}"
        )
    print(f"{len(report['acceptance']) - len(failed)}/{len(report['acceptance'])} criteria pass "
          f"in {report['seconds']:.1f} s; wrote {args.out}/feed_eval.md and .json")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
