"""The discovery ranking: interests, co-engagement and smoothed quality — never fame.

Plain functions over plain data, shared by `discoverFeed` (which loads the data from the database) and
`bench/feed_eval` (which builds it from a synthetic world), so the benchmark measures the code that
serves. Nothing here imports GraphQL or the ORM. Design and figures: ../shared/design/FEED.md.

Topics are compared by family (健身, fitness and gym are one interest, one topic for the diversity rules):
the caller hands in the mapping as `Viewer.family` (search.families for the API, the synthetic world's
own for the benchmark), so this module stays free of the database.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import random
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    """Tunables. The defaults are the values tuned with the benchmark (bench/feed_eval reports them with
    its results); where they depart from FEED.md's starting design, the comment says why."""

    profile_half_life_days: float = 14.0 * math.log(2)  # exp(−Δt/14 d) written as a half-life (9.7 d)
    onboarding_weight: float = 5.0  # a declared interest counts as five likes (cold start)
    # Evidence v of each feature counts as vⁿ / (vⁿ + θⁿ): the topic people were shown most (and so
    # engaged with most) must not drown their other interests, while one stray like stays small.
    profile_saturation: float = 3.0  # θ; 0 keeps the plain sum
    profile_hill: float = 2.0  # n
    smoothing_m: float = 20.0  # pseudo-impressions of the quality prior
    creator_prior_k: float = 50.0  # pseudo-impressions shrinking a creator's rate to its baseline
    # Topics with a big audience are engaged with more whatever the note: compare with topic peers.
    topic_prior_k: float | None = 200.0  # pseudo-impressions shrinking a topic's rate to the global one
    quality_exponent: float = 1.0  # (q/μ)^this
    freshness_half_life_days: float = 21.0  # evergreen content
    relevance_weight: float = 0.5
    relevance_exponent: float = 2.0  # rel²
    secondary_topic_weight: float = 0.5  # a note's topics after its main (first) one, in its features
    cf_weight: float = 0.3
    cf_exponent: float = 0.3  # cf^this: lifts the neighbours of a viewer's smaller interests
    author_decay: float = 0.7  # k-th note of an author: s·((1−floor)·decay^k + floor)
    author_floor: float = 0.5
    window: int = 20  # any this many consecutive positions of a session, across pages and continuations
    max_per_author_per_window: int = 2
    # 0-based positions within each 20 of the session: any 20 consecutive positions hold each once.
    exploration_slots: tuple[int, ...] = (9, 19)
    # The most promising eligible notes still free that Thompson sampling chooses among: 40 cost 0.6 % of
    # precision@20 against 10 in bench/feed_eval (a wider choice draws more long shots).
    exploration_pool: int = 10
    exploration_max_impressions: int = 200
    exploration_max_followers: int = 1000
    # How far back a small creator's note counts as new, narrowest first: the first window holding at least
    # `exploration_min_eligible` such candidates is used, so a quiet site still fills its exploration slots.
    exploration_windows_days: tuple[float, ...] = (14.0, 30.0, 90.0)
    exploration_min_eligible: int = 20
    core_interests: int = 4  # the viewer's top families; a note of any other family is exploration
    # A declared interest whose notes the viewer dismissed keeps a place in any `window` consecutive
    # positions while it has notes the rules allow, however damped its scores (up to this many of them).
    declared_kept: int = 3
    # "Not interested" damps the note's author and family for `dismiss_days`, fading linearly: a fresh tap
    # multiplies their scores by 1 − strength, repeated taps multiply again. A family never drops below its
    # floor, so a declared interest is damped, never erased (the note itself is never shown again).
    dismiss_days: float = 14.0
    dismiss_author: float = 0.6
    dismiss_family: float = 0.25
    dismiss_family_floor: float = 0.5
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
    author_id: int = 0  # 0: unknown (a "not interested" then damps no author)


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
    explored: bool = False  # placed in an exploration slot
    family: str | None = None  # of its main topic


def same_name(name: str) -> str:
    """The family mapping of a world without families: each topic name is its own."""
    return name


