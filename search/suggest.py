"""'Did you mean …?': a correction from the index's own vocabulary when a query finds little.

Two kinds of slip, both judged against the words documents really hold (search/terms.py), so a suggestion
always finds something:

- pinyin typed for Chinese (kouhong → 口红, fang shai → 防晒): the pinyin of every Chinese word of the
  vocabulary (pypinyin, without tones), the one most documents hold winning;
- typos in other words (lipstik → lipstick, sunscren → sunscreen): the vocabulary word nearest by edit
  distance (rapidfuzz, in C), at most 1 edit for words of up to 4 letters and 2 for longer ones, the one
  most documents hold winning a tie.

Only words the index does not know are corrected: a known word is what the reader meant. The vocabulary is
read when a correction is first needed and kept for VOCABULARY_SECONDS; building it (pinyin for some ten
thousand words) runs in a thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from pypinyin import lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from core.sql import fetch_all
from search.families import families
from search.text import HAN_CHAR, Query, normalize, segmenter

VOCABULARY_SECONDS = 3600.0
MIN_LETTERS = 3  # shorter words are too often someone's abbreviation to correct
MAX_CHINESE_WORD = 4


@dataclass(frozen=True)
class Vocabulary:
    """The words corrections choose from: other-script words by frequency, Chinese words by pinyin."""

    words: tuple[str, ...]  # most documents first, so the nearest word's tie goes to the commonest
    documents: Mapping[str, int]
    pinyin: Mapping[str, str]  # "kouhong" → 口红 (the word most documents hold)

    @classmethod
    def of(
        cls, counts: Mapping[str, int], is_word: Callable[[str], bool], names: Iterable[str] = ()
    ) -> Vocabulary:
        """From token → document counts; `is_word` says whether a Chinese token is a word (not a chance
        pair of characters). `names` (topic families' names) are words too, after the index's: a query
        corrected to one finds what the name means."""
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ranked += [(n, 0) for n in dict.fromkeys(names) if n not in counts and " " not in n]
        words = tuple(
            t for t, _ in ranked if len(t) >= MIN_LETTERS and t.isalpha() and not HAN_CHAR.search(t)
        )
        pinyin: dict[str, str] = {}
        for token, _ in ranked:
            if (
                2 <= len(token) <= MAX_CHINESE_WORD
                and all(HAN_CHAR.match(c) for c in token)
                and is_word(token)
            ):
                pinyin.setdefault("".join(lazy_pinyin(token)), token)
        return cls(words, dict(counts), pinyin)

    def knows(self, word: str) -> bool:
        return self.documents.get(word, 0) >= 1

    def correct(self, word: str) -> str | None:
        """The word a reader probably meant by `word` (one the index does not know), or None."""
        if self.knows(word) or not word.isalpha() or HAN_CHAR.search(word):
            return None
        chinese = self.pinyin.get(word)
        if chinese is not None:
            return chinese
        if len(word) < MIN_LETTERS:
            return None
        limit = 1 if len(word) <= 4 else 2
        found = process.extractOne(word, self.words, scorer=Levenshtein.distance, score_cutoff=limit)
        return None if found is None else str(found[0])


def suggestion(text: str, query: Query, vocabulary: Vocabulary) -> str | None:
    """The query with its unknown words corrected, or None when nothing could be. Pinyin may be typed with
    or without spaces between syllables ("fang shai", "fangshai")."""
    typed = normalize(text)
    joined = "".join(typed.split())
    if joined.isascii() and joined.isalpha() and " " in typed.strip():
        whole = vocabulary.pinyin.get(joined)
        if whole is not None and not vocabulary.knows(joined):
            return whole
    words = [term.source for term in query.terms]
    corrected = [vocabulary.correct(w) or w for w in words]
    return " ".join(corrected) if corrected != words else None


class VocabularyCache:
    """The vocabulary as this process last built it."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._vocabulary: Vocabulary | None = None
        self._built_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Vocabulary:
        async with self._lock:
            if self._vocabulary is None or self._clock() - self._built_at > VOCABULARY_SECONDS:
                rows = await fetch_all("SELECT term, documents FROM search_terms")
                counts = {str(r["term"]): int(r["documents"]) for r in rows if r["term"]}
                frequencies = segmenter.tokenizer.FREQ
                names = list((await families.get()).by_name)
                self._vocabulary = await asyncio.to_thread(
                    Vocabulary.of, counts, lambda w: bool(frequencies.get(w, 0)), names
                )
                self._built_at = self._clock()
            return self._vocabulary

    def invalidate(self) -> None:
        self._vocabulary = None


vocabulary = VocabularyCache()
