"""The feed's reads: a viewer's history (one statement) and every candidate pool with its features and
filters (one statement). Each pool is bounded and walks an index; nothing scans all notes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from core.sql import dialect, fetch_all, fetch_planned
from feed.candidates import DEFAULT_PLAN, SERVED_WINDOW_DAYS, CandidatePlan
from feed.ranking import SIGNAL_WEIGHTS, Candidate, Engagement, Signal
from feed.snapshots import served_key

HISTORY_LIMIT = 300
RECENT_WINDOW = 2000  # newest notes that trending and popular choose from
_SEP = "\x1f"  # between topic names in one column (never inside a normalised topic name)
_NO_CF = "0.0 AS cf, CAST(NULL AS INTEGER) AS cf_from"  # pools other than co-engagement


def _topics_sql(note_ref: str) -> str:
    """A note's topic names, in their order, as one separator-joined column."""
    if dialect() == "postgres":
        return (
            "(SELECT string_agg(t.name, chr(31) ORDER BY nt.position) FROM note_topics nt "
            f"JOIN topics t ON t.id = nt.topic_id WHERE nt.note_id = {note_ref})"
        )
    return (
        "(SELECT group_concat(name, char(31)) FROM (SELECT t.name AS name FROM note_topics nt "
        f"JOIN topics t ON t.id = nt.topic_id WHERE nt.note_id = {note_ref} ORDER BY nt.position))"
    )


def _split(value: Any) -> tuple[str, ...]:
    return tuple(str(value).split(_SEP)) if value else ()


def epoch(value: Any) -> float:
    """Unix seconds of a timestamp column read by raw SQL (SQLite returns text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


async def load_history(viewer_id: int) -> list[Engagement]:
    """The viewer's most recent signals with their notes' topics and authors: likes, collects, comments,
    opens and "not interested" marks (one statement)."""
    rows = await fetch_all(
        "SELECT e.note_id AS note_id, e.kind AS kind, e.at AS at, n.language AS language, "
        "n.author_id AS author_id, "
        f"{_topics_sql('e.note_id')} AS topics FROM ("
        " SELECT note_id, 'LIKE' AS kind, created_at AS at FROM likes WHERE user_id = $1"
        " UNION ALL SELECT note_id, 'COLLECT', created_at FROM collects WHERE user_id = $1"
        " UNION ALL SELECT note_id, 'COMMENT', created_at FROM comments"
        "  WHERE author_id = $1 AND deleted_at IS NULL"
        " UNION ALL SELECT note_id, kind, created_at FROM feed_events WHERE user_id = $1"
        ") e JOIN notes n ON n.id = e.note_id "
        f"ORDER BY e.at DESC LIMIT {HISTORY_LIMIT}",
        [viewer_id],
    )
    return [
        Engagement(
            note_id=int(r["note_id"]),
            signal=Signal(r["kind"]),
            at=epoch(r["at"]),
            topics=_split(r["topics"]),
            language=str(r["language"] or ""),
            author_id=int(r["author_id"]),
        )
        for r in rows
    ]


def positives(history: Sequence[Engagement], limit: int) -> list[tuple[int, float]]:
    """The viewer's most recent positive engagements, with their weights, for co-engagement."""
    found: dict[int, float] = {}
    for event in history:
        weight = SIGNAL_WEIGHTS[event.signal]
        if weight >= 1.0:
            found[event.note_id] = max(found.get(event.note_id, 0.0), weight)
        if len(found) >= limit:
            break
    return list(found.items())


def _same_name(topic: str) -> tuple[str, ...]:
    return (topic,)