@dataclass
class Viewer:
    """The person the feed is for (user_id 0 for an anonymous visitor)."""

    user_id: int
    history: Sequence[Engagement] = ()
    onboarding: Sequence[str] = ()  # chosen interests: normalised topic names
    profile: dict[str, float] = field(default_factory=dict)  # keyed by family ("t:<family key>")
    family: Callable[[str], str] = same_name  # a topic name's family key (search.families in the API)
    # The profile is the site's topic prior, not the viewer's: nothing is known about them, so no reason
    # may claim their interests.
    from_prior: bool = False


@dataclass(frozen=True)
class Preceding:
    """What the session showed before this ranking (a continuation snapshot): the authors and main
    families of its last `window − 1` positions (oldest first) and how many positions it had, so the
    window rules and the exploration slots run on across snapshots as if the session were one list."""

    authors: tuple[int, ...] = ()
    families: tuple[str | None, ...] = ()
    position: int = 0

    def then(self, placed: Sequence[Ranked], window: int) -> Preceding:
        """What a continuation of this session after `placed` must know."""
        keep = max(window - 1, 0)
        authors = (*self.authors, *(r.author_id for r in placed))
        families = (*self.families, *(r.family for r in placed))
        return Preceding(
            authors[len(authors) - keep :] if keep else (),
            families[len(families) - keep :] if keep else (),
            self.position + len(placed),
        )


# --- features and profiles -------------------------------------------------------------------------


TOPIC_FEATURE = 1.0
LANGUAGE_FEATURE = 0.2


def note_features(
    topics: Iterable[str], language: str, secondary: float = 1.0, family: Callable[[str], str] = same_name
) -> dict[str, float]:
    """Sparse, L2-normalised: the main (first) topic's family 1.0, each other family `secondary`, the
    language 0.2. Two names of one family (健身, fitness) are one feature."""
    vector: dict[str, float] = {}
    for topic in topics:
        vector.setdefault(f"t:{family(topic)}", TOPIC_FEATURE if not vector else TOPIC_FEATURE * secondary)
    if language and language != "und":
        vector[f"lang:{language}"] = LANGUAGE_FEATURE
    return _normalised(vector)


def interest_profile(
    history: Sequence[Engagement],
    onboarding: Sequence[str],
    now: float,
    params: Params = DEFAULT_PARAMS,
    prior: Mapping[str, float] | None = None,
    family: Callable[[str], str] = same_name,
) -> dict[str, float]:
    """Σ weight · exp(−Δt/14 d) · features over the history, plus the onboarding interests, by family;
    L2-normalised. "Not interested" (−5) takes from what the history taught, never below nothing and never
    from a declared interest: subtracted from the sum with the declared weight, two taps erased a declared
    interest (the scores of a dismissed note's author and family are damped for a while instead, see
    `dismissal_damping`). When nothing is left, `prior` (the global topic prior, see `topic_prior`) if
    given, else {}."""
    learned: dict[str, float] = defaultdict(float)
    secondary = params.secondary_topic_weight
    for event in history:
        age_days = max(now - event.at, 0.0) / DAY
        weight = SIGNAL_WEIGHTS[event.signal] * 0.5 ** (age_days / params.profile_half_life_days)
        for key, value in note_features(event.topics, event.language, secondary, family).items():
            learned[key] += weight * value
    profile = {k: v for k, v in learned.items() if v > 0}
    for topic in onboarding:
        key = f"t:{family(topic)}"
        profile[key] = profile.get(key, 0.0) + params.onboarding_weight
    theta, n = params.profile_saturation, params.profile_hill
    if theta > 0:
        positive = {k: 1.0 / (1.0 + (theta / v) ** n) for k, v in profile.items() if v > 0}
    else:
        positive = {k: v for k, v in profile.items() if v > 0}
    if not positive and prior:
        positive = {k: v for k, v in prior.items() if v > 0}
    return _normalised(positive)


def topic_prior(
    candidates: Iterable[Candidate], limit: int = 20, family: Callable[[str], str] = same_name
) -> dict[str, float]:
    """The global topic prior of what is on offer: each family's share of the candidates' tags."""
    counts = Counter(family(t) for c in candidates for t in dict.fromkeys(c.topics))
    total = sum(counts.values()) or 1
    return {f"t:{t}": n / total for t, n in counts.most_common(limit)}


