"""The `search` query: match in the database's full-text index, rank in Python, page by keyset.

One statement per page on either database. RELEVANCE reads candidates (the `CANDIDATES` most popular
matches in the head — title, name, topics — and, when those are fewer, as many matching anywhere) and ranks
them with `search.ranking`, so its lists end after at most 2 × CANDIDATES results; POPULAR and LATEST are
ordered and keyset-paged by the database itself, to the end of the matches. Either way pages go both
ways: backwards (`last`/`before`) RELEVANCE slices the same ranking, POPULAR and LATEST read the opposite
order and reverse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntFlag, StrEnum
from typing import Any

from core.cursors import DEFAULT_PAGE_SIZE, bad_cursor, decode_cursor, encode_cursor
from core.errors import DomainError, ErrorCode
from core.sql import dialect, fetch_all, placeholders
from models.search import SearchKind
from search.concepts import literal_tokens, prune, tokens_of, understand, weighed
from search.families import families
from search.language import LANGUAGE_CODES
from search.ranking import Relevance, final_score
from search.suggest import suggestion, vocabulary
from search.terms import TOTAL, term_counts, term_weights
from search.text import Query, Term, Token

# Candidates read per tier for RELEVANCE; with two tiers at most 2 × this many are scored.
CANDIDATES = 250


# Fewer results than this on a first page and the reader is offered a correction (`SearchPage.suggestion`).
SUGGEST_BELOW = 3


class Phase(IntFlag):
    """Which results a page holds, carried in its cursors: those with half the words (RELAXED), those of
    the correction of the query (CORRECTED)."""

    RELAXED = 1
    CORRECTED = 2


class Notice(StrEnum):
    KANA_ONLY = "KANA_ONLY"  # only Japanese kana, and no Japanese note has them


class SearchSort(StrEnum):
    RELEVANCE = "RELEVANCE"
    POPULAR = "POPULAR"
    LATEST = "LATEST"


@dataclass(frozen=True)
class KindSql:
    table: str
    popularity: str  # over alias `e`
    visible: str
    language: str | None  # column holding a detected language, when the kind has one
    # The person an object belongs to (a note's author, a product's merchant, a person themselves): results
    # of people a viewer blocked or muted are left out by it.
    owner: str | None = None


KINDS: dict[SearchKind, KindSql] = {
    SearchKind.NOTE: KindSql(
        "notes",
        "(e.like_count + e.collect_count + e.comment_count)",
        "e.deleted_at IS NULL AND e.withheld = FALSE",
        "e.language",
        "e.author_id",
    ),
    SearchKind.USER: KindSql("users", "e.follower_count", "e.deleted_at IS NULL", None, "e.id"),
    SearchKind.PRODUCT: KindSql("products", "e.review_count", "e.withheld = FALSE", None, "e.merchant_id"),
    SearchKind.TOPIC: KindSql("topics", "e.note_count", "1 = 1", None),
}


@dataclass(frozen=True)
class SearchHit:
    object_id: int
    cursor: str
    score: float


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    has_next: bool
    terms: list[str]
    # True when no document had every term, so these results match only some of them.
    relaxed: bool
    has_previous: bool = False
    # RELEVANCE: the length of the ranking (read whole for every page anyway); None for POPULAR and
    # LATEST, where it would mean counting every match.
    total_count: int | None = None
    # What the reader probably meant (search/suggest.py), when the query found little; `corrected` when
    # these are its results, the query itself having found nothing.
    suggestion: str | None = None
    corrected: bool = False
    notice: Notice | None = None


@dataclass(frozen=True)
class _Hits:
    hits: list[SearchHit]
    has_next: bool
    has_previous: bool
    total_count: int | None = None


# --- match expressions --------------------------------------------------------------------------------


def _tsquery_token(token: Token, weight: str) -> str:
    text = token.text.replace("'", "''")  # tokens are letters and digits; quoting is belt and braces
    suffix = ("*" if token.prefix else "") + weight
    return f"'{text}'" + (f":{suffix}" if suffix else "")


def _fts5_token(token: Token) -> str:
    return '"' + token.text.replace('"', '""') + '"' + ("*" if token.prefix else "")


def _term_expression(term: Term, token: Any, conj: str, disj: str) -> str:
    alternatives = ["(" + f" {conj} ".join(token(t) for t in alt) + ")" for alt in term.every_alternative]
    return "(" + f" {disj} ".join(alternatives) + ")"


def match_expression(query: Query, database: str, *, every_term: bool = True, head_only: bool = False) -> str:
    """The query as PostgreSQL tsquery text or an FTS5 MATCH string.

    Tokens are letters and digits only (see search.text), so no user input can become an operator.
    """
    if database == "postgres":
        weight = "A" if head_only else ""
        terms = [_term_expression(t, lambda k: _tsquery_token(k, weight), "&", "|") for t in query.terms]
        return (" & " if every_term else " | ").join(terms)
    terms = [_term_expression(t, _fts5_token, "AND", "OR") for t in query.terms]
    expression = (" AND " if every_term else " OR ").join(terms)
    return "{head} : (" + expression + ")" if head_only else expression


def _source(kind: SearchKind, database: str, match_param: str) -> str:
    """FROM … WHERE for documents of `kind` matching the expression in `match_param`, visible objects only."""
    sql = KINDS[kind]
    if database == "postgres":
        return (
            f"FROM search_documents d JOIN {sql.table} e ON e.id = d.object_id"
            f" WHERE d.kind = '{kind.value}' AND d.tsv @@ to_tsquery('simple', {match_param})"
            f" AND {sql.visible}"
        )
    return (
        # CROSS JOIN fixes SQLite's join order: matches first, else it may walk every document in id order
        # and test each against the index (37 ms instead of 1 ms for LATEST on the demo data).
        "FROM search_fts f CROSS JOIN search_documents d ON d.id = f.rowid"
        f" CROSS JOIN {sql.table} e ON e.id = d.object_id"
        f" WHERE search_fts MATCH {match_param} AND d.kind = '{kind.value}' AND {sql.visible}"
    )


# --- cursors -------------------------------------------------------------------------------------------


def _cursor(sort: SearchSort, phase: Phase, key: float | int, object_id: int) -> str:
    return encode_cursor(sort.value, int(phase), repr(key) if isinstance(key, float) else key, object_id)


def _int32(value: object) -> bool:
    return isinstance(value, int) and -(2**31) <= value < 2**31


Position = tuple[Phase, float | int, int]  # (phase, sort key, object id)


def _decode(cursor: str | None, sort: SearchSort, argument: str) -> Position | None:
    if cursor is None:
        return None
    bad = bad_cursor(argument, "search")
    sort_name, phase, key, object_id = decode_cursor(cursor, arity=4, argument=argument)
    if sort_name != sort.value or phase not in (0, 1, 2, 3) or not _int32(object_id):
        raise bad
    if sort is SearchSort.RELEVANCE:
        try:
            key = float(key)
        except (TypeError, ValueError):
            raise bad from None
    elif not _int32(key):  # ids and popularity are 32-bit columns; anything else is forged
        raise bad
    return Phase(phase), key, object_id


# --- the search ------------------------------------------------------------------------------------------


def clean_language(language: str | None) -> str | None:
    if language is None or not language.strip():
        return None
    code = language.strip().casefold()
    if code not in LANGUAGE_CODES:
        raise DomainError(
            ErrorCode.INVALID,
            f"Unknown language {language[:20]!r}: use one of {', '.join(sorted(LANGUAGE_CODES))}.",
            "language",
        )
    return code


async def search(
    text: str,
    *,
    kind: SearchKind = SearchKind.NOTE,
    sort: SearchSort = SearchSort.RELEVANCE,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    language: str | None = None,
    preferred_languages: Sequence[str] = (),
    exclude_owners: frozenset[int] = frozenset(),
) -> SearchPage:
    """One page of results: `first` after `after`, or (given `last` or `before`) `last` before `before`.

    `language` keeps only notes detected in that language; `preferred_languages` ranks notes in them higher;
    `exclude_owners` leaves out what belongs to those people (blocked or muted by the viewer), so pages stay
    full.
    """
    backward = last is not None or before is not None
    asked = last if backward else first
    size = DEFAULT_PAGE_SIZE if asked is None else asked
    position = _decode(before if backward else after, sort, "before" if backward else "after")
    understood = understand(text, await families.get())
    query = await _weighed(understood.query)
    terms = [t.source for t in query.terms]
    if query.empty or size == 0:  # nothing to read: an empty query has no results, a page of 0 shows none
        return SearchPage([], False, terms, False, total_count=0 if query.empty else None)
    asked_for = _Asked(kind, sort, size, backward, language, preferred_languages, exclude_owners)
    if position is not None and position[0] & Phase.CORRECTED:
        # A later page of the results of a correction: the same query gives the same correction.
        correction = await _correction(understood.text, query)
        if correction is not None:
            corrected = await _weighed(understand(correction, families.current()).query)
            page = await _page(corrected, asked_for, position)
            return _result(page, terms, position[0], correction)
    page, phase = await _strict_then_relaxed(query, asked_for, position)
    correction = None
    if position is None and _few(page):
        correction = await _correction(understood.text, query)
    if not page.hits and correction is not None:
        # Nothing found: the results of what the reader probably meant, saying so (`corrected`).
        corrected = await _weighed(understand(correction, families.current()).query)
        found, found_phase = await _strict_then_relaxed(corrected, asked_for, None, Phase.CORRECTED)
        if found.hits:
            return _result(found, terms, found_phase, correction)
    notice = Notice.KANA_ONLY if understood.kana_only and not page.hits else None
    return _result(page, terms, phase, correction, notice)


def _few(page: _Hits) -> bool:
    """Whether the query found fewer than SUGGEST_BELOW results in all (not just on this page)."""
    if page.total_count is not None:
        return page.total_count < SUGGEST_BELOW
    return not page.has_next and not page.has_previous and len(page.hits) < SUGGEST_BELOW


def _result(
    page: _Hits, terms: list[str], phase: Phase, suggestion: str | None, notice: Notice | None = None
) -> SearchPage:
    return SearchPage(
        page.hits,
        page.has_next,
        terms,
        bool(phase & Phase.RELAXED) and bool(page.hits),
        page.has_previous,
        page.total_count,
        suggestion=suggestion,
        corrected=bool(phase & Phase.CORRECTED),
        notice=notice,
    )


async def _strict_then_relaxed(
    query: Query, asked_for: _Asked, position: Position | None, phase: Phase = Phase(0)
) -> tuple[_Hits, Phase]:
    """The page of every word's matches; on a first page that found none, of half the words' matches."""
    if position is not None:
        return await _page(query, asked_for, position), position[0]
    page = await _page(query, asked_for, None, phase)
    if not page.hits and asked_for.sort is SearchSort.RELEVANCE and len(query.terms) > 1:
        # Nothing has every word: show what has at least half of them, best first, and say so. (POPULAR and
        # LATEST are filters as much as orders: they keep to documents with every word.)
        phase |= Phase.RELAXED
        page = await _page(query, asked_for, None, phase)
    return page, phase


async def _weighed(query: Query) -> Query:
    """The query with the meanings the index holds and each term's weight (one statement at most)."""
    if query.empty:
        return query
    counts = await term_counts.counts(tokens_of(query))
    query = prune(query, counts, counted=counts[TOTAL] > 0)
    return weighed(query, term_weights(counts, [literal_tokens(t) for t in query.terms]))