async def load_candidates(
    *,
    viewer_id: int,
    topics: Sequence[str],
    positive: Sequence[tuple[int, float]],
    now: datetime,
    exclude: Sequence[int] = (),
    popular: bool = False,
    depth: int = 1,
    plan: CandidatePlan = DEFAULT_PLAN,
    trending: Sequence[int] | None = None,
    exclude_authors: frozenset[int] = frozenset(),
    family_names: Callable[[str], Sequence[str]] = _same_name,
) -> list[Candidate]:
    """Every pool of feed/candidates.py in one statement, with each note's features and the filters:
    already served in the last 7 days or remembered as just served or opened, opened, "not interested",
    already liked or collected, deleted, own. `topics`: the viewer's top topic families, each looked up by
    every one of its `family_names` (search.families; by default a topic is only its own name). `depth` widens
    every pool (a continuation snapshot digs deeper). `trending`: the trending pool's notes when known
    (`load_trending`); otherwise the statement finds them itself. `exclude` and `exclude_authors` (blocked
    or muted by the viewer) are dropped from the rows read, not in SQL: the statement and its plan stay
    the same for every viewer."""
    sql, params = candidate_query(
        viewer_id=viewer_id,
        topics=topics,
        positive=positive,
        now=now,
        popular=popular,
        depth=depth,
        plan=plan,
        trending=trending,
        family_names=family_names,
    )
    return _candidates(await fetch_planned(sql, params), exclude, exclude_authors)


# A topic pool's note `nt.note_id` not served to the viewer ($1) lately: not in the impressions of the
# window ($2), not remembered as just served (the table store's key $4, alive at $5). The same conditions
# as the statement's own filter, applied before each name's LIMIT.
_UNSERVED = (
    "NOT EXISTS (SELECT 1 FROM feed_impressions i WHERE i.user_id = $1 AND i.note_id = nt.note_id "
    "AND i.served_at >= $2) AND NOT EXISTS (SELECT 1 FROM feed_snapshots s "
    "WHERE s.id = $4 || CAST(nt.note_id AS TEXT) AND s.expires_at > $5)"
)


def _topic_pool(
    topics: Sequence[str], names: Callable[[str], Sequence[str]], limit: int, param: Callable[[Any], str]
) -> str | None:
    """The topic pool: each family's `limit` newest notes under any of its names that the viewer was not
    served lately. Each name is read through the (topic_id, note_id) index, `limit` at most, then the
    family's newest are kept: bounded however many names a family has, and a note tagged 健身 and fitness
    counts once. Served notes are skipped before the limit, not after it: a reader who has seen a
    family's newest 60 notes gets the 60 before them, instead of none (which took the family out of every
    later session)."""
    pairs = [(name, family) for family in topics for name in dict.fromkeys(names(family))]
    if not pairs:
        return None
    if dialect() == "postgres":
        # One branch for every name, the same text for any number of them.
        per_name = (
            "SELECT f.family, p.note_id FROM unnest("
            f"CAST({param([n for n, _ in pairs])} AS TEXT[]), CAST({param([f for _, f in pairs])} AS TEXT[])"
            ") AS f(name, family) JOIN topics tp ON tp.name = f.name CROSS JOIN LATERAL ("
            f"SELECT nt.note_id FROM note_topics nt WHERE nt.topic_id = tp.id AND {_UNSERVED} "
            f"ORDER BY nt.note_id DESC LIMIT {limit}) p"
        )
    else:
        per_name = " UNION ALL ".join(
            f"SELECT * FROM (SELECT CAST({param(family)} AS TEXT) AS family, nt.note_id AS note_id "
            f"FROM note_topics nt WHERE nt.topic_id = (SELECT id FROM topics WHERE name = {param(name)}) "
            f"AND {_UNSERVED} ORDER BY nt.note_id DESC LIMIT {limit})"
            for name, family in pairs
        )
    return (
        f"SELECT q.note_id AS note_id, 'topic' AS src, {_NO_CF} FROM (SELECT d.note_id, ROW_NUMBER() OVER "
        f"(PARTITION BY d.family ORDER BY d.note_id DESC) AS r FROM (SELECT DISTINCT family, note_id FROM "
        f"({per_name}) x) d) q WHERE q.r <= {limit}"
    )


