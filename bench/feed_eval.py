"""The discovery-feed benchmark of ../shared/design/FEED.md: a seeded synthetic world, the history a logging
policy leaves in it, and the ranker that serves `discoverFeed` (feed.ranking, driven here, never copied)
against popularity, follow-graph and random baselines, scored on notes each person was not shown against the
world's realised truth.

    .venv/bin/python -m bench.feed_eval                  # 3 seeds × tag noise 0.0 and 0.4, default sizes
    .venv/bin/python -m bench.feed_eval --seeds 1 --users 500 --creators 150 --notes 1500

The ranker sees only what a log would show: impressions, engagements (with the tags the notes carry, which
may be wrong), follower counts and the interests people declared when they signed up. The truth
p = σ(−6 + 6·affinity + 2·quality + 0.5·fame) only decides what people do and how slates are scored.

Every topic has a Chinese and an English name (护肤 / skincare), both in use, so the ranker must count them as
one family (`Viewer.family`), as the API does with search.families. Besides the slate metrics it measures
whole sessions: how the next session follows an interest a reader just took up, what "not interested" does
to a declared interest, and the per-author cap across continuation snapshots.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
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
    Preceding,
    Ranked,
    Signal,
    Viewer,
    co_engagement,
    co_engagement_scores,
    interest_profile,
    rank,
    same_name,
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
# The same topics' Chinese names, each its family's key (as in search/data/topic_families.txt).
TOPIC_NAMES_ZH = (
    "护肤", "彩妆", "穿搭", "美食", "旅行", "健身", "家居", "烘焙",
    "萌宠", "育儿", "摄影", "读书", "游戏", "数码", "咖啡", "徒步",
    "园艺", "手工", "音乐", "电影", "学习", "汽车", "理财", "茶",
)  # fmt: skip

RANKER, NO_DIVERSITY, RAW_COUNTS, TAGS_ONLY = "ranker", "no_diversity", "raw_counts", "tags_only"
NO_FAMILIES = "no_families"
POPULARITY, FOLLOW, RANDOM = "popularity", "follow", "random"
POLICIES: dict[str, str] = {
    RANKER: "interest + co-engagement + diversity (feed.ranking)",
    NO_DIVERSITY: "ablation: without the diversity re-rank",
    RAW_COUNTS: "ablation: × raw engagement counts",
    TAGS_ONLY: "ablation: tags only (no co-engagement)",
    NO_FAMILIES: "ablation: topic names without families (健身 ≠ fitness)",
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
    "families_per_slate": "families/slate",
    "family_repeats": "same-family neighbours",
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
    # A note is tagged with its topic's name in its creator's language, but this often with the other
    # language's (护肤 / skincare); people declare interests in either language, half and half.
    other_name_share: float = 0.3


# --- the world -------------------------------------------------------------------------------------

_M64 = (1 << 64) - 1


def unit(seed: int, a: int, b: int) -> float:
    """A uniform draw in [0, 1) fixed by (seed, a, b) whatever order it is asked in (splitmix64)."""
    x = (seed * 0x9E3779B97F4A7C15 + a * 0xD1B54A32D192ED03 + b * 0xABC98388FB8FAC03 + 1) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return ((x ^ (x >> 31)) >> 11) / 9007199254740992.0


def topic_names(count: int) -> list[str]:
    """Each topic's family key: its Chinese name."""
    return [TOPIC_NAMES_ZH[i] if i < len(TOPIC_NAMES_ZH) else f"话题-{i}" for i in range(count)]


def english_names(count: int) -> list[str]:
    return [TOPIC_NAMES[i] if i < len(TOPIC_NAMES) else f"topic-{i}" for i in range(count)]


# Salts of the hashed draws (`unit`) that choose names: they leave the world's random stream untouched.
_TAG_NAME, _DECLARED_NAME = 7_000_000, 8_000_000


