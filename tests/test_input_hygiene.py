"""Bad input stops at the edge, through GraphQL as a client sends it: ids beyond their int4 columns, NUL
bytes and lone surrogates, huge strings, invisible characters in identifiers, URLs at local addresses,
amounts beyond what one Stripe payment can charge, and a signed webhook body that is not an object.

Lookups by key (`node`, `user(handle)`, `topic(name)`) answer null for a key that cannot name anything;
other query arguments are refused with a top-level error carrying `extensions.code`; mutations answer
`errors: [UserError]` with `INVALID`, `OUT_OF_RANGE` … on the input's path.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.settings import Settings
from tests.commerce.fake_payments import FakePayments
from tests.conftest import DATABASE_URL, TEST_SECRET, GraphQLClient
from tests.factories import create_note, sign_up
from tests.shop import (
    CART_CREATE,
    CART_LINES_UPDATE,
    CHECKOUT_START,
    PRODUCT_UPDATE,
    add_refused,
    cart_with,
    checkout_input,
    ok,
    refused,
    world,
)

NUL, LONE_SURROGATE = "a\x00b", "a\ud800b"
INT4_MAX = 2**31 - 1
USD_MAX = 99_999_999  # Stripe's largest USD charge, in cents: 999,999.99
ERRORS = "errors { field message code }"
SIGN_IN = f"mutation($input: SignInInput!) {{ signIn(input: $input) {{ token {ERRORS} }} }}"
SIGN_UP = f"mutation($input: SignUpInput!) {{ signUp(input: $input) {{ user {{ handle }} {ERRORS} }} }}"
VIEWER_UPDATE = f"mutation($input: ViewerUpdateInput!) {{ viewerUpdate(input: $input) {{ {ERRORS} }} }}"
NOTE_CREATE = (
    f"mutation($input: NoteCreateInput!) {{ noteCreate(input: $input) {{ note {{ id }} {ERRORS} }} }}"
)
PRODUCT_CREATE = f"""
mutation($input: ProductCreateInput!) {{ productCreate(input: $input) {{ product {{ id }} {ERRORS} }} }}"""


def gid(type_name: str, pk: object) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def post(client: GraphQLClient, query: str, variables: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """The response to a request whose JSON keeps lone surrogates as `\\ud800` escapes (as JavaScript's
    JSON.stringify writes them): httpx's own encoder cannot write them at all."""
    headers = {"content-type": "application/json"}
    if kw.get("token"):
        headers["authorization"] = f"Bearer {kw['token']}"
    body = json.dumps({"query": query, "variables": variables}, ensure_ascii=True)
    response = await client.http.post("/graphql", content=body.encode(), headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def codes(body: dict[str, Any]) -> list[str | None]:
    """`extensions.code` of each top-level error."""
    return [(error.get("extensions") or {}).get("code") for error in body.get("errors", [])]


# --- ids ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pk", [2**40, INT4_MAX + 1, 10**20, 0, -1])
async def test_an_id_beyond_its_int4_column_finds_nothing(client: GraphQLClient, pk: int) -> None:
    body = await post(
        client, "query($id: ID!) { node(id: $id) { id } note(id: $id) { id } }", {"id": gid("Note", pk)}
    )
    assert body == {"data": {"node": None, "note": None}, "extensions": body.get("extensions")}


async def test_an_id_beyond_int4_in_a_mutation_is_invalid(client: GraphQLClient) -> None:
    author = await sign_up(client, "ann")
    body = await post(
        client,
        f"mutation($id: ID!) {{ noteLike(noteId: $id) {{ {ERRORS} }} }}",
        {"id": gid("Note", 2**40)},
        token=author["token"],
    )
    assert body["data"]["noteLike"]["errors"] == [
        {"field": ["noteId"], "message": "Not a valid Note id.", "code": "INVALID"}
    ]


async def test_a_cursor_beyond_int4_is_refused_with_a_code(client: GraphQLClient) -> None:
    forged = base64.urlsafe_b64encode(json.dumps([10**20]).encode()).decode().rstrip("=")
    body = await post(
        client, "query($after: String) { followingFeed(after: $after) { nodes { id } } }", {"after": forged}
    )
    assert codes(body) == ["INVALID"]


# --- strings in query arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", [NUL, LONE_SURROGATE, "a" * 100_000, "x" * 31, "bad handle"])
async def test_a_handle_no_one_can_have_finds_no_one(client: GraphQLClient, handle: str) -> None:
    body = await post(client, "query($h: String!) { user(handle: $h) { id } }", {"h": handle})
    assert body["data"] == {"user": None} and "errors" not in body


@pytest.mark.parametrize("name", [NUL, LONE_SURROGATE, "护" * 100_000])
async def test_a_topic_name_no_topic_can_have_finds_none(client: GraphQLClient, name: str) -> None:
    body = await post(client, "query($n: String!) { topic(name: $n) { id } }", {"n": name})
    assert body["data"] == {"topic": None} and "errors" not in body


@pytest.mark.parametrize("query", ["lip\x00stick", "lip\ud800stick", "lip\udfffstick"])
async def test_nul_or_a_lone_surrogate_in_a_search_separates_words(client: GraphQLClient, query: str) -> None:
    """Search is free text (any text is a query): such characters count as punctuation."""
    body = await post(client, "query($q: String!) { search(query: $q) { terms } }", {"q": query})
    assert body["data"] == {"search": {"terms": ["lip", "stick"]}} and "errors" not in body


async def test_a_huge_search_is_read_up_to_its_limit(client: GraphQLClient) -> None:
    body = await post(client, "query($q: String!) { search(query: $q) { terms } }", {"q": "口红 " * 50_000})
    assert body["data"]["search"]["terms"] == ["口红"]


# --- strings in mutations ------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [NUL + "@example.com", LONE_SURROGATE + "@example.com"])
async def test_sign_in_with_nul_or_a_lone_surrogate_is_invalid(client: GraphQLClient, email: str) -> None:
    body = await post(client, SIGN_IN, {"input": {"email": email, "password": "correct horse"}})
    assert body["data"]["signIn"]["token"] is None
    assert [(e["field"], e["code"]) for e in body["data"]["signIn"]["errors"]] == [
        (["input", "email"], "INVALID")
    ]


async def test_sign_in_with_a_100k_character_email_is_refused_quickly(client: GraphQLClient) -> None:
    body = await post(
        client, SIGN_IN, {"input": {"email": "a" * 100_000 + "@example.com", "password": "x" * 9}}
    )
    assert body["data"]["signIn"]["token"] is None
    assert [e["code"] for e in body["data"]["signIn"]["errors"]] == ["INVALID_CREDENTIALS"]


async def test_a_lone_surrogate_in_a_password_is_invalid(client: GraphQLClient) -> None:
    body = await post(
        client,
        SIGN_UP,
        {
            "input": {
                "email": "ann@example.com",
                "password": "correct horse" + LONE_SURROGATE,
                "handle": "ann",
            }
        },
    )
    assert [(e["field"], e["code"]) for e in body["data"]["signUp"]["errors"]] == [
        (["input", "password"], "INVALID")
    ]


async def test_nul_in_a_nested_input_names_its_path(client: GraphQLClient) -> None:
    author = await sign_up(client, "ann")
    body = await post(
        client, NOTE_CREATE, {"input": {"title": "ok", "topics": ["fine", NUL]}}, token=author["token"]
    )
    assert body["data"]["noteCreate"] == {
        "note": None,
        "errors": [
            {
                "field": ["input", "topics", "1"],
                "message": "Contains characters that are not allowed (NUL or an unpaired surrogate).",
                "code": "INVALID",
            }
        ],
    }


# --- invisible characters in identifiers ------------------------------------------------------------------


async def test_invisible_characters_are_stripped_from_handles(client: GraphQLClient) -> None:
    body = await post(
        client,
        SIGN_UP,
        {"input": {"email": "ann@example.com", "password": "correct horse", "handle": "a\u200bn\u202en"}},
    )
    assert body["data"]["signUp"] == {"user": {"handle": "ann"}, "errors": []}
    found = await post(
        client, "query($h: String!) { user(handle: $h) { handle } }", {"h": "@\u2066ANN\u2069"}
    )
    assert found["data"] == {"user": {"handle": "ann"}}


async def test_invisible_characters_are_stripped_from_topic_names(client: GraphQLClient) -> None:
    author = await sign_up(client, "ann")
    note = await create_note(client, author["token"], topics=["护\u200b肤\u202e", "\ufeff护肤"])
    assert note["topics"] == [{"name": "护肤"}]
    found = await post(client, "query($n: String!) { topic(name: $n) { name } }", {"n": "#\u2067护\u200d肤"})
    assert found["data"] == {"topic": {"name": "护肤"}}


# --- URLs -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.jpg",
        "http://localhost:8000/a.jpg",
        "http://cdn.localhost/a.jpg",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/a.jpg",
        "http://192.168.1.1/a.jpg",
        "http://[::1]/a.jpg",
        "http://[fe80::1]/a.jpg",
        "http://[::ffff:127.0.0.1]/a.jpg",
        "http://2130706433/a.jpg",
        "http://0.0.0.0/a.jpg",
    ],
)
async def test_media_and_avatar_urls_at_local_addresses_are_refused(client: GraphQLClient, url: str) -> None:
    author = await sign_up(client, "ann")
    note = await post(client, NOTE_CREATE, {"input": {"title": "t", "media": [url]}}, token=author["token"])
    assert [(e["field"], e["code"]) for e in note["data"]["noteCreate"]["errors"]] == [
        (["input", "media", "0"], "INVALID")
    ]
    avatar = await post(client, VIEWER_UPDATE, {"input": {"avatarUrl": url}}, token=author["token"])
    assert [(e["field"], e["code"]) for e in avatar["data"]["viewerUpdate"]["errors"]] == [
        (["input", "avatarUrl"], "INVALID")
    ]


