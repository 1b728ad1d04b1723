"""The person a row points at (an author, a merchant), answered for many rows at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schema.context import Info
from schema.loaders import load_all

if TYPE_CHECKING:
    from schema.users.types import UserType


def related_people(attribute: str) -> Any:
    """A batch resolver (`schema.execution.batched`): the user whose id is `row.<attribute>` of each
    source, through the request's user loader (one statement for a whole page, none for people loaded
    already)."""

    async def people(sources: list[Any], info: Info) -> list[UserType]:
        from schema.users.types import UserType

        ids = [getattr(source.row, attribute) for source in sources]
        return [UserType.from_row(user) for user in await load_all(info.context.loaders.user_by_id, ids)]

    people.__name__ = f"people_by_{attribute}"
    return people
