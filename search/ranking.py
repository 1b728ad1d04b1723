"""Relevance: a BM25-style score over a document's tokens, computed here rather than by the database.

PostgreSQL's ts_rank and FTS5's bm25 disagree; scoring in Python over the candidates both databases return for
the same statement gives the same order on both. Pure functions: no database, no GraphQL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from search.text import Query, Token

HEAD_WEIGHT = 3.0  # a word in the title, name or topics says more than one in the body
BODY_WEIGHT = 1.0
K1 = 1.2  # term-frequency saturation
B = 0.75  # length normalisation
# Typical field lengths in tokens (a Chinese character gives about 2.5: itself, a pair, words), measured
# on the demo data; fixed, so a score never depends on what else is in the index.
HEAD_AVERAGE = 24.0
BODY_AVERAGE = 150.0
PREFIX_CREDIT = 0.7  # "lip" finding "lipstick" is a weaker match than "lipstick" itself
POPULARITY_WEIGHT = 0.08  # log-damped: popularity breaks near-ties, it never beats a better match
PREFERRED_LANGUAGE_BOOST = 1.25
WHOLE_WORD_BOOST = 1.2  # the text has the query's long Chinese word as jieba cut it, not just its pairs
# A term found by what it means (its topic in the other language, a synonym, an emoji's name: see
# search/concepts.py) rather than by its own words: a match, worth less than the words the reader typed.
RELATED_CREDIT = 0.5


@dataclass(frozen=True)
class Scored:
    score: float
    matched_terms: int
    # The matched terms' share of the query's weight (rare words weigh more: search/terms.py).
    matched_weight: float = 1.0


class Field:
    """A document field: its tokens, space-separated, counted with C-speed substring counts (building a
    Counter of every token was most of the time of a search over hundreds of candidates)."""

    def __init__(self, text: str) -> None:
        self.text = f" {text} "
        # search.text.index_text joins non-empty tokens without spaces by one space: the tokens are the
        # spaces plus one. Splitting the text to count them was a third of ranking 250 candidates.
        self.length = text.count(" ") + 1 if text else 0

    def count(self, pattern: _Pattern) -> float:
        """How often a token occurs (a prefix token: with credit for tokens that begin with it)."""
        exact = self.text.count(pattern[0])
        if pattern[1] is None:
            return float(exact)
        starting = self.text.count(pattern[1])  # tokens that begin with it, itself included
        return exact + PREFIX_CREDIT * (starting - exact)


# A token as the substrings counted in a field: itself between spaces, and for a prefix token the
# space before it alone.
_Pattern = tuple[str, str | None]


def _pattern(token: Token) -> _Pattern:
    return (f" {token.text} ", f" {token.text}" if token.prefix else None)


def _saturated(tf: float, length: int, average: float) -> float:
    if tf <= 0:
        return 0.0
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))


class Relevance:
    """`relevance` for one query over many documents: the substrings each term counts are made once, not
    once per document (a search ranks up to 250 candidates)."""

    def __init__(self, query: Query) -> None:
        self.terms = [
            (
                # Each alternative: all of its tokens (a word stored as several pairs, Chinese), with the
                # credit a match of it earns.
                [([_pattern(t) for t in alternative], 1.0) for alternative in term.alternatives]
                + [([_pattern(t) for t in alternative], RELATED_CREDIT) for alternative in term.related],
                None if term.whole_word is None else _pattern(Token(term.whole_word)),
                term.weight,
            )
            for term in query.terms
        ]
        self.total_weight = sum(term.weight for term in query.terms) or 1.0

    def __call__(self, head: str, body: str) -> Scored:
        """How well a document's head and body match the query; terms that do not match add nothing."""
        head_field, body_field = Field(head), Field(body)
        total = 0.0
        matched = 0
        matched_weight = 0.0
        for alternatives, whole, weight in self.terms:
            best = 0.0
            for patterns, credit in alternatives:
                # An alternative occurs as often as its rarest token.
                score = HEAD_WEIGHT * _saturated(
                    min(head_field.count(p) for p in patterns), head_field.length, HEAD_AVERAGE
                ) + BODY_WEIGHT * _saturated(
                    min(body_field.count(p) for p in patterns), body_field.length, BODY_AVERAGE
                )
                best = max(best, score * credit)
            if best > 0 and whole is not None and (head_field.count(whole) or body_field.count(whole)):
                best *= WHOLE_WORD_BOOST
            if best > 0:
                matched += 1
                matched_weight += weight
                total += best * weight
        return Scored(total, matched, matched_weight / self.total_weight)


def relevance(query: Query, head: str, body: str) -> Scored:
    """How well a document's head and body match the query; terms that do not match add nothing."""
    return Relevance(query)(head, body)


def final_score(
    scored: Scored,
    *,
    term_count: int,
    popularity: int,
    language: str | None,
    preferred_languages: Sequence[str],
) -> float:
    """Relevance, scaled by the share of the query's weight matched (a note with only the query's common
    word covers little of it), lifted by popularity and the reader's languages."""
    if term_count == 0 or scored.matched_terms == 0:
        return 0.0
    coverage = scored.matched_weight
    score = scored.score * coverage * coverage
    score *= 1.0 + POPULARITY_WEIGHT * math.log1p(max(popularity, 0))
    if language is not None and language in preferred_languages:
        score *= PREFERRED_LANGUAGE_BOOST
    # Rounded so that a score survives a cursor round-trip and ties are real ties on every machine.
    return round(score, 9)