async def _correction(text: str, query: Query) -> str | None:
    """What the reader probably meant, when some word of the query is unknown to the index."""
    return suggestion(text, query, await vocabulary.get())


def _filters(
    kind: SearchKind, language: str | None, params: list[Any], exclude_owners: frozenset[int] = frozenset()
) -> str:
    """Extra WHERE conditions (appending their parameters)."""
    conditions = ""
    column, owner = KINDS[kind].language, KINDS[kind].owner
    if language is not None and column is not None:
        params.append(language)
        conditions += f" AND {column} = ${len(params)}"
    if exclude_owners and owner is not None:
        start = len(params) + 1
        params.extend(sorted(exclude_owners))
        conditions += f" AND {owner} NOT IN ({placeholders(len(exclude_owners), start)})"
    return conditions


def relevance_statement(
    query: Query, kind: SearchKind, database: str, *, relaxed: bool = False, language: str | None = None
) -> tuple[str, list[Any]]:
    """The one statement that reads RELEVANCE candidates, and its parameters (the benchmark EXPLAINs it)."""
    if database == "postgres" and kind is SearchKind.NOTE:
        return note_relevance_statement(query, relaxed=relaxed, language=language)
    return general_relevance_statement(query, kind, database, relaxed=relaxed, language=language)


def general_relevance_statement(
    query: Query, kind: SearchKind, database: str, *, relaxed: bool = False, language: str | None = None
) -> tuple[str, list[Any]]:
    """RELEVANCE candidates of any kind on either database: each match's object read for its popularity."""
    sql = KINDS[kind]
    params: list[Any] = [match_expression(query, database, every_term=not relaxed)]
    where = _filters(kind, language, params)
    params.append(match_expression(query, database, every_term=not relaxed, head_only=True))
    head_param = f"${len(params)}"
    columns = (
        f"d.object_id AS id, d.head, d.body, {sql.popularity} AS popularity,"
        f" {sql.language or 'NULL'} AS language, {sql.owner or 'NULL'} AS owner"
    )

    def tier(match_param: str) -> str:
        return (
            f"SELECT {columns} {_source(kind, database, match_param)}{where}"
            f" ORDER BY popularity DESC, d.object_id DESC LIMIT {CANDIDATES}"
        )

    return f"WITH head AS ({tier(head_param)}) {_head_then_anywhere(tier('$1'))}", params


