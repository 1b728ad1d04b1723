"""The layer map is enforced: a wrong-way import breaks the import contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "schema", "demo", "commerce", "feed", "social", "search", "models", "core")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the source packages, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("static", "__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("commerce/money.py", "import schema.context", "Layers"),
        ("schema/money.py", "import api.app", "Layers"),
        ("search/text.py", "import social.notes", "Layers"),
        ("feed/ranking.py", "import commerce.cart", "Layers"),
        ("core/ids.py", "import models", "Layers"),
        ("social/topics.py", "import starlette.requests", "know no transport"),
        ("commerce/orders.py", "import stripe", "Only commerce.payments"),
    ],
)
def test_a_wrong_way_import_breaks_a_contract(
    tree: Path, module: str, wrong_import: str, contract: str
) -> None:
    with (tree / module).open("a") as source:
        source.write(f"\n{wrong_import}  # noqa\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), result.stdout
