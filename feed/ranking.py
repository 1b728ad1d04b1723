"""The discovery ranking: interests, co-engagement and smoothed quality — never fame.

Plain functions over plain data, shared by `discoverFeed` (which loads the data from the database) and
`bench/feed_eval` (which builds it from a synthetic world), so the benchmark measures the code that
serves. Nothing here imports GraphQL or the ORM. Design and figures: ../shared/design/FEED.md.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

DAY = 86_400.0


class Signal(StrEnum):
    """What a person did with a note, and how much it says about their interests."""

    OPEN = "OPEN"
    LIKE = "LIKE"
    COMMENT = "COMMENT"
    COLLECT = "COLLECT"
    FOLLOW_AFTER_VIEW = "FOLLOW_AFTER_VIEW"
    NOT_INTERESTED = "NOT_INTERESTED"


SIGNAL_WEIGHTS: dict[Signal, float] = {
    Signal.OPEN: 0.5,
    Signal.LIKE: 1.0,
    Signal.COMMENT: 2.0,
    Signal.COLLECT: 3.0,
    Signal.FOLLOW_AFTER_VIEW: 4.0,
    Signal.NOT_INTERESTED: -5.0,
}
POSITIVE = frozenset({Signal.LIKE, Signal.COMMENT, Signal.COLLECT, Signal.FOLLOW_AFTER_VIEW})


@dataclass(frozen=True)
class Params:
    """Tunables, with the values the benchmark was run with (bench/feed_eval reports them)."""

    profile_half_life_days: float = 14.0 / math.log(2)  # exp(−Δt/14 d) written as a half-life
    onboarding_weight: float = 2.0
    smoothing_m: float = 20.0  # pseudo-impressions of the quality prior
    creator_prior_k: float = 50.0  # pseudo-impressions shrinking a creator's rate to the global one
    freshness_half_life_days: float = 7.0
    relevance_weight: float = 0.5
    cf_weight: float = 0.5
    author_decay: float = 0.5  # k-th note of an author: s·((1−floor)·decay^k + floor)
    author_floor: float = 0.25
    window: int = 20
    max_per_author_per_window: int = 2
    exploration_slots: tuple[int, ...] = (9, 19)  # 0-based positions within each window
    exploration_max_impressions: int = 200
    exploration_max_followers: int = 1000
    exploration_max_age_days: float = 14.0
    diversity: bool = True  # ablation switch: False keeps the pure score order
    raw_count_boost: bool = False  # ablation switch: multiply by raw engagement counts (what not to do)


DEFAULT_PARAMS = Params()


@dataclass(frozen=True)
class Engagement:
    """One signal from the viewer's history, with the note's features at the time."""

    note_id: int
    signal: Signal
    at: float  # unix seconds
    topics: tuple[str, ...]
    language: str = ""


@dataclass
class Candidate:
    """A note that may be shown, with what the ranker is allowed to know about it."""

    note_id: int
    author_id: int
    topics: tuple[str, ...]
    language: str
    created_at: float
    impressions: int
    engagements: int  # likes + collects + comments received
    author_followers: int  # only decides exploration eligibility; never part of the score
    sources: frozenset[str] = frozenset()  # "topic", "neighbour", "explore", "trending", "popular"
    cf: float = 0.0  # co-engagement with the viewer's recent positives (see co_engagement_scores)
    cf_from: tuple[int, ...] = ()  # the viewer's notes that made it a neighbour


class ReasonKind(StrEnum):
    MATCHED_TOPICS = "MATCHED_TOPICS"
    SIMILAR_TO_LIKED = "SIMILAR_TO_LIKED"
    NEW_CREATOR = "NEW_CREATOR"
    TRENDING = "TRENDING"
    QUALITY = "QUALITY"


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    topics: tuple[str, ...] = ()
    note_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Ranked:
    note_id: int
    author_id: int
    score: float
    reason: Reason


@dataclass
class Viewer:
    """The person the feed is for (user_id 0 for an anonymous visitor)."""

    user_id: int
    history: Sequence[Engagement] = ()
    onboarding: Sequence[str] = ()  # chosen interests: normalised topic names
    profile: dict[str, float] = field(default_factory=dict)


# --- features and profiles -------------------------------------------------------------------------


def note_features(topics: Iterable[str], language: str) -> dict[str, float]:
    """Sparse, L2-normalised: each topic 1.0, the language 0.2."""
    vector: dict[str, float] = {f"t:{t}": 1.0 for t in topics}
    if language and language != "und":
        vector[f"lang:{language}"] = 0.2
    return _normalised(vector)


def interest_profile(
    history: Sequence[Engagement],
    onboarding: Sequence[str],
    now: float,
    params: Params = DEFAULT_PARAMS,
) -> dict[str, float]:
    """Σ weight · exp(−Δt/14 d) · features over the history, plus the onboarding interests; L2-normalised."""
    profile: dict[str, float] = defaultdict(float)
    for event in history:
        age_days = max(now - event.at, 0.0) / DAY
        decay = 0.5 ** (age_days / params.profile_half_life_days)
        weight = SIGNAL_WEIGHTS[event.signal] * decay
        for key, value in note_features(event.topics, event.language).items():
            profile[key] += weight * value
    for topic in onboarding:
        profile[f"t:{topic}"] += params.onboarding_weight
    positive = {k: v for k, v in profile.items() if v > 0}
    return _normalised(positive)


def top_topics(profile: Mapping[str, float], limit: int) -> list[str]:
    ranked = sorted(((v, k) for k, v in profile.items() if k.startswith("t:")), reverse=True)
    return [k[2:] for _, k in ranked[:limit]]


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm > 0 else {}


def cosine(profile: Mapping[str, float], features: Mapping[str, float]) -> float:
    small, large = (features, profile) if len(features) < len(profile) else (profile, features)
    return sum(v * large.get(k, 0.0) for k, v in small.items())


# --- co-engagement ---------------------------------------------------------------------------------


def co_engagement(
    engagers: Mapping[int, Iterable[int]], *, neighbours: int = 50, max_items_per_user: int = 100
) -> dict[int, list[tuple[int, float]]]:
    """Item-to-item similarity sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|) from who engaged with what
    (`engagers`: user id → note ids, most recent first), keeping each note's top neighbours.

    A person's list is capped at `max_items_per_user` (their most recent), which bounds the work at
    about users × cap² / 2 pair updates however heavy the heaviest users are."""
    item_users: Counter[int] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    for items in engagers.values():
        unique = list(dict.fromkeys(items))[:max_items_per_user]
        item_users.update(unique)
        unique.sort()
        for a in range(len(unique)):
            first = unique[a]
            for b in range(a + 1, len(unique)):
                pairs[(first, unique[b])] += 1
    found: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (i, j), both in pairs.items():
        sim = both / math.sqrt(item_users[i] * item_users[j])
        for a, b in ((i, j), (j, i)):
            bucket = found[a]
            if len(bucket) < neighbours:
                heapq.heappush(bucket, (sim, b))
            elif sim > bucket[0][0]:
                heapq.heapreplace(bucket, (sim, b))
    return {
        i: sorted(((n, s) for s, n in bucket), key=lambda p: (-p[1], p[0])) for i, bucket in found.items()
    }


def co_engagement_scores(
    positives: Sequence[tuple[int, float]], neighbours: Mapping[int, Sequence[tuple[int, float]]]
) -> dict[int, tuple[float, tuple[int, ...]]]:
    """cf(u, n) = Σ over the viewer's recent positives p (with weight w) of w · sim(p, n), scaled so the
    best is 1; and for each note the positives it came from (for explanations)."""
    raw: dict[int, float] = defaultdict(float)
    sources: dict[int, list[int]] = defaultdict(list)
    for note_id, weight in positives:
        for neighbour, sim in neighbours.get(note_id, ()):
            raw[neighbour] += weight * sim
            sources[neighbour].append(note_id)
    best = max(raw.values(), default=0.0)
    if best <= 0:
        return {}
    return {n: (v / best, tuple(sources[n][:3])) for n, v in raw.items()}


# --- scoring ---------------------------------------------------------------------------------------


def quality_ratios(candidates: Sequence[Candidate], params: Params = DEFAULT_PARAMS) -> dict[int, float]:
    """(q / μ)^0.5 per note, with q = (E + m·μ_creator) / (I + m) and μ_creator shrunk toward the global
    rate μ: a smoothed engagement rate, so a note is judged by how often it is engaged with when shown,
    never by how many people follow its author."""
    total_e = sum(c.engagements for c in candidates)
    total_i = sum(c.impressions for c in candidates)
    mu = (total_e + 1.0) / (total_i + 20.0)  # the global rate, itself lightly smoothed
    by_creator: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for c in candidates:
        by_creator[c.author_id][0] += c.engagements
        by_creator[c.author_id][1] += c.impressions
    ratios: dict[int, float] = {}
    for c in candidates:
        e, i = by_creator[c.author_id]
        mu_creator = (e + params.creator_prior_k * mu) / (i + params.creator_prior_k)
        q = (min(c.engagements, c.impressions + params.smoothing_m) + params.smoothing_m * mu_creator) / (
            c.impressions + params.smoothing_m
        )
        ratios[c.note_id] = math.sqrt(max(q, 1e-9) / mu)
    return ratios


def freshness(created_at: float, now: float, params: Params = DEFAULT_PARAMS) -> float:
    return 0.5 ** (max(now - created_at, 0.0) / DAY / params.freshness_half_life_days)


def score_candidates(
    viewer: Viewer, candidates: Sequence[Candidate], now: float, params: Params = DEFAULT_PARAMS
) -> list[tuple[float, Candidate, float]]:
    """(score, candidate, relevance) for every candidate:
    s = (0.5·rel² + 0.5·cf) · (q/μ)^0.5 · freshness. No follower term."""
    quality = quality_ratios(candidates, params)
    scored = []
    for c in candidates:
        rel = cosine(viewer.profile, note_features(c.topics, c.language))
        s = (params.relevance_weight * rel * rel + params.cf_weight * c.cf) * quality[c.note_id]
        s *= freshness(c.created_at, now, params)
        if params.raw_count_boost:
            s *= 1.0 + c.engagements
        scored.append((s, c, rel))
    return scored


# --- re-ranking ------------------------------------------------------------------------------------


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded from (user, session, …), stable across processes and Python versions."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def is_exploration(c: Candidate, now: float, params: Params = DEFAULT_PARAMS) -> bool:
    """Fresh notes from small creators that few people have seen yet."""
    return (
        c.impressions < params.exploration_max_impressions
        and c.author_followers < params.exploration_max_followers
        and now - c.created_at <= params.exploration_max_age_days * DAY
    )


def rank(
    viewer: Viewer,
    candidates: Sequence[Candidate],
    *,
    now: float,
    rng: random.Random,
    limit: int,
    params: Params = DEFAULT_PARAMS,
) -> list[Ranked]:
    """The feed for `viewer`: scored, then re-ranked for diversity with exploration slots.

    Re-rank: the k-th note of an author is worth s·((1−0.25)·0.5^k + 0.25); per window of 20 at most two
    notes per author and no two neighbours with the same main topic (relaxed only when nothing else is
    left); positions 10 and 20 of each window go to exploration notes chosen by Thompson sampling on
    Beta(1 + E, 20 + I − E), weighted by relevance."""
    if not viewer.profile:
        viewer.profile = interest_profile(viewer.history, viewer.onboarding, now, params)
    scored = score_candidates(viewer, candidates, now, params)
    if not params.diversity:
        order = sorted(scored, key=lambda t: (-t[0], t[1].note_id))[:limit]
        return [
            Ranked(c.note_id, c.author_id, s, explain(viewer, c, rel, now, params)) for s, c, rel in order
        ]
    # Heap of (-adjusted score, note id, author count the adjustment assumed).
    by_id = {c.note_id: (s, c, rel) for s, c, rel in scored}
    heap = [(-s, c.note_id, 0) for s, c, _ in scored]
    heapq.heapify(heap)
    explore = [c for _, c, _ in scored if is_exploration(c, now, params)]
    placed: list[Ranked] = []
    taken: set[int] = set()
    author_total: Counter[int] = Counter()
    while len(placed) < limit and (heap or explore):
        position = len(placed) % params.window
        pick = None
        if position in params.exploration_slots and explore:
            pick = _thompson_pick(explore, taken, by_id, rng)
        if pick is None:
            pick = _best_allowed(heap, by_id, taken, placed, author_total, params)
        if pick is None:
            break
        s, c, rel = by_id[pick]
        taken.add(pick)
        author_total[c.author_id] += 1
        reason = explain(viewer, c, rel, now, params, explored=position in params.exploration_slots)
        placed.append(Ranked(c.note_id, c.author_id, s, reason))
    return placed


def _decayed(score: float, k: int, params: Params) -> float:
    return score * ((1 - params.author_floor) * params.author_decay**k + params.author_floor)


def _best_allowed(
    heap: list[tuple[float, int, int]],
    by_id: Mapping[int, tuple[float, Candidate, float]],
    taken: set[int],
    placed: list[Ranked],
    author_total: Counter[int],
    params: Params,
) -> int | None:
    window_start = len(placed) - len(placed) % params.window
    in_window = Counter(r.author_id for r in placed[window_start:])
    last_topic = _main_topic(by_id[placed[-1].note_id][1]) if placed else None
    set_aside: list[tuple[float, int, int]] = []
    chosen = None
    fallback = None
    while heap:
        neg, note_id, assumed = heapq.heappop(heap)
        if note_id in taken:
            continue
        s, c, _ = by_id[note_id]
        k = author_total[c.author_id]
        if k != assumed:  # the author gained notes since this entry was scored: re-score lazily
            heapq.heappush(heap, (-_decayed(s, k, params), note_id, k))
            continue
        entry = (neg, note_id, assumed)
        if in_window[c.author_id] >= params.max_per_author_per_window:
            set_aside.append(entry)
            continue
        if last_topic is not None and _main_topic(c) == last_topic:
            set_aside.append(entry)
            if fallback is None:
                fallback = note_id
            if len(set_aside) > 200:  # nothing better nearby: accept the same topic
                break
            continue
        chosen = note_id
        break
    if chosen is None:
        # Relax: the best note of the same topic, else (only over-represented authors left) the best.
        chosen = fallback if fallback is not None else (min(set_aside)[1] if set_aside else None)
    for entry in set_aside:
        if entry[1] != chosen:
            heapq.heappush(heap, entry)
    return chosen


def _main_topic(c: Candidate) -> str | None:
    return c.topics[0] if c.topics else None


def _thompson_pick(
    explore: list[Candidate],
    taken: set[int],
    by_id: Mapping[int, tuple[float, Candidate, float]],
    rng: random.Random,
) -> int | None:
    best, best_value = None, -1.0
    for c in explore:
        if c.note_id in taken:
            continue
        engaged = min(c.engagements, c.impressions)
        theta = rng.betavariate(1 + engaged, 20 + c.impressions - engaged)
        value = theta * (0.25 + by_id[c.note_id][2])
        if value > best_value:
            best, best_value = c.note_id, value
    return best


def explain(
    viewer: Viewer, c: Candidate, rel: float, now: float, params: Params, *, explored: bool = False
) -> Reason:
    """Why this note is in the feed, in terms a person understands."""
    if explored and is_exploration(c, now, params):
        return Reason(ReasonKind.NEW_CREATOR, topics=c.topics[:2])
    interests = set(top_topics(viewer.profile, 8))
    matched = tuple(t for t in c.topics if t in interests)
    if c.cf > 0 and c.cf_from and c.cf * params.cf_weight >= params.relevance_weight * rel * rel:
        return Reason(ReasonKind.SIMILAR_TO_LIKED, topics=matched[:2], note_ids=c.cf_from)
    if matched:
        return Reason(ReasonKind.MATCHED_TOPICS, topics=matched[:3])
    if "trending" in c.sources:
        return Reason(ReasonKind.TRENDING, topics=c.topics[:2])
    return Reason(ReasonKind.QUALITY, topics=c.topics[:2])