def _head_then_anywhere(anywhere: str) -> str:
    """The candidates of both tiers: the rows of the `head` CTE, then those of `anywhere` only when the
    head gave fewer than CANDIDATES (both databases skip that branch otherwise). A broad word then costs
    one pass over its matches, not two."""
    return (
        f"SELECT * FROM head UNION ALL SELECT * FROM ({anywhere}) AS anywhere"
        f" WHERE (SELECT COUNT(*) FROM head) < {CANDIDATES}"
    )


def note_relevance_statement(
    query: Query, *, relaxed: bool = False, language: str | None = None
) -> tuple[str, list[Any]]:
    """RELEVANCE candidates among notes on PostgreSQL: the same rows as the general statement, cheaper.

    The head matches through its own unweighted index (`head_tsv`), which needs no recheck, and the tiers
    order by the popularity each document carries (search/schema.py's triggers keep it equal to the note's),
    so notes are read only for the candidates, not for every match. A deleted note has no document
    (search.documents.reindex), so limiting before reading notes keeps the same candidates. The tiers
    sort ids alone and the texts are read for the candidates: sorting every match with its texts (some
    800 bytes each, 3,300 matches for 口红 at 1×) was a tenth of the statement.
    """

    in_language = "" if language is None else " AND d.language = $2"

    def tier(vector: str) -> str:
        return (
            f"SELECT d.object_id FROM search_documents d WHERE d.kind = 'NOTE'"
            f" AND d.{vector} @@ to_tsquery('simple', $1){in_language}"
            f" ORDER BY d.popularity DESC, d.object_id DESC LIMIT {CANDIDATES}"
        )

    statement = (
        f"WITH head AS ({tier('head_tsv')}), matches AS ({_head_then_anywhere(tier('tsv'))})"
        " SELECT m.object_id AS id, d.head, d.body,"
        f" {KINDS[SearchKind.NOTE].popularity} AS popularity, e.language AS language, e.author_id AS owner"
        " FROM matches m JOIN search_documents d ON d.kind = 'NOTE' AND d.object_id = m.object_id"
        f" JOIN notes e ON e.id = m.object_id WHERE {KINDS[SearchKind.NOTE].visible}"
    )
    arguments: list[Any] = [match_expression(query, "postgres", every_term=not relaxed)]
    return statement, arguments + ([] if language is None else [language])


