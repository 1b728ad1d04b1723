"""Deleting an account: viewerDelete with the password, the grace period that signing in cancels, and the
purge that removes the person while every counter, the ledger and other people's replies stay right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from commerce.ledger import ledger_mismatches
from media.storage import LocalStorage
from models import (
    Block,
    Board,
    Collect,
    Comment,
    ContentFilter,
    Follow,
    Like,
    Media,
    Mute,
    Note,
    Notification,
    NotificationActivity,
    Order,
    PaymentEvent,
    Product,
    Report,
    SearchDocument,
    SearchKind,
    User,
)
from safety.deletion import GRACE, purge_account, purge_due
from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up
from tests.media.conftest import LOCAL_SECRET
from tests.safety.leaving import (
    COMMENT,
    DELETE,
    EXPORT,
    LIKE,
    PASSWORD,
    a_life,
    act,
    leaving_client,
    ready_export,
    sign_in,
)
from tests.shop import email_of, pk

NOTE = "query($id: ID!) { note(id: $id) { id title } }"
THREAD = """query($id: ID!) {
  note(id: $id) {
    commentCount
    comments(first: 20) {
      nodes { id body author { displayName handle } replies(first: 10) { nodes { id body author { handle } } } }
    }
  }
}"""
VIEWER = "{ viewer { handle } }"
USER = "query($h: String!) { user(handle: $h) { id } }"
PRODUCT = "query($id: ID!) { product(id: $id) { reviewCount } }"
ORDER = """query($id: ID!) {
  order(id: $id) {
    status email total { minorUnits } buyer { displayName } lines { sku }
    shippingAddress { name line1 city phone country }
  }
}"""


async def delete_me(client: GraphQLClient, token: str, password: str = PASSWORD) -> dict[str, Any]:
    return dict((await client.data(DELETE, {"i": {"password": password}}, token=token))["viewerDelete"])


async def test_the_issues_check_export_delete_cancel_delete_purge(db: str, tmp_path: Path) -> None:
    """The issue's check: a person with a full life exports their data, deletes their account, signs in
    within the grace period (cancelled), deletes again; 31 days later the purge leaves every counter equal
    to a fresh count, the friend's reply in place under "Deleted account", the handle and email free, and
    the order kept without personal data."""
    async with leaving_client(tmp_path) as (client, payments):
        life = await a_life(client, payments)
        me_id = pk(life.me["user"]["id"])
        handle, email = life.me["user"]["handle"], email_of(life.me)
        assert await counter_mismatches() == []

        # Export, downloaded over HTTP.
        await client.data(EXPORT, token=life.me["token"])
        export = await ready_export(client, life.me["token"])
        archive = (await client.http.get(export["url"])).json()
        assert {n["id"] for n in archive["notes"]} == {life.my_note["id"], life.my_review["id"]}
        assert [o["id"] for o in archive["orders"]] == [life.order["id"]]

        # Delete: the token dies, the content disappears for everyone else.
        asked = await delete_me(client, life.me["token"])
        assert asked["errors"] == []
        assert datetime.fromisoformat(asked["deletionScheduledAt"]) > datetime.now(UTC) + GRACE - timedelta(
            minutes=1
        )
        dead = await client.http.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {life.me['token']}"}
        )
        assert dead.status_code == 401
        assert (await client.data(NOTE, {"id": life.my_note["id"]}, token=life.friend["token"]))[
            "note"
        ] is None

        # Signing in within the grace period cancels it: everything is back.
        back = await sign_in(client, email)
        assert back["errors"] == [] and back["deletionCancelled"] is True
        assert (await client.data(NOTE, {"id": life.my_note["id"]}, token=life.friend["token"]))[
            "note"
        ] is not None
        again = await sign_in(client, email)
        assert again["deletionCancelled"] is False

        # Delete again, and let 31 days pass.
        assert (await delete_me(client, again["token"]))["errors"] == []
        later = datetime.now(UTC) + timedelta(days=31)
        storage = client.app.state.media.storage
        assert await purge_due(storage=storage, now=later) == [me_id]
        assert await purge_due(storage=storage, now=later) == []  # idempotent

        # Counters and the ledger are exact.
        assert await counter_mismatches() == []
        assert await ledger_mismatches() == []

        # The friend's reply stays, in a thread whose root is the deleted account's, emptied.
        thread = (await client.data(THREAD, {"id": life.shop.note["id"]}, token=life.friend["token"]))["note"]
        roots = {c["id"]: c for c in thread["comments"]["nodes"]}
        assert life.my_lonely not in roots
        tomb = roots[life.my_root]
        assert (tomb["body"], tomb["author"]["displayName"]) == ("", "Deleted account")
        assert [r["id"] for r in tomb["replies"]["nodes"]] == [life.friend_reply]
        assert [r["id"] for r in roots[life.friend_root]["replies"]["nodes"]] == []  # my reply went
        assert thread["commentCount"] == 3  # the tombstone, the friend's reply and the friend's root

        # The person is gone; their handle and email are free.
        assert (await client.data(USER, {"h": handle}, anonymous=True))["user"] is None
        assert (await sign_in(client, email))["errors"][0]["code"] == "INVALID_CREDENTIALS"
        fresh = await sign_up(client, handle)
        assert fresh["user"]["handle"] == handle
        review_count = (await client.data(PRODUCT, {"id": life.shop.product["id"]}, anonymous=True))[
            "product"
        ]
        assert review_count == {"reviewCount": 0}

        # The order stays for accounting, without the buyer's personal data: its merchant still sees it.
        kept = (await client.data(ORDER, {"id": life.order["id"]}, token=life.shop.merchant["token"]))[
            "order"
        ]
        assert kept["status"] == "PAID" and kept["email"] == ""
        assert kept["shippingAddress"] == {
            "name": "",
            "line1": "",
            "city": "",
            "phone": None,
            "country": "CN",
        }
        assert kept["buyer"] == {"displayName": "Deleted account"}
        assert [line["sku"] for line in kept["lines"]] == ["VLT-01"]
    tomb_user = await User.get(id=me_id)
    assert tomb_user.deleted_at is not None
    assert (tomb_user.display_name, tomb_user.bio, tomb_user.avatar_url) == ("Deleted account", "", None)
    assert tomb_user.email != email and tomb_user.handle != handle
    assert (tomb_user.follower_count, tomb_user.following_count, tomb_user.note_count) == (0, 0, 0)
    assert tomb_user.likes_and_collects_count == 0
    (order_row,) = await Order.filter(buyer_id=me_id)
    assert order_row.email == ""
    assert order_row.shipping_address == {"country": "CN"}
    assert order_row.paid_minor_units == order_row.total_minor_units > 0
    assert await PaymentEvent.filter(order_id=order_row.id).count() >= 1
    assert await Product.filter(id=pk(life.shop.product["id"])).exists()
    for model, column in (
        (Like, "user_id"),
        (Collect, "user_id"),
        (Board, "owner_id"),
        (Follow, "follower_id"),
        (Follow, "followee_id"),
        (Block, "blocker_id"),
        (Mute, "muter_id"),
        (ContentFilter, "owner_id"),
        (Notification, "recipient_id"),
        (NotificationActivity, "actor_id"),
        (Media, "owner_id"),
    ):
        assert not await model.filter(**{column: me_id}).exists(), (model, column)
    assert await Note.filter(author_id=me_id, deleted_at=None).count() == 0
    assert set(await Note.filter(author_id=me_id).values_list("title", "body")) == {("", "")}
    assert set(await Comment.filter(author_id=me_id).values_list("body", flat=True)) == {""}
    (report,) = await Report.all()
    assert report.reporter_id is None  # type: ignore[attr-defined]
    assert not await SearchDocument.filter(kind=SearchKind.USER, object_id=me_id).exists()
    assert not await SearchDocument.filter(kind=SearchKind.NOTE, object_id=pk(life.my_note["id"])).exists()
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert not [p for p in (tmp_path / "exports").rglob("*") if p.is_file()]


async def test_a_wrong_password_deletes_nothing(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path) as (client, _):
        me = await sign_up(client, "lily")
        refused = await delete_me(client, me["token"], password="not my password")
        too_long = await delete_me(client, me["token"], password="x" * 500)
        still = await client.data(VIEWER, token=me["token"])

    assert refused["deletionScheduledAt"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [
        ("INVALID_CREDENTIALS", ["input", "password"])
    ]
    assert too_long["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert still["viewer"]["handle"] == "lily"
    assert (await User.get(handle="lily")).deletion_requested_at is None


async def test_password_checks_are_throttled_like_sign_ins(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path, VERMILION_SIGN_IN_LIMITS_PER_EMAIL="2/5minutes") as (client, _):
        me = await sign_up(client, "lily")
        for _ in range(2):
            await delete_me(client, me["token"], password="guess")
        third = await client.http.post(
            "/graphql",
            json={"query": DELETE, "variables": {"i": {"password": "correct horse"}}},
            headers={"Authorization": f"Bearer {me['token']}"},
        )

    assert third.status_code == 429
    assert third.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert (await User.get(handle="lily")).deletion_requested_at is None


async def test_past_the_grace_period_signing_in_no_longer_cancels(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path) as (client, _):
        me = await sign_up(client, "lily")
        await delete_me(client, me["token"])
        await User.filter(handle="lily").update(
            deletion_requested_at=datetime.now(UTC) - GRACE - timedelta(hours=1)
        )
        late = await sign_in(client, "lily@example.com")

    assert late["token"] is None
    assert late["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await User.get(handle="lily")).deletion_requested_at is not None


async def test_nothing_is_purged_before_its_time(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path) as (client, _):
        me = await sign_up(client, "lily")
        await delete_me(client, me["token"])
        storage = client.app.state.media.storage
        user = await User.get(handle="lily")

        assert await purge_due(storage=storage, now=datetime.now(UTC) + GRACE - timedelta(hours=1)) == []
        assert await purge_account(user.id, storage=storage) is False
        assert (await User.get(id=user.id)).deleted_at is None


class FailingStorage(LocalStorage):
    """Local storage that cannot delete (the service is down)."""

    async def delete(self, *keys: str) -> None:
        raise OSError("storage is down")


async def test_a_purge_stopped_halfway_is_finished_by_the_next_run(db: str, tmp_path: Path) -> None:
    async with leaving_client(tmp_path) as (client, payments):
        life = await a_life(client, payments)
        me_id = pk(life.me["user"]["id"])
        await delete_me(client, life.me["token"])
        later = datetime.now(UTC) + timedelta(days=31)
        down = FailingStorage(root=tmp_path, base_url="http://testserver", secret=LOCAL_SECRET)

        assert await purge_due(storage=down, now=later) == []  # stopped at the media: storage is down
        halfway = await User.get(id=me_id)
        assert halfway.deleted_at is None and halfway.handle == life.me["user"]["handle"]
        assert await counter_mismatches() == []  # every step kept the counts exact
        assert not await Like.filter(user_id=me_id).exists()

        assert await purge_due(storage=client.app.state.media.storage, now=later) == [me_id]

    assert (await User.get(id=me_id)).deleted_at is not None
    assert not await Media.filter(owner_id=me_id).exists()
    assert await counter_mismatches() == []


async def test_their_part_in_others_notifications_goes_and_grouped_entries_keep_the_rest(
    db: str, tmp_path: Path
) -> None:
    async with leaving_client(tmp_path) as (client, _):
        author = await sign_up(client, "author")
        leaver = await sign_up(client, "leaver")
        stayer = await sign_up(client, "stayer")
        note = await create_note(client, author["token"])
        await act(client, LIKE, {"n": note["id"]}, stayer["token"])
        await act(client, LIKE, {"n": note["id"]}, leaver["token"])
        await act(client, COMMENT, {"i": {"noteId": note["id"], "body": "hi"}}, leaver["token"])
        await delete_me(client, leaver["token"])
        await purge_due(storage=client.app.state.media.storage, now=datetime.now(UTC) + timedelta(days=31))
        listed = await client.data(
            "{ viewer { notifications(first: 10) { nodes { kind actorCount actor { handle } } } } }",
            token=author["token"],
        )

    entries = listed["viewer"]["notifications"]["nodes"]
    assert entries == [{"kind": "LIKE", "actorCount": 1, "actor": {"handle": "stayer"}}]
    assert await counter_mismatches() == []


@pytest.mark.parametrize("moderated", [False, True])
async def test_a_root_others_answered_stays_unless_a_moderator_took_it_down(
    db: str, tmp_path: Path, moderated: bool
) -> None:
    from models import ModerationState
    from safety.withholding import set_moderation

    async with leaving_client(tmp_path) as (client, _):
        author = await sign_up(client, "author")
        leaver = await sign_up(client, "leaver")
        note = await create_note(client, author["token"])
        root = await act(client, COMMENT, {"i": {"noteId": note["id"], "body": "mine"}}, leaver["token"])
        root_id = root["comment"]["id"]
        await act(
            client,
            COMMENT,
            {"i": {"noteId": note["id"], "body": "re", "replyToId": root_id}},
            author["token"],
        )
        if moderated:
            await set_moderation(Comment, pk(root_id), ModerationState.REMOVED, "spam")
        await delete_me(client, leaver["token"])
        await purge_due(storage=client.app.state.media.storage, now=datetime.now(UTC) + timedelta(days=31))
        thread = (await client.data(THREAD, {"id": note["id"]}, anonymous=True))["note"]

    shown = [c["id"] for c in thread["comments"]["nodes"]]
    assert shown == ([] if moderated else [root_id])
    assert await counter_mismatches() == []


async def test_the_servers_housekeeping_purges_what_is_due(db: str, tmp_path: Path) -> None:
    import asyncio

    from api.app import _housekeeping

    async with leaving_client(tmp_path, VERMILION_SWEEP_INTERVAL_SECONDS=0.05) as (client, _):
        me = await sign_up(client, "lily")
        await delete_me(client, me["token"])
        await User.filter(handle="lily").update(
            deletion_requested_at=datetime.now(UTC) - GRACE - timedelta(days=1)
        )
        state = client.app.state
        housekeeping = asyncio.create_task(
            _housekeeping(state.settings, state.payments, state.snapshots, state.media, state.exports)
        )
        try:
            for _ in range(200):
                if not await User.filter(handle="lily").exists():
                    break
                await asyncio.sleep(0.05)
        finally:
            housekeeping.cancel()
            await asyncio.gather(housekeeping, return_exceptions=True)

    assert not await User.filter(handle="lily").exists()
    assert await User.filter(display_name="Deleted account", deleted_at__isnull=False).count() == 1


def test_the_cli_purges_a_seeded_shopper_and_every_counter_stays_exact(tmp_path: Path) -> None:
    """`vermilion users purge-deleted` on the demo world: the shopper `demo` (follows, likes, collects,
    comments, boards) asked to leave 31 days ago; afterwards `vermilion check-counters` finds nothing."""
    import sqlite3

    from tests.test_cli import sqlite_url, vermilion

    url = sqlite_url(tmp_path)
    seeded = vermilion(
        "seed", "--users", "12", "--no-progress", "--no-pictures", cwd=tmp_path, database_url=url
    )
    assert seeded.returncode == 0, seeded.stderr
    asked = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        conn.execute("UPDATE users SET deletion_requested_at = ? WHERE handle = 'demo'", (asked,))
        (activity,) = conn.execute(
            "SELECT (SELECT COUNT(*) FROM likes l JOIN users u ON u.id = l.user_id WHERE u.handle = 'demo')"
            " + (SELECT COUNT(*) FROM follows f JOIN users u ON u.id = f.follower_id WHERE u.handle = 'demo')"
        ).fetchone()
    assert activity > 0  # there is something to undo

    purged = vermilion("users", "purge-deleted", cwd=tmp_path, database_url=url)
    again = vermilion("users", "purge-deleted", cwd=tmp_path, database_url=url)
    counters = vermilion("check-counters", cwd=tmp_path, database_url=url)

    assert purged.returncode == 0, purged.stderr
    assert "1 account(s) purged." in purged.stdout
    assert "0 account(s) purged." in again.stdout
    assert counters.returncode == 0, counters.stdout + counters.stderr
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM users WHERE handle = 'demo'").fetchone() == (0,)
