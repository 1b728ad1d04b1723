"""Helpers of the moderation tests: staff accounts, many reporters at once, and the operations as a client
sends them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from api.app import create_app
from core.settings import Settings
from models import Role, User
from safety.roles import grant_role
from social.passwords import hash_password
from social.tokens import issue_token
from tests.conftest import DATABASE_URL, GENEROUS_LIMITS, TEST_SECRET, GraphQLClient
from tests.factories import sign_up
from tests.shop import pk

PASSWORD = "correct horse"  # tests.factories.sign_up's
ERRORS = "errors { field message code }"

REPORT = f"""mutation($i: ReportCreateInput!) {{
  reportCreate(input: $i) {{ report {{ id category comment status outcome subjectKind subjectId }} {ERRORS} }}
}}"""
ACT = f"""mutation($i: ModerationActionInput!) {{
  moderationAction(input: $i) {{
    action {{ id action reason subjectKind subjectId durationDays expiresAt appealableUntil reportCount }}
    case {{ id status openReportCount reportCount topCategory }}
    {ERRORS}
  }}
}}"""
QUEUE = """query($status: ModerationCaseStatus, $category: ReportCategory, $mine: Boolean, $first: Int,
             $after: String) {
  moderationQueue(status: $status, category: $category, assignedToMe: $mine, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id subjectKind subjectId status source reportCount openReportCount topCategory
      owner { handle }
      assignee { handle }
      subject { id ... on Note { title moderation { state reason } } ... on User { handle } }
      reports(first: 100) { totalCount edges { node { id category status outcome reporter { handle } } } }
      history(first: 20) { edges { node { action reason moderator { handle } } } }
    } }
  }
}"""
ASSIGN = f"""mutation($i: ModerationCaseAssignInput!) {{
  moderationCaseAssign(input: $i) {{ case {{ id assignee {{ handle }} }} {ERRORS} }}
}}"""
APPEAL = f"""mutation($i: AppealCreateInput!) {{
  appealCreate(input: $i) {{ appeal {{ id status text action {{ id action }} }} {ERRORS} }}
}}"""
RESOLVE = f"""mutation($i: AppealResolveInput!) {{
  appealResolve(input: $i) {{ appeal {{ id status resolution resolvedAt }} {ERRORS} }}
}}"""
SIGN_IN = f"mutation($i: SignInInput!) {{ signIn(input: $i) {{ token {ERRORS} }} }}"
ROLE_GRANT = f"""mutation($i: RoleGrantInput!) {{
  roleGrant(input: $i) {{ user {{ id handle role }} {ERRORS} }}
}}"""
NOTIFICATIONS = """{ viewer { notifications(first: 20) { edges { node {
  kind note { id } comment { id }
  moderation { action subjectKind actionId reason expiresAt appealableUntil }
} } } } }"""
NOTE = "query($id: ID!) { note(id: $id) { id title moderation { state reason withheld } } }"
COMMENT = "mutation($i: CommentCreateInput!) { commentCreate(input: $i) { comment { id } errors { code } } }"


@asynccontextmanager
async def limited_client(**limits: str) -> AsyncIterator[GraphQLClient]:
    """A client of an app with the tests' generous rate limits but `limits` (VERMILION_…_LIMITS_… settings)."""
    settings = Settings(
        VERMILION_DATABASE_URL=DATABASE_URL,
        VERMILION_SECRET_KEY=TEST_SECRET,
        VERMILION_ENV="development",
        **(GENEROUS_LIMITS | limits),
    )
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield GraphQLClient(http, app)


async def person(client: GraphQLClient, handle: str, role: Role = Role.USER) -> dict[str, Any]:
    """A new account through the API ({token, user}), with `role` granted as the command line grants it."""
    account = await sign_up(client, handle)
    if role is not Role.USER:
        await grant_role(user_id=pk(account["user"]["id"]), role=role, granted_by=None)
    return account


async def crowd(size: int, prefix: str = "reporter") -> list[str]:
    """`size` people with a bearer token each, made straight in the database (one password hash for all:
    signing up fifty people through the API would hash fifty passwords)."""
    password_hash = hash_password(PASSWORD)
    people = [
        await User.create(
            email=f"{prefix}{i}@example.com",
            handle=f"{prefix}{i}",
            display_name=f"{prefix} {i}",
            password_hash=password_hash,
        )
        for i in range(size)
    ]
    return [issue_token(user_id=p.id, secret_key=TEST_SECRET, ttl_seconds=3600) for p in people]


async def comment_on(client: GraphQLClient, token: str, note_id: str, body: str) -> dict[str, Any]:
    """The comment ({id}) the holder of `token` made on the note `note_id`."""
    data = await client.data(COMMENT, {"i": {"noteId": note_id, "body": body}}, token=token)
    return data["commentCreate"]["comment"]  # type: ignore[no-any-return]


async def report(
    client: GraphQLClient, token: str, subject_id: str, category: str = "SPAM", comment: str = ""
) -> dict[str, Any]:
    """reportCreate's payload."""
    data = await client.data(
        REPORT, {"i": {"subjectId": subject_id, "category": category, "comment": comment}}, token=token
    )
    return data["reportCreate"]  # type: ignore[no-any-return]


async def act(client: GraphQLClient, token: str, **decision: Any) -> dict[str, Any]:
    """moderationAction's payload."""
    data = await client.data(ACT, {"i": decision}, token=token)
    return data["moderationAction"]  # type: ignore[no-any-return]


def codes(payload: dict[str, Any]) -> list[tuple[tuple[str, ...] | None, str]]:
    """A payload's errors as (field path, code) pairs."""
    return [(tuple(e["field"]) if e["field"] is not None else None, e["code"]) for e in payload["errors"]]