@dataclass
class World:
    """Ground truth (interests, quality, fame) and the log a popularity/follow/uniform policy produced."""

    config: WorldConfig
    now: float
    topics: list[str]  # family keys (Chinese names)
    english: list[str]  # the same topics' English names
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
    families: dict[str, str] = field(default_factory=dict)  # name → family key

    def family(self, name: str) -> str:
        """A topic name's family key, as search.families maps them for the API."""
        return self.families.get(name, name)

    def name(self, topic: int, english: bool) -> str:
        return self.english[topic] if english else self.topics[topic]

    def declared_names(self, user: int) -> tuple[str, ...]:
        """The user's declared interests as they typed them: each in Chinese or English."""
        seed = self.config.seed
        return tuple(
            self.name(t, unit(seed, user, _DECLARED_NAME + t) < 0.5) for t in self.user_declared[user]
        )

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
        english=english_names(n_topics),
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
    world.families = {name: key for key, name in zip(world.topics, world.english, strict=True)}
    world.families.update({key: key for key in world.topics})
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

    tags: list[tuple[str, ...]]  # topic names, in either language
    candidates: list[Candidate]  # one template per note; merge_pools copies them
    by_tag: dict[str, list[int]]  # newest first
    by_family: dict[str, list[int]]  # newest first: the notes tagged with any name of the family
    main_family: list[str | None]  # each note's first tag's family (how a reader sees its topic)
    explorable: list[int]  # fresh, few impressions, small creator; newest first
    trending: list[int]  # the last days' notes by engagements
    popular: list[int]  # recent notes by smoothed engagement rate (for a viewer with no profile at all)
    by_engagements: list[int]  # every note by raw engagement count (the popularity baseline)


def observe(world: World, noise: float, plan: CandidatePlan = DEFAULT_PLAN) -> Observed:
    """Tag the notes (each true topic replaced by a random other one with chance `noise`; named in the
    creator's language, or the other one with chance `other_name_share`) and index them the way
    feed/store.py's pools read them."""
    rng = seeded_rng("tags", world.config.seed, noise)
    n_topics = len(world.topics)
    seed, other = world.config.seed, world.config.other_name_share
    tags: list[tuple[str, ...]] = []
    for note, topics in enumerate(world.note_topics):
        seen: list[int] = []
        for topic in topics:
            if noise > 0 and rng.random() < noise:
                topic = (topic + rng.randrange(1, n_topics)) % n_topics  # any other topic
            if topic not in seen:
                seen.append(topic)
        english = world.creator_language[world.note_author[note]] == "en"
        tags.append(
            tuple(
                world.name(t, english != (unit(seed, note, _TAG_NAME + i) < other))
                for i, t in enumerate(seen)
            )
        )
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
    by_family: dict[str, list[int]] = defaultdict(list)
    for note in newest:
        for tag in candidates[note].topics:
            by_tag[tag].append(note)
        for key in dict.fromkeys(world.family(tag) for tag in candidates[note].topics):
            by_family[key].append(note)
    main_family = [world.family(t[0]) if t else None for t in tags]
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
    return Observed(
        tags,
        candidates,
        dict(by_tag),
        dict(by_family),
        main_family,
        explorable,
        trending,
        popular,
        by_engagements,
    )


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
    *,
    families: bool = True,
    since: Sequence[tuple[int, Signal, float]] = (),
    served: Iterable[int] = (),
) -> ViewerInputs:
    """What discoverFeed loads for `user`, built from the log: the viewer (their latest signals and
    declared interests) and the pools of CandidatePlan, each cut to its size and then filtered of what
    the user was already shown (as the SQL of feed/store.py does), merged by merge_pools. The topic pool
    takes each top family's newest notes under any of its names, as feed/store.py does; without
    `families`, each name is a topic of its own (the ablation). `since`: signals after the log (oldest
    first); `served`: notes shown since, left out like the logged ones."""
    now = world.now
    tags, templates = observed.tags, observed.candidates
    family = world.family if families else same_name
    events = [*world.events[user], *since][-HISTORY_LIMIT:]
    history = [
        Engagement(note, signal, at, tags[note], templates[note].language, world.note_author[note])
        for note, signal, at in reversed(events)
    ]  # most recent first
    declared = world.declared_names(user)
    viewer = Viewer(user_id=user, history=history, onboarding=declared, family=family)
    viewer.profile = interest_profile(history, declared, now, params, family=family)
    cf = co_engagement_scores(recent_positives(history, plan.positives), neighbours)

    pools: dict[str, list[int]] = {}
    interests = top_topics(viewer.profile, plan.top_topics)
    index = observed.by_family if families else observed.by_tag
    pools["topic"] = [n for t in interests for n in index.get(t, [])[: plan.per_topic]]
    pools["neighbour"] = [n for _, n in heapq.nsmallest(plan.neighbours, [(-v[0], n) for n, v in cf.items()])]
    pools["explore"] = observed.explorable[: plan.explore]
    pools["trending"] = observed.trending[: plan.trending]
    if not viewer.profile:
        pools["popular"] = observed.popular[: plan.snapshot_size]
    # Shown, opened, liked, collected or dismissed: no candidate again (the SQL's filters).
    gone = world.shown[user] | set(served) | {note for note, _, _ in since}
    filtered = {name: [templates[n] for n in notes if n not in gone] for name, notes in pools.items()}
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
    main_family: Sequence[str | None] = ()  # per note (Observed.main_family): how readers see its topic
    slates: int = 0
    precision: float = 0.0
    ndcg: float = 0.0
    authors: int = 0
    families: int = 0
    family_repeats: float = 0.0
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
        families = [self.main_family[n] for n in slate[:K]] if self.main_family else []
        self.families += len(set(families))
        # Neighbours a reader sees as one topic (健身 next to fitness counts), per neighbouring pair.
        pairs = max(len(families) - 1, 1)
        self.family_repeats += sum(a is not None and a == b for a, b in itertools.pairwise(families)) / pairs
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
            "families_per_slate": self.families / slates,
            "family_repeats": self.family_repeats / slates,
        }