async def test_public_media_urls_are_kept(client: GraphQLClient) -> None:
    author = await sign_up(client, "ann")
    urls = ["https://img.example.com/a.jpg", "https://[2606:4700::1111]/b.jpg"]
    body = await post(client, NOTE_CREATE, {"input": {"title": "t", "media": urls}}, token=author["token"])
    assert body["data"]["noteCreate"]["errors"] == []


# --- money ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "price"), [("USD", USD_MAX + 1), ("JPY", USD_MAX + 1), ("USD", 2**31 - 1)]
)
async def test_a_price_above_stripes_maximum_charge_is_out_of_range(
    client: GraphQLClient, currency: str, price: int
) -> None:
    merchant = await sign_up(client, "shop")
    variant = {"sku": "A", "name": "A", "priceMinorUnits": price, "currency": currency, "stock": 1}
    errors = await refused(
        client,
        PRODUCT_CREATE,
        {"input": {"title": "t", "variants": [variant]}},
        "productCreate",
        token=merchant["token"],
    )
    assert [(e["field"], e["code"]) for e in errors] == [
        (["input", "variants", "0", "priceMinorUnits"], "OUT_OF_RANGE")
    ]


async def test_a_price_at_stripes_maximum_is_accepted_and_updates_are_bounded_too(
    client: GraphQLClient,
) -> None:
    w = await world(client, price=USD_MAX, currency="USD")
    assert w.product["variants"][0]["price"] == {
        "amount": "999999.99",
        "minorUnits": USD_MAX,
        "currency": "USD",
    }
    variant = {
        "id": w.variant_id,
        "sku": "VLT-01",
        "name": "n",
        "priceMinorUnits": USD_MAX + 1,
        "currency": "USD",
    }
    errors = await refused(
        client, PRODUCT_UPDATE, {"id": w.product["id"], "input": {"variants": [variant]}}, "productUpdate",
        token=w.merchant["token"],
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in errors] == [
        (["input", "variants", "0", "priceMinorUnits"], "OUT_OF_RANGE")
    ]


