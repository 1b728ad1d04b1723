"""Relay's compiler accepts the schema's connections for `@connection` paging in both directions.

tests/clients/relay is a tiny Relay project: paginated fragments with `@connection` and `@refetchable`
over `User.notes` (both ways), `Query.followingFeed` (backwards only) and `Board.notes` (forwards only).
relay-compiler checks each against schema.graphql: the arguments exist, `PageInfo` has the fields each
direction needs, and it writes the refetch queries usePaginationFragment runs for loadNext/loadPrevious.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from graphql import REMOVE, InputValueDefinitionNode, Visitor, parse, print_ast, visit

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "tests" / "clients" / "relay"
COMPILER = ROOT / "node_modules" / ".bin" / "relay-compiler"


def compile_relay_project(schema: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """Compile a copy of the project against `schema` in `workdir` (the artifacts stay out of the tree)."""
    assert COMPILER.exists(), "node_modules is missing: run `npm ci` (scripts/test does)"
    shutil.copytree(PROJECT / "src", workdir / "src")
    config = json.loads((PROJECT / "relay.config.json").read_text())
    assert (PROJECT / config["schema"]).resolve() == ROOT / "schema.graphql"  # the committed config's schema
    config["schema"] = str(schema)
    (workdir / "relay.config.json").write_text(json.dumps(config))
    return subprocess.run(
        [str(COMPILER), "--noWatchman", "--output", "quiet-with-errors"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_relay_compiles_paging_both_ways_against_the_schema(tmp_path: Path) -> None:
    result = compile_relay_project(ROOT / "schema.graphql", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    generated = tmp_path / "src" / "__generated__"
    backwards = (generated / "FollowingFeedPaginationQuery.graphql.js").read_text()
    assert "followingFeed(last: $last, before: $before)" in backwards
    assert "hasPreviousPage" in backwards and "startCursor" in backwards
    both = (generated / "UserNotesPaginationQuery.graphql.js").read_text()
    assert "notes(first: $first, after: $after, last: $last, before: $before)" in both
    assert (generated / "BoardNotesPaginationQuery.graphql.js").exists()


class _DropBackwardArguments(Visitor):
    def enter_input_value_definition(self, node: InputValueDefinitionNode, *_: object) -> object:
        return REMOVE if node.name.value in ("last", "before") else None


def _forwards_only(sdl: str) -> str:
    """The schema with every `last` and `before` argument removed: lists that page forwards only."""
    return print_ast(visit(parse(sdl), _DropBackwardArguments()))


def test_relay_refuses_a_schema_without_backward_paging(tmp_path: Path) -> None:
    """The same project against the schema as it would be without `last`/`before`: the check can fail."""
    forwards_only = tmp_path / "forwards-only.graphql"
    forwards_only.write_text(_forwards_only((ROOT / "schema.graphql").read_text()))
    project = tmp_path / "project"
    project.mkdir()
    result = compile_relay_project(forwards_only, project)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Unknown argument 'last' on field 'Query.followingFeed'" in output, output
    assert "Unknown argument 'before' on field 'User.notes'" in output, output
