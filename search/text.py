"""The text pipeline shared by indexing and querying, so both sides always make the same tokens.

normalise (NFKC, case folding, Traditional → Simplified) → split into runs of Chinese characters and runs of
other letters/digits → tokens:

- Chinese runs give every character (so a one-character query matches), every pair of adjacent characters
  (so a word matches wherever it occurs, however jieba happened to cut the sentence around it) and jieba's
  search-mode words (whole words rank above chance pairs).
- Other runs give the word and, for English, its Snowball stem ("lipsticks" and "lipstick" share
  "lipstick"); queries also match by prefix.

Tokens are made only of letters and digits (never spaces, quotes or operators), which is why a token can be
written into a PostgreSQL tsquery or an FTS5 MATCH expression without escaping anything.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import opencc
import snowballstemmer

from search.dictionary import DictionaryTokenizer, load_frequencies

# Han ideographs (basic, extensions A and B, compatibility), as a regex character-class body: the one
# definition of "Chinese character" for segmentation and for language detection.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002a6df"

# A run of Han characters, or a run of other letters and digits ("维C精华" is 维, c, 精华: \w alone would
# glue "c精华" together).
_RUNS = re.compile(rf"([{HAN}]+)|([^\W_{HAN}]+)")
HAN_CHAR = re.compile(rf"[{HAN}]")

# Longest query we read; anything beyond is ignored (a search box, not a document).
MAX_QUERY_CHARS = 200
# At most this many terms are required of a match; more would only make the statement bigger.
MAX_QUERY_TERMS = 12

# Words that carry no meaning in a query ("the best lipstick for dry lips", "不存在的词语"): dropped from
# queries unless the query has nothing else. Indexing keeps them, so a query of only these still finds notes.
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "with",
        "you",
    ]
)

CHINESE_STOPWORDS = frozenset("的了是在不和也就都而及与着或吗呢吧啊呀哦这那个有我你他她它之被把给让很还又")

_t2s = opencc.OpenCC("t2s")
_stemmer = snowballstemmer.stemmer("english")
_stem_lock = threading.Lock()


def normalize(text: str) -> str:
    """NFKC, case-folded, Traditional Chinese written as Simplified: 'Ｄｉｏｒ 護膚' → 'dior 护肤'."""
    return _t2s.convert(unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The English stem of a lower-case word ('lipsticks' → 'lipstick'); other words come back unchanged."""
    if not word.isascii() or not word.isalpha() or len(word) < 3:
        return word
    with _stem_lock:  # the Snowball stemmer object keeps state between calls
        return str(_stemmer.stemWord(word))


# --- Chinese segmentation -------------------------------------------------------------------------------


class Segmenter:
    """jieba over the shared dictionary file (search/dictionary.py), plus the app's words (topic names)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._tokenizer: DictionaryTokenizer | None = None
        self._lock = threading.Lock()
        # In the order they were taught: jieba's count for an added word depends on the words added before it.
        self._user_words: dict[str, None] = {}

    def configure(self, cache_dir: Path) -> None:
        self._cache_dir = cache_dir

    @property
    def tokenizer(self) -> DictionaryTokenizer:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    # A file mapped read-only, so every worker shares its pages; built there the first time.
                    cache_dir = self._cache_dir or Path("data") / "cache"
                    tokenizer = DictionaryTokenizer(load_frequencies(cache_dir))
                    for word in self._user_words:
                        tokenizer.add_word(word)
                    self._tokenizer = tokenizer
        return self._tokenizer

    def add_words(self, words: Iterable[str]) -> None:
        """Teach jieba the app's own vocabulary (topic names) so they are cut as one word."""
        new = [w for w in dict.fromkeys(_chinese_word(w) for w in words) if w and w not in self._user_words]
        if not new:
            return
        with self._lock:
            for word in new:
                if word in self._user_words:
                    continue
                self._user_words[word] = None
                if self._tokenizer is not None:
                    self._tokenizer.add_word(word)

    def words_for_search(self, run: str) -> list[str]:
        """jieba's search mode: the words of a run of Chinese characters and the shorter words inside them."""
        return [w for w in self.tokenizer.cut_for_search(run, HMM=True) if HAN_CHAR.search(w)]

    def words(self, run: str) -> list[str]:
        """jieba's precise mode: one way to cut the run, used for queries."""
        return [w for w in self.tokenizer.cut(run, HMM=True) if HAN_CHAR.search(w)]


