"""jieba over the shared dictionary file (search/dictionary.py) cuts exactly as plain jieba does, and the
file is rebuilt whenever it is missing, damaged or stale."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import jieba
import pytest

from demo.build import build_world
from demo.world import World
from search.dictionary import (
    FILE_NAME,
    DictionaryFileError,
    DictionaryTokenizer,
    fingerprint,
    load_frequencies,
    open_frequencies,
)
from search.text import HAN_CHAR, Segmenter, _chinese_word, _runs, normalize

SENTENCES = [
    "今天的口红试色，显白又滋润",
    "这支口红很滋润，颜色很温柔，适合秋冬",
    "中华人民共和国成立于1949年",
    "我来到北京清华大学",
    "他来到了网易杭研大厦",  # 杭研: not in the dictionary, found by the HMM
    "小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "结婚的和尚未结婚的",
    "工信处女干事每月经过下属科室都要亲口交代24口交换机等技术性器件的安装工作",
    "永和服装饰品有限公司",
    "敏感肌肤也可以放心用的化妆品推荐",
    "姐妹们冲鸭！这家上海的咖啡店yyds",
    "Dior999号口红真的绝绝子",
    "matte lipstick 试色｜黄皮友好",
    "周末去杭州西湖边喝了一杯桂花拿铁",
    "秋冬穿搭分享：大衣+围巾+短靴",
    "防晒霜SPF50+ PA++++ 军训必备",
    "这个价格真的太香了，已经回购三次",
    "南京市长江大桥",
    "乒乓球拍卖完了",
    "研究生命起源",
    "下雨天留客天留我不留",
    "iPhone15 Pro Max 的拍照效果",
    "一一二二三三四四",
    "龘靐齉爩",  # characters no dictionary word starts with
    "的的的的的的",
    "",
]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(users=60, notes=480, products=60, seed=7, progress=False)  # the demo seed's


@pytest.fixture(scope="module")
def corpus(world: World) -> list[str]:
    """The demo seed's notes (titles and bodies) and comments, and the sentences above."""
    texts = [note.title for note in world.notes] + [note.body for note in world.notes]
    texts += [comment.body for comment in world.comments]
    return texts + SENTENCES


@pytest.fixture(scope="module")
def topic_words(world: World) -> list[str]:
    words = [_chinese_word(topic.name) for topic in world.topics]
    words += ["新话题测试", "口红试色", "绝绝子", "杭研"]
    return [w for w in dict.fromkeys(words) if w]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("segmenter-cache")


@pytest.fixture(scope="module")
def plain(cache_dir: Path) -> jieba.Tokenizer:
    """jieba as shipped: its dictionary in a Python dict."""
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache_dir)
    tokenizer.initialize()
    return tokenizer


