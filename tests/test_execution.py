"""schema/execution.py: the executor's shortcuts answer exactly as graphql-core's own executor does —
data, errors, their paths and null propagation — and batch resolvers run once per level, not per item."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Annotated, Any

import pytest
import strawberry
from strawberry.extensions import ParserCache
from strawberry.types import Info

from schema.execution import VermilionExecutor, batched

CALLS: list[str] = []


@strawberry.enum
class Shade(Enum):
    RED = "red"
    PINK = "pink"


async def _owners(pets: list[Pet], info: Info) -> list[Person | None]:
    CALLS.append(f"owners:{len(pets)}")
    await asyncio.sleep(0)
    if any(p.pet_id == 13 for p in pets):
        raise ValueError("unlucky pet")
    return [None if p.pet_id == 7 else Person(name=f"owner of {p.name}", age=p.pet_id) for p in pets]


async def _tags(pets: list[Pet], info: Info, first: int = 2) -> list[list[str]]:
    CALLS.append(f"tags:{len(pets)}:{first}")
    return [[f"{p.name}-{i}" for i in range(first)] for p in pets]


@strawberry.type
class Person:
    name: str
    age: int | None = None

    @strawberry.field
    async def shout(self) -> str:
        await asyncio.sleep(0)
        if self.name.endswith("bad"):
            raise ValueError("cannot shout")
        return self.name.upper()


@strawberry.type
class Pet:
    pet_id: int
    name: str
    shade: Shade = Shade.RED
    weight: float = 1.5
    nickname: str | None = None
    broken: int = 0

    @strawberry.field(metadata=batched(_owners))
    async def owner(self, info: Info) -> Person | None:
        return (await _owners([self], info))[0]

    @strawberry.field(metadata=batched(_tags))
    async def tags(self, info: Info, first: int = 2) -> list[str]:
        return (await _tags([self], info, first=first))[0]

    @strawberry.field
    async def strict_owner(self, info: Info) -> Person:
        person = (await _owners([self], info))[0]
        return person  # type: ignore[return-value]  # None for pet 7: a non-null error on purpose

    @strawberry.field
    def friend(self) -> Person:
        return Person(name=f"friend of {self.name}{' bad' if self.pet_id == 3 else ''}")

    @strawberry.field
    def mood(self) -> str:
        if self.pet_id == 2:
            raise ValueError("no mood today")
        return "calm"

    @strawberry.field
    def scores(self) -> list[int]:
        return [1, 2, None] if self.pet_id == 3 else [1, 2]  # type: ignore[list-item]  # on purpose

    @strawberry.field
    def companion(self) -> Companion:
        return Person(name="a person") if self.pet_id % 2 else Robot(model=f"r{self.pet_id}")


@strawberry.type
class Robot:
    model: str


Companion = Annotated[Person | Robot, strawberry.union("Companion")]


@strawberry.type
class Edge:
    cursor: str
    node: Pet


@strawberry.type
class Query:
    @strawberry.field
    async def pets(self, ids: list[int]) -> list[Pet]:
        return [Pet(pet_id=i, name=f"pet{i}", nickname="nick" if i % 2 else None) for i in ids]

    @strawberry.field
    async def edges(self, ids: list[int]) -> list[Edge]:
        return [Edge(cursor=f"c{i}", node=Pet(pet_id=i, name=f"pet{i}")) for i in ids]

    @strawberry.field
    async def pet(self, pet_id: int) -> Pet | None:
        return Pet(pet_id=pet_id, name=f"pet{pet_id}")

    @strawberry.field
    def strict_pets(self, ids: list[int]) -> list[Pet]:
        return [Pet(pet_id=i, name=f"pet{i}", broken=2**40 if i == 5 else 0) for i in ids]


fast = strawberry.Schema(Query, execution_context_class=VermilionExecutor)
stock = strawberry.Schema(Query)

DOCUMENTS = [
    "{ pets(ids: [1, 2, 3]) { petId name shade weight nickname owner { name age shout } tags } }",
    "{ pets(ids: [1, 2]) { a: tags(first: 1) b: tags(first: 3) owner { name } } }",
    "{ edges(ids: [4, 5]) { cursor node { name owner { name shout } } } }",
    # An owner that is null: null at that item's own path.
    "{ pets(ids: [6, 7, 8]) { name owner { name } } }",
    # A resolver error below a nested object, and a non-null field's error nulling its parent.
    "{ pets(ids: [2, 3]) { name friend { name shout } } }",
    "{ pets(ids: [6, 7]) { name strictOwner { name } } }",
    # A leaf that does not serialise (an Int out of range), on a non-null list of non-null items.
    "{ strictPets(ids: [4, 5]) { name broken } }",
    "{ pets(ids: []) { name owner { name } } }",
    "{ pets(ids: [1]) { __typename name ... on Pet { owner { __typename name } } } }",
    # One object, not in a list: the resolvers under it run ahead as for a list's items.
    "{ pet(petId: 1) { name owner { name shout } tags friend { name shout } } }",
    "{ pet(petId: 7) { name strictOwner { name } owner { name } } }",
    "{ pet(petId: 13) { name owner { name } b: tags(first: 1) } }",
    # Below: what schema/completion.py gives back to graphql-core's path for a single item — a resolver
    # of `self` that raises, a null inside a list of non-null leaves, a union.
    "{ edges(ids: [1, 2, 3]) { cursor node { name mood shade weight } } }",
    "{ edges(ids: [2, 3]) { node { name scores } } }",
    "{ edges(ids: [1, 2]) { node { name companion { __typename ... on Person { name } ... on Robot { model } } } } }",
]


def _plain(result: Any) -> dict[str, Any]:
    return {
        "data": result.data,
        "errors": sorted(
            (e.message, tuple(e.path or ()), tuple((loc.line, loc.column) for loc in e.locations or ()))
            for e in result.errors or ()
        ),
    }


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_fast_executor_answers_as_graphql_core(document: str) -> None:
    expected = _plain(await stock.execute(document))
    assert _plain(await fast.execute(document)) == expected


async def test_objects_whose_values_are_in_hand_are_completed_directly(monkeypatch: Any) -> None:
    from schema.completion import GIVE_UP, DirectCompletion

    answered: list[bool] = []
    complete = DirectCompletion.complete_directly

    def counted(self: Any, *args: Any) -> Any:
        answer = complete(self, *args)
        answered.append(answer is not GIVE_UP)
        return answer

    monkeypatch.setattr(DirectCompletion, "complete_directly", counted)
    document = "{ edges(ids: [4, 5]) { cursor node { name shade owner { name shout } tags } } }"
    assert _plain(await fast.execute(document)) == _plain(await stock.execute(document))
    # Each edge, with its pet and the pet's owner, in one call; none given back.
    assert answered == [True, True]
    answered.clear()
    document = "{ pet(petId: 4) { name owner { name shout } tags } }"
    assert _plain(await fast.execute(document)) == _plain(await stock.execute(document))
    assert answered == [True]  # one object too, once what is under it was resolved


async def test_a_batch_resolver_runs_once_per_level_and_argument() -> None:
    CALLS.clear()
    result = await fast.execute("{ pets(ids: [1, 2, 3]) { owner { name } a: tags(first: 1) b: tags } }")
    assert result.errors is None
    assert sorted(CALLS) == ["owners:3", "tags:3:1", "tags:3:2"]
    CALLS.clear()
    await stock.execute("{ pets(ids: [1, 2, 3]) { owner { name } } }")
    assert CALLS == ["owners:1"] * 3  # the stock executor: once per item, through the single resolver


async def test_a_failed_batch_is_each_items_error_at_its_own_path() -> None:
    # As when a dataloader's batch fails: every item of the batch gets the error, each at its own path.
    result = await fast.execute("{ pets(ids: [12, 13]) { name owner { name } } }")
    assert result.data == {"pets": [{"name": "pet12", "owner": None}, {"name": "pet13", "owner": None}]}
    assert sorted((e.message, tuple(e.path or ())) for e in result.errors or ()) == [
        ("unlucky pet", ("pets", 0, "owner")),
        ("unlucky pet", ("pets", 1, "owner")),
    ]


# As the app's schema: the parser cache hands out one document per text, so an operation sent again
# finds what the executor worked out from its selections the first time (schema/execution.py).
cached = strawberry.Schema(Query, execution_context_class=VermilionExecutor, extensions=[ParserCache])


async def test_an_operation_sent_again_answers_from_the_work_of_its_first_request(monkeypatch: Any) -> None:
    import graphql.execution.executor as graphql_executor

    collected: list[int] = []
    collect = graphql_executor.collect_subfields

    def counted(*args: Any, **kwargs: Any) -> Any:
        collected.append(1)
        return collect(*args, **kwargs)

    monkeypatch.setattr(graphql_executor, "collect_subfields", counted)
    for document in DOCUMENTS:
        expected = _plain(await stock.execute(document))
        collected.clear()
        assert _plain(await cached.execute(document)) == expected
        first = len(collected)
        for _ in range(2):
            collected.clear()
            assert _plain(await cached.execute(document)) == expected, document
            # Nothing collected again: every selection was found from the first request.
            assert collected == [], document
        assert first > 0 or "ids: []" in document


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        # Directives: what is collected depends on the variables, so nothing is kept.
        (
            "query Q($with: Boolean!) { pets(ids: [1, 2]) { name owner @include(if: $with) { name } } }",
            [{"with": True}, {"with": False}, {"with": True}],
        ),
        (
            "query Q($skip: Boolean!) { pets(ids: [3]) { ...P @skip(if: $skip) name } } "
            "fragment P on Pet { tags owner { name } }",
            [{"skip": False}, {"skip": True}, {"skip": False}],
        ),
        # Arguments from variables: kept, and each request's own values reach the resolvers.
        (
            "query Q($first: Int!, $ids: [Int!]!) { pets(ids: $ids) { tags(first: $first) owner { name } } }",
            [{"first": 1, "ids": [1]}, {"first": 3, "ids": [2, 3]}, {"first": 2, "ids": []}],
        ),
    ],
)
async def test_an_operation_sent_again_with_other_variables_answers_for_them(
    document: str, variables: list[dict[str, Any]]
) -> None:
    for values in variables * 2:
        expected = _plain(await stock.execute(document, variable_values=values))
        assert _plain(await cached.execute(document, variable_values=values)) == expected, values


def test_only_operations_whose_selections_ignore_the_variables_are_kept() -> None:
    from graphql import parse

    from schema.execution import _fixed_selections

    def fixed(text: str) -> bool:
        document = parse(text)
        return all(_fixed_selections(d.selection_set) and not d.directives for d in document.definitions)  # type: ignore[attr-defined]

    assert fixed("query Q($a: Int) { pets(ids: [1]) { tags(first: $a) ... on Pet { name } ...F } }")
    assert not fixed("query Q($a: Boolean!) { pets(ids: [1]) { name @skip(if: $a) } }")
    assert not fixed("{ pets(ids: [1]) { ... on Pet @include(if: true) { name } } }")
    assert not fixed("{ pets(ids: [1]) { ...F @include(if: true) } }")
    assert not fixed("fragment F on Pet { name owner { name @skip(if: false) } }")