# --- one run ---------------------------------------------------------------------------------------


def ranker_variants(params: Params) -> dict[str, Params]:
    """The ranker and its ablations that differ in Params only (NO_FAMILIES differs in its inputs)."""
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
    tallies = {name: Tally(observed.main_family) for name in policies}
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
        if NO_FAMILIES in tallies:
            inputs = viewer_inputs(world, observed, user, neighbours, plan, params, families=False)
            ranked = rank(
                inputs.viewer,
                inputs.candidates,
                now=world.now,
                rng=seeded_rng(user, seed),
                limit=K,
                params=params,
            )
            tallies[NO_FAMILIES].add(world, user, [r.note_id for r in ranked], ideal)
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


# --- sessions: an interest taken up, "not interested", the author cap across snapshots ----------------

SESSION = 40  # positions of a next session the session measures look at (two pages of 20)
SHIFT_LIKES = (0, 2, 4, 8)  # likes on a family new to the reader
SESSION_USERS = 200  # readers sampled per seed (the same for every tag noise)
CHAIN = (3, 20)  # continuation snapshots × positions each, for the author cap across snapshots
_NEW_FAMILY = 9_000_000  # salt of the hashed draw choosing a reader's new family


def session_users(world: World, count: int = SESSION_USERS) -> list[int]:
    rng = seeded_rng("sessions", world.config.seed)
    everyone = range(len(world.user_interests))
    return sorted(rng.sample(everyone, min(count, len(everyone))))


def _session(
    world: World,
    observed: Observed,
    user: int,
    neighbours: dict[int, list[tuple[int, float]]],
    plan: CandidatePlan,
    params: Params,
    *,
    since: Sequence[tuple[int, Signal, float]] = (),
    served: Iterable[int] = (),
    limit: int = SESSION,
    preceding: Preceding = Preceding(),
    generation: int = 0,
) -> list[Ranked]:
    """The reader's next feed session (one snapshot), as discoverFeed would build it after `since`."""
    inputs = viewer_inputs(world, observed, user, neighbours, plan, params, since=since, served=served)
    return rank(
        inputs.viewer,
        inputs.candidates,
        now=world.now,
        rng=seeded_rng(user, world.config.seed, generation),
        limit=limit,
        params=params,
        preceding=preceding,
    )


def _earlier_families(world: World, user: int) -> set[str]:
    """The families a reader was into before: their true interests and what they declared."""
    return {world.topics[t] for t in world.user_interests[user]} | {
        world.family(n) for n in world.declared_names(user)
    }


