"""jieba's dictionary as one memory-mapped file that every worker process shares.

jieba keeps its prefix dictionary in a Python dict of ~500k str → int: ≈ 60 MB in each process, and uvicorn
spawns its workers, so every worker builds its own. Cutting needs no more of it than `word in FREQ`,
`FREQ.get(word)` and the total, so the same keys and counts are kept here in a file of ≈ 3 MB in the cache
directory (a MARISA trie of the keys, and their counts as uint32 by key id), mapped read-only: the page
cache holds one copy for all workers. Words the app adds at run time (topic names) go into a small dict
over it. `DictionaryTokenizer` is jieba's Tokenizer reading that table: the same DAG, the same route, the
same HMM, so the same words.

The file is checked whole (SHA-256) when it is opened and rebuilt from jieba's own dictionary when it is
missing, damaged, or was built from another jieba, marisa-trie or file format.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import logging
import mmap
import os
import struct
import sys
import tempfile
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from math import log
from pathlib import Path
from typing import Any, TypeVar, overload

import jieba
import marisa_trie

logger = logging.getLogger(__name__)
T = TypeVar("T")

FILE_NAME = "jieba-dictionary.v1.bin"
_MAGIC = b"VMJIEBA1"
# magic, fingerprint of what it was built from, SHA-256 of the payload, total, keys, trie bytes
_HEADER = struct.Struct("=8s32s32sQQQ")
_ALIGN = 8


class DictionaryFileError(Exception):
    """The dictionary file is missing, damaged, or was built from something else."""


class Frequencies:
    """jieba's `FREQ`: the dictionary's counts, read-only in a trie, under a small dict of added words.

    Supports what jieba does with `FREQ` (`in`, `[]`, `get`, assignment by `add_word`), and gives whole
    DAGs at once (`dag`), which is where segmentation spends its lookups.
    """

    def __init__(self, trie: Any, counts: memoryview, total: int, keep: object = None) -> None:
        self._trie = trie
        self._counts = counts
        self._keep = keep  # the mapping the trie and the counts live in
        self.total = total  # the dictionary's own total; the tokenizer keeps the running one
        # Added words and their prefixes (as jieba stores them: a prefix not already known counts 0).
        self._added: dict[str, int] = {}
        # First characters of added words: only a DAG position starting with one looks at them.
        self._added_heads: set[str] = set()

    def __contains__(self, word: object) -> bool:
        return word in self._added or word in self._trie

    def __getitem__(self, word: str) -> int:
        count = self.get(word)
        if count is None:
            raise KeyError(word)
        return count

    @overload
    def get(self, word: str) -> int | None: ...
    @overload
    def get(self, word: str, default: int) -> int: ...
    def get(self, word: str, default: int | None = None) -> int | None:
        added = self._added.get(word)
        if added is not None:
            return added
        key_id = self._trie.get(word)
        return default if key_id is None else self._counts[key_id]

    def __setitem__(self, word: str, count: int) -> None:
        self._added[word] = count
        self._added_heads.add(word[:1])

    def __len__(self) -> int:
        return len(self._trie) + sum(1 for word in self._added if word not in self._trie)

    def dag(self, sentence: str) -> Dag:
        """jieba's DAG of `sentence` (each position → the ends of the words starting there), with counts.

        jieba's own loop (Tokenizer.get_DAG): from each position, longer and longer fragments while they are
        keys (the keys hold every prefix of every word, so the first miss ends the words there), keeping
        those of a count above 0. One trie lookup answers both questions; a position where an added word may
        start asks the added words too.
        """
        dag = Dag()
        counts = dag.counts
        key_id_of = self._trie.get
        stored = self._counts
        heads = self._added_heads
        either = self.get
        n = len(sentence)
        for k in range(n):
            ends: list[int] = []
            found: list[int] = []
            i = k
            fragment = sentence[k]
            if fragment in heads:
                while i < n and (count := either(fragment)) is not None:
                    if count:
                        ends.append(i)
                        found.append(count)
                    i += 1
                    fragment = sentence[k : i + 1]
            else:
                while i < n and (key_id := key_id_of(fragment)) is not None:
                    if count := stored[key_id]:
                        ends.append(i)
                        found.append(count)
                    i += 1
                    fragment = sentence[k : i + 1]
            if not ends:
                # jieba: a character no word starts with is a word of its own, of count `get(…) or 1` = 1.
                ends.append(k)
                found.append(1)
            dag[k] = ends
            counts[k] = found
        return dag


class Dag(dict[int, list[int]]):
    """jieba's DAG (position → ends of the words starting there), with each word's count beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[int, list[int]] = {}


