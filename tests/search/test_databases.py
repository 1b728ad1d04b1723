"""SQLite and PostgreSQL give the same search results, and PostgreSQL indexes exactly our tokens.

One bilingual corpus is written through the same rule functions into a fresh SQLite file and a fresh
PostgreSQL database; every query below (including ones no other test uses) must return the same ids with the
same scores, page by page, on both. Runs in the PostgreSQL pass of the suite, which has both databases.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import connections
from tortoise.context import TortoiseContext

from api.db import apply_migrations, tortoise_config
from commerce.catalog import VariantSpec, create_product
from core.sql import fetch_all
from models import NoteKind, SearchKind
from search.service import SearchSort, search
from search.terms import refresh_terms
from social.accounts import sign_up, update_profile
from social.notes import NoteChanges, create_note, delete_note, update_note
from tests.conftest import DATABASE_URL, IS_POSTGRES
from tests.databases import scratch_database

pytestmark = pytest.mark.skipif(
    not IS_POSTGRES, reason="compares SQLite with PostgreSQL: runs in the suite's PostgreSQL pass"
)

SUBJECTS_ZH = ["口红", "护肤", "防晒霜", "敏感肌肤", "粉底液", "眼影盘", "香水", "面膜", "穿搭", "咖啡"]
SUBJECTS_EN = ["lipstick", "sunscreen", "foundation", "perfume", "serum", "eyeshadow", "coffee", "outfit"]
BRANDS = ["Dior", "YSL", "Chanel", "MAC", "Innisfree", "Vermilion"]
PHRASES_ZH = ["真的绝了", "黄皮友好", "学生党平价", "回购第三次", "夏天必备", "踩雷了", "干皮救星", "不推荐"]
PHRASES_EN = ["honest review", "worth it?", "for dry skin", "my favourite", "on a budget", "swatches"]
TRADITIONAL = ["這支口紅很滋潤", "護膚心得分享", "敏感肌膚的防曬霜推薦"]

QUERIES = [
    "口红", "红", "護膚", "敏感肌肤", "Dior 口红", "dior", "DIOR", "lipsticks", "lip", "sunscreens",
    "防晒", "防曬霜", "黄皮", "学生党 口红", "ysl lipstick", "coffee 咖啡", "perfume 香水", "不存在的东西",
    "zzzz", "%", "'", ":*", "a & b | c", "x" * 3000, "口红 lipstick dior", "Chanel", "粉底", "眼影",
    "honest review", "dry skin", "creator", "小红",
    # What the words mean (search/concepts.py), weighed by the vocabulary's counts, corrections.
    "旅遊", "sunscreen 推荐", "防晒霜推荐", "lipstik", "kouhong", "💄", "moisturiser", "化粧水", "perfume 不推荐",
]  # fmt: skip


async def _write_corpus() -> None:
    rng = random.Random(20261121)
    authors = []
    for i, (handle, name) in enumerate([("xiaohong", "小红"), ("amy_beauty", "Amy"), ("lin_daily", "林林")]):
        user = await sign_up(
            email=f"u{i}@example.com",
            password="correct horse battery",
            handle=handle,
            display_name=name,
            languages=["zh", "en"] if i == 0 else ["en"],
        )
        authors.append(user.id)
    await update_profile(user_id=authors[2], bio="记录生活 · creator of daily notes")
    products = []
    for brand in BRANDS[:4]:
        product = await create_product(
            merchant_id=authors[0],
            title=f"{brand} 丝绒口红 velvet lipstick",
            description="滋润不拔干 long-lasting",
            variants=[
                VariantSpec(
                    sku=f"{brand}-1", name="999 正红", price_minor_units=29900, currency="CNY", stock=5
                )
            ],
        )
        products.append(product.id)
    notes = []
    for i in range(90):
        style = i % 3
        if style == 0:
            title = f"{rng.choice(BRANDS)} {rng.choice(SUBJECTS_ZH)}{rng.choice(PHRASES_ZH)}"
            body = "、".join(rng.sample(SUBJECTS_ZH, 3)) + "，" + rng.choice(PHRASES_ZH)
        elif style == 1:
            title = f"{rng.choice(BRANDS)} {rng.choice(SUBJECTS_EN)}: {rng.choice(PHRASES_EN)}"
            body = " ".join(rng.sample(SUBJECTS_EN, 3)) + f" — {rng.choice(PHRASES_EN)}"
        else:
            title = f"{rng.choice(SUBJECTS_EN)} {rng.choice(SUBJECTS_ZH)}｜{rng.choice(PHRASES_ZH)}"
            body = f"{rng.choice(TRADITIONAL)} {rng.choice(PHRASES_EN)}"
        note = await create_note(
            author_id=authors[i % 3],
            kind=NoteKind.TEXT,
            title=title[:100],
            body=body,
            topics=rng.sample(["护肤", "彩妆", "口红试色", "OOTD", "skincare", "咖啡探店"], 2),
        )
        notes.append(note.id)
    # Popularity differs, so POPULAR has an order and RELEVANCE a tie-breaker.
    for n, note_id in enumerate(notes):
        await connections.get("default").execute_query(
            f"UPDATE notes SET like_count = {(n * 7) % 23} WHERE id = {note_id}"
        )
    await update_note(
        note_id=notes[0], editor_id=authors[0], changes=NoteChanges(title="改过的标题 edited title")
    )
    await delete_note(note_id=notes[1], editor_id=authors[1])


async def _results() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in SearchKind:
        for sort in SearchSort:
            for query in QUERIES:
                pages, after = [], None
                for _ in range(20):
                    page = await search(
                        query, kind=kind, sort=sort, first=7, after=after, preferred_languages=["en"]
                    )
                    pages.append([(h.object_id, h.score) for h in page.hits])
                    if not page.has_next:
                        break
                    after = page.hits[-1].cursor
                out[f"{kind.value} {sort.value} {query[:30]}"] = (pages, page.terms, page.relaxed)
    return out


LEXEMES = "SELECT head, body, array_to_string(tsvector_to_array(tsv), ' ') AS lexemes FROM search_documents"


async def corpus_results(url: str) -> dict[str, Any]:
    """Write the corpus into the empty database at `url`; its search results (and PostgreSQL's lexemes)."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(url))
        await apply_migrations()
        await _write_corpus()
        await refresh_terms()  # the words' document counts, as the server's job writes them
        results = await _results()
        lexemes = await fetch_all(LEXEMES) if url.startswith("postgres") else []
    return {"results": results, "lexemes": lexemes}


def _in_a_fresh_process(url: str) -> dict[str, Any]:
    """Tortoise binds its models to one SQL dialect per process: each database gets its own interpreter,
    so the suite's own connection keeps its dialect."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.search.test_databases", url],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.splitlines()[-1]))


Both = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]


@pytest.fixture(scope="module")
async def both() -> AsyncIterator[Both]:
    async with scratch_database("search", like=DATABASE_URL) as pg_url:
        pg = await asyncio.to_thread(_in_a_fresh_process, pg_url)
    with tempfile.TemporaryDirectory(prefix="vermilion-search-") as tmp:
        sqlite = await asyncio.to_thread(_in_a_fresh_process, f"sqlite://{Path(tmp) / 'db.sqlite3'}")
    yield pg["results"], sqlite["results"], pg["lexemes"]


async def test_sqlite_and_postgres_return_the_same_pages(both: Both) -> None:
    pg, sqlite, _ = both
    assert set(pg) == set(sqlite)
    different = [key for key in pg if pg[key] != sqlite[key]]
    assert not different, (
        f"{len(different)} searches differ, e.g. {different[:3]}: {pg[different[0]]} vs {sqlite[different[0]]}"
    )
    # The comparison means something: most searches found results, and some ran to several pages.
    notes = {key: pages for key, (pages, _, _) in pg.items() if key.startswith("NOTE")}
    assert sum(1 for pages in notes.values() if pages[0]) > len(notes) * 2 // 3
    assert all(any(pg[key][0][0] for key in pg if key.startswith(kind.value)) for kind in SearchKind)
    assert any(len(pages) > 2 for pages, _, _ in pg.values())


async def test_postgres_lexemes_are_exactly_our_tokens(both: Both) -> None:
    *_, rows = both
    assert len(rows) > 90
    for row in rows:
        assert set(row["lexemes"].split()) == set(row["head"].split()) | set(row["body"].split()), row


if __name__ == "__main__":
    print(json.dumps(asyncio.run(corpus_results(sys.argv[1])), ensure_ascii=False))