def interest_shift(
    world: World,
    observed: Observed,
    neighbours: dict[int, list[tuple[int, float]]],
    users: Sequence[int],
    *,
    plan: CandidatePlan = DEFAULT_PLAN,
    params: Params = DEFAULT_PARAMS,
) -> dict[str, float]:
    """After k likes on a family new to the reader (the most engaged notes of it they were not shown,
    minutes apart), the next session's shares: the new family, the reader's earlier interests and the
    exploration slots."""
    sums: dict[str, float] = defaultdict(float)
    counted = 0
    for user in users:
        earlier = _earlier_families(world, user)
        options = sorted(
            f for f, notes in observed.by_family.items() if f not in earlier and len(notes) >= 40
        )
        if not options:
            continue
        new = options[int(unit(world.config.seed, user, _NEW_FAMILY) * len(options))]
        # What a topic page shows first: the family's most engaged notes (about it first of all), of those
        # the reader was not shown.
        unseen = sorted(
            (
                n
                for n in observed.by_family[new]
                if n not in world.shown[user] and observed.main_family[n] == new
            ),
            key=lambda n: (-world.engagements[n], n),
        )
        counted += 1
        for k in SHIFT_LIKES:
            since = [(n, Signal.LIKE, world.now - (k - i) * 300.0) for i, n in enumerate(unseen[:k])]
            ranked = _session(world, observed, user, neighbours, plan, params, since=since)
            families = [observed.main_family[r.note_id] for r in ranked]
            size = max(len(ranked), 1)
            sums[f"k{k}_new"] += families.count(new) / size
            sums[f"k{k}_earlier"] += sum(f in earlier for f in families) / size
            sums[f"k{k}_explored"] += sum(r.explored for r in ranked) / size
    return {key: value / max(counted, 1) for key, value in sums.items()}


def dismissal_effect(
    world: World,
    observed: Observed,
    neighbours: dict[int, list[tuple[int, float]]],
    users: Sequence[int],
    *,
    plan: CandidatePlan = DEFAULT_PLAN,
    params: Params = DEFAULT_PARAMS,
) -> dict[str, float]:
    """A declared interest's share of the next session before "not interested" and after one and two taps
    (each on the first note of that family in the session before), and how many readers it left at 0 %."""
    sums: dict[str, float] = defaultdict(float)
    counted = 0
    for user in users:
        target = world.family(world.declared_names(user)[0])
        since: list[tuple[int, Signal, float]] = []
        shares: list[float] = []
        for taps in range(3):
            ranked = _session(world, observed, user, neighbours, plan, params, since=since)
            families = [observed.main_family[r.note_id] for r in ranked]
            shares.append(families.count(target) / max(len(ranked), 1))
            tapped = next((r.note_id for r, f in zip(ranked, families, strict=True) if f == target), None)
            if tapped is None:
                break
            since.append((tapped, Signal.NOT_INTERESTED, world.now - 60.0 * (2 - taps)))
        if len(shares) < 3 or shares[0] == 0:  # nothing of it to tap: not a reader this measures
            continue
        counted += 1
        for taps, share in enumerate(shares):
            sums[f"taps{taps}_share"] += share
        sums["taps2_gone"] += shares[2] == 0
    return {key: value / max(counted, 1) for key, value in sums.items()}


