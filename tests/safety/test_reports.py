"""Reports through the public API: every kind of subject, one open report per person and subject, one case
per subject with exact counters (under concurrency too), no action by reports alone, a limit per person."""

from __future__ import annotations

import asyncio

from models import CaseStatus, ModerationCase, Report, ReportCategory, Role, SubjectKind, User
from safety.queue import Subject, top_category
from safety.reports import file_report
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product
from tests.safety.moderating import (
    NOTE,
    REPORT,
    act,
    codes,
    comment_on,
    crowd,
    limited_client,
    person,
    report,
)
from tests.shop import pk

MY_REPORTS = """{ viewer { reports(first: 10) { totalCount edges { node {
  category comment status outcome subjectKind subjectId reporter { handle }
} } } } }"""


async def _case(kind: SubjectKind, subject_id: str) -> ModerationCase:
    return await ModerationCase.get(subject_kind=kind, subject_id=pk(subject_id))


async def test_reports_of_one_subject_join_its_one_case(client: GraphQLClient) -> None:
    author = await person(client, "author")
    ann, bob, cat = [await person(client, h) for h in ("ann", "bob", "cat")]
    note = await create_note(client, author["token"])

    first = await report(client, ann["token"], note["id"], "SPAM", "  买粉丝的广告  ")
    assert first["errors"] == []
    assert first["report"] | {"id": None} == {
        "id": None,
        "category": "SPAM",
        "comment": "买粉丝的广告",
        "status": "OPEN",
        "outcome": None,
        "subjectKind": "NOTE",
        "subjectId": note["id"],
    }
    again = await report(client, ann["token"], note["id"], "HATE")
    assert codes(again) == [(("input", "subjectId"), "ALREADY_REPORTED")]
    assert (await report(client, bob["token"], note["id"], "HARASSMENT"))["errors"] == []
    assert (await report(client, cat["token"], note["id"], "HARASSMENT"))["errors"] == []

    case = await _case(SubjectKind.NOTE, note["id"])
    assert (case.status, case.open_report_count, case.report_count) == (CaseStatus.OPEN, 3, 3)
    assert case.top_category is ReportCategory.HARASSMENT
    assert case.subject_owner_id == pk(author["user"]["id"])  # type: ignore[attr-defined]
    assert await ModerationCase.all().count() == 1

    mine = (await client.data(MY_REPORTS, token=ann["token"]))["viewer"]["reports"]
    assert mine["totalCount"] == 1
    assert mine["edges"][0]["node"] == {
        "category": "SPAM",
        "comment": "买粉丝的广告",
        "status": "OPEN",
        "outcome": None,
        "subjectKind": "NOTE",
        "subjectId": note["id"],
        "reporter": {"handle": "ann"},
    }
    # Nobody else sees who reported, and nobody else's list.
    other = await client.data(
        '{ user(handle: "ann") { reports(first: 5) { totalCount } } }', token=bob["token"]
    )
    assert other["user"]["reports"] is None


async def test_every_kind_of_subject_can_be_reported(client: GraphQLClient) -> None:
    merchant = await person(client, "merchant")
    author = await person(client, "author")
    reporter = await person(client, "reporter")
    product = await create_product(client, merchant["token"])
    note = await create_note(client, author["token"])
    review = await create_note(
        client,
        author["token"],
        title="假货",
        productIds=[product["id"]],
        review={"productId": product["id"], "rating": 1},
    )
    comment = await comment_on(client, author["token"], note["id"], "滚")

    for subject_id, category in (
        (note["id"], "MISLEADING"),
        (review["id"], "FAKE_REVIEW"),
        (comment["id"], "HARASSMENT"),
        (author["user"]["id"], "SPAM"),
        (product["id"], "COUNTERFEIT"),
    ):
        payload = await report(client, reporter["token"], subject_id, category)
        assert payload["errors"] == [], (subject_id, payload)
        assert payload["report"]["subjectId"] == subject_id
    kinds = sorted(k for k in await ModerationCase.all().values_list("subject_kind", flat=True))
    assert kinds == ["COMMENT", "NOTE", "NOTE", "PRODUCT", "USER"]


