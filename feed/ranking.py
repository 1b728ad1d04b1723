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
    window: int = 20
    max_per_author_per_window: int = 2
    exploration_slots: tuple[int, ...] = (9, 19)  # 0-based positions within each window
    exploration_pool: int = 40  # the most relevant eligible notes that Thompson sampling chooses among
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


TOPIC_FEATURE = 1.0
LANGUAGE_FEATURE = 0.2


def note_features(topics: Iterable[str], language: str, secondary: float = 1.0) -> dict[str, float]:
    """Sparse, L2-normalised: the main (first) topic 1.0, each other topic `secondary`, the language 0.2."""
    vector: dict[str, float] = {}
    for topic in topics:
        vector.setdefault(f"t:{topic}", TOPIC_FEATURE if not vector else TOPIC_FEATURE * secondary)
    if language and language != "und":
        vector[f"lang:{language}"] = LANGUAGE_FEATURE
    return _normalised(vector)


def interest_profile(
    history: Sequence[Engagement],
    onboarding: Sequence[str],
    now: float,
    params: Params = DEFAULT_PARAMS,
    prior: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Σ weight · exp(−Δt/14 d) · features over the history, plus the onboarding interests; L2-normalised.
    "Not interested" (−5) subtracts; what ends up ≤ 0 is dropped. When nothing is left, `prior` (the
    global topic prior, see `topic_prior`) if given, else {}."""
    profile: dict[str, float] = defaultdict(float)
    for event in history:
        age_days = max(now - event.at, 0.0) / DAY
        decay = 0.5 ** (age_days / params.profile_half_life_days)
        weight = SIGNAL_WEIGHTS[event.signal] * decay
        for key, value in note_features(event.topics, event.language, params.secondary_topic_weight).items():
            profile[key] += weight * value
    for topic in onboarding:
        profile[f"t:{topic}"] += params.onboarding_weight
    theta, n = params.profile_saturation, params.profile_hill
    if theta > 0:
        positive = {k: 1.0 / (1.0 + (theta / v) ** n) for k, v in profile.items() if v > 0}
    else:
        positive = {k: v for k, v in profile.items() if v > 0}
    if not positive and prior:
        positive = {k: v for k, v in prior.items() if v > 0}
    return _normalised(positive)


def topic_prior(candidates: Iterable[Candidate], limit: int = 20) -> dict[str, float]:
    """The global topic prior of what is on offer: each topic's share of the candidates' tags."""
    counts = Counter(t for c in candidates for t in c.topics)
    total = sum(counts.values()) or 1
    return {f"t:{t}": n / total for t, n in counts.most_common(limit)}


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


def quality_ratios(candidates: Sequence[Candidate], params: Params = DEFAULT_PARAMS) -> dict[int, float]:
    """(q / μ)^exponent per note: a smoothed engagement rate against its baseline, so a note is judged by how
    often it is engaged with when shown, never by how many people follow its author.

    q = (E + m·μ·r_creator) / (I + m), where μ is the rate of the note's main topic (shrunk toward the
    global rate; topics with a large audience are engaged with more whatever their quality) and
    r_creator the creator's engagements over what their topics predicted (shrunk toward 1)."""
    mu = _global_rate(candidates)
    k_topic = params.topic_prior_k
    if k_topic is None:  # one global baseline
        baseline = [mu] * len(candidates)
    else:
        mains = [c.topics[0] if c.topics else None for c in candidates]
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


def _score_parts(
    viewer: Viewer, candidates: Sequence[Candidate], now: float, params: Params
) -> list[tuple[float, float, float, Candidate]]:
    """(score, base, relevance, candidate), where base = (w·rel² + w·cf^0.3) · freshness is the score
    before quality (exploration samples its own quality)."""
    quality = quality_ratios(candidates, params)
    known, relevance = _relevance_function(viewer.profile, params.secondary_topic_weight)
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
        base = (w_rel * match + w_cf * similar) * (exp(-age * rate) if age > 0.0 else 1.0)
        s = base * quality[c.note_id]
        if raw:
            s *= 1.0 + c.engagements
        parts.append((s, base, rel, c))
    return parts


