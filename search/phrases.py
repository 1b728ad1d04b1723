"""Phrase matching for keyword filters: does a text contain a phrase, read the way search reads text.

Both sides go through `search.text.normalize` (NFKC, case folding, Traditional → Simplified), so 護膚 finds
护肤 and ＤＩＯＲ finds Dior. Then each is cut into segments, and a phrase matches where its segments
occur in the text in order, next to each other:

- Chinese, Japanese and Korean characters (scripts written without spaces between words) match as a
  substring: 口红 is found inside 这款口红色号. Spaces between them do not count (护肤 精华 = 护肤精华);
  punctuation does, so 口红 is not found in 出口，红酒 (a phrase that has the punctuation, 口红，推荐,
  finds it with or without).
- Other words (English, digits, other alphabets) match whole, by their English Snowball stem: lipstick
  finds "Lipsticks" but "and" never finds "sand", nor "cat" "category". Several words must be adjacent,
  whatever spaces or punctuation separate them ("anti-aging" finds "Anti Aging").
- An emoji (any symbol character) is a word of its own; skin-tone modifiers and joiners are ignored, so 👍
  finds 👍🏽.

Substring matching of words is what fails elsewhere (Bluesky's "and" hid "sand", Lemmy's slur filter
blocked "smartwatch"); word-boundary matching is what fails on Chinese. Here each script gets its own rule.

A text is prepared once (`prepare`) and every phrase is tried against that; a phrase is compiled once per
process (`compile_phrase` is cached): every request of a person carries their filters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from search.text import HAN, normalize, stem

# Scripts written without spaces between words, matched as substrings: Han, kana (NFKC makes half-width
# kana full-width), Hangul syllables (Korean attaches particles to words: 립스틱을 holds 립스틱).
_CJK = HAN + "\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af"
_PIECES = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)|([\W_]+)")

# Compiled phrases kept per process: a person has at most 100 filters, and many people share phrases.
PHRASE_CACHE_SIZE = 8192


class Kind(Enum):
    CJK = "cjk"  # matched as a substring of the text's run
    WORD = "word"  # a stem, matched whole
    SYMBOL = "symbol"  # an emoji or another symbol, matched whole


@dataclass(frozen=True)
class Segment:
    kind: Kind
    text: str


def _pieces(text: str) -> list[tuple[Kind, str]]:
    """The segments of an already normalised text, in order, as plain tuples: a long note has thousands."""
    found: list[tuple[Kind, str]] = []
    # Whether the last segment is CJK with nothing but spaces after it (the next CJK run then joins it).
    joinable = False
    for cjk, word, gap in _PIECES.findall(text):
        if cjk:
            if joinable:
                found[-1] = (Kind.CJK, found[-1][1] + cjk)
            else:
                found.append((Kind.CJK, cjk))
            joinable = True
        elif word:
            found.append((Kind.WORD, stem(word)))
            joinable = False
        elif gap.isascii():  # spaces and ASCII punctuation: the usual gap, and no symbol in it
            joinable = joinable and gap.isspace()
        else:
            symbols = [ch for ch in gap if unicodedata.category(ch) == "So"]
            found.extend((Kind.SYMBOL, ch) for ch in symbols)
            joinable = joinable and not symbols and gap.isspace()
    return found


def segments(text: str) -> list[Segment]:
    """The segments of a text, normalised first, in order (see the module's docstring)."""
    return [Segment(kind, piece) for kind, piece in _pieces(normalize(text))]


def _canonical(text: str) -> str:
    """A text's segments in one string a phrase is looked for in: each segment between single spaces."""
    return " " + " ".join(piece for _, piece in _pieces(normalize(text))) + " "


@dataclass(frozen=True)
class Text:
    """One or more texts (a note's title, body and topics) prepared for matching any number of phrases.
    A phrase never matches across two of them."""

    canonical: str


def prepare(*texts: str) -> Text:
    """The texts, prepared once for every phrase to be tried against them."""
    # A newline never occurs inside a canonical text, so nothing matches across it.
    return Text("\n".join(_canonical(t) for t in texts if t))


@dataclass(frozen=True)
class Phrase:
    """A compiled phrase (`compile_phrase`). An empty one (nothing searchable left after normalising:
    only spaces or punctuation) matches nothing; filters refuse such phrases when they are created."""

    source: str
    segments: tuple[Segment, ...]
    # What to look for in a canonical text: a plain string, or a pattern when the phrase has
    # punctuation between CJK runs (which the text may or may not have).
    literal: str | None
    pattern: re.Pattern[str] | None

    @property
    def empty(self) -> bool:
        return not self.segments

    def matches(self, text: str | Text) -> bool:
        """Whether `text` (a string, or texts prepared with `prepare`) contains the phrase."""
        canonical = text.canonical if isinstance(text, Text) else _canonical(text)
        if self.literal is not None:
            return self.literal in canonical
        return self.pattern is not None and self.pattern.search(canonical) is not None


@lru_cache(maxsize=PHRASE_CACHE_SIZE)
def compile_phrase(phrase: str) -> Phrase:
    """`phrase` ready to match texts; compile once, match many times (cached per process)."""
    parts = tuple(segments(phrase))
    if not parts:
        return Phrase(phrase, parts, None, None)
    # Words and symbols are whole segments, so they need the spaces around them; a CJK run at either
    # end of the phrase may be part of a longer run in the text.
    pieces: list[str] = [] if parts[0].kind is Kind.CJK else [" "]
    optional = False
    for previous, part in zip((None, *parts), parts, strict=False):
        if previous is not None:
            # Two CJK runs are apart in a phrase only where punctuation parted them.
            both_cjk = previous.kind is Kind.CJK and part.kind is Kind.CJK
            optional = optional or both_cjk
            pieces.append(" ?" if both_cjk else " ")
        pieces.append(part.text)
    if parts[-1].kind is not Kind.CJK:
        pieces.append(" ")
    if not optional:
        return Phrase(phrase, parts, "".join(pieces), None)
    # Only literal text and optional single spaces: no backtracking beyond one character.
    regex = "".join(p if p == " ?" else re.escape(p) for p in pieces)
    return Phrase(phrase, parts, None, re.compile(regex))