class DictionaryTokenizer(jieba.Tokenizer):  # type: ignore[misc]
    """jieba's Tokenizer over `Frequencies`; cutting, search mode, the HMM and `add_word` are jieba's own."""

    def __init__(self, frequencies: Frequencies) -> None:
        super().__init__()
        self.FREQ = frequencies
        self.total = frequencies.total
        self.initialized = True

    def initialize(self, dictionary: str | None = None) -> None:
        if dictionary:
            raise ValueError("DictionaryTokenizer reads its dictionary file only")

    def get_DAG(self, sentence: str) -> Dag:
        return self.FREQ.dag(sentence)  # type: ignore[no-any-return]

    def calc(self, sentence: str, DAG: dict[int, list[int]], route: dict[int, tuple[float, int]]) -> None:
        """jieba's route: the most probable way through the DAG, read from the counts the DAG carries."""
        if not isinstance(DAG, Dag):
            super().calc(sentence, DAG, route)
            return
        counts = DAG.counts
        n = len(sentence)
        route[n] = (0, 0)
        logtotal = log(self.total)
        for idx in range(n - 1, -1, -1):
            ends = zip(DAG[idx], counts[idx], strict=True)
            route[idx] = max((log(count) - logtotal + route[x + 1][0], x) for x, count in ends)


# --- the file ---------------------------------------------------------------------------------------------


def jieba_dictionary() -> bytes:
    """The text of jieba's default dictionary, read from jieba's package as jieba reads it."""
    with jieba.Tokenizer().get_dict_file() as f:
        data = f.read()
    return bytes(data)


def fingerprint(source: bytes) -> bytes:
    """What a dictionary file built from `source` with this code and these libraries is marked with."""
    digest = hashlib.sha256()
    for part in (_MAGIC, jieba.__version__, version("marisa-trie"), sys.byteorder):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    digest.update(source)
    return digest.digest()


def build(path: Path, source: bytes) -> None:
    """Write the dictionary file for jieba's dictionary text `source` to `path`, atomically."""
    freq, total = jieba.Tokenizer.gen_pfdict(io.BytesIO(source))
    trie = marisa_trie.Trie(freq.keys())
    counts = array("I", bytes(4 * len(trie)))
    for word, key_id in trie.iteritems():
        counts[key_id] = freq[word]  # OverflowError beyond 2**32 - 1: no dictionary word counts that much
    del freq
    trie_bytes = trie.tobytes()
    padding = b"\0" * (-len(trie_bytes) % _ALIGN)
    payload = trie_bytes + padding + counts.tobytes()
    checksum = hashlib.sha256(payload).digest()
    header = _HEADER.pack(_MAGIC, fingerprint(source), checksum, total, len(trie), len(trie_bytes))
    write_atomically(path, header, payload)


def write_atomically(path: Path, *parts: bytes) -> None:
    """Write `parts` one after the other as the file `path`, which appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Replaced, never rewritten in place: a process that has the old file mapped keeps reading it unchanged.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def map_read_only(path: Path, header_size: int) -> tuple[mmap.mmap, memoryview]:
    """The file at `path` mapped read-only, and a view of it; DictionaryFileError when it cannot be mapped
    or is shorter than its header."""
    try:
        with open(path, "rb") as f:
            mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:  # ValueError: an empty file cannot be mapped
        raise DictionaryFileError(f"{path}: {exc}") from exc
    view = memoryview(mapping)
    if len(view) < header_size:
        raise DictionaryFileError(f"{path}: truncated")
    return mapping, view


def open_frequencies(path: Path, expected: bytes) -> Frequencies:
    """Map the dictionary file at `path` read-only; DictionaryFileError unless it is whole and was built
    from what `expected` (a `fingerprint`) describes."""
    mapping, view = map_read_only(path, _HEADER.size)
    magic, marked, checksum, total, keys, trie_size = _HEADER.unpack(view[: _HEADER.size])
    if magic != _MAGIC:
        raise DictionaryFileError(f"{path}: not a dictionary file")
    if marked != expected:
        raise DictionaryFileError(f"{path}: built from another dictionary or library version")
    payload = view[_HEADER.size :]
    trie_end = trie_size + (-trie_size % _ALIGN)
    if len(payload) != trie_end + 4 * keys or hashlib.sha256(payload).digest() != checksum:
        raise DictionaryFileError(f"{path}: damaged")
    trie = marisa_trie.Trie()
    trie.map(payload[:trie_size])
    counts = payload[trie_end:].cast("I")
    if len(trie) != keys:
        raise DictionaryFileError(f"{path}: damaged")
    return Frequencies(trie, counts, total, keep=mapping)


def load_frequencies(cache_dir: Path, source: Callable[[], bytes] = jieba_dictionary) -> Frequencies:
    """The dictionary file in `cache_dir`, built first when missing or unusable (one process builds it, the
    others wait for it)."""
    text = source()
    expected = fingerprint(text)
    path = cache_dir / FILE_NAME
    return open_or_build(
        path, lambda: open_frequencies(path, expected), lambda: build(path, text), "jieba's dictionary file"
    )


def open_or_build(path: Path, opener: Callable[[], T], builder: Callable[[], object], what: str) -> T:
    """`opener()` the file at `path`; when it raises DictionaryFileError (missing, damaged, built from
    something else), `builder()` it first, under a lock on a file beside it: one process builds, the others
    wait and open what it built."""
    try:
        return opener()
    except DictionaryFileError as exc:
        reason = exc
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(path.parent / f"{path.name}.lock"):
        try:
            return opener()  # built by another process while we waited
        except DictionaryFileError:
            pass
        logger.info("building %s %s (%s)", what, path, reason)
        builder()
    return opener()


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on a file, between processes."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock
