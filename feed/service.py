"""discoverFeed as a plain function: build or read the session snapshot, serve a page, sign cursors.

The first page builds a snapshot (the viewer's history, every candidate pool, ranking) and keeps the
ranked ids; later pages read it, so a page never repeats or skips what an earlier page showed. When a
snapshot runs out a continuation is built that excludes everything served before, and remembers the
snapshot it continues: paging backwards (`discover_page_before`) walks the chain back to its start. A
continuation also carries the authors and families of the chain's last positions, so the window rules
hold across snapshots. What a page serves is remembered at once (feed/snapshots.py), so the viewer's
next session leaves it out even before the batched impressions are written.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feed.candidates import DEFAULT_PLAN, CandidatePlan
from feed.ranking import (
    DEFAULT_PARAMS,
    Params,
    Preceding,
    Reason,
    ReasonKind,
    Viewer,
    interest_profile,
    rank,
    seeded_rng,
    top_topics,
    topic_prior,
)
from feed.snapshots import SnapshotStore, decode_cursor, encode_cursor
from feed.store import load_candidates, load_history, positives
from feed.trending import TrendingPool
from search.families import Families
from search.families import families as family_cache

FamilySource = Callable[[], Awaitable[Families]]

MAX_EXCLUDED = 3000  # ids a continuation remembers having served in this session chain


@dataclass
class FeedItem:
    note_id: int
    reason: Reason
    cursor: str


@dataclass
class FeedPage:
    items: list[FeedItem]
    has_next: bool
    has_previous: bool = False
    # Positions ranked in this session chain so far (the snapshots up to the page's); None when unknown.
    total_count: int | None = None
    # Notes ranked in this request: the viewer has neither liked nor collected them (candidates exclude
    # both), so their like and collect state needs no query.
    unengaged: set[int] = field(default_factory=set)


@dataclass
class _Snapshot:
    session: str
    ids: list[int]
    reasons: list[Reason]
    exclude: list[int]
    generation: int
    built_now: bool = False  # ranked in this request (not read back from the store)
    # The snapshot this one continues (None for a session's first), and how many positions the chain
    # held before this one: the chain reads as one list, for paging back and for its length.
    previous: str | None = None
    start: int = 0
    # The authors and main families of the chain's last positions, up to this snapshot's end: what a
    # continuation's window rules start from.
    tail: Preceding = field(default_factory=Preceding)

    @property
    def chain_length(self) -> int:
        return self.start + len(self.ids)

    def document(self) -> dict[str, Any]:
        return {
            "ids": self.ids,
            # As they are: a reason's kind is a str (StrEnum) and its tuples serialise as lists.
            "reasons": [[r.kind, r.topics, r.note_ids] for r in self.reasons],
            "exclude": self.exclude[-MAX_EXCLUDED:],
            "generation": self.generation,
            "previous": self.previous,
            "start": self.start,
            "tail": {"authors": self.tail.authors, "families": self.tail.families},
        }

    @classmethod
    def of(cls, session: str, doc: dict[str, Any]) -> _Snapshot:
        ids = [int(i) for i in doc["ids"]]
        start = int(doc.get("start", 0))
        tail = doc.get("tail") or {}  # absent from sessions kept before the rules crossed snapshots
        return cls(
            session=session,
            ids=ids,
            reasons=[Reason(ReasonKind(k), tuple(t), tuple(n)) for k, t, n in doc["reasons"]],
            exclude=[int(i) for i in doc.get("exclude", [])],
            generation=int(doc.get("generation", 0)),
            previous=doc.get("previous"),
            start=start,
            tail=Preceding(
                tuple(int(a) for a in tail.get("authors", ())),
                tuple(tail.get("families", ())),
                start + len(ids),
            ),
        )


async def discover_page(
    *,
    viewer_id: int | None,
    onboarding: Callable[[], Awaitable[list[str]]],
    first: int,
    after: str | None,
    secret: str,
    snapshots: SnapshotStore,
    seed: int | None = None,
    now: datetime | None = None,
    plan: CandidatePlan = DEFAULT_PLAN,
    params: Params | None = None,
    trending: TrendingPool | None = None,
    hidden_authors: frozenset[int] = frozenset(),
    families: FamilySource | None = None,
) -> FeedPage:
    """A page of the discovery feed. `hidden_authors` (blocked or muted by the viewer) never enter a
    snapshot, so their notes take no place in a page (the caller still checks each note it shows).
    `families`: the topic families (default: search.families, read again at most once a minute). The
    page's notes are remembered as served to a signed-in viewer (`SnapshotStore.remember_served`)."""
    viewer = viewer_id or 0
    moment = now or datetime.now(UTC)
    has_previous = False
    source = families or family_cache.get

    async def fresh() -> _Snapshot:
        return await _build(
            viewer,
            onboarding,
            [],
            0,
            moment,
            seed,
            snapshots,
            plan,
            params,
            trending=trending,
            hidden_authors=hidden_authors,
            families=source,
            serving=first,
        )

    if after is None:
        snap = await fresh()
        offset = 0
    else:
        session, offset = decode_cursor(secret, after, viewer_id=viewer)
        doc = await snapshots.load(session)
        if doc is None:  # expired: carry on with a fresh session
            snap = await fresh()
            offset = 0
        else:
            snap = _Snapshot.of(session, doc)
            # The cursor's own position, or an earlier snapshot of the chain, precedes the page.
            has_previous = offset > 0 or snap.previous is not None
    items: list[FeedItem] = []
    unengaged: set[int] = set(snap.ids) if snap.built_now else set()
    unremembered: list[int] = []  # served here from a snapshot built earlier (a new one remembered its own)
    exhausted = False
    while len(items) < first:
        chunk = snap.ids[offset : offset + first - len(items)]
        for i, note_id in enumerate(chunk, start=offset + 1):
            cursor = encode_cursor(secret, session=snap.session, offset=i, viewer_id=viewer)
            items.append(FeedItem(note_id, snap.reasons[i - 1], cursor))
        if not snap.built_now:
            unremembered += chunk
        offset += len(chunk)
        if len(items) >= first:
            break
        if not snap.ids:
            exhausted = True
            break
        # This snapshot ran out: continue with one that excludes everything served in the chain.
        snap = await _build(
            viewer,
            onboarding,
            snap.exclude + snap.ids,
            snap.generation + 1,
            moment,
            seed,
            snapshots,
            plan,
            params,
            previous=snap,
            trending=trending,
            hidden_authors=hidden_authors,
            families=source,
            serving=first - len(items),
        )
        unengaged.update(snap.ids)
        offset = 0
    if unremembered and viewer:
        await snapshots.remember_served(viewer, unremembered)
    return FeedPage(
        items=items,
        has_next=not exhausted and bool(items),
        has_previous=has_previous,
        total_count=snap.chain_length,
        unengaged=unengaged,
    )


