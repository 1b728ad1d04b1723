"""The language a note is written in: ISO 639-1 ("zh", "en", "fr" …) or "und" when the text cannot tell.

Scripts decide first: statistical detectors call pinyin and slang such as "yyds" English, and mixed
notes ("matte lipstick 试色", "Dior Sauvage 香水") are Chinese to their readers. A Han character carries
about what a Latin word does, so a note is Chinese when Han characters are more than 30 % of its Han
characters plus Latin-script words (Japanese when kana are among them). Only the rest goes to lingua,
limited to the languages the community writes in, in its low-accuracy mode: 14 MB of models per process
instead of 141 MB for the full ones (measured), at 0.2 ms per note; notes are long enough for it.
"""

from __future__ import annotations

import re
import threading

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from search.text import HAN, HAN_CHAR

HAN_SHARE = 0.3
KANA_SHARE = 0.05
LANGUAGES = (
    Language.ENGLISH,
    Language.CHINESE,
    Language.JAPANESE,
    Language.KOREAN,
    Language.FRENCH,
    Language.SPANISH,
    Language.GERMAN,
    Language.ITALIAN,
    Language.PORTUGUESE,
    Language.RUSSIAN,
)
# Every value `detect_language` can give (search's `language` filter accepts exactly these).
LANGUAGE_CODES = frozenset({"und", *(language.iso_code_639_1.name.lower() for language in LANGUAGES)})
# Fewer letters than this and any answer would be a guess.
MIN_LETTERS = 3

_KANA = "\u3040-\u30ff\u31f0-\u31ff"
_HANGUL = "\uac00-\ud7af"
_KANA_CHAR = re.compile(f"[{_KANA}]")
# Runs of letters outside the Han, kana and Hangul blocks: the "words" of alphabetic scripts.
_WORDS = re.compile(rf"[^\W\d_{HAN}{_KANA}{_HANGUL}]+")
_detector: LanguageDetector | None = None
_lock = threading.Lock()


def detector() -> LanguageDetector:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                _detector = (
                    LanguageDetectorBuilder.from_languages(*LANGUAGES)
                    .with_low_accuracy_mode()
                    .with_minimum_relative_distance(0.05)
                    .build()
                )
    return _detector


def detect_language(text: str) -> str:
    """ "zh", "en", another ISO 639-1 code, or "und"."""
    letters = [ch for ch in text if ch.isalpha()]
    han = len(HAN_CHAR.findall(text))
    if len(letters) < MIN_LETTERS and not han:
        return "und"
    kana = len(_KANA_CHAR.findall(text))
    if kana / len(letters) > KANA_SHARE:
        return "ja"
    words = len(_WORDS.findall(text))
    if han and han / (han + words) > HAN_SHARE:
        return "zh"
    found = detector().detect_language_of(text)
    if found is None:
        return "und"
    return found.iso_code_639_1.name.lower()