async def test_a_cart_worth_more_than_one_charge_is_refused_at_add_time(client: GraphQLClient) -> None:
    w = await world(client, price=USD_MAX // 2 + 1, currency="USD", stock=999)
    cart = await cart_with(client, w, 1)
    errors = await add_refused(
        client, cart["id"], [{"variantId": w.variant_id, "quantity": 1}], token=w.shopper["token"]
    )
    assert [(e["field"], e["code"]) for e in errors] == [(["lines"], "OUT_OF_RANGE")]
    errors = await refused(
        client, CART_CREATE, {"input": {"lines": [{"variantId": w.variant_id, "quantity": 999}]}}, "cartCreate",
        anonymous=True,
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "lines"], "OUT_OF_RANGE")]
    line_id = (await client.data("query($id: ID!) { cart(id: $id) { lines { id quantity } } }", {"id": cart["id"]}, token=w.shopper["token"]))["cart"]["lines"]  # fmt: skip
    assert [ln["quantity"] for ln in line_id] == [1]  # the refused add changed nothing
    errors = await refused(
        client, CART_LINES_UPDATE, {"cartId": cart["id"], "lines": [{"lineId": line_id[0]["id"], "quantity": 2}]},
        "cartLinesUpdate", token=w.shopper["token"],
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in errors] == [(["lines"], "OUT_OF_RANGE")]


