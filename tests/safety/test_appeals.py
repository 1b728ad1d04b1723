"""Appeals through the public API: by the person affected, once per decision, within 20 days, of decisions
that took something away; decided by another moderator; approving undoes the decision unless a later one
replaced it; a suspended person appeals with their email and password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models import Appeal, AppealStatus, ModerationAction, ModerationState, Note, User
from safety.appeals import APPEAL_WINDOW, appealable_until
from tests.conftest import GraphQLClient
from tests.factories import create_note
from tests.safety.moderating import (
    APPEAL,
    NOTE,
    NOTIFICATIONS,
    PASSWORD,
    RESOLVE,
    act,
    codes,
    limited_client,
    person,
)
from tests.shop import pk

APPEALS = "{ viewer { appeals { totalCount edges { node { id status resolution action { action } } } } } }"
PENDING = (
    "{ moderationAppeals { totalCount edges { node { id text appellant { handle } action { action } } } } }"
)


async def _appeal(client: GraphQLClient, **fields: Any) -> dict[str, Any]:
    token = fields.pop("token", None)
    data = await client.data(APPEAL, {"i": fields}, token=token, anonymous=token is None)
    return data["appealCreate"]  # type: ignore[no-any-return]


async def _resolve(
    client: GraphQLClient, token: str, appeal_id: str, approve: bool, note: str
) -> dict[str, Any]:
    data = await client.data(
        RESOLVE, {"i": {"appealId": appeal_id, "approve": approve, "note": note}}, token=token
    )
    return data["appealResolve"]  # type: ignore[no-any-return]


async def _staff(client: GraphQLClient) -> tuple[dict[str, Any], dict[str, Any]]:
    from models import Role

    return await person(client, "first_mod", Role.MODERATOR), await person(
        client, "second_mod", Role.MODERATOR
    )


async def test_an_appeal_is_made_once_within_its_window_by_the_person_affected(client: GraphQLClient) -> None:
    first, _ = await _staff(client)
    author = await person(client, "author")
    stranger = await person(client, "stranger")
    note = await create_note(client, author["token"])
    hidden = (await act(client, first["token"], subjectId=note["id"], action="HIDE", reason="Spam."))[
        "action"
    ]

    assert codes(await _appeal(client, token=stranger["token"], actionId=hidden["id"], text="Not mine.")) == [
        (("input", "actionId"), "NOT_FOUND")
    ]
    assert codes(await _appeal(client, token=author["token"], actionId=hidden["id"], text="x" * 2001)) == [
        (("input", "text"), "TOO_LONG")
    ]
    assert codes(await _appeal(client, token=author["token"], actionId=hidden["id"], text=" ")) == [
        (("input", "text"), "REQUIRED")
    ]
    assert codes(await _appeal(client, token=author["token"], text="Which one?")) == [
        (("input", "actionId"), "REQUIRED")
    ]
    made = await _appeal(client, token=author["token"], actionId=hidden["id"], text="这是我自己的照片。")
    assert made["errors"] == []
    assert made["appeal"] | {"id": None} == {
        "id": None,
        "status": "PENDING",
        "text": "这是我自己的照片。",
        "action": {"id": hidden["id"], "action": "HIDE"},
    }
    again = await _appeal(client, token=author["token"], actionId=hidden["id"], text="Again.")
    assert codes(again) == [(("input", "actionId"), "APPEAL_CLOSED")]
    mine = (await client.data(APPEALS, token=author["token"]))["viewer"]["appeals"]
    assert mine["totalCount"] == 1 and mine["edges"][0]["node"]["status"] == "PENDING"
    queue = (await client.data(PENDING, token=first["token"]))["moderationAppeals"]
    assert queue["totalCount"] == 1
    assert queue["edges"][0]["node"]["appellant"] == {"handle": "author"}
    assert await Appeal.all().count() == 1


async def test_only_decisions_that_took_something_away_and_within_20_days(client: GraphQLClient) -> None:
    first, _ = await _staff(client)
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    old = await create_note(client, author["token"], title="old")
    hidden = (await act(client, first["token"], subjectId=note["id"], action="HIDE", reason="Spam."))[
        "action"
    ]
    restored = (await act(client, first["token"], subjectId=note["id"], action="RESTORE", reason="Ok."))[
        "action"
    ]
    assert restored["appealableUntil"] is None
    assert codes(await _appeal(client, token=author["token"], actionId=restored["id"], text="?")) == [
        (("input", "actionId"), "INVALID")
    ]
    removed = (await act(client, first["token"], subjectId=old["id"], action="REMOVE", reason="Old."))[
        "action"
    ]
    await ModerationAction.filter(id=pk(removed["id"])).update(
        created_at=datetime.now(UTC) - APPEAL_WINDOW - timedelta(minutes=1)
    )
    late = await _appeal(client, token=author["token"], actionId=removed["id"], text="Late.")
    assert codes(late) == [(("input", "actionId"), "APPEAL_CLOSED")]
    on_time = await _appeal(client, token=author["token"], actionId=hidden["id"], text="On time.")
    assert on_time["errors"] == []


async def test_another_moderator_decides_and_approving_undoes_the_decision(client: GraphQLClient) -> None:
    first, second = await _staff(client)
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    hidden = (await act(client, first["token"], subjectId=note["id"], action="HIDE", reason="Spam."))[
        "action"
    ]
    appeal = (await _appeal(client, token=author["token"], actionId=hidden["id"], text="Mine."))["appeal"]

    assert codes(await _resolve(client, first["token"], appeal["id"], True, "Yes.")) == [
        (("input", "appealId"), "FORBIDDEN")
    ]
    assert codes(await _resolve(client, author["token"], appeal["id"], True, "Yes.")) == [(None, "FORBIDDEN")]
    assert codes(await _resolve(client, second["token"], appeal["id"], True, "")) == [
        (("input", "note"), "REQUIRED")
    ]
    assert (await Appeal.get()).status is AppealStatus.PENDING

    approved = await _resolve(client, second["token"], appeal["id"], True, "It is their own photo.")
    assert approved["errors"] == []
    assert approved["appeal"]["status"] == "APPROVED"
    assert approved["appeal"]["resolution"] == "It is their own photo."
    assert (await client.data(NOTE, {"id": note["id"]}, anonymous=True))["note"]["id"] == note["id"]
    assert codes(await _resolve(client, second["token"], appeal["id"], False, "Changed my mind.")) == [
        (("input", "appealId"), "INVALID")
    ]
    entries = [
        n
        for n in (await client.data(NOTIFICATIONS, token=author["token"]))["viewer"]["notifications"]["edges"]
    ]
    kinds = [(e["node"]["kind"], e["node"]["moderation"]["action"]) for e in entries]
    assert kinds == [("APPEAL_RESOLVED", "APPEAL_APPROVED"), ("MODERATION", "HIDE")]
    assert entries[0]["node"]["moderation"]["reason"] == "It is their own photo."
    assert (await client.data(PENDING, token=second["token"]))["moderationAppeals"]["totalCount"] == 0


async def test_a_rejected_appeal_leaves_the_decision_standing(client: GraphQLClient) -> None:
    first, second = await _staff(client)
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    removed = (await act(client, first["token"], subjectId=note["id"], action="REMOVE", reason="Scam."))[
        "action"
    ]
    appeal = (await _appeal(client, token=author["token"], actionId=removed["id"], text="No."))["appeal"]

    rejected = await _resolve(client, second["token"], appeal["id"], False, "The link is a scam.")
    assert rejected["appeal"]["status"] == "REJECTED"
    assert (await Note.get(id=pk(note["id"]))).moderation is ModerationState.REMOVED
    assert (await client.data(NOTE, {"id": note["id"]}, anonymous=True))["note"] is None
    history = [
        a.action
        for a in await ModerationAction.filter(subject_kind="NOTE", subject_id=pk(note["id"])).order_by("id")
    ]
    assert [h.value for h in history] == ["REMOVE", "APPEAL_REJECTED"]


async def test_approving_never_undoes_a_later_decision(client: GraphQLClient) -> None:
    first, second = await _staff(client)
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    hidden = (await act(client, first["token"], subjectId=note["id"], action="HIDE", reason="Maybe."))[
        "action"
    ]
    await act(client, second["token"], subjectId=note["id"], action="REMOVE", reason="Certainly.")
    appeal = (await _appeal(client, token=author["token"], actionId=hidden["id"], text="Please."))["appeal"]
    assert (await _resolve(client, second["token"], appeal["id"], True, "The hiding was hasty."))[
        "errors"
    ] == []
    assert (await Note.get(id=pk(note["id"]))).moderation is ModerationState.REMOVED


async def test_a_suspended_person_appeals_with_email_and_password(client: GraphQLClient) -> None:
    first, second = await _staff(client)
    author = await person(client, "author")
    other = await person(client, "other")
    suspended = (
        await act(client, first["token"], subjectId=author["user"]["id"], action="SUSPEND", reason="Spam.")
    )["action"]

    assert codes(await _appeal(client, text="Let me in.")) == [(None, "UNAUTHENTICATED")]
    wrong = await _appeal(client, text="Let me in.", email="author@example.com", password="not it")
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]
    not_suspended = await _appeal(client, text="Hm.", email="other@example.com", password=PASSWORD)
    assert codes(not_suspended) == [(("input", "actionId"), "REQUIRED")]
    signed_in = await _appeal(
        client, token=other["token"], text="Hm.", email="other@example.com", password=PASSWORD
    )
    assert codes(signed_in) == [(("input", "email"), "INVALID")]

    made = await _appeal(client, text="I was hacked.", email="Author@Example.com", password=PASSWORD)
    assert made["errors"] == []
    assert made["appeal"]["action"] == {"id": suspended["id"], "action": "SUSPEND"}
    assert (await _resolve(client, second["token"], made["appeal"]["id"], True, "Secured."))["errors"] == []
    assert (await User.get(handle="author")).suspended_until is None


async def test_appealing_with_a_password_is_throttled_as_signing_in(db: str) -> None:
    async with limited_client(VERMILION_SIGN_IN_LIMITS_PER_EMAIL="2/5minutes") as client:
        variables = {"i": {"text": "x", "email": "nobody@example.com", "password": "guess"}}
        statuses = [
            (await client.http.post("/graphql", json={"query": APPEAL, "variables": variables})).status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


def test_the_appeal_window_is_20_days_for_decisions_that_took_something_away() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for kind, appealable in (("HIDE", True), ("REMOVE", True), ("DELIST_PRODUCT", True), ("WARN", True),
                             ("SUSPEND", True), ("DISMISS", False), ("RESTORE", False), ("UNSUSPEND", False),
                             ("ASSIGN", False), ("ROLE_GRANTED", False), ("APPEAL_REJECTED", False)):  # fmt: skip
        action = ModerationAction(action=kind, created_at=now)
        assert appealable_until(action) == (now + timedelta(days=20) if appealable else None), kind
