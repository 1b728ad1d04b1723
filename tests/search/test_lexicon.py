"""search/lexicon.py: English ↔ Chinese words from CC-CEDICT, standard characters, emoji names, British and
American spellings, kana; and the shared file they are read from, rebuilt whenever it is missing, damaged
or stale."""

from __future__ import annotations

import gzip
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import search.lexicon as lexicon_module
from search.dictionary import DictionaryFileError, jieba_dictionary
from search.lexicon import (
    FILE_NAME,
    MAX_GLOSSES,
    MAX_WORDS,
    Lexicon,
    Sources,
    chinese_for,
    emoji_names,
    english_for,
    fingerprint,
    has_kana,
    is_kana_only,
    load_lexicon,
    open_lexicon,
    spelling_variants,
    standard_form,
)
from search.text import HAN


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lexicon-cache")


@pytest.fixture(scope="module")
def shared(shared_dir: Path) -> Lexicon:
    """The lexicon of the installed packages, built once for this module."""
    return Lexicon(shared_dir)


@pytest.fixture(autouse=True)
def _module_functions_read_it(shared: Lexicon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lexicon_module, "lexicon", shared)


# --- English → Chinese ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("english", "first", "also"),
    [
        ("lipstick", "口红", {"唇膏"}),
        ("sunscreen", "防晒油", {"防晒霜"}),  # 防晒霜 is "sunscreen cream": one word more
        ("coffee", "咖啡", set()),
        ("hot pot", "火锅", {"涮锅子"}),  # CC-CEDICT writes 火锅 "hotpot"
        ("shopping", "购物", set()),
        ("skincare", "护肤", set()),
        ("skin care", "护肤", set()),
        ("moisturizer", "润肤霜", set()),
        ("moisturiser", "润肤霜", set()),  # the British spelling
        ("lipsticks", "口红", {"唇膏"}),  # the plural
        ("coffee shop", "咖啡厅", {"咖啡馆", "咖啡店"}),
        ("makeup", "彩妆", {"化妆品"}),  # its first sense, before 结构's third ("structure/…/makeup")
        ("gym", "体育馆", {"健身房"}),
        ("starbucks", "星巴克", set()),  # a name, as its entry begins ("Starbucks, US coffee shop chain")
        ("cafe", "咖啡馆", {"咖啡店"}),  # "café"
        ("Milk Tea", "奶茶", {"珍珠奶茶"}),
    ],
)
def test_chinese_for_gives_the_words_meaning_an_english_word_best_first(
    english: str, first: str, also: set[str]
) -> None:
    words = chinese_for(english)
    assert words[0] == first, words
    assert also <= set(words), words


def test_chinese_for_travel_gives_both_words_for_travelling() -> None:
    words = chinese_for("travel")
    assert {"旅行", "旅游"} <= set(words[:5]), words


def test_chinese_for_gives_at_most_eight_words_of_two_to_four_han_characters() -> None:
    for english in ["travel", "coffee", "hot pot", "cake", "dress", "foundation", "mask", "shopping"]:
        words = chinese_for(english)
        assert 0 < len(words) <= MAX_WORDS
        assert len(set(words)) == len(words)
        assert all(re.fullmatch(rf"[{HAN}]{{2,4}}", word) for word in words), words


def test_chinese_for_leaves_out_surnames_dated_senses_references_and_names_of_other_things() -> None:
    assert chinese_for("ouyang") == []  # 欧阳: "two-character surname Ouyang"
    assert chinese_for("shangguan") == []  # 上官: "two-character surname Shangguan"
    assert "巴吞鲁日" not in chinese_for("rouge")  # "Baton Rouge, capital of Louisiana"
    assert chinese_for("rouge")[:2] == ["胭脂", "腮红"]
    assert chinese_for("qwertyuiop") == []
    assert chinese_for("") == chinese_for("   ") == chinese_for("the") == []


def test_chinese_for_tries_the_stem_only_when_nothing_else_means_the_query() -> None:
    # "shopping" has its own entry: the stem "shop" (商店) would be another concept.
    assert "商店" not in chinese_for("shopping")
    # "photographing" has none: its stem "photograph" does.
    assert "照片" in chinese_for("photographing")


# --- Chinese → English ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chinese", "expected"),
    [
        ("口红", ["lipstick"]),
        ("口紅", ["lipstick"]),  # Traditional
        ("咖啡", ["coffee"]),
        ("购物", ["shopping"]),
        ("火锅", ["hotpot"]),
        ("穿搭", ["mix and match", "outfit coordination"]),  # "(Tw) to mix and match; outfit coordination"
        ("旅游", ["trip", "journey", "tourism", "travel", "tour"]),
        ("防晒", ["sunburn protection"]),
        ("卸妆", ["remove makeup"]),  # not "(old) to take off formal dress and ornaments"
    ],
)
def test_english_for_gives_short_lower_case_glosses(chinese: str, expected: list[str]) -> None:
    assert english_for(chinese) == expected