@pytest.fixture
async def fake_shop(db: str, settings: Settings) -> AsyncIterator[tuple[GraphQLClient, FakePayments]]:
    """A client of an app whose payments go to an in-memory door that signs webhooks."""
    payments = FakePayments()
    app = create_app(settings, payments=payments, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield GraphQLClient(http, app), payments
    await app.state.recorder.drain()


async def test_checkout_refuses_a_total_that_rose_above_one_charge(
    fake_shop: tuple[GraphQLClient, FakePayments],
) -> None:
    client, _ = fake_shop
    w = await world(client, price=100_000, currency="USD", stock=999)
    cart = await cart_with(client, w, 999)  # 99,900,000: within the limit when added
    variant = {
        "id": w.variant_id,
        "sku": "VLT-01",
        "name": "n",
        "priceMinorUnits": 200_000,
        "currency": "USD",
    }
    await ok(client, PRODUCT_UPDATE, {"id": w.product["id"], "input": {"variants": [variant]}}, "productUpdate", token=w.merchant["token"])  # fmt: skip
    errors = await refused(
        client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "cartId"], "OUT_OF_RANGE")]
    status = await client.data(
        "query($id: ID!) { cart(id: $id) { status } }", {"id": cart["id"]}, token=w.shopper["token"]
    )
    assert status["cart"]["status"] == "OPEN"  # nothing was ordered or reserved


# --- webhooks -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"[]", b'"event"', b"1", b'{"id": "evt_1", "data": "x"}', b'{"id": "evt_1", "data": {"object": []}}'],
)
async def test_a_signed_webhook_body_that_is_not_an_event_object_is_400(
    fake_shop: tuple[GraphQLClient, FakePayments], payload: bytes
) -> None:
    client, payments = fake_shop
    response = await client.http.post(
        "/webhooks/stripe", content=payload, headers={"stripe-signature": payments.sign(payload)}
    )
    assert response.status_code == 400


# --- masking ------------------------------------------------------------------------------------------------------


async def test_production_masks_unexpected_errors_with_internal_server_error(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema import queries

    def broken(name: str) -> str:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(queries, "topic_name_or_none", broken)
    production = Settings(
        VERMILION_DATABASE_URL=DATABASE_URL, VERMILION_SECRET_KEY=TEST_SECRET, VERMILION_ENV="production"
    )
    app = create_app(production, manage_database=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        body = (await http.post("/graphql", json={"query": '{ topic(name: "x") { id } }'})).json()
    assert body["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["topic"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "secret detail" not in json.dumps(body)