def dismissal_damping(
    history: Sequence[Engagement],
    now: float,
    params: Params = DEFAULT_PARAMS,
    family: Callable[[str], str] = same_name,
) -> tuple[dict[int, float], dict[str, float]]:
    """The factors recent "not interested" taps put on scores: (per author, per main family). Each tap
    multiplies by 1 − strength · (1 − age / dismiss_days) while younger than dismiss_days; a family keeps at
    least its floor."""
    authors: dict[int, float] = {}
    families: dict[str, float] = {}
    span = params.dismiss_days * DAY
    for event in history:
        if event.signal is not Signal.NOT_INTERESTED:
            continue
        left = 1.0 - max(now - event.at, 0.0) / span if span > 0 else 0.0
        if left <= 0:
            continue
        if event.author_id:
            authors[event.author_id] = authors.get(event.author_id, 1.0) * (1 - params.dismiss_author * left)
        if event.topics:
            key = family(event.topics[0])
            families[key] = families.get(key, 1.0) * (1 - params.dismiss_family * left)
    floor = params.dismiss_family_floor
    return authors, {k: max(v, floor) for k, v in families.items()}


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
    (`engagers`: user id → note ids, most recent first), keeping each note's top neighbours (best first,
    ties by note id). See `co_engagement_rows`."""
    return dict(co_engagement_rows(engagers, neighbours=neighbours, max_items_per_user=max_items_per_user))


def co_engagement_rows(
    engagers: Mapping[int, Iterable[int]],
    *,
    neighbours: int = 50,
    max_items_per_user: int = 100,
    progress: Callable[[int], object] | None = None,
) -> Iterator[tuple[int, list[tuple[int, float]]]]:
    """`co_engagement` one note at a time (the rebuild job streams it to the database).

    A person's list is capped at `max_items_per_user` (their most recent), which bounds the work at
    about users × cap² counter updates (done in C by Counter.update) however heavy the heaviest are;
    memory holds the two inverted lists and one note's counter at a time."""
    capped = {user: list(dict.fromkeys(items))[:max_items_per_user] for user, items in engagers.items()}
    item_users: dict[int, list[int]] = defaultdict(list)
    for user, items in capped.items():
        for item in items:
            item_users[item].append(user)
    sizes = {item: len(users) for item, users in item_users.items()}
    sqrt = math.sqrt
    for item, users in item_users.items():
        if progress is not None:
            progress(1)
        both: Counter[int] = Counter()
        for user in users:
            both.update(capped[user])
        del both[item]
        if not both:
            continue
        size = sizes[item]
        best = heapq.nsmallest(neighbours, [(-n / sqrt(size * sizes[j]), j) for j, n in both.items()])
        yield item, [(j, -negative) for negative, j in best]


def co_engagement_scores(
    positives: Sequence[tuple[int, float]], neighbours: Mapping[int, Sequence[tuple[int, float]]]
) -> dict[int, tuple[float, tuple[int, ...]]]:
    """cf(u, n) = Σ over the viewer's recent positives p (with weight w) of w · sim(p, n), scaled so the
    best is 1; and for each note the (first three) positives it came from, for explanations."""
    raw: dict[int, float] = {}
    sources: dict[int, list[int]] = {}
    for note_id, weight in positives:
        for neighbour, sim in neighbours.get(note_id, ()):
            value = raw.get(neighbour)
            if value is None:
                raw[neighbour] = weight * sim
                sources[neighbour] = [note_id]
            else:
                raw[neighbour] = value + weight * sim
                found = sources[neighbour]
                if len(found) < 3:
                    found.append(note_id)
    best = max(raw.values(), default=0.0)
    if best <= 0:
        return {}
    return {n: (v / best, tuple(sources[n])) for n, v in raw.items()}


# --- scoring ---------------------------------------------------------------------------------------


def _global_rate(candidates: Sequence[Candidate]) -> float:
    """μ: the candidates' engagement rate, itself lightly smoothed."""
    return (sum(c.engagements for c in candidates) + 1.0) / (sum(c.impressions for c in candidates) + 20.0)