def _relevance_function(
    profile: Mapping[str, float], secondary: float
) -> tuple[dict[tuple[tuple[str, ...], str], float], Callable[[tuple[tuple[str, ...], str]], float]]:
    """cos(profile, note_features(topics, language)) without building the features: the same sums, read
    from the profile's topic and language weights; remembered per distinct (topics, language) in the
    returned dict, which the caller reads first."""
    topic_weight = {k[2:]: v for k, v in profile.items() if k.startswith("t:")}
    language_weight = {k[5:]: v for k, v in profile.items() if k.startswith("lang:")}
    known: dict[tuple[tuple[str, ...], str], float] = {}

    def relevance(key: tuple[tuple[str, ...], str]) -> float:
        topics, language = key
        dot = norm = 0.0
        for topic in dict.fromkeys(topics):
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
    s = (w_rel·rel² + w_cf·cf^0.3) · (q/μ) · freshness (see Params). No follower term."""
    return [(s, c, rel) for s, _, rel, c in _score_parts(viewer, candidates, now, params)]


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


# Long on purpose: the re-rank is one loop whose rules share its state (window, author caps, slots).
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

    Re-rank: the k-th note of an author is worth s·((1−floor)·decay^k + floor); per window of 20 at most two
    notes per author and no two neighbours with the same main topic (relaxed only when nothing else is
    left); positions 10 and 20 of each window go to exploration notes (fresh, few impressions, small
    creator) chosen by Thompson sampling: the note's quality is drawn from Beta(1 + E, 20 + I − E) instead
    of estimated, among the `exploration_pool` most relevant eligible notes, under the same rules."""
    if not viewer.profile:
        prior = topic_prior(candidates)
        viewer.profile = interest_profile(viewer.history, viewer.onboarding, now, params, prior=prior)
    parts = _score_parts(viewer, candidates, now, params)
    interests = frozenset(top_topics(viewer.profile, 8))

    def ranked(s: float, c: Candidate, rel: float, explored: bool = False) -> Ranked:
        reason = explain(viewer, c, rel, now, params, explored=explored, interests=interests)
        return Ranked(c.note_id, c.author_id, s, reason)

    if not params.diversity:
        order = sorted(parts, key=lambda t: (-t[0], t[3].note_id))[:limit]
        return [ranked(s, c, rel) for s, _, rel, c in order]
    queue = _Queue({c.note_id: (s, c, rel) for s, _, rel, c in parts}, params)
    fresh_since = now - params.exploration_max_age_days * DAY
    max_impressions, max_followers = params.exploration_max_impressions, params.exploration_max_followers
    eligible = [
        (base, c)
        for _, base, _, c in parts
        if base > 0
        and c.impressions < max_impressions
        and c.author_followers < max_followers
        and c.created_at >= fresh_since
    ]  # is_exploration, inlined
    explore = heapq.nsmallest(params.exploration_pool, eligible, key=lambda t: (-t[0], t[1].note_id))
    placed: list[Ranked] = []
    while len(placed) < limit:
        position = len(placed) % params.window
        if position == 0:
            queue.new_window()
        pick = None
        if position in params.exploration_slots:
            pick = _thompson_pick(explore, queue, rng, params)
        explored = pick is not None
        if pick is None:
            pick = queue.best()
        if pick is None:
            break
        s, c, rel = queue.take(pick)
        placed.append(ranked(s, c, rel, explored))
    return placed


def _decayed(score: float, k: int, params: Params) -> float:
    """The author decay: the k-th (0-based) note of an author is worth s·((1−floor)·decay^k + floor)."""
    return score * ((1 - params.author_floor) * params.author_decay**k + params.author_floor)


_Entry = tuple[float, int, int]  # (−author-decayed score, note id, author count the decay assumed)


