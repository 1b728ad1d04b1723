"""Relay's compiler accepts the schema's connections for `@connection` paging in both directions.

tests/clients/relay is a tiny Relay project: paginated fragments with `@connection` and `@refetchable`
over `User.notes` (both ways), `Query.followingFeed` (backwards only) and `Board.notes` (forwards only).
relay-compiler checks each against schema.graphql: the arguments exist, `PageInfo` has the fields each
direction needs, and it writes the refetch queries usePaginationFragment runs for loadNext/loadPrevious.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from graphql import REMOVE, InputValueDefinitionNode, Visitor, parse, print_ast, visit

from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up

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


async def test_relays_generated_query_pages_backwards_on_the_server(
    client: GraphQLClient, tmp_path: Path
) -> None:
    """What usePaginationFragment's loadPrevious sends — the refetch query relay-compiler wrote, as it is —
    answered by the server: pages back to the start, in list order, with the cursors Relay reads."""
    result = await asyncio.to_thread(compile_relay_project, ROOT / "schema.graphql", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    artifact = tmp_path / "src" / "__generated__" / "UserNotesPaginationQuery.graphql.js"
    printed = await asyncio.to_thread(
        subprocess.run,
        [
            "node",
            "-e",
            # The artifact is an ES module (`export default node`); Node hands it to require() as such.
            "const m = require(process.argv[1]); process.stdout.write((m.default ?? m).params.text)",
            str(artifact),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    query = printed.stdout
    author = await sign_up(client, "relayer")
    for n in range(5):
        await create_note(client, author["token"], title=f"第{n}篇")

    def page(data: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        notes = data["node"]["notes"]
        return [edge["node"]["title"] for edge in notes["edges"]], notes["pageInfo"]

    everything, _ = page(await client.data(query, {"id": author["user"]["id"], "first": 5}))
    titles, info = page(await client.data(query, {"id": author["user"]["id"], "last": 2}))
    collected = titles
    while info["hasPreviousPage"]:
        titles, info = page(
            await client.data(query, {"id": author["user"]["id"], "last": 2, "before": info["startCursor"]})
        )
        collected = titles + collected

    assert everything == ["第4篇", "第3篇", "第2篇", "第1篇", "第0篇"]  # newest first
    assert collected == everything
