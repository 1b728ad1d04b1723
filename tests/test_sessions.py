"""Sessions through the public API: sign-out, password change, and tokens that are no longer good."""

from __future__ import annotations

import asyncio
import base64
import threading
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

import social.accounts
from models import User
from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient
from tests.factories import sign_up

SIGN_IN = "mutation($input: SignInInput!) { signIn(input: $input) { token errors { code } } }"
SIGN_OUT = "mutation($input: SignOutInput) { signOut(input: $input) { errors { field code } } }"
CHANGE = """
mutation($input: ViewerPasswordChangeInput!) {
  viewerPasswordChange(input: $input) { token errors { field message code } }
}"""
VIEWER = "{ viewer { handle } }"


async def post(client: GraphQLClient, query: str, token: str, variables: dict[str, Any] | None = None) -> Any:
    return await client.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )


async def assert_refused(client: GraphQLClient, token: str, query: str = VIEWER) -> dict[str, Any]:
    """The request gets 401 with one top-level UNAUTHENTICATED error, and no resolver ran."""
    response = await post(client, query, token)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    body: dict[str, Any] = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    return body


async def sign_in(client: GraphQLClient, handle: str, password: str = "correct horse") -> str:
    data = await client.data(SIGN_IN, {"input": {"email": f"{handle}@example.com", "password": password}})
    assert data["signIn"]["errors"] == []
    return str(data["signIn"]["token"])


def user_id_of(account: dict[str, Any]) -> int:
    return int(base64.b64decode(account["user"]["id"]).decode().split(":")[1])


async def test_sign_out_ends_this_token_only(client: GraphQLClient) -> None:
    account = await sign_up(client, "ann")
    phone, laptop = await sign_in(client, "ann"), await sign_in(client, "ann")
    assert (await client.data(SIGN_OUT, {}, token=phone))["signOut"] == {"errors": []}
    await assert_refused(client, phone)
    await assert_refused(client, phone, SIGN_OUT)  # signing out again is refused too
    for token in (laptop, account["token"]):
        assert (await client.data(VIEWER, token=token))["viewer"] == {"handle": "ann"}


async def test_sign_out_everywhere_ends_every_token(client: GraphQLClient) -> None:
    account = await sign_up(client, "bob")
    other = await sign_up(client, "cyd")
    phone, laptop = await sign_in(client, "bob"), await sign_in(client, "bob")
    body = await client.data(SIGN_OUT, {"input": {"everywhere": True}}, token=laptop)
    assert body["signOut"] == {"errors": []}
    for token in (phone, laptop, account["token"]):
        await assert_refused(client, token)
    # Other people's sessions are untouched.
    assert (await client.data(VIEWER, token=other["token"]))["viewer"] == {"handle": "cyd"}
    again = await sign_in(client, "bob")
    assert (await client.data(VIEWER, token=again))["viewer"] == {"handle": "bob"}


async def test_anonymous_sign_out_is_an_error_not_a_refusal(client: GraphQLClient) -> None:
    body = await client.data(SIGN_OUT, {}, anonymous=True)
    assert body["signOut"]["errors"] == [{"field": None, "code": "UNAUTHENTICATED"}]


async def test_a_deleted_users_token_is_refused(client: GraphQLClient) -> None:
    account = await sign_up(client, "gone")
    assert (await client.data(VIEWER, token=account["token"]))["viewer"] == {"handle": "gone"}
    await User.filter(id=user_id_of(account)).delete()
    await assert_refused(client, account["token"])


async def test_malformed_forged_and_expired_tokens_never_reach_the_database(client: GraphQLClient) -> None:
    account = await sign_up(client, "dee")
    uid = user_id_of(account)
    now = __import__("time").time()

    def signed(claims: dict[str, Any], key: str = TEST_SECRET) -> str:
        base = {
            "sub": str(uid),
            "ver": 0,
            "jti": "a" * 22,
            "iat": int(now),
            "exp": int(now) + 60,
            "aud": "vermilion",
        }
        return jwt.encode({**base, **claims}, key, algorithm="HS256")

    bad = {
        "garbage": "garbage",
        "empty": "",
        "expired": issue_token(user_id=uid, secret_key=TEST_SECRET, ttl_seconds=60, now=0),
        "forged": issue_token(user_id=uid, secret_key="another-secret-key-of-sufficient-length", ttl_seconds=60),
        "sub 10^20": signed({"sub": str(10**20)}),
        "sub garbage": signed({"sub": "1; DROP TABLE users"}),
        "sub int": signed({"sub": uid}),
        "sub negative": signed({"sub": "-1"}),
        "no version": jwt.encode({"sub": str(uid), "exp": int(now) + 60, "aud": "vermilion", "jti": "a" * 22},
                                 TEST_SECRET, algorithm="HS256"),
        "version text": signed({"ver": "0"}),
        "odd token id": signed({"jti": "x"}),
        "alg none": jwt.encode({"sub": str(uid), "ver": 0, "jti": "a" * 22, "exp": int(now) + 60, "aud": "vermilion"},
                               "", algorithm="none"),  # "" is no key: PyJWT signs nothing
        "huge": "a" * 5000,
    }  # fmt: skip
    for name, token in bad.items():
        body = await assert_refused(client, token)
        assert body["extensions"]["sqlStatements"] == 0, name
    # A well-formed token of a user that never existed costs exactly the one lookup.
    body = await assert_refused(
        client, issue_token(user_id=2**31 - 1, secret_key=TEST_SECRET, ttl_seconds=60)
    )
    assert body["extensions"]["sqlStatements"] == 1
    # A wrong session version is a superseded session.
    await assert_refused(client, signed({"ver": 1}))