@dataclass(frozen=True)
class _Asked:
    """What a page is asked for, whichever query (the reader's, or its correction) answers it."""

    kind: SearchKind
    sort: SearchSort
    size: int
    backward: bool
    language: str | None
    preferred_languages: Sequence[str]
    exclude_owners: frozenset[int]


async def _page(query: Query, asked: _Asked, position: Position | None, phase: Phase | None = None) -> _Hits:
    """The hits of one page (of the `phase` of the results, else the position's), and whether hits precede
    and follow it."""
    kind, sort, size, backward = asked.kind, asked.sort, asked.size, asked.backward
    language, preferred_languages, exclude_owners = (
        asked.language,
        asked.preferred_languages,
        asked.exclude_owners,
    )
    if phase is None:
        phase = position[0] if position is not None else Phase(0)
    relaxed = bool(phase & Phase.RELAXED)
    database = dialect()
    if sort is SearchSort.RELEVANCE:
        statement, arguments = relevance_statement(query, kind, database, relaxed=relaxed, language=language)
        # Candidates of people left out are dropped here, not in SQL: one statement text for every viewer.
        rows = [r for r in await fetch_all(statement, arguments) if r["owner"] not in exclude_owners]
        ranked = rank_candidates(query, rows, relaxed, preferred_languages)
        return _relevance_slice(ranked, size, backward, position, phase)
    sql = KINDS[kind]
    params: list[Any] = [match_expression(query, database)]
    where = _filters(kind, language, params, exclude_owners)
    order = "popularity DESC, d.object_id DESC" if sort is SearchSort.POPULAR else "d.object_id DESC"
    if backward:
        order = order.replace("DESC", "ASC")
    select = f"SELECT d.object_id AS id, {sql.popularity} AS popularity {_source(kind, database, '$1')}"

    def hit(row: dict[str, Any]) -> SearchHit:
        key = int(row["popularity"]) if sort is SearchSort.POPULAR else row["id"]
        return SearchHit(row["id"], _cursor(sort, phase, key, row["id"]), float(row["popularity"]))

    if position is None:
        rows = await fetch_all(f"{select}{where} ORDER BY {order} LIMIT {size + 1}", params)
        hits, more = [hit(r) for r in rows[:size]], len(rows) > size
        if backward:
            return _Hits(hits[::-1], has_next=False, has_previous=more)
        return _Hits(hits, has_next=more, has_previous=False)
    # From a cursor, read the cursor's own hit too: still there, it proves hits lie beyond the cursor (before
    # an `after`, after a `before`) with no second statement.
    ahead = not backward
    beyond = _keyset_sql(sort, sql, position, list(params), later=ahead, inclusive=True)
    rows = await fetch_all(f"{select}{where}{beyond[0]} ORDER BY {order} LIMIT {size + 2}", beyond[1])
    _, key, last_id = position
    anchored = bool(rows) and rows[0]["id"] == last_id
    if anchored and sort is SearchSort.POPULAR:
        anchored = int(rows[0]["popularity"]) == key
    if anchored:
        rows = rows[1:]
    hits, more = [hit(r) for r in rows[:size]], len(rows) > size
    behind = anchored
    if not behind:  # the cursor's hit has gone (or its popularity moved): one LIMIT 1 read settles it
        other = _keyset_sql(sort, sql, position, list(params), later=not ahead, inclusive=False)
        behind = bool(
            await fetch_all(
                f"SELECT 1 AS found {_source(kind, database, '$1')}{where}{other[0]} LIMIT 1", other[1]
            )
        )
    if backward:
        return _Hits(hits[::-1], has_next=behind, has_previous=more)
    return _Hits(hits, has_next=more, has_previous=behind)