def _cuts(tokenizer: jieba.Tokenizer, texts: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    for text in texts:
        yield text, "precise", list(tokenizer.cut(text, HMM=True))
        yield text, "no HMM", list(tokenizer.cut(text, HMM=False))
        yield text, "search", list(tokenizer.cut_for_search(text, HMM=True))
        for run, chinese in _runs(normalize(text)):
            if chinese:
                yield run, "run", list(tokenizer.cut(run, HMM=True))
                yield run, "run search", list(tokenizer.cut_for_search(run, HMM=True))


def _assert_same_cuts(ours: jieba.Tokenizer, plain: jieba.Tokenizer, texts: list[str]) -> int:
    compared = 0
    for (text, mode, expected), (_, _, got) in zip(_cuts(plain, texts), _cuts(ours, texts), strict=True):
        assert got == expected, (mode, text)
        compared += 1
    return compared


def test_the_dictionary_file_holds_jiebas_dictionary_exactly(cache_dir: Path, plain: jieba.Tokenizer) -> None:
    frequencies = load_frequencies(cache_dir)
    assert frequencies.total == plain.total
    assert len(frequencies) == len(plain.FREQ) > 400_000
    for word, count in plain.FREQ.items():  # words with their counts, and their prefixes with 0
        assert frequencies.get(word) == count, word
    for absent in ["", "龘靐", "口红试色滋润", "xyz", "化妆品推荐"]:
        assert absent not in plain.FREQ
        assert absent not in frequencies and frequencies.get(absent) is None
        assert frequencies.get(absent, 1) == 1
        with pytest.raises(KeyError):
            frequencies[absent]


def test_cuts_are_identical_to_plain_jieba(
    cache_dir: Path, plain: jieba.Tokenizer, corpus: list[str], topic_words: list[str]
) -> None:
    ours = DictionaryTokenizer(load_frequencies(cache_dir))
    assert _assert_same_cuts(ours, plain, corpus) > 10_000

    # With the app's words taught in the same order, as the segmenter teaches topic names.
    taught = jieba.Tokenizer()
    taught.tmp_dir = str(cache_dir)
    taught.initialize()
    for tokenizer in (ours, taught):
        for word in topic_words:
            tokenizer.add_word(word)
    assert ours.total == taught.total
    for word in topic_words:
        assert ours.FREQ.get(word) == taught.FREQ.get(word) > 0
        for end in range(1, len(word)):
            assert ours.FREQ.get(word[:end]) == taught.FREQ.get(word[:end])
    assert _assert_same_cuts(ours, taught, corpus) > 10_000
    assert "新话题测试" in ours.lcut("这是一个新话题测试的句子")  # taught words are cut whole


def test_segmenter_cuts_as_plain_jieba_whenever_words_are_taught(
    tmp_path: Path, cache_dir: Path, corpus: list[str], topic_words: list[str]
) -> None:
    reference = jieba.Tokenizer()
    reference.tmp_dir = str(cache_dir)
    reference.initialize()
    for word in topic_words:
        reference.add_word(word)
    half = len(topic_words) // 2

    segmenter = Segmenter(tmp_path)
    segmenter.add_words(topic_words[:half])  # before the dictionary is loaded
    assert segmenter.tokenizer.FREQ.get(topic_words[0], 0) > 0  # loads the dictionary with the words so far
    segmenter.add_words(topic_words[half:])  # after
    segmenter.add_words(topic_words)  # again: nothing changes

    runs = [run for text in corpus for run, chinese in _runs(normalize(text)) if chinese]
    assert len(runs) > 3_000
    for run in runs:
        expected_search = [w for w in reference.cut_for_search(run) if HAN_CHAR.search(w)]
        expected_precise = [w for w in reference.cut(run) if HAN_CHAR.search(w)]
        assert segmenter.words_for_search(run) == expected_search, run
        assert segmenter.words(run) == expected_precise, run
    assert (tmp_path / FILE_NAME).is_file()  # built where it was told


# --- the file: built when missing, rebuilt when damaged or stale ------------------------------------------------

SMALL = "口红 500 n\n口红试色 30 n\n试色 80 v\n滋润 120 a\n很 9000 d\n这支 40 r\n".encode()
OTHER = "口红 501 n\n试色 80 v\n".encode()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, str]:
    load_frequencies(tmp_path, source=lambda: SMALL)
    path = tmp_path / FILE_NAME
    return path, _sha(path)


def _small_cut(frequencies_dir: Path, source: bytes = SMALL) -> list[str]:
    tokenizer = DictionaryTokenizer(load_frequencies(frequencies_dir, source=lambda: source))
    return list(tokenizer.cut("这支口红试色很滋润"))


def test_a_missing_file_is_built(tmp_path: Path) -> None:
    cache_dir = tmp_path / "not" / "yet"
    frequencies = load_frequencies(cache_dir, source=lambda: SMALL)
    assert (cache_dir / FILE_NAME).is_file()
    assert frequencies.get("口红") == 500 and frequencies.get("口红试") == 0 and frequencies.get("红") is None
    assert frequencies.total == 500 + 30 + 80 + 120 + 9000 + 40
    assert _small_cut(cache_dir) == ["这支", "口红试色", "很", "滋润"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data + b"\0", id="trailing bytes"),
        pytest.param(lambda data: data[:-3] + bytes([data[-3] ^ 0x01]) + data[-2:], id="a count flipped"),
        pytest.param(lambda data: data[:200] + bytes([data[200] ^ 0x40]) + data[201:], id="trie flipped"),
        pytest.param(lambda data: b"garbage!" + data[8:], id="wrong magic"),
        pytest.param(lambda data: b"\xff" * 4096, id="noise"),
    ],
)
def test_a_damaged_file_is_refused_and_rebuilt(built: tuple[Path, str], damage: object) -> None:
    path, good = built
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    with pytest.raises(DictionaryFileError):
        open_frequencies(path, fingerprint(SMALL))
    assert _small_cut(path.parent) == ["这支", "口红试色", "很", "滋润"]
    assert _sha(path) == good


def test_a_file_built_from_another_dictionary_is_rebuilt(built: tuple[Path, str]) -> None:
    path, good = built
    with pytest.raises(DictionaryFileError, match="another"):
        open_frequencies(path, fingerprint(OTHER))
    assert load_frequencies(path.parent, source=lambda: OTHER).get("口红") == 501
    assert _sha(path) != good
    assert load_frequencies(path.parent, source=lambda: SMALL).get("口红") == 500
    assert _sha(path) == good


def test_loaders_building_at_once_all_get_the_same_file(tmp_path: Path) -> None:
    results: list[int | None] = []

    def load() -> None:
        results.append(load_frequencies(tmp_path, source=lambda: SMALL).get("口红试色"))

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [30] * 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