def quality_ratios(
    candidates: Sequence[Candidate], params: Params = DEFAULT_PARAMS, family: Callable[[str], str] = same_name
) -> dict[int, float]:
    """(q / μ)^exponent per note: a smoothed engagement rate against its baseline, so a note is judged by how
    often it is engaged with when shown, never by how many people follow its author.

    q = (E + m·μ·r_creator) / (I + m), where μ is the rate of the note's main topic's family (shrunk toward
    the global rate; topics with a large audience are engaged with more whatever their quality) and
    r_creator the creator's engagements over what their topics predicted (shrunk toward 1)."""
    mu = _global_rate(candidates)
    k_topic = params.topic_prior_k
    if k_topic is None:  # one global baseline
        baseline = [mu] * len(candidates)
    else:
        mains = [family(c.topics[0]) if c.topics else None for c in candidates]
        engaged: dict[str | None, int] = {}
        shown: dict[str | None, int] = {}
        for c, topic in zip(candidates, mains, strict=True):
            engaged[topic] = engaged.get(topic, 0) + c.engagements
            shown[topic] = shown.get(topic, 0) + c.impressions
        rate = {
            t: max((e + k_topic * mu) / (shown[t] + k_topic), 1e-9) if shown[t] + k_topic > 0 else mu
            for t, e in engaged.items()
        }
        baseline = [rate[t] for t in mains]
    creator_engaged: dict[int, float] = {}
    creator_expected: dict[int, float] = {}  # what the creator's topics predicted
    for c, base in zip(candidates, baseline, strict=True):
        a = c.author_id
        creator_engaged[a] = creator_engaged.get(a, 0.0) + c.engagements
        creator_expected[a] = creator_expected.get(a, 0.0) + c.impressions * base
    k, m, exponent = params.creator_prior_k * mu, params.smoothing_m, params.quality_exponent
    lift = {a: (e + k) / (creator_expected[a] + k) for a, e in creator_engaged.items()}
    ratios: dict[int, float] = {}
    for c, base in zip(candidates, baseline, strict=True):
        shown_m = c.impressions + m
        engaged_n = c.engagements if c.engagements < shown_m else shown_m
        ratio = (engaged_n + m * base * lift[c.author_id]) / (shown_m * base)
        ratios[c.note_id] = (ratio if ratio > 1e-9 else 1e-9) ** exponent if exponent != 1.0 else ratio
    return ratios


def freshness(created_at: float, now: float, params: Params = DEFAULT_PARAMS) -> float:
    return 0.5 ** (max(now - created_at, 0.0) / DAY / params.freshness_half_life_days)


_Part = tuple[float, float, float, Candidate, float]


def _score_parts(
    viewer: Viewer,
    candidates: Sequence[Candidate],
    now: float,
    params: Params,
    damping: tuple[dict[int, float], dict[str, float]] | None = None,
) -> list[_Part]:
    """(score, base, relevance, candidate, scale), where base = (w·rel² + w·cf^0.3) · scale is the score
    before quality (exploration samples its own quality) and scale = freshness · the damping of recent
    "not interested" taps on the note's author and family (`damping`, else worked out here)."""
    family = viewer.family
    quality = quality_ratios(candidates, params, family)
    known, relevance = _relevance_function(viewer.profile, params.secondary_topic_weight, family)
    if damping is None:
        damping = dismissal_damping(viewer.history, now, params, family)
    damped_authors, damped_families = damping
    rate = math.log(2) / (DAY * params.freshness_half_life_days)
    w_rel, w_cf, raw = params.relevance_weight, params.cf_weight, params.raw_count_boost
    gamma, cf_power = params.relevance_exponent, params.cf_exponent
    exp = math.exp
    parts = []
    for c in candidates:
        key = (c.topics, c.language)
        rel = known.get(key)
        if rel is None:
            rel = relevance(key)
        match = rel * rel if gamma == 2.0 else rel**gamma
        similar = c.cf**cf_power if c.cf > 0.0 else 0.0
        age = now - c.created_at
        scale = exp(-age * rate) if age > 0.0 else 1.0
        if damped_authors and c.author_id in damped_authors:
            scale *= damped_authors[c.author_id]
        if damped_families and c.topics:
            scale *= damped_families.get(family(c.topics[0]), 1.0)
        base = (w_rel * match + w_cf * similar) * scale
        s = base * quality[c.note_id]
        if raw:
            s *= 1.0 + c.engagements
        parts.append((s, base, rel, c, scale))
    return parts