async def test_no_bearer_header_or_another_scheme_is_anonymous(client: GraphQLClient) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await client.http.post("/graphql", json={"query": VIEWER}, headers=headers)
        assert response.status_code == 200
        assert response.json()["data"] == {"viewer": None}


async def test_the_session_check_is_the_viewers_row(client: GraphQLClient) -> None:
    """Signed in, `viewer` costs one statement in all: the session check reads the row the loader serves."""
    account = await sign_up(client, "eli")
    body = await client.execute("{ viewer { handle followerCount } }", token=account["token"])
    assert body["data"]["viewer"] == {"handle": "eli", "followerCount": 0}
    assert body["extensions"]["sqlStatements"] == 1


async def test_password_change_ends_other_sessions_and_keeps_this_device(client: GraphQLClient) -> None:
    account = await sign_up(client, "fay")
    other = await sign_in(client, "fay")
    wrong = await client.data(
        CHANGE, {"input": {"currentPassword": "not it at all", "newPassword": "new password"}}, token=other
    )
    assert [(e["field"], e["code"]) for e in wrong["viewerPasswordChange"]["errors"]] == [
        (["input", "currentPassword"], "INVALID_CREDENTIALS")
    ]
    short = await client.data(
        CHANGE, {"input": {"currentPassword": "correct horse", "newPassword": "x"}}, token=other
    )
    assert short["viewerPasswordChange"]["errors"][0]["code"] == "TOO_SHORT"
    assert (await client.data(VIEWER, token=account["token"]))["viewer"] == {
        "handle": "fay"
    }  # nothing changed

    changed = await client.data(
        CHANGE, {"input": {"currentPassword": "correct horse", "newPassword": "new password"}}, token=other
    )
    payload = changed["viewerPasswordChange"]
    assert payload["errors"] == []
    await assert_refused(client, account["token"])
    await assert_refused(client, other)  # the token used is replaced by the fresh one
    assert (await client.data(VIEWER, token=payload["token"]))["viewer"] == {"handle": "fay"}
    assert (await sign_in(client, "fay", "new password")) != ""
    refused = await client.data(SIGN_IN, {"input": {"email": "fay@example.com", "password": "correct horse"}})
    assert refused["signIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]


async def test_argon2_runs_off_the_event_loop(client: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a sign-in is inside Argon2, the same event loop still answers /healthz and queries."""
    await sign_up(client, "gus")
    entered, release = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    real_verify = social.accounts.verify_password

    def gated_verify(password_hash: str | None, password: str) -> bool:
        threads.append(threading.current_thread())
        entered.set()
        release.wait(timeout=30)  # bounded: the test releases it below
        return real_verify(password_hash, password)

    monkeypatch.setattr(social.accounts, "verify_password", gated_verify)
    sign_in_task = asyncio.create_task(sign_in(client, "gus"))
    try:
        assert await asyncio.to_thread(entered.wait, 30)
        health = await client.http.get("/healthz")
        assert health.status_code == 200
        assert (await client.data("{ viewer { id } }", anonymous=True))["viewer"] is None
        assert not sign_in_task.done()  # the sign-in was still hashing all along
    finally:
        release.set()
    assert await sign_in_task
    assert threads[0] is not threading.main_thread()
    assert threads[0].name.startswith("vermilion-argon2")


async def test_a_websocket_with_a_signed_out_token_is_closed(tmp_path: Path) -> None:
    from websockets.exceptions import ConnectionClosed

    from tests.live_server import live_server, next_message, open_socket

    with live_server(f"sqlite://{tmp_path / 'ws.sqlite3'}") as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            created = await http.post(
                "/graphql",
                json={
                    "query": "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
                    "variables": {
                        "i": {"email": "ws@example.com", "password": "correct horse", "handle": "wsuser"}
                    },
                },
            )
            token = created.json()["data"]["signUp"]["token"]
            live = await open_socket(base, {"Authorization": f"Bearer {token}"})
            assert (await next_message(live))["type"] == "connection_ack"
            await live.close()
            out = await http.post(
                "/graphql",
                json={"query": SIGN_OUT, "variables": {}},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert out.json()["data"]["signOut"]["errors"] == []
        ws = await open_socket(base, {"Authorization": f"Bearer {token}"})
        with pytest.raises(ConnectionClosed) as closed:
            await next_message(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