# Long on purpose: it assembles one SQL statement (every pool and exclusion in one round trip).
def candidate_query(
    *,
    viewer_id: int,
    topics: Sequence[str],
    positive: Sequence[tuple[int, float]],
    now: datetime,
    popular: bool = False,
    depth: int = 1,
    plan: CandidatePlan = DEFAULT_PLAN,
    trending: Sequence[int] | None = None,
    family_names: Callable[[str], Sequence[str]] = _same_name,
) -> tuple[str, list[Any]]:
    """The candidate statement and its parameters (bench/feed_snapshot.py EXPLAINs it)."""
    postgres = dialect() == "postgres"
    params: list[Any] = [
        viewer_id,
        now - timedelta(days=SERVED_WINDOW_DAYS),
        now - timedelta(days=plan.explore_window_days),
        served_key(viewer_id),
        now,
    ]

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    pools = []
    topic_pool = _topic_pool(topics[: plan.top_topics], family_names, plan.per_topic * depth, param)
    if topic_pool is not None:
        pools.append(topic_pool)
    if positive:
        if postgres:
            # Two arrays, not a SELECT per positive: 50 branches were a good part of the planning time.
            values = (
                f"SELECT * FROM unnest(CAST({param([n for n, _ in positive])} AS INTEGER[]),"
                f" CAST({param([float(w) for _, w in positive])} AS REAL[])) AS v(note_id, w)"
            )
        else:
            values = " UNION ALL ".join(
                f"SELECT CAST({param(n)} AS INTEGER) AS note_id, CAST({param(w)} AS REAL) AS w"
                for n, w in positive
            )
        pools.append(
            "SELECT * FROM (SELECT nn.neighbour_id AS note_id, 'neighbour' AS src, "
            "SUM(p.w * nn.score) AS cf, MIN(nn.note_id) AS cf_from "
            f"FROM note_neighbours nn JOIN ({values}) p ON p.note_id = nn.note_id "
            f"GROUP BY nn.neighbour_id ORDER BY cf DESC LIMIT {plan.neighbours * depth}) p"
        )
    recent = _recent(depth)
    # Small creators' little-seen notes among the newest (a bounded walk even where few qualify), from the
    # widest of the ranking's exploration windows: it takes the narrowest that holds enough of them.
    pools.append(
        f"SELECT * FROM (SELECT n.id AS note_id, 'explore' AS src, {_NO_CF} FROM ("
        "SELECT id, author_id, created_at, impression_count FROM notes WHERE deleted_at IS NULL "
        f"ORDER BY id DESC LIMIT {RECENT_WINDOW * depth}) n JOIN users u ON u.id = n.author_id "
        "WHERE n.created_at >= $3 AND n.impression_count < 200 AND u.follower_count < 1000 "
        f"ORDER BY n.id DESC LIMIT {plan.explore * depth}) p"
    )
    if trending is not None and postgres:
        # The same for every viewer: worked out once for many requests (feed/trending.py).
        pools.append(
            f"SELECT t.note_id AS note_id, 'trending' AS src, {_NO_CF} "
            f"FROM unnest(CAST({param(list(trending))} AS INTEGER[])) AS t(note_id)"
        )
    else:
        pools.append(f"SELECT * FROM ({trending_query(depth, plan)}) p")
    if popular:
        # No profile at all: recent notes by smoothed engagement rate (never by follower counts).
        pools.append(
            f"SELECT * FROM (SELECT id AS note_id, 'popular' AS src, {_NO_CF} FROM ({recent}) r ORDER BY "
            "(like_count + collect_count + comment_count + 1.0) / (impression_count + 20.0) DESC, id DESC "
            f"LIMIT {plan.snapshot_size * depth}) p"
        )
    sources = "string_agg(src, ',')" if postgres else "group_concat(src, ',')"
    if postgres:
        # Every candidate's topic names in one grouped join: as a subquery per candidate, PostgreSQL
        # hashed the topics table and sorted once per note, half of the statement's time.
        names_cte = (
            ", names AS (SELECT nt.note_id, string_agg(t.name, chr(31) ORDER BY nt.position) AS topic_names "
            "FROM note_topics nt JOIN topics t ON t.id = nt.topic_id "
            "WHERE nt.note_id IN (SELECT note_id FROM merged) GROUP BY nt.note_id) "
        )
        names, names_join = "tn.topic_names", "LEFT JOIN names tn ON tn.note_id = n.id "
    else:
        names_cte, names, names_join = " ", _topics_sql("n.id"), ""
    sql = (
        f"WITH pool AS ({' UNION ALL '.join(pools)}), "
        f"merged AS (SELECT note_id, {sources} AS sources, MAX(cf) AS cf, MAX(cf_from) AS cf_from "
        f"FROM pool GROUP BY note_id){names_cte}"
        # Only what ranking reads: of some 400 candidates a page shows 20, which the note loader reads whole.
        "SELECT n.id AS id, n.author_id AS author_id, n.language AS language, n.created_at AS created_at, "
        "n.impression_count AS impressions, n.like_count + n.collect_count + n.comment_count AS engagements, "
        "u.follower_count AS author_followers, m.sources AS sources, "
        f"m.cf AS cf, m.cf_from AS cf_from, {names} AS topic_names "
        f"FROM merged m JOIN notes n ON n.id = m.note_id JOIN users u ON u.id = n.author_id {names_join}"
        "WHERE n.deleted_at IS NULL AND n.withheld = FALSE AND n.author_id <> $1 "
        "AND NOT EXISTS (SELECT 1 FROM feed_impressions i WHERE i.user_id = $1 AND i.note_id = n.id "
        "AND i.served_at >= $2) "
        # Served or opened a moment ago, before the batched writes land (feed/snapshots.py): by key.
        "AND NOT EXISTS (SELECT 1 FROM feed_snapshots s WHERE s.id = $4 || CAST(n.id AS TEXT) "
        "AND s.expires_at > $5) "
        # Opened: read already. "Not interested": never again (its author and family are only damped).
        "AND NOT EXISTS (SELECT 1 FROM feed_events f WHERE f.user_id = $1 AND f.note_id = n.id "
        "AND f.kind IN ('NOT_INTERESTED', 'OPEN')) "
        "AND NOT EXISTS (SELECT 1 FROM likes l WHERE l.user_id = $1 AND l.note_id = n.id) "
        "AND NOT EXISTS (SELECT 1 FROM collects c WHERE c.user_id = $1 AND c.note_id = n.id)"
    )
    return sql, params


