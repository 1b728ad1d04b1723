"""GraphQL enums over Python enums that lower layers own (models, commerce, feed, core).

Those enums cannot carry `strawberry.enum_value(description=…)`: models and the rule packages import no
strawberry. `described_enum` exposes such an enum with a description on the type and on each value, kept
here beside the rest of the GraphQL surface.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import EnumMeta
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=EnumMeta)


def described_enum(cls: E, *, name: str, description: str, values: Mapping[str, str]) -> E:
    """`strawberry.enum(cls)` named `name`, with `values` (member name → description) on its values.

    A name in `values` that `cls` does not have is a typo and fails at import; a member left out simply has
    no description (tests/test_schema_docs.py fails on it)."""
    enum = strawberry.enum(cls, name=name, description=description)
    definition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    unknown = set(values) - {value.name for value in definition.values}
    if unknown:
        raise ValueError(f"{name}: no such values: {', '.join(sorted(unknown))}")
    for value in definition.values:
        value.description = values.get(value.name)
    return enum