def _relevance_function(
    profile: Mapping[str, float], secondary: float, family: Callable[[str], str] = same_name
) -> tuple[dict[tuple[tuple[str, ...], str], float], Callable[[tuple[tuple[str, ...], str]], float]]:
    """cos(profile, note_features(topics, language)) without building the features: the same sums, read
    from the profile's family and language weights; remembered per distinct (topics, language) in the
    returned dict, which the caller reads first."""
    topic_weight = {k[2:]: v for k, v in profile.items() if k.startswith("t:")}
    language_weight = {k[5:]: v for k, v in profile.items() if k.startswith("lang:")}
    known: dict[tuple[tuple[str, ...], str], float] = {}

    def relevance(key: tuple[tuple[str, ...], str]) -> float:
        topics, language = key
        dot = norm = 0.0
        for topic in dict.fromkeys(family(t) for t in topics):
            value = TOPIC_FEATURE if norm == 0.0 else TOPIC_FEATURE * secondary
            dot += topic_weight.get(topic, 0.0) * value
            norm += value * value
        if language and language != "und":
            dot += language_weight.get(language, 0.0) * LANGUAGE_FEATURE
            norm += LANGUAGE_FEATURE**2
        found = known[key] = dot / math.sqrt(norm) if norm > 0 else 0.0
        return found

    return known, relevance


def score_candidates(
    viewer: Viewer, candidates: Sequence[Candidate], now: float, params: Params = DEFAULT_PARAMS
) -> list[tuple[float, Candidate, float]]:
    """(score, candidate, relevance) for every candidate:
    s = (w_rel·rel² + w_cf·cf^0.3) · (q/μ) · freshness · damping (see Params). No follower term."""
    return [(s, c, rel) for s, _, rel, c, _ in _score_parts(viewer, candidates, now, params)]


# --- re-ranking ------------------------------------------------------------------------------------