def _recent(depth: int) -> str:
    """The newest notes, which trending and popular choose from: by id (an index walk), not a time
    window, so a quiet site still has them; only the columns the two pools order by (the rest of 2,000
    wide rows is never read)."""
    return (
        "SELECT id, like_count, collect_count, comment_count, impression_count FROM notes "
        f"WHERE deleted_at IS NULL ORDER BY id DESC LIMIT {RECENT_WINDOW * depth}"
    )


def trending_query(depth: int, plan: CandidatePlan = DEFAULT_PLAN) -> str:
    """The trending pool: the most engaged of the newest notes (the same for every viewer)."""
    return (
        f"SELECT id AS note_id, 'trending' AS src, {_NO_CF} FROM ({_recent(depth)}) r "
        f"ORDER BY like_count + collect_count + comment_count DESC, id DESC LIMIT {plan.trending * depth}"
    )


async def load_trending(depth: int, plan: CandidatePlan = DEFAULT_PLAN) -> list[int]:
    """The trending pool's notes, best first (one statement)."""
    return [int(r["note_id"]) for r in await fetch_all(trending_query(depth, plan))]


def _candidates(
    rows: Sequence[Mapping[str, Any]], exclude: Sequence[int], exclude_authors: frozenset[int] = frozenset()
) -> list[Candidate]:
    skip = set(exclude)
    best_cf = max((float(r["cf"] or 0.0) for r in rows), default=0.0)
    candidates: list[Candidate] = []
    for r in rows:
        note_id = int(r["id"])
        if note_id in skip or int(r["author_id"]) in exclude_authors:
            continue
        cf = float(r["cf"] or 0.0)
        candidates.append(
            Candidate(
                note_id=note_id,
                author_id=int(r["author_id"]),
                topics=_split(r["topic_names"]),
                language=str(r["language"]),
                created_at=epoch(r["created_at"]),
                impressions=int(r["impressions"]),
                engagements=int(r["engagements"]),
                author_followers=int(r["author_followers"]),
                sources=frozenset(str(r["sources"] or "").split(",")),
                cf=cf / best_cf if best_cf > 0 else 0.0,
                cf_from=(int(r["cf_from"]),) if r["cf_from"] is not None and cf > 0 else (),
            )
        )
    return candidates
