"""The search quality benchmark's parts: its query set, the rule judge and the metrics, and one run over the
demo world (seconds). The figures themselves are bench/results/search_quality*.md; no timing is asserted."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import search.service
from bench import search_quality
from bench.search_quality import (
    Judge,
    JudgedNote,
    aggregate,
    judge_ranking,
    load_world,
    markdown,
    matches,
    measure,
    precision_at,
    recall_at,
)
from bench.search_queries import (
    CAT,
    CLASS_BY_KEY,
    CLASSES,
    LIPSTICK,
    NOTHING,
    QUERIES,
    SUNSCREEN,
    LabelledQuery,
    about,
)
from demo import seed_database
from search.language import LANGUAGE_CODES


def test_the_query_set_has_150_queries_and_at_least_8_in_every_class() -> None:
    assert len(QUERIES) >= 150
    per_class = Counter(q.kind for q in QUERIES)
    assert set(per_class) == set(CLASS_BY_KEY)
    assert min(per_class.values()) >= 8, per_class
    assert len({(q.kind, q.text, q.language) for q in QUERIES}) == len(QUERIES)
    assert {q.language for q in QUERIES} <= {None, *LANGUAGE_CODES}
    assert all(q.language == "en" for q in QUERIES if q.kind == "zh_in_en")
    assert all(q.language == "zh" for q in QUERIES if q.kind == "en_in_zh")


def test_only_the_nonsense_class_expects_nothing_and_only_kana_is_judged_apart() -> None:
    assert {q.kind for q in QUERIES if q.rule.expects_nothing} == {"nonsense"}
    assert all(q.rule.expects_nothing for q in QUERIES if q.kind == "nonsense")
    assert all(q.rule.topics or q.rule.words for q in QUERIES if not q.rule.expects_nothing)
    assert [c.key for c in CLASSES if c.separate] == ["kana"]


def _note(
    title: str, body: str = "", topics: tuple[str, ...] = (), language: str = "zh", id: int = 1
) -> JudgedNote:
    return JudgedNote.of(id, title, body, topics, language)


def test_rules_match_words_after_normalising_and_latin_words_whole() -> None:
    assert matches(LIPSTICK, _note("Dior 口紅試色｜黃皮"))  # Traditional, as the index normalises it
    assert matches(LIPSTICK, _note("My favourite LIPSTICKS", language="en"))
    assert matches(LIPSTICK, _note("Ｌｉｐｓｔｉｃｋ swatches", language="en"))  # full width
    assert not matches(about("lip"), _note("A clip on the lid", language="en"))
    assert matches(about("lip"), _note("Prep your lips first", language="en"))
    assert matches(about("spf"), _note("Daily Sunscreen SPF50+", language="en"))
    # A hashtag glued to other letters is not the word: the topic decides.
    assert not matches(CAT, _note("Corgi day", "#Pets #CatsOfVermilion", language="en"))
    assert matches(CAT, _note("Corgi day", "#Pets", topics=("catsofvermilion",), language="en"))


def test_rules_follow_topics_the_query_language_and_their_own_wording() -> None:
    assert matches(SUNSCREEN, _note("早C晚A第3周", topics=("护肤", "防晒")))
    # The aside every fourth skincare note makes is not a note about sunscreen.
    assert not matches(
        SUNSCREEN, _note("修护精华空瓶记", "白天一定要做好防晒，不然前面都白做了。", ("护肤",))
    )
    english = _note("Matte lipstick swatches", language="en")
    assert matches(LIPSTICK, english, language="en")
    assert not matches(LIPSTICK, english, language="zh")
    assert not matches(NOTHING, english)


def test_the_judge_over_a_world_agrees_with_the_rule_note_by_note() -> None:
    notes = [
        _note("口红试色", id=1),
        _note("Lipstick swatches", "#Makeup", ("makeup",), "en", id=2),
        _note("通勤妆", "#彩妆", ("彩妆", "口红试色"), id=3),
        _note("Erhai Lake in summer", "#Travel", ("travel",), "en", id=4),
        _note("防晒霜推荐", "#护肤", ("护肤",), id=5),
    ]
    judge = Judge(notes)
    for query in QUERIES:
        expected = {n.id for n in notes if matches(query.rule, n, query.language)}
        assert judge.relevant(query) == expected, query
    lipstick = LabelledQuery("口红", "zh_word", LIPSTICK)
    assert judge.relevant(lipstick) == {1, 2, 3}
    assert judge.relevant(LabelledQuery("口红", "zh_in_en", LIPSTICK, "en")) == {2}


def test_precision_counts_the_first_ten_and_an_empty_list_as_nothing_found() -> None:
    relevant = frozenset({1, 3, 11})
    assert precision_at([1, 2, 3, 4], relevant, expects_nothing=False) == 0.5
    assert precision_at(list(range(1, 21)), relevant, expects_nothing=False) == 0.2  # 11 is 11th
    assert precision_at([], relevant, expects_nothing=False) == 0.0
    assert precision_at([], frozenset(), expects_nothing=True) == 1.0
    assert precision_at([7], frozenset(), expects_nothing=True) == 0.0


def test_recall_is_taken_at_100_over_what_100_results_could_hold() -> None:
    many = frozenset(range(1, 151))  # 150 relevant: 100 results can hold 100 of them
    assert recall_at(list(range(1, 101)), many) == 1.0
    assert recall_at(list(range(101, 301)), many) == 0.5  # 101..150 relevant among the first 100
    assert recall_at([1, 99, 2], frozenset({1, 2, 3, 4})) == 0.5
    assert recall_at([1], frozenset()) is None


def test_aggregate_averages_queries_and_counts_wrong_emptiness() -> None:
    found = judge_ranking(LabelledQuery("口红", "zh_word", LIPSTICK), [1, 2], frozenset({1, 5}))
    missed = judge_ranking(LabelledQuery("kouhong", "pinyin", LIPSTICK), [], frozenset({1, 5}))
    nothing = judge_ranking(LabelledQuery("zzzzqqq", "nonsense", NOTHING), [], frozenset())
    assert (found.p_at_10, found.recall) == (0.5, 0.5)
    summary = aggregate([found, missed, nothing])
    assert summary["p_at_10"] == pytest.approx(0.5)  # (0.5 + 0 + 1) / 3
    assert summary["recall"] == pytest.approx(0.25)  # nonsense has no recall
    assert summary["zero_share"] == pytest.approx(0.667)
    assert summary["wrongly_empty"] == 1


def test_the_benchmark_drives_the_function_the_api_calls() -> None:
    assert search_quality.search is search.service.search


async def test_a_run_over_the_demo_world_judges_every_query(db: str) -> None:
    await seed_database(users=60, progress=False)
    judge = Judge(await load_world())
    assert len(judge.notes) > 400
    # Every rule fits the demo world: a query whose rule finds no note measures nothing.
    unfit = [(q.kind, q.text) for q in QUERIES if not q.rule.expects_nothing and not judge.relevant(q)]
    assert unfit == []

    report = await measure(latency=True, repeat=1)
    assert len(report["per_query"]) == len(QUERIES)
    assert set(report["classes"]) == set(CLASS_BY_KEY)
    assert report["overall"]["queries"] == len(QUERIES) - report["classes"]["kana"]["queries"]
    assert set(report["latency"]["classes"]) == set(CLASS_BY_KEY)
    assert report["latency"]["language_filtered"]["n"] == sum(q.language is not None for q in QUERIES)
    text = markdown({report["key"]: report}, baseline={report["key"]: report})
    assert all(c.label in text for c in CLASSES)
    assert "Language-filtered searches" in text and "Empty searches" in text
    assert text.count("\n| zh_word |") == Counter(q.kind for q in QUERIES)["zh_word"]
    written = json.loads(search_quality._dumps({"runs": {report["key"]: report}}))
    assert written["runs"][report["key"]] == report