class _Queue:
    """The notes not placed yet, best author-decayed score first, under the window rules: at most
    `max_per_author_per_window` notes per author per window, and never the previous note's main topic
    while another is left. Notes skipped for their topic wait in a heap per topic (so a long run of one
    topic is not scanned again at every position); notes skipped for their author wait until the next
    window."""

    def __init__(self, scored: Mapping[int, tuple[float, Candidate, float]], params: Params) -> None:
        self.scored = scored
        self.params = params
        self.heap: list[_Entry] = [(-s, note_id, 0) for note_id, (s, _, _) in scored.items()]
        heapq.heapify(self.heap)
        self.held: dict[str, list[_Entry]] = {}
        self.full: list[_Entry] = []
        self.taken: set[int] = set()
        self.author_total: Counter[int] = Counter()
        self.in_window: Counter[int] = Counter()
        self.last_topic: str | None = None

    def new_window(self) -> None:
        self.in_window.clear()
        for entry in self.full:
            heapq.heappush(self.heap, entry)
        self.full.clear()

    def allowed(self, c: Candidate) -> bool:
        """Room for the author in this window (the topic rule is the caller's: it may be relaxed)."""
        return self.in_window[c.author_id] < self.params.max_per_author_per_window

    def take(self, note_id: int) -> tuple[float, Candidate, float]:
        found = self.scored[note_id]
        c = found[1]
        self.taken.add(note_id)
        self.author_total[c.author_id] += 1
        self.in_window[c.author_id] += 1
        self.last_topic = _main_topic(c)
        return found

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
                self.full.append(heapq.heappop(heap))
                continue
            return heap[0]
        return None

    def best(self) -> int | None:
        """The note for the next position (not yet taken; call `take`)."""
        last = self.last_topic
        best: _Entry | None = None
        best_heap: list[_Entry] | None = None
        for held_topic, heap in self.held.items():
            if held_topic != last:
                entry = self._top(heap)
                if entry is not None and (best is None or entry < best):
                    best, best_heap = entry, heap
        while (entry := self._top(self.heap)) is not None and (best is None or entry < best):
            topic = _main_topic(self.scored[entry[1]][1])
            if topic is not None and topic == last:  # wait in its topic's heap
                heapq.heappush(self.held.setdefault(topic, []), heapq.heappop(self.heap))
                continue
            best, best_heap = entry, self.heap
            break
        if best is None and last is not None and last in self.held:  # only the same topic is left
            best = self._top(self.held[last])
            best_heap = self.held[last]
        if best is not None and best_heap is not None:
            heapq.heappop(best_heap)
            return best[1]
        if self.full:  # only authors without room are left: relax, the best of them by decayed score
            self.full = [e for e in self.full if e[1] not in self.taken]
            self.full.sort(key=self._current)
            return self.full.pop(0)[1] if self.full else None
        return None

    def _current(self, entry: _Entry) -> _Entry:
        s, c, _ = self.scored[entry[1]]
        k = self.author_total[c.author_id]
        return (-_decayed(s, k, self.params), entry[1], k)


def _main_topic(c: Candidate) -> str | None:
    return c.topics[0] if c.topics else None


def _thompson_pick(
    explore: Sequence[tuple[float, Candidate]], queue: _Queue, rng: random.Random, params: Params
) -> int | None:
    """The exploration note with the best base · θ^exponent, θ ~ Beta(1 + E, 20 + I − E) (its quality drawn
    rather than estimated), among the notes the window rules allow; None when there is none (the slot
    then goes to the best note, relaxing the rules only if nothing else is left)."""
    best, best_value = None, -1.0
    last = queue.last_topic
    for base, c in explore:
        if c.note_id in queue.taken or not queue.allowed(c):
            continue
        if last is not None and _main_topic(c) == last:
            continue
        engaged = min(c.engagements, c.impressions)
        theta = rng.betavariate(1 + engaged, 20 + c.impressions - engaged)
        value = base * theta**params.quality_exponent
        if value > best_value:
            best, best_value = c.note_id, value
    return best


def explain(
    viewer: Viewer,
    c: Candidate,
    rel: float,
    now: float,
    params: Params,
    *,
    explored: bool = False,
    interests: frozenset[str] | None = None,
) -> Reason:
    """Why this note is in the feed, in terms a person understands."""
    if explored and is_exploration(c, now, params):
        return Reason(ReasonKind.NEW_CREATOR, topics=c.topics[:2])
    if interests is None:
        interests = frozenset(top_topics(viewer.profile, 8))
    matched = tuple(t for t in c.topics if t in interests)
    if (
        c.cf > 0
        and c.cf_from
        and c.cf * params.cf_weight >= params.relevance_weight * rel**params.relevance_exponent
    ):
        return Reason(ReasonKind.SIMILAR_TO_LIKED, topics=matched[:2], note_ids=c.cf_from)
    if matched:
        return Reason(ReasonKind.MATCHED_TOPICS, topics=matched[:3])
    if "trending" in c.sources:
        return Reason(ReasonKind.TRENDING, topics=c.topics[:2])
    return Reason(ReasonKind.QUALITY, topics=c.topics[:2])
