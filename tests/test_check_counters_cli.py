"""`vermilion check-counters`: the counter table of social/counters.py, checked from the command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import sqlite_url, vermilion


def test_check_counters_passes_on_a_seeded_database_and_names_a_drifted_counter(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    seeded = vermilion(
        "seed", "--users", "12", "--no-progress", "--no-pictures", cwd=tmp_path, database_url=url
    )
    assert seeded.returncode == 0, seeded.stderr

    exact = vermilion("check-counters", cwd=tmp_path, database_url=url)
    assert exact.returncode == 0, exact.stdout + exact.stderr
    assert "counters" in exact.stdout and "are exact" in exact.stdout

    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        note_id, likes = conn.execute("SELECT id, like_count FROM notes ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE notes SET like_count = like_count + 3 WHERE id = ?", (note_id,))

    drifted = vermilion("check-counters", cwd=tmp_path, database_url=url)
    assert drifted.returncode == 1
    assert f"notes.like_count of id {note_id}: stored {likes + 3}, counted {likes}" in drifted.stdout
    assert "1 counter difference(s)" in drifted.stderr + drifted.stdout


def test_check_counters_on_a_missing_database_fails_clearly(tmp_path: Path) -> None:
    result = vermilion("check-counters", cwd=tmp_path, database_url="postgres://postgres@127.0.0.1:1/none")
    assert result.returncode == 1
    assert "cannot connect" in result.stderr + result.stdout
