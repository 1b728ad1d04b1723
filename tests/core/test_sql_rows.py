"""core.sql.model_from_row builds exactly the instance Tortoise's own `_init_from_db` builds, on both
databases (SQLite hands back text and integers where PostgreSQL hands back typed values)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.sql import fetch_all, model_from_row, select_list
from models import Comment, Note, Product, ProductVariant, Topic, User
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up

COMMENT_CREATE = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { errors { code } } }"


def _exact(state: dict[str, Any]) -> dict[str, str]:
    """Each attribute as its type and repr: 1 and True differ. A timestamp as its ISO text, which holds
    its offset (equal instants in different zones differ), not its tzinfo object: UTC is kept as the
    driver's `timezone.utc` where the ORM makes a `ZoneInfo("UTC")` of it (core.sql._converter)."""
    return {
        key: f"datetime:{value.isoformat()}"
        if isinstance(value, datetime)
        else f"{type(value).__name__}:{value!r}"
        for key, value in state.items()
    }


async def test_rows_are_built_as_the_orm_builds_them(client: GraphQLClient) -> None:
    author = await sign_up(client, "rows")
    note = await create_note(client, author["token"], title="行 rows", topics=["护肤"])
    await create_product(client, author["token"])
    comment = await client.data(
        COMMENT_CREATE, {"i": {"noteId": note["id"], "body": "评论 a comment"}}, token=author["token"]
    )
    assert comment["commentCreate"]["errors"] == []
    for model in (Note, User, Comment, Product, ProductVariant, Topic):
        found: list[dict[str, Any]] = await fetch_all(
            f"SELECT {select_list(model, 't', 'x__')} FROM {model._meta.db_table} t ORDER BY t.id"
        )
        assert found, model  # every kind of row is compared
        for row in found:
            ours = model_from_row(model, row, "x__")
            theirs = model._init_from_db(**{key[3:]: value for key, value in row.items()})
            assert _exact(ours.__dict__) == _exact(theirs.__dict__)
            assert type(ours) is model and ours._saved_in_db and not ours._partial
    notes = await fetch_all(f"SELECT {select_list(Note, 't')} FROM notes t")
    assert notes and model_from_row(Note, notes[0]).title == "行 rows"
