"""Language of a note's text: Chinese when CJK characters dominate, else English."""

from __future__ import annotations


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF


def detect_language(text: str) -> str:
    """ "zh", "en" or "und"; the share of CJK among letters decides before anything else,
    because pinyin and internet slang ("yyds") look like English to statistical detectors."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "und"
    cjk = sum(1 for ch in letters if _is_cjk(ch))
    return "zh" if cjk / len(letters) > 0.3 else "en"