def _chinese_word(name: str) -> str:
    """A topic name as jieba can use it: only a name made entirely of Chinese characters is one word."""
    text = normalize(name).replace(" ", "")
    return text if len(text) >= 2 and all(HAN_CHAR.match(ch) for ch in text) else ""


segmenter = Segmenter()
logging.getLogger("jieba").setLevel(logging.WARNING)
jieba.setLogLevel(logging.WARNING)


def _runs(text: str) -> Iterator[tuple[str, bool]]:
    """(run, is_chinese) for each run of Han characters or of other letters and digits, in order."""
    for match in _RUNS.finditer(text):
        han, other = match.groups()
        yield (han, True) if han else (other, False)


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


# --- indexing --------------------------------------------------------------------------------------------


def index_tokens(text: str) -> list[str]:
    """The tokens a document is indexed under, in text order (duplicates kept: term frequency counts)."""
    tokens: list[str] = []
    for run, chinese in _runs(normalize(text)):
        if chinese:
            tokens.extend(run)
            tokens.extend(_bigrams(run))
            tokens.extend(w for w in segmenter.words_for_search(run) if len(w) > 2)
        else:
            tokens.append(run)
            stemmed = stem(run)
            if stemmed != run:
                tokens.append(stemmed)
    return tokens


def index_text(text: str) -> str:
    """`index_tokens` joined by spaces: what the database's full-text index reads."""
    return " ".join(index_tokens(text))


# --- querying --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Term:
    """One thing a match must contain: any of `alternatives`, each being all of its tokens."""

    source: str
    alternatives: tuple[tuple[Token, ...], ...]
    # A Chinese word of three or more characters, also indexed whole (jieba's words): a document holding
    # it whole ranks above one where its pairs merely occur.
    whole_word: str | None = None
    # What the words mean besides themselves (search/concepts.py: the same topic in the other language, a
    # synonym, an emoji's name): a match like `alternatives`, worth less than the words themselves.
    related: tuple[tuple[Token, ...], ...] = ()
    # How much the term says, relative to the query's other terms (search/terms.py): rare words more.
    weight: float = 1.0

    @property
    def every_alternative(self) -> tuple[tuple[Token, ...], ...]:
        return self.alternatives + self.related


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    @property
    def empty(self) -> bool:
        return not self.terms


def parse_query(raw: str) -> Query:
    """What a search box's text asks for: every term must match (see `Term`)."""
    terms: list[Term] = []
    dropped: list[Term] = []
    for run, chinese in _runs(normalize(raw[:MAX_QUERY_CHARS])):
        if chinese:
            for word in segmenter.words(run):
                (dropped if word in CHINESE_STOPWORDS else terms).append(_chinese_term(word))
        else:
            term = _word_term(run)
            (dropped if run in ENGLISH_STOPWORDS else terms).append(term)
    chosen = terms or dropped
    unique: dict[Term, None] = dict.fromkeys(chosen)
    return Query(tuple(unique)[:MAX_QUERY_TERMS])


def phrase_tokens(text: str) -> tuple[Token, ...]:
    """The tokens a document must hold to hold `text` (a name or a translation, not typed by the reader):
    each Chinese word's pairs (or its one character), each other word's stem; matched exactly, since a
    meaning is not a prefix."""
    tokens: list[Token] = []
    for run, chinese in _runs(normalize(text)):
        if chinese:
            tokens.extend(Token(t) for t in (_bigrams(run) or [run]))
        else:
            tokens.append(Token(stem(run)))
    return tuple(dict.fromkeys(tokens))


def _chinese_term(word: str) -> Term:
    if len(word) == 1:
        return Term(word, ((Token(word),),))
    # All adjacent pairs: the word occurs (almost certainly contiguously) wherever they all do.
    pairs = tuple(dict.fromkeys(Token(b) for b in _bigrams(word)))
    return Term(word, (pairs,), word if len(word) > 2 else None)


def _word_term(word: str) -> Term:
    # One letter or digit matches exactly: as a prefix it would match most of the corpus.
    prefix = len(word) > 1
    alternatives = [(Token(word, prefix),)]
    stemmed = stem(word)
    if stemmed != word:
        alternatives.append((Token(stemmed, prefix),))
    return Term(word, tuple(alternatives))
