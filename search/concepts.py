"""The concept layer: what a query means besides its words, so a bilingual reader finds what they mean.

A query's terms (search/text.py) gain `related` alternatives, matched like the words themselves and worth
less (search/ranking.py's RELATED_CREDIT):

- topic families (search/families.py, data admins edit): 旅游 finds 旅行, 健身 finds fitness and gym;
  names of several words are found as one span of the query ("hot pot", "coffee shop");
- a dictionary (search/lexicon.py, CC-CEDICT): English finds the Chinese words it translates (sunscreen →
  防晒霜) and Chinese its English glosses (口红 → lipstick);
- an emoji query, by the emoji's CLDR names in both languages (💄 → 唇膏, lipstick) (beside words, emoji
  only decorate: 😀口红🔥 is 口红);
- British and American spellings (moisturiser, moisturizer) as the words themselves;
- Japanese kanji folded to their standard Chinese forms before anything else (化粧水 → 化妆水).

Expansion is pure and in memory; `prune` then keeps only meanings the index holds (by the vocabulary's
counts), so a query never grows by words no document has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from search import lexicon
from search.families import Families
from search.text import (
    ENGLISH_STOPWORDS,
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    Query,
    Term,
    normalize,
    parse_query,
    phrase_tokens,
)

MAX_RELATED = 8  # meanings kept per term: each is an OR branch in the match expression
MAX_SPAN = 3  # query terms a multi-word name may cover ("coffee shop", "hot pot")


@dataclass(frozen=True)
class Understood:
    """A query as search reads it: its terms with their meanings, and what the reader typed."""

    query: Query
    text: str  # the query's text after folding Japanese kanji (what the terms were parsed from)
    kana_only: bool  # only Japanese kana: answered from Japanese notes, or refused with a notice


def understand(raw: str, families: Families) -> Understood:
    """Parse `raw` and add every meaning the families, the dictionary, emoji and spellings give."""
    text = lexicon.standard_form(raw[:MAX_QUERY_CHARS])
    parsed = parse_query(text)
    terms = [
        _with_meanings(term, families, [normalize(term.source)])
        for term in _spans(list(parsed.terms), families)
    ]
    if not terms:  # an emoji is the query only when nothing else is: beside words it decorates them
        terms = [_with_meanings(term, families, names) for term, names in _emoji_terms(text)]
    return Understood(Query(tuple(dict.fromkeys(terms))[:MAX_QUERY_TERMS]), text, lexicon.is_kana_only(raw))


def _spans(terms: list[Term], families: Families) -> list[Term]:
    """Consecutive terms that together are a family's name become one term ("hot pot" is one thing, not hot
    and pot): longest span first."""
    merged: list[Term] = []
    i = 0
    while i < len(terms):
        for size in range(min(MAX_SPAN, len(terms) - i), 1, -1):
            words = [t.source for t in terms[i : i + size]]
            if any(len(w) < 2 or not w.isalpha() for w in words):  # "b c" is two letters, not a name
                continue
            chinese = all(not w.isascii() for w in words)
            name = ("" if chinese else " ").join(words)
            # Names admins keep only: the dictionary has entries for chance pairs ("lip stick").
            if name in families.by_name:
                literal = tuple(tok for t in terms[i : i + size] for tok in t.alternatives[0])
                merged.append(Term(name, (literal,)))
                i += size
                break
        else:
            merged.append(terms[i])
            i += 1
    return merged


# Words of emoji names that say nothing of what the emoji shows ("cat face" is a cat).
_EMOJI_FILLER = frozenset({"face", "person", "with", "of", "the", "man", "woman", "and", "in", "on"})


def _emoji_terms(text: str) -> list[tuple[Term, list[str]]]:
    """One term per emoji, its Chinese and English names being its words; with the names its meanings
    come from: both names, and each telling word of the English one (cat face: cat)."""
    terms = []
    for chinese, english in lexicon.emoji_names(text):
        alternatives = tuple(dict.fromkeys(t for t in (phrase_tokens(chinese), phrase_tokens(english)) if t))
        words = [normalize(chinese), normalize(english)]
        words += [w for w in normalize(english).split() if w not in _EMOJI_FILLER and len(w) > 2]
        if alternatives:
            terms.append((Term(f"{chinese} {english}", alternatives), list(dict.fromkeys(words))))
    return terms


def _with_meanings(term: Term, families: Families, words: list[str]) -> Term:
    """`term` with its spelling variants among its words and the other meanings of `words` (what the term
    is known by: its text, or an emoji's names) as `related`."""
    source = normalize(term.source)
    alternatives = list(term.alternatives)
    variants = lexicon.spelling_variants(source) if source.isascii() and source.isalpha() else []
    for variant in variants:  # as typed and its stem, like the word itself
        alternatives.extend(alt for t in parse_query(variant).terms[:1] for alt in t.alternatives)
    names: list[str] = []
    for word in [*words, *variants]:  # moisturiser means what moisturizer does
        names.extend(families.names(word))
        names.extend(lexicon.chinese_for(word) if word.isascii() else lexicon.english_for(word))
    own = set(alternatives)
    related = []
    for name in dict.fromkeys(names):
        if name in ENGLISH_STOPWORDS or (name.isascii() and len(name) < 3):
            continue  # a gloss such as "to be" (存在): it would find every note
        if len(name) == 1 and not name.isascii():
            continue  # one character means too much as a meaning: 猫 for 猫咪 would find 熊猫 and 猫眼
        tokens = phrase_tokens(name)
        if any({t.text for t in literal} <= {t.text for t in tokens} for literal in alternatives):
            continue  # 口红试色 for 口红: wherever it matches, the word itself does
        if tokens and tokens not in own:
            own.add(tokens)
            related.append(tokens)
    return replace(term, alternatives=tuple(dict.fromkeys(alternatives)), related=tuple(related))


def prune(query: Query, counts: Mapping[str, int], *, counted: bool) -> Query:
    """Keep the meanings whose every token some document may hold (`counts` from search/terms.py: 0 only
    for a word the vocabulary would list if a document held it), at most MAX_RELATED per term, those held
    by most documents first (a sort is stable: the dictionary's order breaks ties). When the vocabulary
    was never counted (`counted` False) nothing can be judged: the first MAX_RELATED stay."""
    terms = []
    for term in query.terms:
        related = list(term.related)
        if counted:
            held = [r for r in related if all(counts.get(t.text, 1) > 0 for t in r)]
            related = sorted(held, key=lambda r: -min(counts.get(t.text, 1) for t in r))
        terms.append(replace(term, related=tuple(related[:MAX_RELATED])))
    return Query(tuple(terms))


def tokens_of(query: Query) -> list[str]:
    """Every token the query's terms and meanings name (what their counts are read for)."""
    return list(dict.fromkeys(t.text for term in query.terms for alt in term.every_alternative for t in alt))


def weighed(query: Query, weights: Sequence[float]) -> Query:
    return Query(tuple(replace(term, weight=w) for term, w in zip(query.terms, weights, strict=True)))


def literal_tokens(term: Term) -> list[str]:
    """The tokens of the term's own words (its weight comes from how rare they are, not its meanings)."""
    return [t.text for t in term.alternatives[0]] if term.alternatives else []