def author_cap(
    world: World,
    observed: Observed,
    neighbours: dict[int, list[tuple[int, float]]],
    users: Sequence[int],
    *,
    plan: CandidatePlan = DEFAULT_PLAN,
    params: Params = DEFAULT_PARAMS,
) -> dict[str, float]:
    """The most notes of one author in any `window` consecutive positions of a session made of CHAIN
    continuation snapshots, each leaving out what the others served: with the preceding authors carried
    into each snapshot (as discoverFeed does), and without (the rule per snapshot only), for comparison."""
    snapshots, size = CHAIN
    window = params.window
    found: dict[str, float] = defaultdict(float)
    for user in users:
        for carried in (True, False):
            served: list[int] = []
            authors: list[int] = []
            preceding = Preceding()
            for generation in range(snapshots):
                ranked = _session(
                    world, observed, user, neighbours, plan, params,
                    served=served, limit=size, generation=generation,
                    preceding=preceding if carried else Preceding(position=len(served)),
                )  # fmt: skip
                served += [r.note_id for r in ranked]
                authors += [r.author_id for r in ranked]
                preceding = preceding.then(ranked, window)
            worst = max(
                (
                    max(Counter(authors[i : i + window]).values())
                    for i in range(max(len(authors) - window + 1, 1))
                ),
                default=0,
            )
            name = "carried" if carried else "per_snapshot"
            found[f"{name}_worst"] = max(found[f"{name}_worst"], float(worst))
            found[f"{name}_over"] += (worst > params.max_per_author_per_window) / len(users)
    return dict(found)


def session_measures(
    world: World,
    noise: float,
    neighbours: dict[int, list[tuple[int, float]]],
    *,
    plan: CandidatePlan = DEFAULT_PLAN,
    params: Params = DEFAULT_PARAMS,
    users: Sequence[int] | None = None,
) -> dict[str, float]:
    """Every session measure for one world at one tag noise, as one flat dict."""
    observed = observe(world, noise, plan)
    chosen = session_users(world) if users is None else users
    found: dict[str, float] = {}
    for prefix, measure in (("shift", interest_shift), ("dismiss", dismissal_effect), ("cap", author_cap)):
        values = measure(world, observed, neighbours, chosen, plan=plan, params=params)
        found.update({f"{prefix}_{key}": value for key, value in values.items()})
    return found


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
    sessions: bool = True,
) -> list[dict[str, Any]]:
    """Generate one seed's world, then evaluate every policy and (with `sessions`) the session measures
    at each tag noise (and, with `timing`, time `rank` on the first)."""
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
        run: dict[str, Any] = {"seed": config.seed, "noise": noise, "metrics": metrics}
        if sessions:
            run["sessions"] = session_measures(world, noise, neighbours, plan=plan, params=params)
        runs.append(run)
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


