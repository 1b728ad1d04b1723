"""The admin's side of payouts, `vermilion payouts list|mark-paid|cancel|transfer`, run for real in
subprocesses against a seeded SQLite file and a PostgreSQL database (the demo creator has a PAID and a
REQUESTED payout: demo/earnings.py). Each step moves a payout once; a step already done says so and exits
0; a step the payout's state forbids exits 1 and changes nothing; the ledger reconciles at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.safety.test_roles import _row, cli_database  # noqa: F401  (the fixture: SQLite and PostgreSQL)
from tests.test_cli import vermilion

ROOT = Path(__file__).resolve().parents[2]
BALANCES = (
    "SELECT SUM(pending), SUM(available), SUM(in_payout), SUM(paid_out) FROM earning_entries "
    "WHERE currency = 'CNY' AND creator_id = (SELECT id FROM users WHERE handle = 'xiaohong')"
)

pytestmark = pytest.mark.timeout(300)


def _python(code: str, url: str) -> str:
    """Run `code` with Tortoise connected to `url` (as the CLI connects) and return what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERMILION_", "STRIPE_"))}
    env |= {"VERMILION_ENV": "development", "VERMILION_DATABASE_URL": url}
    script = (
        "import asyncio\nfrom api.cli import connected\n"
        f"async def main():\n    async with connected({url!r}, create=False):\n"
        + "".join(f"        {line}\n" for line in code.splitlines())
        + "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _numbers(url: str, sql: str) -> list[int]:
    return [int(str(v)) for v in _row(url, sql)[0]]


def test_an_admin_lists_pays_and_cancels_payouts_once(cli_database: str, tmp_path: Path) -> None:  # noqa: F811
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return vermilion(*args, cwd=tmp_path, database_url=cli_database)

    seeded = run("seed", "--users", "3", "--no-progress", "--no-pictures")
    assert seeded.returncode == 0, seeded.stderr

    listed = run("payouts", "list")
    assert listed.returncode == 0, listed.stderr
    header, paid, requested, count = listed.stdout.strip().splitlines()
    assert header.split() == ["id", "creator", "currency", "amount", "status", "requested", "at"]
    assert paid.split()[:3] + paid.split()[4:5] == ["1", "@xiaohong", "CNY", "PAID"]
    assert requested.split()[:3] + requested.split()[4:5] == ["2", "@xiaohong", "CNY", "REQUESTED"]
    assert count == "2 payout(s)."
    waiting = run("payouts", "list", "--status", "requested").stdout.strip().splitlines()
    assert [line.split()[0] for line in waiting[1:-1]] == ["2"]
    amount = int(requested.split()[3].replace(".", ""))
    pending, available, in_payout, paid_out = _numbers(cli_database, BALANCES)
    assert in_payout == amount and pending > 0 and available > 0 and paid_out > 0

    # Cancelled: back to AVAILABLE, once; it can no longer be paid.
    cancelled = run("payouts", "cancel", "2")
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.strip().startswith("Payout 2 of ") and "CANCELLED" in cancelled.stdout
    again = run("payouts", "cancel", "2")
    assert (again.returncode, "already CANCELLED; nothing changed" in again.stdout) == (0, True)
    refused = run("payouts", "mark-paid", "2", "--reference", "late")
    assert refused.returncode == 1 and "Payout 2 is already CANCELLED" in refused.stderr
    assert _numbers(cli_database, BALANCES) == [pending, available + amount, 0, paid_out]

    # The creator asks again (as payoutRequest does); the admin pays it, once however often it is said.
    new_id = _python(
        "from commerce.payouts import request_payout\nfrom models import User\n"
        "creator = await User.get(handle='xiaohong')\n"
        "print((await request_payout(creator_id=creator.id, currency='CNY')).id)",
        cli_database,
    )
    assert new_id == "3"
    marked = run("payouts", "mark-paid", "3", "--reference", "ICBC 20261201-0042")
    assert marked.returncode == 0, marked.stderr
    assert marked.stdout.strip().endswith("is now PAID (reference: ICBC 20261201-0042).")
    twice = run("payouts", "mark-paid", "3", "--reference", "ICBC again")
    assert twice.returncode == 0
    assert "was already PAID (reference: ICBC 20261201-0042); nothing changed." in twice.stdout
    assert _numbers(cli_database, BALANCES) == [pending, 0, 0, paid_out + available + amount]
    assert _row(cli_database, "SELECT COUNT(*) FROM earning_entries WHERE payout_id = 3") == [(2,)]

    # A paid payout cannot be cancelled; an unknown one is an error; Connect is off here.
    assert run("payouts", "cancel", "3").returncode == 1
    unknown = run("payouts", "mark-paid", "99", "--reference", "x")
    assert unknown.returncode == 1 and "There is no payout 99." in unknown.stderr
    blank = run("payouts", "mark-paid", "1", "--reference", "  ")
    assert blank.returncode == 1 and "reference is required" in blank.stderr
    transfer = run("payouts", "transfer", "1")
    assert transfer.returncode == 1 and "VERMILION_CONNECT_PAYOUTS" in transfer.stderr
    assert run("payouts", "list", "--status", "LOST").returncode == 1

    problems = _python(
        "from commerce.earnings_check import earnings_mismatches\nfrom commerce.ledger import ledger_mismatches\n"
        "print(await earnings_mismatches() + await ledger_mismatches())",
        cli_database,
    )
    assert problems == "[]"
