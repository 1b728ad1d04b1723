"""The committed schema.graphql is the schema the code serves, so clients can diff and codegen from it."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from core.settings import Settings
from schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def printed_schema() -> str:
    """The SDL of the development schema, as `vermilion export-schema` writes it."""
    settings = Settings(_env_file=None, VERMILION_ENV="development")  # type: ignore[call-arg]
    return build_schema(settings).as_str().rstrip("\n") + "\n"


def test_committed_schema_matches_the_code() -> None:
    expected = printed_schema()
    if not SCHEMA_FILE.exists():
        pytest.fail("schema.graphql is missing: run `vermilion export-schema`", pytrace=False)
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    if committed != expected:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile="schema.graphql (committed)",
                tofile="schema from the code",
            )
        )
        pytest.fail(f"schema.graphql is out of date: run `vermilion export-schema`\n{diff}", pytrace=False)