async def discover_page_before(
    *, viewer_id: int | None, last: int, before: str, secret: str, snapshots: SnapshotStore
) -> FeedPage:
    """Up to `last` items that came before the `before` cursor in its session, in feed order.

    Walks back into the snapshots the session continued when one runs out at its start. A session that
    has expired has nothing to page back through: an empty page, nothing before or after it (a client
    starts again from the top).
    """
    viewer = viewer_id or 0
    session, offset = decode_cursor(secret, before, viewer_id=viewer, argument="before")
    doc = await snapshots.load(session)
    if doc is None:
        return FeedPage(items=[], has_next=False)
    snap = _Snapshot.of(session, doc)
    total = snap.chain_length
    # A cursor at offset o names the item at index o - 1: the page ends just before it.
    end = min(max(offset - 1, 0), len(snap.ids))
    items: list[FeedItem] = []
    while True:
        begin = max(0, end - (last - len(items)))
        items[:0] = [
            FeedItem(
                snap.ids[i],
                snap.reasons[i],
                encode_cursor(secret, session=snap.session, offset=i + 1, viewer_id=viewer),
            )
            for i in range(begin, end)
        ]
        if begin > 0:
            has_previous = True
            break
        earlier = await snapshots.load(snap.previous) if snap.previous is not None else None
        has_previous = earlier is not None
        if earlier is None or len(items) >= last:
            break
        snap = _Snapshot.of(str(snap.previous), earlier)
        end = len(snap.ids)
    # The cursor's own item follows the page (offset 0 is never handed out: nothing would).
    return FeedPage(items=items, has_next=offset > 0, has_previous=has_previous, total_count=total)


async def _build(
    viewer_id: int,
    onboarding: Callable[[], Awaitable[list[str]]],
    exclude: list[int],
    generation: int,
    now: datetime,
    seed: int | None,
    snapshots: SnapshotStore,
    plan: CandidatePlan,
    params: Params | None,
    *,
    previous: _Snapshot | None = None,
    trending: TrendingPool | None = None,
    hidden_authors: frozenset[int] = frozenset(),
    families: FamilySource,
    serving: int = 0,
) -> _Snapshot:
    """Rank a snapshot and keep it, remembering its first `serving` notes as served (this request
    serves them)."""
    session = secrets.token_hex(12)
    weights = params or DEFAULT_PARAMS
    known = await families()
    history = await load_history(viewer_id) if viewer_id else []
    interests = await onboarding()  # read only when a snapshot is built, not on every page
    profile = interest_profile(history, interests, now.timestamp(), weights, family=known.family)
    # Served or opened a moment ago and not yet written where the candidate statement reads (Redis).
    just_served = await snapshots.recently_served(viewer_id) if viewer_id else set()
    candidates = await load_candidates(
        viewer_id=viewer_id,
        topics=top_topics(profile, plan.top_topics),
        family_names=known.names,
        positive=positives(history, plan.positives),
        now=now,
        exclude=[*exclude, *just_served],
        popular=not profile,
        depth=generation + 1,
        plan=plan,
        trending=await trending.ids(generation + 1, plan) if trending is not None else None,
        exclude_authors=hidden_authors,
    )
    viewer = Viewer(viewer_id, history, interests, profile, family=known.family)
    if not profile:
        # Nothing known about the viewer: the global topic prior of what is on offer, which no reason
        # may present as the viewer's interests.
        prior = topic_prior(candidates, family=known.family)
        viewer.profile = interest_profile([], [], now.timestamp(), weights, prior=prior)
        viewer.from_prior = True
    preceding = previous.tail if previous else Preceding()
    ranked = rank(
        viewer,
        candidates,
        now=now.timestamp(),
        rng=seeded_rng(viewer_id, seed if seed is not None else session, generation),
        limit=plan.snapshot_size,
        params=weights,
        preceding=preceding,
    )
    ids = [r.note_id for r in ranked]
    snap = _Snapshot(
        session=session,
        ids=ids,
        reasons=[r.reason for r in ranked],
        exclude=exclude + ids,
        generation=generation,
        built_now=True,
        previous=previous.session if previous else None,
        start=previous.chain_length if previous else 0,
        tail=preceding.then(ranked, weights.window),
    )
    await snapshots.save(session, viewer_id, snap.document(), served=ids[:serving])
    return snap
