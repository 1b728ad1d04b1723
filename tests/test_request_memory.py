"""A request's objects are freed when it ends, by reference counting: the rows it read, the loaders
that read them and the executor's plans do not wait for Python's cycle collector (api/collector.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from api import collector
from models import User

REQUEST_SCOPED = (
    "models.",
    "schema.context.",
    "schema.execution.",
    "schema.completion.",
    "schema.loaders.",
    "schema.relay.",
    "schema.notes.",
    "schema.users.",
    "schema.social.",
    "schema.catalog.",
)
PAGE = """query ($handle: String!) { user(handle: $handle) { notes(first: 5) { edges { node { id title author { handle }
  topics { name } products { title variants { name price { amount } } }
  comments(first: 2) { edges { node { body author { handle } } } } } } } } }"""


@pytest.fixture
def collector_off() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def _left_for_the_collector() -> list[Any]:
    """What only the cycle collector would free now (kept aside by DEBUG_SAVEALL, then let go)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    found = list(gc.garbage)
    gc.garbage.clear()
    gc.set_debug(0)
    return found


async def test_an_operation_leaves_nothing_of_its_own_to_the_cycle_collector(
    client: Any, demo_user: Any, collector_off: None
) -> None:
    author = await User.filter(note_count__gte=5).order_by("id").first()
    assert author is not None
    await client.data(PAGE, {"handle": author.handle})  # the document parsed, validated and cached
    _left_for_the_collector()
    data = await client.data(PAGE, {"handle": author.handle})
    assert data["user"]["notes"]["edges"]
    left = _left_for_the_collector()
    kinds = {type(o).__module__ + "." + type(o).__qualname__ for o in left}
    # Rows, the types made of them, the executor with its plans, the loaders and the context.
    ours = sorted(k for k in kinds if k.startswith(REQUEST_SCOPED))
    assert ours == []


def test_settle_freezes_the_started_heap_and_sets_the_young_threshold() -> None:
    before = gc.get_threshold()
    try:
        collector.settle(12_345)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (12_345, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