def summarise_sessions(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """noise → session measure → {mean, sd (over seeds), min, max}."""
    grouped: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for key, value in run.get("sessions", {}).items():
            grouped[_noise_key(run["noise"])][key].append(value)
    return {
        noise: {
            key: {
                "mean": statistics.fmean(values),
                "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
                "min": min(values),
                "max": max(values),
            }
            for key, values in measures.items()
        }
        for noise, measures in grouped.items()
    }


def session_acceptance(sessions: dict[str, dict[str, dict[str, float]]], window: int = 20) -> list[Criterion]:
    """What the reader-facing issue asks of whole sessions, on the means over seeds (the author cap on
    the worst session of any seed)."""
    found: list[Criterion] = []
    likes = max(SHIFT_LIKES)
    for noise, m in sessions.items():

        def mean(key: str, m: Any = m) -> float:
            return float(m[key]["mean"])

        new, earlier = mean(f"shift_k{likes}_new"), mean(f"shift_k{likes}_earlier")
        found.append(
            Criterion(noise, f"after {likes} likes on a new family, earlier interests ≥ 20 %", earlier, 0.2,
                      earlier >= 0.2, f"new family {new:.1%}, earlier interests {earlier:.1%}")
        )  # fmt: skip
        explored = min(mean(f"shift_k{k}_explored") for k in SHIFT_LIKES)
        found.append(
            Criterion(noise, "exploration ≥ 10 % of the next session", explored, 0.1, explored >= 0.1 - 1e-9,
                      f"lowest over k = {', '.join(map(str, SHIFT_LIKES))} likes: {explored:.1%}")
        )  # fmt: skip
        gone = mean("dismiss_taps2_gone")
        name = '2 "not interested" taps never erase a declared interest'
        found.append(
            Criterion(noise, name, gone, 0.0, gone == 0.0,
                      f"share {mean('dismiss_taps0_share'):.1%} → {mean('dismiss_taps1_share'):.1%} → "
                      f"{mean('dismiss_taps2_share'):.1%}; readers left at 0 %: {gone:.1%}")
        )  # fmt: skip
        worst = float(m["cap_carried_worst"]["max"])
        name = f"≤ 2 per author in any {window} positions across snapshots"
        found.append(
            Criterion(noise, name, worst, 2.0, worst <= 2,
                      f"worst {worst:.0f} (per snapshot only: {m['cap_per_snapshot_worst']['max']:.0f}, "
                      f"{mean('cap_per_snapshot_over'):.0%} of sessions over)")
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
    'maybe an open or a "not interested". Tag noise replaces each tag by another topic. Every topic has a '
    "Chinese and an English name (护肤 / skincare): a note is tagged in its creator's language, 30 % of the "
    "time in the other; declared interests are in either; the ranker counts the names of a topic as one "
    "family (the `families` ablation does not).",
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
    if report.get("sessions"):
        lines += _session_lines(report)
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


def _session_lines(report: dict[str, Any]) -> list[str]:
    snapshots, size = CHAIN
    lines = [
        "",
        "## Sessions",
        "",
        f"{SESSION_USERS} readers per seed, the first {SESSION} positions of their next session (one "
        "snapshot), mean ± sd over seeds. **Interest shift**: the reader likes k of the most engaged "
        "notes of a family new to them (not among their true or declared interests), minutes apart; "
        "shares of the new family, of their earlier interests and of exploration slots. **Not "
        "interested**: the share of the reader's first declared interest, before and after one and two "
        "taps (each on that family's first note in the session before), and the readers it left at 0 %. "
        f"**Author cap**: sessions of {snapshots} continuation snapshots of {size}, the most notes of one "
        f"author in any {report['params']['window']} consecutive positions, carrying the preceding "
        "authors into each snapshot (as discoverFeed does) or not (the rule per snapshot only).",
    ]
    for noise, m in report["sessions"].items():

        def cell(key: str, m: Any = m) -> str:
            return f"{m[key]['mean']:.1%} ± {m[key]['sd']:.1%}"

        lines += ["", f"### Tag noise {float(noise):.1f}", "", "| likes on the new family | new family | "
                  "earlier interests | exploration |", "|---:|---:|---:|---:|"]  # fmt: skip
        for k in SHIFT_LIKES:
            lines.append(f"| {k} | {cell(f'shift_k{k}_new')} | {cell(f'shift_k{k}_earlier')} | "
                         f"{cell(f'shift_k{k}_explored')} |")  # fmt: skip
        lines += ["", '| "not interested" taps | declared interest\'s share |', "|---:|---:|"]
        lines += [f"| {taps} | {cell(f'dismiss_taps{taps}_share')} |" for taps in range(3)]
        lines.append(f"| readers left at 0 % after 2 | {cell('dismiss_taps2_gone')} |")
        lines += [
            "",
            "| author cap | worst in any window | sessions over 2 |",
            "|---|---:|---:|",
            f"| carried across snapshots | {m['cap_carried_worst']['max']:.0f} | "
            f"{cell('cap_carried_over')} |",
            f"| per snapshot only | {m['cap_per_snapshot_worst']['max']:.0f} | "
            f"{cell('cap_per_snapshot_over')} |",
        ]
    lines += ["", "| noise | criterion | result | detail |", "|---|---|---|---|"]
    for c in report["session_acceptance"]:
        verdict = "PASS" if c["passed"] else "FAIL"
        lines.append(f"| {float(c['noise']):.1f} | {c['name']} | **{verdict}** | {c['detail']} |")
    return lines


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
    sessions = summarise_sessions(runs)
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
        "sessions": sessions,
        "session_acceptance": [asdict(c) for c in session_acceptance(sessions, params.window)],
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
    criteria = report["acceptance"] + report["session_acceptance"]
    failed = [c for c in criteria if not c["passed"]]
    for c in criteria:
        print(
            f"{'PASS' if c['passed'] else 'FAIL'}  noise {float(c['noise']):.1f}  {c['name']}: {c['detail']}"
        )
    print(f"{len(criteria) - len(failed)}/{len(criteria)} criteria pass "
          f"in {report['seconds']:.1f} s; wrote {args.out}/feed_eval.md and .json")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