def _keyset_sql(
    sort: SearchSort, sql: KindSql, position: Position, params: list[Any], *, later: bool, inclusive: bool
) -> tuple[str, list[Any]]:
    """A condition for hits after `position` in the (descending) order (before it: `later=False`), with
    the parameters it adds; `inclusive` keeps the hit at the position itself."""
    _, key, last_id = position
    op = "<" if later else ">"
    last_op = op + ("=" if inclusive else "")
    if sort is SearchSort.POPULAR:
        params.extend([key, last_id])
        k, i = len(params) - 1, len(params)
        return (
            f" AND ({sql.popularity} {op} ${k} OR ({sql.popularity} = ${k} AND d.object_id {last_op} ${i}))",
            params,
        )
    params.append(last_id)
    return f" AND d.object_id {last_op} ${len(params)}", params


def _relevance_slice(
    ranked: list[tuple[int, float]], size: int, backward: bool, position: Position | None, phase: Phase
) -> _Hits:
    """A page of the whole ranking (best first: descending (score, id)), either way from `position`."""
    if position is None:
        ahead = behind = ranked
    else:
        _, key, last_id = position
        ahead = [(i, s) for i, s in ranked if (s, i) < (key, last_id)]
        behind = [(i, s) for i, s in ranked if (s, i) > (key, last_id)]
    if backward:
        chosen = behind[-size:] if size else []
        has_previous, has_next = len(behind) > size, position is not None and len(ranked) > len(behind)
    else:
        chosen = ahead[:size]
        has_next, has_previous = len(ahead) > size, position is not None and len(ranked) > len(ahead)
    hits = [SearchHit(i, _cursor(SearchSort.RELEVANCE, phase, s, i), s) for i, s in chosen]
    return _Hits(hits, has_next, has_previous, total_count=len(ranked))


def rank_candidates(
    query: Query, rows: list[dict[str, Any]], relaxed: bool, preferred_languages: Sequence[str]
) -> list[tuple[int, float]]:
    """(id, score), best first, ties by newer id; relaxed, a result must still have half of the words."""
    needed = (len(query.terms) + 1) // 2 if relaxed else 1
    scored: dict[int, float] = {}
    relevance = Relevance(query)
    for row in rows:
        if row["id"] in scored:
            continue
        match = relevance(row["head"], row["body"])
        if match.matched_terms < needed:
            continue
        scored[row["id"]] = final_score(
            match,
            term_count=len(query.terms),
            popularity=int(row["popularity"]),
            language=row["language"],
            preferred_languages=preferred_languages,
        )
    return sorted(scored.items(), key=lambda item: (-item[1], -item[0]))