def test_english_for_keeps_to_six_glosses_of_at_most_three_words() -> None:
    for chinese in ["行", "打", "运动", "结构", "面膜", "星巴克"]:
        glosses = english_for(chinese)
        assert 0 < len(glosses) <= MAX_GLOSSES
        assert all(g == g.lower() and 1 <= len(g.split()) <= 3 and "(" not in g for g in glosses), glosses
    assert english_for("星巴克") == ["starbucks"]


def test_english_for_a_word_cedict_lacks_is_empty() -> None:
    assert english_for("绝绝子") == []
    assert english_for("") == english_for("lipstick") == []


# --- standard characters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("化粧水", "化妆水"),  # 粧: CC-CEDICT's variant of 妆
        ("雑誌", "杂志"),  # shinjitai 雑 → 雜 → 杂; 誌 → 志
        ("広告", "广告"),
        ("日焼け止め", "日烧け止め"),  # kana stay
        ("Dior 化粧水 リップ 50ml", "Dior 化妆水 リップ 50ml"),
        ("芸術", "芸术"),  # 芸 is a Chinese character too (芸芸众生): it stays
        ("口红", "口红"),
        ("", ""),
    ],
)
def test_standard_form_folds_japanese_and_variant_characters_only(text: str, expected: str) -> None:
    assert standard_form(text) == expected


def test_standard_form_leaves_common_chinese_words_and_every_gb2312_character_alone() -> None:
    words = []
    for line in jieba_dictionary().decode().splitlines():
        word, count, _ = line.split(" ", 2)
        if int(count) >= 5000 and re.fullmatch(rf"[{HAN}]{{2,4}}", word):
            words.append(word)
    assert len(words) > 500
    gb2312 = "".join(chr(c) for c in range(0x4E00, 0xA000) if _in_gb2312(chr(c)))
    assert len(gb2312) > 6700
    # With a character to fold at the end, so each text goes through the character-by-character path.
    for text in [*words[:2000], gb2312]:
        assert standard_form(text + "粧") == text + "妆", text


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


# --- kana -------------------------------------------------------------------------------------------------


def test_kana() -> None:
    for text in ["リップ", "ひやけどめ", "リップ 2", "ｶﾀｶﾅ", "コーヒー", "リップ・スティック"]:
        assert is_kana_only(text), text
        assert has_kana(text), text
    for text in ["日焼け止め", "リップstick", "口红", "lip", "", "123", "!!"]:
        assert not is_kana_only(text), text
    assert has_kana("日焼け止め") and has_kana("リップstick")
    assert not has_kana("口红") and not has_kana("lipstick") and not has_kana("")


# --- emoji ------------------------------------------------------------------------------------------------


def test_emoji_names_in_chinese_and_english() -> None:
    assert emoji_names("💄") == [("唇膏", "lipstick")]
    assert emoji_names("☕") == [("热饮", "hot beverage")]
    assert emoji_names("今天的☕和💄 yyds") == [("热饮", "hot beverage"), ("唇膏", "lipstick")]
    assert emoji_names("❤️") == emoji_names("❤") == [("红心", "red heart")]
    assert emoji_names("🇨🇳") == [("中国", "china")]
    assert emoji_names("1️⃣") == [("按键 1", "keycap 1")]
    assert emoji_names("口红 lipstick 123 #1") == []


def test_emoji_names_ignore_skin_tones_and_name_a_zwj_sequence_once() -> None:
    assert emoji_names("👍🏽") == emoji_names("👍🏿") == emoji_names("👍") == [("拇指向上", "thumbs up")]
    assert emoji_names("👩🏽‍💻") == [("女程序员", "woman technologist")]
    assert emoji_names("👨‍👩‍👧") == [("家庭 男人女人女孩", "family man woman girl")]
    assert emoji_names("🏽") == []
    # A couple with two skin tones has no untoned emoji of its own: named without the tones.
    assert emoji_names("🧑🏻‍❤️‍💋‍🧑🏼") == [("亲吻 成人成人", "kiss person person")]


# --- British and American spellings -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("moisturiser", "moisturizer"),
        ("moisturising", "moisturizing"),
        ("organisation", "organization"),
        ("criticise", "criticize"),
        ("analyse", "analyze"),
        ("paralysed", "paralyzed"),
        ("colour", "color"),
        ("colourful", "colorful"),
        ("favourite", "favorite"),
        ("neighbourhood", "neighborhood"),
        ("centre", "center"),
        ("centred", "centered"),
        ("theatre", "theater"),
        ("grey", "gray"),
        ("cosy", "cozy"),
        ("travelled", "traveled"),
        ("travelling", "traveling"),
        ("jewellery", "jewelry"),
        ("aluminium", "aluminum"),
        ("pyjamas", "pajamas"),
        ("catalogue", "catalog"),
        ("dialogue", "dialog"),
        ("defence", "defense"),
        ("licence", "license"),
        ("yoghurt", "yogurt"),
    ],
)
def test_spelling_variants_both_ways(british: str, american: str) -> None:
    assert american in spelling_variants(british)
    assert british in spelling_variants(american)
    assert british not in spelling_variants(british) and american not in spelling_variants(american)


