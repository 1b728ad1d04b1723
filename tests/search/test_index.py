"""The search index kept by the write paths (search/documents.py) and read by search/service.py, called
directly: what each note, person, product and topic is found by, relaxed matches, language filters."""

from __future__ import annotations

from models import SearchDocument, SearchKind, User
from search.documents import rebuild_index, reindex
from search.service import SearchSort, search
from social.accounts import update_profile
from social.notes import NoteChanges, delete_note, update_note
from tests.social.factories import create_note, create_product, create_user


async def _found(text: str, kind: SearchKind = SearchKind.NOTE, **kw: object) -> list[int]:
    page = await search(text, kind=kind, first=20, **kw)  # type: ignore[arg-type]
    return [hit.object_id for hit in page.hits]


async def test_a_note_is_found_by_what_it_says_now(db: str) -> None:
    author = await create_user(handle="author")
    note = await create_note(author=author, title="这支口红绝了", body="黄皮友好", topics=["彩妆"])
    other = await create_note(author=author, title="周末咖啡", body="拿铁", topics=["咖啡"])
    assert await _found("口红") == [note.id]
    assert await _found("黄皮") == [note.id]  # body
    assert await _found("#彩妆") == [note.id]  # topics are part of the head
    assert await _found("口紅") == [note.id]  # Traditional is read as Simplified

    await update_note(note_id=note.id, editor_id=author.id, changes=NoteChanges(title="这支粉底液绝了"))
    assert await _found("口红") == []
    assert await _found("粉底液") == [note.id]

    await delete_note(note_id=note.id, editor_id=author.id)
    assert await _found("粉底液") == []
    assert await _found("拿铁") == [other.id]


async def test_people_products_and_topics_are_found_by_their_names(db: str) -> None:
    amy = await create_user(handle="amy_beauty", display_name="Amy 小红")
    await create_user(handle="lin", display_name="林林")
    product = await create_product(merchant=amy, title="Velvet Lip Tint 丝绒唇釉")
    await create_note(author=amy, title="护肤心得", topics=["护肤"])

    assert await _found("amy", SearchKind.USER) == [amy.id]
    assert await _found("小红", SearchKind.USER) == [amy.id]
    assert await _found("sunscreen", SearchKind.USER) == []
    await update_profile(user_id=amy.id, bio="sunscreen reviews")
    assert await _found("sunscreen", SearchKind.USER) == [amy.id]  # the bio is indexed on edit
    assert await _found("唇釉", SearchKind.PRODUCT) == [product.id]
    assert await _found("lip tints", SearchKind.PRODUCT) == [product.id]  # stems
    topics = await search("護膚", kind=SearchKind.TOPIC, first=5)
    assert len(topics.hits) == 1 and topics.terms == ["护肤"]


async def test_documents_follow_their_rows_through_reindex_and_rebuild(db: str) -> None:
    author = await create_user(handle="author")
    note = await create_note(author=author, title="防晒霜推荐", topics=["防晒"])
    await User.filter(id=author.id).update(display_name="改名了")  # behind the write paths' back
    assert await _found("改名", SearchKind.USER) == []
    await reindex(SearchKind.USER, [author.id])
    assert await _found("改名", SearchKind.USER) == [author.id]

    await SearchDocument.filter(kind=SearchKind.NOTE).delete()
    assert await _found("防晒霜") == []
    counts = await rebuild_index(progress=False)
    assert counts == {"topic": 1, "user": 1, "product": 0, "note": 1}
    assert await _found("防晒霜") == [note.id]


async def test_when_nothing_has_every_word_the_results_match_some_and_say_so(db: str) -> None:
    author = await create_user(handle="author")
    both = await create_note(author=author, title="Dior 口红 试色")
    lipstick = await create_note(author=author, title="平价口红")
    page = await search("Dior 口红", first=10)
    assert ([h.object_id for h in page.hits], page.relaxed) == ([both.id], False)
    page = await search("香奈儿 口红", first=10)
    assert page.relaxed and {h.object_id for h in page.hits} == {both.id, lipstick.id}
    # POPULAR and LATEST keep to documents with every word: no relaxing there.
    latest = await search("香奈儿 口红", sort=SearchSort.LATEST, first=10)
    assert (latest.hits, latest.relaxed) == ([], False)


async def test_a_language_filter_keeps_notes_detected_in_that_language(db: str) -> None:
    author = await create_user(handle="author")
    english = await create_note(
        author=author,
        title="Dior lipstick swatches",
        body="My honest review of the new shades, worn all day.",
    )
    chinese = await create_note(
        author=author, title="Dior 口红试色", body="新色号上嘴一整天的真实感受，黄皮友好"
    )
    assert (english.language, chinese.language) == ("en", "zh")
    assert sorted(await _found("dior")) == sorted([english.id, chinese.id])
    assert await _found("dior", language="en") == [english.id]
    assert await _found("dior", language="zh") == [chinese.id]