def seeded_rng(*parts: object) -> random.Random:
    """A generator seeded from (user, session, …), stable across processes and Python versions."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def exploration_window(candidates: Iterable[Candidate], now: float, params: Params = DEFAULT_PARAMS) -> float:
    """Days back a small creator's little-seen note counts as new: the narrowest of
    `exploration_windows_days` holding `exploration_min_eligible` such candidates, else the widest (a
    quiet site, or a world dated in the past, still explores); 0 without windows."""
    windows = params.exploration_windows_days
    if not windows:
        return 0.0
    ages = sorted(
        now - c.created_at
        for c in candidates
        if c.impressions < params.exploration_max_impressions
        and c.author_followers < params.exploration_max_followers
    )
    for days in windows:
        if bisect.bisect_right(ages, days * DAY) >= params.exploration_min_eligible:
            return days
    return windows[-1]


def is_new_creator(c: Candidate, now: float, days: float, params: Params = DEFAULT_PARAMS) -> bool:
    """A note of a small creator that few people have seen yet, at most `days` old (NEW_CREATOR)."""
    return (
        c.impressions < params.exploration_max_impressions
        and c.author_followers < params.exploration_max_followers
        and now - c.created_at <= days * DAY
    )


# Long on purpose: the re-rank is one loop whose rules share its state (window, author caps, slots).
def rank(
    viewer: Viewer,
    candidates: Sequence[Candidate],
    *,
    now: float,
    rng: random.Random,
    limit: int,
    params: Params = DEFAULT_PARAMS,
    preceding: Preceding = Preceding(),
) -> list[Ranked]:
    """The feed for `viewer`: scored, then re-ranked for diversity with exploration slots.

    Re-rank: the k-th note of an author is worth s·((1−floor)·decay^k + floor); in any 20 consecutive
    positions of the session (`preceding` carries the rules over from the snapshot before) at most two
    notes per author (past its first 20 notes a ranking stops short rather than break it), and no two
    neighbours of one main family (relaxed only when nothing else is left);
    positions 10 and 20 of every 20 go to exploration — small creators' little-seen notes (within the
    narrowest freshness window that has enough of them) and notes of families outside the viewer's core
    interests — chosen by Thompson sampling: the note's quality is drawn from Beta(1 + E, 20 + I − E)
    instead of estimated, among the `exploration_pool` most promising eligible notes, under the same rules.
    And a declared interest damped by "not interested" appears in any 20 consecutive positions while it
    has notes the rules allow: damped, never erased."""
    family = viewer.family
    if not viewer.profile:
        viewer.profile = interest_profile(viewer.history, viewer.onboarding, now, params, family=family)
        if not viewer.profile:
            prior = topic_prior(candidates, family=family)
            viewer.profile = interest_profile([], [], now, params, prior=prior)
            viewer.from_prior = True
    damping = dismissal_damping(viewer.history, now, params, family)
    parts = _score_parts(viewer, candidates, now, params, damping)
    interests = frozenset() if viewer.from_prior else frozenset(top_topics(viewer.profile, 8))
    main = {c.note_id: family(c.topics[0]) if c.topics else None for c in candidates}

    def ranked(s: float, c: Candidate, rel: float, explored: bool = False, new: bool = False) -> Ranked:
        reason = explain(viewer, c, rel, params, interests=interests, new_creator=new)
        return Ranked(c.note_id, c.author_id, s, reason, explored, main[c.note_id])

    if not params.diversity:
        order = sorted(parts, key=lambda t: (-t[0], t[3].note_id))[:limit]
        return [ranked(s, c, rel) for s, _, rel, c, _ in order]
    days = exploration_window(candidates, now, params)
    explore = _exploration_pool(parts, main, viewer.profile, now, days, params)
    # Declared interests the viewer has dismissed notes of: damped, they must not vanish. (Every declared
    # interest kept a place in every 20 cost 0.9 % precision@20 in bench/feed_eval: stray declarations.)
    declared = dict.fromkeys(family(t) for t in viewer.onboarding)
    kept = tuple(f for f in declared if f in damping[1])[: params.declared_kept]
    scored = {c.note_id: (s, c, rel) for s, _, rel, c, _ in parts}
    queue = _Queue(scored, main, params, preceding, kept)
    placed: list[Ranked] = []
    while len(placed) < limit:
        pick = None
        if queue.position % params.window in params.exploration_slots:
            pick = _thompson_pick(explore, queue, rng, params)
        explored = pick is not None
        if pick is None:
            pick = queue.due()
        if pick is None:
            # Only authors without room left: past its first `window` notes the snapshot ends here, and
            # its continuation (which digs deeper and knows these authors) carries on; before, it breaks
            # the cap, so that a world of few creators still fills a page.
            pick = queue.best(relax=len(placed) < params.window)
        if pick is None:
            break
        s, c, rel = queue.take(pick)
        new = explored and days > 0 and is_new_creator(c, now, days, params)
        placed.append(ranked(s, c, rel, explored, new))
    return placed


def _exploration_pool(
    parts: Sequence[_Part],
    main: Mapping[int, str | None],
    profile: Mapping[str, float],
    now: float,
    days: float,
    params: Params,
) -> list[tuple[float, Candidate]]:
    """The notes eligible for an exploration slot, most promising first, with the value Thompson sampling
    multiplies by a drawn quality (their base score): small creators' little-seen notes from the last
    `days`, and notes whose main family is outside the viewer's core interests (adjacent families: those
    co-engaged with what the viewer liked come first). A floor lifting unrelated notes was tried: 0.05 of
    it cost 1 % of precision@20 in bench/feed_eval."""
    core = frozenset(top_topics(profile, params.core_interests))
    since = now - days * DAY
    max_impressions, max_followers = params.exploration_max_impressions, params.exploration_max_followers
    eligible = [
        (base, c)
        for _, base, _, c, scale in parts
        if scale > 0
        and (
            main[c.note_id] not in core
            or (
                days > 0
                and c.impressions < max_impressions
                and c.author_followers < max_followers
                and c.created_at >= since
            )  # is_new_creator, inlined
        )
    ]
    eligible.sort(key=lambda t: (-t[0], t[1].note_id))
    return eligible


def _decayed(score: float, k: int, params: Params) -> float:
    """The author decay: the k-th (0-based) note of an author is worth s·((1−floor)·decay^k + floor)."""
    return score * ((1 - params.author_floor) * params.author_decay**k + params.author_floor)


_Entry = tuple[float, int, int]  # (−author-decayed score, note id, author count the decay assumed)


class _Queue:
    """The notes not placed yet, best author-decayed score first, under the window rules: at most
    `max_per_author_per_window` notes per author in any `window` consecutive positions, and never the
    previous note's main family while another is left. Notes skipped for their family wait in a heap per
    family (so a long run of one family is not scanned again at every position); notes skipped for their
    author wait until one of the author's notes leaves the sliding window. `kept` families (declared
    interests) fall due when they have not appeared for `window − 1` positions (see `due`)."""

    def __init__(
        self,
        scored: Mapping[int, tuple[float, Candidate, float]],
        main: Mapping[int, str | None],
        params: Params,
        preceding: Preceding,
        kept: Sequence[str] = (),
    ) -> None:
        self.scored = scored
        self.main = main
        self.params = params
        self.heap: list[_Entry] = [(-s, note_id, 0) for note_id, (s, _, _) in scored.items()]
        heapq.heapify(self.heap)
        self.held: dict[str, list[_Entry]] = {}
        self.blocked: dict[int, list[_Entry]] = {}  # author → entries waiting for room in the window
        self.taken: set[int] = set()
        self.author_total: Counter[int] = Counter()
        # The authors of the last window − 1 positions: with the next one they make a whole window.
        span = max(params.window - 1, 0)
        self.recent: deque[int] = deque(preceding.authors[-span:] if span else ())
        self.in_window: Counter[int] = Counter(self.recent)
        self.last_family: str | None = preceding.families[-1] if preceding.families else None
        self.position = preceding.position  # of the session, for the next note
        # Where each kept family was last placed; one not among the remembered positions counts as placed
        # just before them (a new session: just before it starts).
        remembered = preceding.families[-span:] if span else ()
        first = self.position - len(remembered)
        self.last_seen = {f: first - 1 for f in kept}
        for i, f in enumerate(remembered):
            if f in self.last_seen:
                self.last_seen[f] = first + i
        self.kept_notes = {
            f: sorted((n for n, m in main.items() if m == f), key=lambda n: (-scored[n][0], n)) for f in kept
        }
        self.untaken = len(scored)
        self.untaken_of: Counter[str | None] = Counter(main[n] for n in scored)

    def allowed(self, c: Candidate) -> bool:
        """Room for the author in the window ending here (the family rule is the caller's: it may be
        relaxed)."""
        return self.in_window[c.author_id] < self.params.max_per_author_per_window

    def take(self, note_id: int) -> tuple[float, Candidate, float]:
        found = self.scored[note_id]
        author = found[1].author_id
        self.taken.add(note_id)
        self.author_total[author] += 1
        self.recent.append(author)
        self.in_window[author] += 1
        if len(self.recent) >= self.params.window:
            gone = self.recent.popleft()
            self.in_window[gone] -= 1
            waiting = (
                self.blocked.pop(gone, None)
                if self.in_window[gone] < self.params.max_per_author_per_window
                else None
            )
            for entry in waiting or ():
                heapq.heappush(self.heap, entry)
        family = self.last_family = self.main[note_id]
        self.untaken -= 1
        self.untaken_of[family] -= 1
        if family in self.last_seen:
            self.last_seen[family] = self.position
        self.position += 1
        return found

    def only_last_family_left(self) -> bool:
        """Every note not placed yet is of the last note's family (the family rule cannot hold)."""
        return self.untaken > 0 and self.untaken_of[self.last_family] == self.untaken

    def due(self) -> int | None:
        """The best note the rules allow of a kept family that would otherwise miss a whole window (it
        has not appeared for `window − 1` positions; a position later is the last that keeps it in every
        window, so an exploration slot here leaves it time); None when no family is due or none of a due
        family's notes is allowed."""
        for family, seen in self.last_seen.items():
            if self.position - seen < self.params.window - 1 or family == self.last_family:
                continue
            for note_id in self.kept_notes[family]:
                if note_id not in self.taken and self.allowed(self.scored[note_id][1]):
                    return note_id
        return None

    def _top(self, heap: list[_Entry]) -> _Entry | None:
        """The best valid entry of `heap`, left on it: placed notes are dropped, entries whose author
        gained notes are re-scored, and notes whose author has no room are set aside."""
        while heap:
            _, note_id, assumed = heap[0]
            if note_id in self.taken:
                heapq.heappop(heap)
                continue
            s, c, _ = self.scored[note_id]
            k = self.author_total[c.author_id]
            if k != assumed:
                heapq.heapreplace(heap, (-_decayed(s, k, self.params), note_id, k))
                continue
            if not self.allowed(c):
                self.blocked.setdefault(c.author_id, []).append(heapq.heappop(heap))
                continue
            return heap[0]
        return None

    def best(self, relax: bool = True) -> int | None:
        """The note for the next position (not yet taken; call `take`); when only authors without room
        are left, the best of theirs if `relax`, else None."""
        last = self.last_family
        best: _Entry | None = None
        best_heap: list[_Entry] | None = None
        for held_family, heap in self.held.items():
            if held_family != last:
                entry = self._top(heap)
                if entry is not None and (best is None or entry < best):
                    best, best_heap = entry, heap
        while (entry := self._top(self.heap)) is not None and (best is None or entry < best):
            main = self.main[entry[1]]
            if main is not None and main == last:  # wait in its family's heap
                heapq.heappush(self.held.setdefault(main, []), heapq.heappop(self.heap))
                continue
            best, best_heap = entry, self.heap
            break
        if best is None and last is not None and last in self.held:  # only the same family is left
            best = self._top(self.held[last])
            best_heap = self.held[last]
        if best is not None and best_heap is not None:
            heapq.heappop(best_heap)
            return best[1]
        return self._relaxed() if relax else None

    def _relaxed(self) -> int | None:
        """Only authors without room are left: the best of their notes by decayed score."""
        waiting = [e for entries in self.blocked.values() for e in entries if e[1] not in self.taken]
        if not waiting:
            self.blocked.clear()
            return None
        chosen = min(waiting, key=self._current)
        author = self.scored[chosen[1]][1].author_id
        self.blocked[author].remove(chosen)
        return chosen[1]

    def _current(self, entry: _Entry) -> _Entry:
        s, c, _ = self.scored[entry[1]]
        k = self.author_total[c.author_id]
        return (-_decayed(s, k, self.params), entry[1], k)