def test_spelling_variants_combine() -> None:
    assert set(spelling_variants("colourise")) == {"colorise", "colourize", "colorize"}


# Words that only look like British or American spellings.
SPELT_ONE_WAY = """wise size prize noise rise raise seize cruise promise premise surprise exercise expertise franchise
    advertise compromise paradise concise precise otherwise clockwise enterprise merchandise advise revise
    supervise televise improvise despise comprise disguise sunrise arise rising advertising promised wiser
    resize capsize four hour pour your tour flour our sour detour contour dour hours tourist pouring yours
    journal courage doctor mirror motor actor error humorous water after letter parameter diameter hatred
    rogue vogue synagogue crisis crises basis penises lipstick"""


@pytest.mark.parametrize("word", SPELT_ONE_WAY.split())
def test_spelling_variants_leave_words_that_merely_contain_the_letters(word: str) -> None:
    assert spelling_variants(word) == []


# --- the file ---------------------------------------------------------------------------------------------

_SMALL_CEDICT = """\
# CC-CEDICT, a few lines of it
口紅 口红 [kou3 hong2] /lipstick/
唇膏 唇膏 [chun2 gao1] /lip balm/lipstick/
粧 妆 [zhuang1] /variant of 妝|妆[zhuang1]/
"""


def _small(extra: str = "") -> Sources:
    return Sources(
        gzip.compress((_SMALL_CEDICT + extra).encode(), mtime=0), "口红 90 n\n唇膏 46 n\n".encode()
    )


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))


def test_the_file_is_built_on_the_first_lookup_and_reused(tmp_path: Path) -> None:
    lexicon = Lexicon(tmp_path, sources=_small)
    assert not (tmp_path / FILE_NAME).exists()  # nothing read or built before a lookup
    assert lexicon.chinese_for("lipstick") == ["口红", "唇膏"]
    built = (tmp_path / FILE_NAME).stat()
    assert Lexicon(tmp_path, sources=_small).english_for("唇膏") == ["lip balm", "lipstick"]
    assert (tmp_path / FILE_NAME).stat().st_ino == built.st_ino  # opened, not built again


@pytest.mark.parametrize(
    "spoil",
    [
        _damage,
        lambda path: path.write_bytes(path.read_bytes()[:100]),  # truncated
        lambda path: path.write_bytes(b""),
        lambda path: path.write_bytes(b"not a lexicon file at all" * 10),
        lambda path: path.unlink(),
    ],
    ids=["damaged", "truncated", "empty", "foreign", "missing"],
)
def test_a_damaged_or_missing_file_is_rebuilt(tmp_path: Path, spoil: Callable[[Path], object]) -> None:
    load_lexicon(tmp_path, _small)
    path = tmp_path / FILE_NAME
    spoil(path)
    with pytest.raises(DictionaryFileError):
        open_lexicon(path, fingerprint(_small()))
    lexicon = Lexicon(tmp_path, sources=_small)
    assert lexicon.chinese_for("lipstick") == ["口红", "唇膏"]
    assert lexicon.standard_form("化粧") == "化妆"
    open_lexicon(path, fingerprint(_small()))  # whole again


def test_a_file_built_from_other_sources_is_rebuilt(tmp_path: Path) -> None:
    load_lexicon(tmp_path, _small)
    newer = _small("咖啡 咖啡 [ka1 fei1] /coffee (loanword)/CL:杯[bei1]/\n")
    with pytest.raises(DictionaryFileError, match="other sources"):
        open_lexicon(tmp_path / FILE_NAME, fingerprint(newer))
    assert Lexicon(tmp_path, sources=lambda: newer).chinese_for("coffee") == ["咖啡"]


def test_one_process_builds_while_the_others_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []
    build = lexicon_module.build

    def counted(path: Path, sources: Sources) -> None:
        builds.append(path)
        build(path, sources)

    monkeypatch.setattr(lexicon_module, "build", counted)
    results: list[list[str]] = []
    start = threading.Barrier(4)

    def look_up() -> None:
        start.wait()
        results.append(Lexicon(tmp_path, sources=_small).chinese_for("lipstick"))

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["口红", "唇膏"]] * 4
    assert len(builds) == 1


def test_configure_moves_the_file(tmp_path: Path) -> None:
    lexicon = Lexicon(tmp_path / "first", sources=_small)
    lexicon.chinese_for("lipstick")
    lexicon.configure(tmp_path / "second")
    assert lexicon.english_for("口红") == ["lipstick"]
    assert sorted(os.listdir(tmp_path / "second")) == [FILE_NAME, f"{FILE_NAME}.lock"]


def test_the_shared_file_holds_the_installed_sources(shared: Lexicon, shared_dir: Path) -> None:
    assert shared.chinese_for("lipstick")  # built or opened
    path = shared_dir / FILE_NAME
    open_lexicon(path, fingerprint(lexicon_module.package_sources()))  # whole and current
    assert 2_000_000 < path.stat().st_size < 20_000_000
