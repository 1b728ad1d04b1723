"""Sign-up, sign-in and bearer tokens through the public API."""

from __future__ import annotations

from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient
from tests.factories import SIGN_UP, sign_up

SIGN_IN = """
mutation($input: SignInInput!) { signIn(input: $input) { token user { handle } errors { field message code } } }"""
VIEWER = "{ viewer { handle email languages interests } }"


async def test_sign_up_reports_every_problem_at_once_and_creates_nothing(client: GraphQLClient) -> None:
    body = await client.data(
        SIGN_UP, {"input": {"email": "not-an-email", "password": "short", "handle": "a b"}}, anonymous=True
    )
    errors = body["signUp"]["errors"]
    assert {(tuple(e["field"]), e["code"]) for e in errors} == {
        (("input", "email"), "INVALID"),
        (("input", "password"), "TOO_SHORT"),
        (("input", "handle"), "INVALID"),
    }
    assert body["signUp"]["token"] is None
    assert (await client.data('{ user(handle: "a b") { id } }'))["user"] is None


async def test_duplicate_email_and_handle_are_refused(client: GraphQLClient) -> None:
    await sign_up(client, "lin")
    body = await client.data(
        SIGN_UP,
        {"input": {"email": "LIN@example.com", "password": "correct horse", "handle": "LIN"}},
        anonymous=True,
    )
    codes = {tuple(e["field"]): e["code"] for e in body["signUp"]["errors"]}
    assert codes == {("input", "email"): "ALREADY_EXISTS", ("input", "handle"): "ALREADY_EXISTS"}


async def test_profile_fields_are_normalised(client: GraphQLClient) -> None:
    account = await sign_up(
        client, "Mei_Li", languages=["zh", "en", "zh"], interests=["#护肤", " 护肤 ", "Travel"]
    )
    viewer = (await client.data(VIEWER, token=account["token"]))["viewer"]
    assert viewer == {
        "handle": "mei_li",
        "email": "mei_li@example.com",
        "languages": ["zh", "en"],
        "interests": ["护肤", "travel"],
    }
    other = await sign_up(client, "other")
    seen_by_other = await client.data('{ user(handle: "@MEI_LI") { handle email } }', token=other["token"])
    assert seen_by_other["user"] == {"handle": "mei_li", "email": None}


async def test_wrong_password_and_unknown_email_get_the_same_answer(client: GraphQLClient) -> None:
    await sign_up(client, "zoe")
    wrong = await client.data(SIGN_IN, {"input": {"email": "zoe@example.com", "password": "nope nope"}})
    unknown = await client.data(SIGN_IN, {"input": {"email": "who@example.com", "password": "nope nope"}})
    assert wrong == unknown
    assert wrong["signIn"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    ok = await client.data(SIGN_IN, {"input": {"email": " ZOE@example.com ", "password": "correct horse"}})
    assert ok["signIn"]["user"] == {"handle": "zoe"}
    viewer = await client.data(VIEWER, token=ok["signIn"]["token"])
    assert viewer["viewer"]["handle"] == "zoe"


async def test_expired_forged_and_malformed_tokens_are_refused(client: GraphQLClient) -> None:
    account = await sign_up(client, "kai")
    user_id = int(__import__("base64").b64decode(account["user"]["id"]).decode().split(":")[1])
    expired = issue_token(user_id=user_id, secret_key=TEST_SECRET, ttl_seconds=60, now=0)
    forged = issue_token(
        user_id=user_id, secret_key="another-secret-key-of-sufficient-length", ttl_seconds=60
    )
    for token in (expired, forged, "garbage"):
        for query in (
            VIEWER,
            'mutation { boardCreate(input: {name: "x"}) { board { id } errors { code } } }',
        ):
            response = await client.http.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, response.text
            body = response.json()
            assert body["data"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert (await client.data("{ viewer { id } }", anonymous=True))["viewer"] is None
    boards = await client.data('{ user(handle: "kai") { boards(first: 5) { nodes { name } } } }')
    assert len(boards["user"]["boards"]["nodes"]) == 1  # only the default board: nothing was created


VIEWER_UPDATE = """
mutation($input: ViewerUpdateInput!) {
  viewerUpdate(input: $input) { user { displayName bio avatarUrl languages interests } errors { field code } }
}"""


async def test_viewer_edits_their_profile_and_bad_input_changes_nothing(client: GraphQLClient) -> None:
    account = await sign_up(client, "editor", displayName="Before")
    changed = await client.data(
        VIEWER_UPDATE,
        {"input": {"displayName": "小林 Lin", "bio": "护肤 | 旅行", "avatarUrl": "https://img.example/a.png",
                   "languages": ["zh", "en"], "interests": ["#旅行"]}},
        token=account["token"],
    )  # fmt: skip
    assert changed["viewerUpdate"] == {
        "user": {
            "displayName": "小林 Lin",
            "bio": "护肤 | 旅行",
            "avatarUrl": "https://img.example/a.png",
            "languages": ["zh", "en"],
            "interests": ["旅行"],
        },
        "errors": [],
    }
    refused = await client.data(
        VIEWER_UPDATE,
        {"input": {"displayName": "", "avatarUrl": "ftp://x", "bio": "b" * 501}},
        token=account["token"],
    )
    assert {(tuple(e["field"]), e["code"]) for e in refused["viewerUpdate"]["errors"]} == {
        (("input", "displayName"), "REQUIRED"),
        (("input", "avatarUrl"), "INVALID"),
        (("input", "bio"), "TOO_LONG"),
    }
    unchanged = await client.data("{ viewer { displayName avatarUrl } }", token=account["token"])
    assert unchanged["viewer"] == {"displayName": "小林 Lin", "avatarUrl": "https://img.example/a.png"}
    removed = await client.data(VIEWER_UPDATE, {"input": {"avatarUrl": ""}}, token=account["token"])
    assert removed["viewerUpdate"]["user"]["avatarUrl"] is None
    anonymous = await client.data(VIEWER_UPDATE, {"input": {"bio": "x"}}, anonymous=True)
    assert anonymous["viewerUpdate"]["errors"] == [{"field": None, "code": "UNAUTHENTICATED"}]


async def test_sign_up_and_sign_in_show_the_person_as_themselves(client: GraphQLClient) -> None:
    fields = "token user { handle email isViewer } errors { code }"
    up = await client.data(
        f"mutation($input: SignUpInput!) {{ signUp(input: $input) {{ {fields} }} }}",
        {"input": {"email": "Mei@Example.com", "password": "correct horse", "handle": "mei"}},
        anonymous=True,
    )
    signed_in = await client.data(
        f"mutation($input: SignInInput!) {{ signIn(input: $input) {{ {fields} }} }}",
        {"input": {"email": "mei@example.com", "password": "correct horse"}},
        anonymous=True,
    )
    seen_by_others = await client.data('query { user(handle: "mei") { email isViewer } }', anonymous=True)

    for payload in (up["signUp"], signed_in["signIn"]):
        assert payload["errors"] == [] and payload["token"]
        assert payload["user"] == {"handle": "mei", "email": "mei@example.com", "isViewer": True}
    # To anyone else the account keeps its email to itself.
    assert seen_by_others["user"] == {"email": None, "isViewer": False}