async def test_bad_reports_are_refused_and_change_nothing(client: GraphQLClient) -> None:
    author = await person(client, "author")
    reporter = await person(client, "reporter")
    note = await create_note(client, author["token"], topics=["护肤"])
    topic_id = (await client.data('{ topic(name: "护肤") { id } }'))["topic"]["id"]
    missing = "Tm90ZToxOTk5OTk="  # Note:199999

    cases = [
        (reporter["token"], topic_id, "SPAM", "", [(("input", "subjectId"), "INVALID")]),
        (reporter["token"], "garbage", "SPAM", "", [(("input", "subjectId"), "INVALID")]),
        (reporter["token"], missing, "SPAM", "", [(("input", "subjectId"), "NOT_FOUND")]),
        (author["token"], note["id"], "SPAM", "", [(("input", "subjectId"), "INVALID")]),
        (author["token"], author["user"]["id"], "SPAM", "", [(("input", "subjectId"), "INVALID")]),
        (reporter["token"], note["id"], "OTHER", "x" * 1001, [(("input", "comment"), "TOO_LONG")]),
        (reporter["token"], note["id"], "OTHER", "bad\u0000byte", [(("input", "comment"), "INVALID")]),
    ]
    for token, subject_id, category, comment, expected in cases:
        payload = await report(client, token, subject_id, category, comment)
        assert codes(payload) == expected, (subject_id, comment[:10], payload)
    anonymous = await client.data(
        REPORT, {"i": {"subjectId": note["id"], "category": "SPAM"}}, anonymous=True
    )
    assert codes(anonymous["reportCreate"]) == [(None, "UNAUTHENTICATED")]
    assert await Report.all().count() == 0
    assert await ModerationCase.all().count() == 0


async def test_concurrent_reports_keep_the_case_exact_and_one_open_report_per_person(
    client: GraphQLClient,
) -> None:
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    tokens = await crowd(12)

    # Everyone at once, and the first reporter three times at once: one of those three is kept.
    payloads = await asyncio.gather(
        *(report(client, token, note["id"], "SPAM") for token in tokens),
        *(report(client, tokens[0], note["id"], "HATE") for _ in range(2)),
    )
    refused = [p for p in payloads if p["errors"]]
    assert [codes(p) for p in refused] == [[(("input", "subjectId"), "ALREADY_REPORTED")]] * 2
    case = await ModerationCase.get()
    assert (case.open_report_count, case.report_count) == (12, 12)
    assert await Report.filter(case_id=case.id, open_case_id=case.id).count() == 12


async def test_reports_never_act_by_themselves_and_a_resolved_case_reopens(client: GraphQLClient) -> None:
    author = await person(client, "author")
    moderator = await person(client, "mod", Role.MODERATOR)
    note = await create_note(client, author["token"])
    tokens = await crowd(20)
    for token in tokens:
        assert (await report(client, token, note["id"], "HATE"))["errors"] == []

    # Twenty reports hide nothing: only a moderator decides.
    seen = await client.data(NOTE, {"id": note["id"]}, anonymous=True)
    assert seen["note"]["id"] == note["id"]
    dismissed = await act(client, moderator["token"], subjectId=note["id"], action="DISMISS", reason="Fine.")
    assert dismissed["errors"] == []
    assert dismissed["case"] | {"id": None} == {
        "id": None,
        "status": "RESOLVED",
        "openReportCount": 0,
        "reportCount": 20,
        "topCategory": None,
    }

    # Its reporter may report it again once resolved; the case opens again.
    again = await report(client, tokens[0], note["id"], "MISLEADING")
    assert again["errors"] == []
    case = await ModerationCase.get()
    assert (case.status, case.open_report_count, case.report_count) == (CaseStatus.OPEN, 1, 21)
    assert case.top_category is ReportCategory.MISLEADING


async def test_reports_per_person_are_limited(db: str) -> None:
    async with limited_client(VERMILION_REPORT_LIMITS_PER_USER="2/hour") as client:
        author = await person(client, "author")
        notes = [await create_note(client, author["token"], title=f"n{i}") for i in range(3)]
        (token,) = await crowd(1)
        for note in notes[:2]:
            assert (await report(client, token, note["id"]))["errors"] == []
        response = await client.http.post(
            "/graphql",
            json={"query": REPORT, "variables": {"i": {"subjectId": notes[2]["id"], "category": "SPAM"}}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert await Report.all().count() == 2


async def test_top_category_is_the_most_reported_open_one_ties_to_the_first(client: GraphQLClient) -> None:
    author = await person(client, "author")
    note = await create_note(client, author["token"])
    await crowd(3)
    subject = Subject(SubjectKind.NOTE, pk(note["id"]))
    reporters = [u.id for u in await User.filter(handle__startswith="reporter").order_by("id")]
    await file_report(reporter_id=reporters[0], subject=subject, category=ReportCategory.IP)
    await file_report(reporter_id=reporters[1], subject=subject, category=ReportCategory.SPAM)
    case = await ModerationCase.get()
    assert await top_category(case.id) is ReportCategory.IP
    await file_report(reporter_id=reporters[2], subject=subject, category=ReportCategory.SPAM)
    assert (await ModerationCase.get()).top_category is ReportCategory.SPAM
