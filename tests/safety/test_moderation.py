"""The moderation queue and moderators' decisions through the public API: staff only, one case per subject
in a stable order at a constant SQL cost, decisions that fit their subject, their effects (hidden content,
suspended accounts), the append-only log, the notifications, assignment, the moderators' own limit, and the
scenario the issue is checked by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models import (
    CaseStatus,
    ModerationAction,
    ModerationActionKind,
    ModerationCase,
    ModerationState,
    Note,
    Report,
    ReportStatus,
    Role,
    User,
)
from social.counters import counter_mismatches
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product
from tests.safety.moderating import (
    ACT,
    APPEAL,
    ASSIGN,
    NOTE,
    NOTIFICATIONS,
    PASSWORD,
    QUEUE,
    RESOLVE,
    SIGN_IN,
    act,
    codes,
    comment_on,
    crowd,
    limited_client,
    person,
    report,
)
from tests.shop import pk

PRODUCT = "query($id: ID!) { product(id: $id) { id moderation { state reason withheld } } }"


async def _queue(client: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    return (await client.data(QUEUE, variables, token=token))["moderationQueue"]  # type: ignore[no-any-return]


async def _sign_in(client: GraphQLClient, handle: str, password: str = PASSWORD) -> dict[str, Any]:
    data = await client.data(
        SIGN_IN, {"i": {"email": f"{handle}@example.com", "password": password}}, anonymous=True
    )
    return data["signIn"]  # type: ignore[no-any-return]


async def _notifications(client: GraphQLClient, token: str) -> list[dict[str, Any]]:
    edges = (await client.data(NOTIFICATIONS, token=token))["viewer"]["notifications"]["edges"]
    return [edge["node"] for edge in edges]


async def test_the_queue_and_decisions_are_for_staff_only(client: GraphQLClient) -> None:
    author = await person(client, "author")
    user = await person(client, "user")
    note = await create_note(client, author["token"])

    anonymous = await client.execute(QUEUE, {}, anonymous=True)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await client.execute(QUEUE, {}, token=user["token"])
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert refused["data"] is None
    for query in ("{ moderationAppeals { totalCount } }", '{ moderationCase(id: "x") { id } }'):
        body = await client.execute(query, token=user["token"])
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    decision = await act(client, user["token"], subjectId=note["id"], action="HIDE", reason="no")
    assert codes(decision) == [(None, "FORBIDDEN")]
    assert await ModerationAction.all().count() == 0
    assert (await Note.get(id=pk(note["id"]))).moderation is ModerationState.NONE


async def test_the_queue_orders_cases_by_open_reports_then_age_and_pages_without_repeats(
    client: GraphQLClient,
) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    author = await person(client, "author")
    notes = [await create_note(client, author["token"], title=f"note {i}") for i in range(4)]
    tokens = await crowd(3)
    # note 0: 1 report, note 1: 3 (HATE), note 2: 3 (SPAM, opened later), note 3: 2
    for note, count, category in ((notes[0], 1, "SPAM"), (notes[1], 3, "HATE"), (notes[2], 3, "SPAM"),
                                  (notes[3], 2, "IP")):  # fmt: skip
        for token in tokens[:count]:
            assert (await report(client, token, note["id"], category))["errors"] == []

    queue = await _queue(client, moderator["token"], first=10)
    order = [edge["node"]["subjectId"] for edge in queue["edges"]]
    assert order == [notes[1]["id"], notes[2]["id"], notes[3]["id"], notes[0]["id"]]
    assert queue["totalCount"] == 4
    first = queue["edges"][0]["node"]
    assert first | {"id": None, "reports": None, "history": None} == {
        "id": None,
        "subjectKind": "NOTE",
        "subjectId": notes[1]["id"],
        "status": "OPEN",
        "source": "REPORTS",
        "reportCount": 3,
        "openReportCount": 3,
        "topCategory": "HATE",
        "owner": {"handle": "author"},
        "assignee": None,
        "subject": {"id": notes[1]["id"], "title": "note 1", "moderation": {"state": "NONE", "reason": ""}},
        "reports": None,
        "history": None,
    }
    assert first["reports"]["totalCount"] == 3
    assert [e["node"]["reporter"]["handle"] for e in first["reports"]["edges"]] == [
        "reporter0",
        "reporter1",
        "reporter2",
    ]

    # Page by page, one case a page: the same order, nothing repeated, nothing skipped.
    seen: list[str] = []
    after = None
    while True:
        page = await _queue(client, moderator["token"], first=1, after=after)
        seen += [edge["node"]["subjectId"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == order

    spam = await _queue(client, moderator["token"], category="SPAM")
    assert [edge["node"]["subjectId"] for edge in spam["edges"]] == [notes[2]["id"], notes[0]["id"]]
    forged = await client.execute(QUEUE, {"after": "bm90LWEtY3Vyc29y"}, token=moderator["token"])
    assert forged["errors"][0]["extensions"]["code"] == "INVALID"


async def test_a_page_of_the_queue_costs_the_same_statements_whatever_its_size(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    other = await person(client, "other", Role.MODERATOR)
    author = await person(client, "author")
    merchant = await person(client, "merchant")
    tokens = await crowd(2)
    notes = [(await create_note(client, author["token"], title=f"n{i}"))["id"] for i in range(6)]
    products = [(await create_product(client, merchant["token"], title=f"p{i}"))["id"] for i in range(3)]
    people = [author["user"]["id"], merchant["user"]["id"]]
    # Cases of equal counts come oldest first: every page below holds a note, a product and a person.
    subjects = [notes[0], products[0], people[0], notes[1], products[1], people[1], *notes[2:], products[2]]
    for subject_id in subjects:
        for token in tokens:
            assert (await report(client, token, subject_id))["errors"] == []
    for subject_id in subjects[:4]:
        assign = await client.data(
            ASSIGN, {"i": {"caseId": await _case_id(subject_id), "assigneeId": other["user"]["id"]}},
            token=moderator["token"],
        )  # fmt: skip
        assert assign["moderationCaseAssign"]["errors"] == []
    query = QUEUE.replace("... on User { handle }", "... on User { handle } ... on Product { title }")

    async def statements(first: int) -> int:
        body = await client.execute(query, {"first": first}, token=moderator["token"])
        assert "errors" not in body, body
        assert len(body["data"]["moderationQueue"]["edges"]) == first
        return int(body["extensions"]["sqlStatements"])

    small, large = await statements(3), await statements(11)
    assert small == large, (small, large)
    # session, cases, count, subjects (notes, products, people), people, reports, history
    assert large <= 9, large


async def _case_id(subject_id: str) -> str:
    from core.ids import parse_global_id, to_global_id

    parsed = parse_global_id(subject_id)
    assert parsed is not None
    case = await ModerationCase.get(subject_kind=parsed[0].upper(), subject_id=parsed[1])
    return to_global_id("ModerationCase", case.id)


async def test_hiding_a_note_shows_it_to_its_author_alone_and_tells_everyone_concerned(
    client: GraphQLClient,
) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    author = await person(client, "author")
    reader = await person(client, "reader")
    note = await create_note(client, author["token"])
    ann, bob = await crowd(2)
    first = (await report(client, ann, note["id"], "HATE"))["report"]
    await report(client, bob, note["id"], "HATE")

    decision = await act(
        client, moderator["token"], subjectId=note["id"], action="HIDE", reason="仇恨言论 Hate speech."
    )
    assert decision["errors"] == []
    action = decision["action"]
    assert action | {"id": None, "appealableUntil": None} == {
        "id": None,
        "action": "HIDE",
        "reason": "仇恨言论 Hate speech.",
        "subjectKind": "NOTE",
        "subjectId": note["id"],
        "durationDays": None,
        "expiresAt": None,
        "appealableUntil": None,
        "reportCount": 2,
    }
    until = datetime.fromisoformat(action["appealableUntil"])
    assert timedelta(days=19, hours=23) < until - datetime.now(UTC) <= timedelta(days=20)
    assert decision["case"] | {"id": None} == {
        "id": None,
        "status": "RESOLVED",
        "openReportCount": 0,
        "reportCount": 2,
        "topCategory": None,
    }

    # Gone for everyone but its author, who sees why; staff see it in the queue.
    assert (await client.data(NOTE, {"id": note["id"]}, anonymous=True))["note"] is None
    assert (await client.data(NOTE, {"id": note["id"]}, token=reader["token"]))["note"] is None
    mine = (await client.data(NOTE, {"id": note["id"]}, token=author["token"]))["note"]
    assert mine["moderation"] == {"state": "HIDDEN", "reason": "仇恨言论 Hate speech.", "withheld": True}
    resolved = await _queue(client, moderator["token"], status="RESOLVED")
    (case,) = [edge["node"] for edge in resolved["edges"]]
    assert case["subject"]["moderation"] == {"state": "HIDDEN", "reason": "仇恨言论 Hate speech."}
    assert [(e["node"]["action"], e["node"]["moderator"]["handle"]) for e in case["history"]["edges"]] == [
        ("HIDE", "mod")
    ]
    assert {e["node"]["status"] for e in case["reports"]["edges"]} == {"RESOLVED"}
    assert {e["node"]["outcome"] for e in case["reports"]["edges"]} == {"HIDE"}

    # The author is told what and why; each reporter the outcome, never the reason.
    (told,) = await _notifications(client, author["token"])
    assert told["kind"] == "MODERATION"
    assert told["note"] == {"id": note["id"]}
    assert told["moderation"] | {"appealableUntil": None} == {
        "action": "HIDE",
        "subjectKind": "NOTE",
        "actionId": action["id"],
        "reason": "仇恨言论 Hate speech.",
        "expiresAt": None,
        "appealableUntil": None,
    }
    assert told["moderation"]["appealableUntil"] == action["appealableUntil"]
    for token in (ann, bob):
        (outcome,) = await _notifications(client, token)
        assert outcome["kind"] == "REPORT_RESOLVED"
        assert outcome["note"] is None  # hidden from them now
        assert outcome["moderation"] == {
            "action": "HIDE",
            "subjectKind": "NOTE",
            "actionId": None,
            "reason": None,
            "expiresAt": None,
            "appealableUntil": None,
        }
    mine_reported = await client.data(
        "{ viewer { reports { edges { node { id status outcome } } } } }", token=ann
    )
    assert mine_reported["viewer"]["reports"]["edges"] == [
        {"node": {"id": first["id"], "status": "RESOLVED", "outcome": "HIDE"}}
    ]
    # The decision is the author's to see, with its reason; a reporter's list of decisions is empty.
    decisions = (
        "{ viewer { moderationActions { edges { node { id action reason moderator { handle } } } } } }"
    )
    assert (await client.data(decisions, token=author["token"]))["viewer"]["moderationActions"]["edges"] == [
        {"node": {"id": action["id"], "action": "HIDE", "reason": "仇恨言论 Hate speech.", "moderator": None}}
    ]
    assert (await client.data(decisions, token=ann))["viewer"]["moderationActions"]["edges"] == []

    restored = await act(
        client, moderator["token"], subjectId=note["id"], action="RESTORE", reason="On review, fine."
    )
    assert restored["errors"] == []
    assert (await client.data(NOTE, {"id": note["id"]}, anonymous=True))["note"]["id"] == note["id"]
    mine = (await client.data(NOTE, {"id": note["id"]}, token=author["token"]))["note"]
    assert mine["moderation"] == {"state": "NONE", "reason": "", "withheld": False}
    assert (await client.data(NOTE, {"id": note["id"]}, token=reader["token"]))["note"]["moderation"] is None


async def test_decisions_must_fit_their_subject_and_refusals_change_nothing(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    author = await person(client, "author")
    merchant = await person(client, "merchant")
    note = await create_note(client, author["token"])
    other = await create_note(client, author["token"], title="other")
    product = await create_product(client, merchant["token"])
    (reporter,) = await crowd(1)
    other_report = (await report(client, reporter, other["id"]))["report"]

    refusals = [
        ({"subjectId": author["user"]["id"], "action": "HIDE", "reason": "x"}, [(("input", "action"), "INVALID")]),
        ({"subjectId": note["id"], "action": "DELIST_PRODUCT", "reason": "x"}, [(("input", "action"), "INVALID")]),
        ({"subjectId": product["id"], "action": "REMOVE", "reason": "x"}, [(("input", "action"), "INVALID")]),
        ({"subjectId": note["id"], "action": "HIDE", "reason": "x", "durationDays": 3},
         [(("input", "durationDays"), "INVALID")]),
        ({"subjectId": note["id"], "action": "SUSPEND", "reason": "x", "durationDays": 0},
         [(("input", "durationDays"), "OUT_OF_RANGE")]),
        ({"subjectId": note["id"], "action": "HIDE", "reason": "   "}, [(("input", "reason"), "REQUIRED")]),
        ({"subjectId": note["id"], "action": "HIDE", "reason": "x" * 1001}, [(("input", "reason"), "TOO_LONG")]),
        ({"subjectId": note["id"], "action": "RESTORE", "reason": "x"}, [(("input", "action"), "INVALID")]),
        ({"subjectId": note["id"], "action": "UNSUSPEND", "reason": "x"}, [(("input", "action"), "INVALID")]),
        ({"subjectId": note["id"], "action": "DISMISS", "reason": "x"}, [(("input", "action"), "INVALID")]),
        ({"subjectId": note["id"], "action": "HIDE", "reason": "x", "reportIds": [other_report["id"]]},
         [(("input", "reportIds", "0"), "INVALID")]),
        ({"subjectId": note["id"], "action": "HIDE", "reason": "x", "reportIds": ["garbage"]},
         [(("input", "reportIds", "0"), "INVALID")]),
        ({"subjectId": "Tm90ZToxOTk5OTk=", "action": "HIDE", "reason": "x"}, [(("input", "subjectId"), "NOT_FOUND")]),
        ({"subjectId": moderator["user"]["id"], "action": "WARN", "reason": "x"}, [(None, "FORBIDDEN")]),
    ]  # fmt: skip
    for decision, expected in refusals:
        payload = await act(client, moderator["token"], **decision)
        assert codes(payload) == expected, (decision, payload)
    assert await ModerationAction.exclude(action=ModerationActionKind.ROLE_GRANTED).count() == 0
    assert await ModerationCase.all().count() == 1  # the other note's, from its report
    assert (await Note.get(id=pk(note["id"]))).moderation is ModerationState.NONE
    assert (await User.get(id=pk(author["user"]["id"]))).suspended_until is None
    assert (await Report.get(id=pk(other_report["id"]))).status is ReportStatus.OPEN


async def test_only_an_admin_acts_on_an_admin_and_nobody_on_themselves(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    admin = await person(client, "admin", Role.ADMIN)
    boss = await person(client, "boss", Role.ADMIN)
    own = await create_note(client, moderator["token"])

    mine = await act(client, moderator["token"], subjectId=own["id"], action="HIDE", reason="x")
    assert codes(mine) == [(None, "FORBIDDEN")]
    on_admin = await act(client, moderator["token"], subjectId=admin["user"]["id"], action="WARN", reason="x")
    assert codes(on_admin) == [(None, "FORBIDDEN")]
    by_admin = await act(
        client, boss["token"], subjectId=admin["user"]["id"], action="WARN", reason="Be nice."
    )
    assert by_admin["errors"] == []
    on_moderator = await act(client, admin["token"], subjectId=own["id"], action="HIDE", reason="Off topic.")
    assert on_moderator["errors"] == []


async def test_a_suspension_ends_sessions_withholds_content_and_refuses_sign_in(
    client: GraphQLClient,
) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    author = await person(client, "author")
    reader = await person(client, "reader")
    note = await create_note(client, author["token"])
    comment = await comment_on(client, author["token"], note["id"], "置顶")

    # Suspending through the comment acts on its author.
    suspended = await act(
        client,
        moderator["token"],
        subjectId=comment["id"],
        action="SUSPEND",
        reason="Spam ring.",
        durationDays=3,
    )
    assert suspended["errors"] == []
    expires = datetime.fromisoformat(suspended["action"]["expiresAt"])
    assert timedelta(days=2, hours=23) < expires - datetime.now(UTC) <= timedelta(days=3)
    assert suspended["action"]["durationDays"] == 3

    old_token = await client.http.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {author['token']}"},
    )
    assert old_token.status_code == 401
    refused = await _sign_in(client, "author")
    assert codes(refused) == [(None, "SUSPENDED")]
    message = refused["errors"][0]["message"]
    assert f"until {expires:%Y-%m-%d %H:%M} UTC" in message and "Spam ring." in message
    # A wrong password is told nothing about the suspension.
    assert [e["code"] for e in (await _sign_in(client, "author", "wrong password"))["errors"]] == [
        "INVALID_CREDENTIALS"
    ]
    assert (await client.data(NOTE, {"id": note["id"]}, token=reader["token"]))["note"] is None

    lifted = await act(
        client, moderator["token"], subjectId=author["user"]["id"], action="UNSUSPEND", reason="Cleared."
    )
    assert lifted["errors"] == []
    signed_in = await _sign_in(client, "author")
    assert signed_in["errors"] == [] and signed_in["token"]
    assert (await client.data(NOTE, {"id": note["id"]}, token=reader["token"]))["note"]["id"] == note["id"]

    forever = await act(
        client, moderator["token"], subjectId=author["user"]["id"], action="SUSPEND", reason="Again."
    )
    assert forever["action"]["expiresAt"] is None and forever["action"]["durationDays"] is None
    assert "until further notice: Again." in (await _sign_in(client, "author"))["errors"][0]["message"]
    assert await counter_mismatches() == []


async def test_a_product_is_delisted_and_restored(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    merchant = await person(client, "merchant")
    product = await create_product(client, merchant["token"])

    delisted = await act(
        client, moderator["token"], subjectId=product["id"], action="DELIST_PRODUCT", reason="Fake."
    )
    assert delisted["errors"] == []
    assert (await client.data(PRODUCT, {"id": product["id"]}, anonymous=True))["product"] is None
    mine = (await client.data(PRODUCT, {"id": product["id"]}, token=merchant["token"]))["product"]
    assert mine["moderation"] == {"state": "DELISTED", "reason": "Fake.", "withheld": True}
    (told,) = await _notifications(client, merchant["token"])
    assert told["moderation"]["action"] == "DELIST_PRODUCT"

    restored = await act(
        client, moderator["token"], subjectId=product["id"], action="RESTORE", reason="Genuine."
    )
    assert restored["errors"] == []
    assert (await client.data(PRODUCT, {"id": product["id"]}, anonymous=True))["product"][
        "moderation"
    ] is None


async def test_a_decision_on_some_reports_leaves_the_others_open(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    tokens = await crowd(3)
    reports = [(await report(client, token, note["id"], "SPAM"))["report"] for token in tokens]

    partial = await act(
        client, moderator["token"], subjectId=note["id"], action="DISMISS", reason="Not spam.",
        reportIds=[reports[0]["id"], reports[1]["id"]],
    )  # fmt: skip
    assert partial["errors"] == []
    assert partial["case"]["status"] == "OPEN" and partial["case"]["openReportCount"] == 1
    assert partial["action"]["reportCount"] == 2
    assert (await Report.get(id=pk(reports[2]["id"]))).status is ReportStatus.OPEN
    # The owner is never told of reports that came to nothing.
    assert await _notifications(client, author["token"]) == []
    rest = await act(client, moderator["token"], subjectId=note["id"], action="DISMISS", reason="Not spam.")
    assert rest["case"]["status"] == "RESOLVED" and rest["action"]["reportCount"] == 1


async def test_warning_a_comment_tells_its_author_and_hides_nothing(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    author = await person(client, "author")
    commenter = await person(client, "commenter")
    note = await create_note(client, author["token"])
    comment = await comment_on(client, commenter["token"], note["id"], "刷屏")

    warned = await act(
        client, moderator["token"], subjectId=comment["id"], action="WARN", reason="No flooding."
    )
    assert warned["errors"] == []
    (told,) = [n for n in await _notifications(client, commenter["token"]) if n["kind"] == "MODERATION"]
    assert told["comment"] == {"id": comment["id"]}
    assert told["moderation"]["action"] == "WARN" and told["moderation"]["reason"] == "No flooding."
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await client.data(query, {"id": comment["id"]}, anonymous=True))["node"] == {"id": comment["id"]}


async def test_cases_are_assigned_to_staff_and_the_log_says_so(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    colleague = await person(client, "colleague", Role.MODERATOR)
    user = await person(client, "user")
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    (reporter,) = await crowd(1)
    await report(client, reporter, note["id"])
    case_id = await _case_id(note["id"])

    async def assign(token: str, assignee: str | None) -> dict[str, Any]:
        data = await client.data(ASSIGN, {"i": {"caseId": case_id, "assigneeId": assignee}}, token=token)
        return data["moderationCaseAssign"]  # type: ignore[no-any-return]

    given = await assign(moderator["token"], colleague["user"]["id"])
    assert given["errors"] == [] and given["case"]["assignee"] == {"handle": "colleague"}
    theirs = await _queue(client, colleague["token"], mine=True)
    assert [e["node"]["id"] for e in theirs["edges"]] == [case_id]
    assert (await _queue(client, moderator["token"], mine=True))["edges"] == []
    assert codes(await assign(moderator["token"], user["user"]["id"])) == [
        (("input", "assigneeId"), "INVALID")
    ]
    assert codes(await assign(user["token"], None)) == [(None, "FORBIDDEN")]
    taken_back = await assign(moderator["token"], None)
    assert taken_back["case"]["assignee"] is None
    (case,) = [e["node"] for e in (await _queue(client, moderator["token"]))["edges"]]
    assert [(e["node"]["action"], e["node"]["reason"]) for e in case["history"]["edges"]] == [
        ("ASSIGN", "assigned to @colleague"),
        ("ASSIGN", "unassigned"),
    ]
    assert case["status"] == "OPEN"


async def test_the_moderation_log_is_append_only(client: GraphQLClient) -> None:
    moderator = await person(client, "mod", Role.MODERATOR)
    second = await person(client, "second", Role.MODERATOR)
    author = await person(client, "author")
    note = await create_note(client, author["token"])

    hidden = await act(client, moderator["token"], subjectId=note["id"], action="HIDE", reason="One.")
    before = [dict(row) for row in await ModerationAction.all().order_by("id").values()]
    appeal = (
        await client.data(
            APPEAL, {"i": {"actionId": hidden["action"]["id"], "text": "Please."}}, token=author["token"]
        )
    )["appealCreate"]["appeal"]
    await client.data(
        RESOLVE, {"i": {"appealId": appeal["id"], "approve": True, "note": "Ok."}}, token=second["token"]
    )
    await act(client, second["token"], subjectId=note["id"], action="REMOVE", reason="Two.")
    after = [dict(row) for row in await ModerationAction.all().order_by("id").values()]
    # Earlier entries stay exactly as written: an approved appeal adds an entry, it never edits one.
    assert after[: len(before)] == before
    assert [row["action"] for row in after] == [
        ModerationActionKind.ROLE_GRANTED,
        ModerationActionKind.ROLE_GRANTED,
        ModerationActionKind.HIDE,
        ModerationActionKind.APPEAL_APPROVED,
        ModerationActionKind.REMOVE,
    ]


async def test_moderators_have_an_hourly_limit_tiered_by_role(db: str) -> None:
    async with limited_client(
        VERMILION_MODERATION_LIMITS_PER_MODERATOR="2/hour", VERMILION_MODERATION_LIMITS_PER_ADMIN="3/hour"
    ) as client:
        moderator = await person(client, "mod", Role.MODERATOR)
        admin = await person(client, "admin", Role.ADMIN)
        author = await person(client, "author")
        notes = [await create_note(client, author["token"], title=f"n{i}") for i in range(8)]
        (reporter,) = await crowd(1)
        for note in notes:
            await report(client, reporter, note["id"])

        async def decide(token: str, note: dict[str, Any]) -> int:
            response = await client.http.post(
                "/graphql",
                json={
                    "query": ACT,
                    "variables": {"i": {"subjectId": note["id"], "action": "DISMISS", "reason": "ok"}},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            return response.status_code

        assert [await decide(moderator["token"], note) for note in notes[:3]] == [200, 200, 429]
        assert [await decide(admin["token"], note) for note in notes[3:7]] == [200, 200, 200, 429]
    assert await ModerationAction.filter(action=ModerationActionKind.DISMISS).count() == 5


async def test_the_issue_scenario_fifty_reports_hide_suspend_appeal_restore(client: GraphQLClient) -> None:
    """50 accounts report one note: the queue shows one subject with 50 reports. A moderator hides the note
    and suspends its author; the author's sign-in is refused with SUSPENDED; the author appeals; another
    moderator approves; the author signs in, appeals the hidden note too, and it is restored."""
    first_moderator = await person(client, "first_mod", Role.MODERATOR)
    second_moderator = await person(client, "second_mod", Role.MODERATOR)
    author = await person(client, "author")
    note = await create_note(client, author["token"], title="口红试色 Lipstick swatches")
    for token in await crowd(50):
        assert (await report(client, token, note["id"], "MISLEADING"))["errors"] == []

    queue = await _queue(client, first_moderator["token"])
    (case,) = [edge["node"] for edge in queue["edges"]]
    assert (case["subjectId"], case["reportCount"], case["openReportCount"]) == (note["id"], 50, 50)
    assert case["reports"]["totalCount"] == 50 and len(case["reports"]["edges"]) == 50
    assert queue["totalCount"] == 1

    hidden = await act(
        client, first_moderator["token"], subjectId=note["id"], action="HIDE", reason="Misleading."
    )
    suspended = await act(
        client, first_moderator["token"], subjectId=author["user"]["id"], action="SUSPEND", reason="Repeated.",
        durationDays=7,
    )  # fmt: skip
    assert hidden["errors"] == [] and suspended["errors"] == []
    assert hidden["case"]["status"] == "RESOLVED" and hidden["case"]["openReportCount"] == 0
    assert (await client.data(NOTE, {"id": note["id"]}, anonymous=True))["note"] is None
    assert codes(await _sign_in(client, "author")) == [(None, "SUSPENDED")]

    # No token: the suspended author appeals their suspension with their email and password.
    appeal = (
        await client.data(
            APPEAL,
            {
                "i": {
                    "text": "I only posted my own swatches.",
                    "email": "author@example.com",
                    "password": PASSWORD,
                }
            },
            anonymous=True,
        )
    )["appealCreate"]
    assert appeal["errors"] == []
    assert appeal["appeal"]["action"] == {"id": suspended["action"]["id"], "action": "SUSPEND"}
    pending = await client.data(
        "{ moderationAppeals { edges { node { id } } } }", token=second_moderator["token"]
    )
    assert pending["moderationAppeals"]["edges"] == [{"node": {"id": appeal["appeal"]["id"]}}]
    by_decider = await client.data(
        RESOLVE, {"i": {"appealId": appeal["appeal"]["id"], "approve": True, "note": "x"}},
        token=first_moderator["token"],
    )  # fmt: skip
    assert codes(by_decider["appealResolve"]) == [(("input", "appealId"), "FORBIDDEN")]
    approved = await client.data(
        RESOLVE, {"i": {"appealId": appeal["appeal"]["id"], "approve": True, "note": "Agreed."}},
        token=second_moderator["token"],
    )  # fmt: skip
    assert approved["appealResolve"]["errors"] == []
    assert approved["appealResolve"]["appeal"]["status"] == "APPROVED"

    signed_in = await _sign_in(client, "author")
    assert signed_in["errors"] == []
    token = signed_in["token"]
    told = await _notifications(client, token)
    assert [n["kind"] for n in told] == ["APPEAL_RESOLVED", "MODERATION", "MODERATION"]
    (hide_told,) = [n for n in told if n["moderation"]["action"] == "HIDE"]
    second_appeal = (
        await client.data(
            APPEAL, {"i": {"actionId": hide_told["moderation"]["actionId"], "text": "Mine."}}, token=token
        )
    )["appealCreate"]
    assert second_appeal["errors"] == []
    approved = await client.data(
        RESOLVE, {"i": {"appealId": second_appeal["appeal"]["id"], "approve": True, "note": "Restored."}},
        token=second_moderator["token"],
    )  # fmt: skip
    assert approved["appealResolve"]["errors"] == []

    assert (await client.data(NOTE, {"id": note["id"]}, anonymous=True))["note"]["id"] == note["id"]
    final = await _queue(client, first_moderator["token"], status="RESOLVED")
    (case,) = [edge["node"] for edge in final["edges"] if edge["node"]["subjectId"] == note["id"]]
    assert [e["node"]["action"] for e in case["history"]["edges"]] == ["HIDE", "APPEAL_APPROVED"]
    author_row = await User.get(handle="author")
    assert author_row.suspended_until is None
    assert await ModerationCase.filter(status=CaseStatus.OPEN).count() == 0
    assert await counter_mismatches() == []