def _thompson_pick(
    explore: Sequence[tuple[float, Candidate]], queue: _Queue, rng: random.Random, params: Params
) -> int | None:
    """The exploration note with the best value · θ^exponent, θ ~ Beta(1 + E, 20 + I − E) (its quality
    drawn rather than estimated), among the `exploration_pool` most promising notes still free that the
    window rules allow here; None when there is none (the slot then goes to the best note, relaxing the
    rules only if nothing else is left)."""
    best, best_value = None, -1.0
    # The family rule, relaxed as for any place only when nothing else is left.
    last = None if queue.only_last_family_left() else queue.last_family
    considered = 0
    for value, c in explore:
        if c.note_id in queue.taken or not queue.allowed(c):
            continue
        if last is not None and queue.main[c.note_id] == last:
            continue
        engaged = min(c.engagements, c.impressions)
        theta = rng.betavariate(1 + engaged, 20 + c.impressions - engaged)
        drawn = value * theta**params.quality_exponent
        if drawn > best_value:
            best, best_value = c.note_id, drawn
        considered += 1
        if considered >= params.exploration_pool:
            break
    return best


def explain(
    viewer: Viewer,
    c: Candidate,
    rel: float,
    params: Params = DEFAULT_PARAMS,
    *,
    interests: frozenset[str] | None = None,
    new_creator: bool = False,
) -> Reason:
    """Why this note is in the feed, in terms a person understands, and only what is true: NEW_CREATOR
    for an exploration pick of a small creator's new note; the viewer's interests only when they have
    some (never the site's prior), named by the note's own topics that matched (the reader is into 健身,
    the note is tagged fitness: "fitness")."""
    if new_creator:
        return Reason(ReasonKind.NEW_CREATOR, topics=c.topics[:2])
    family = viewer.family
    if interests is None:
        interests = frozenset() if viewer.from_prior else frozenset(top_topics(viewer.profile, 8))
    matched: list[str] = []
    found: set[str] = set()
    for topic in c.topics:
        key = family(topic)
        if key in interests and key not in found:
            found.add(key)
            matched.append(topic)
    if (
        c.cf > 0
        and c.cf_from
        and c.cf * params.cf_weight >= params.relevance_weight * rel**params.relevance_exponent
    ):
        return Reason(ReasonKind.SIMILAR_TO_LIKED, topics=tuple(matched[:2]), note_ids=c.cf_from)
    if matched:
        return Reason(ReasonKind.MATCHED_TOPICS, topics=tuple(matched[:3]))
    if "trending" in c.sources:
        return Reason(ReasonKind.TRENDING, topics=c.topics[:2])
    return Reason(ReasonKind.QUALITY, topics=c.topics[:2])
