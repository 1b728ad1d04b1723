"""`Note.disclosure` (issue 17, item 5): a note whose author earns from it says so — computed from today's
commission rules, never stored — and reading it costs a page of notes no statement beyond the one that
reads their tagged products."""

from __future__ import annotations

from typing import Any

from models import User
from social.tokens import issue_token
from tests.conftest import TEST_SECRET, GraphQLClient
from tests.factories import create_note, create_product, sign_up
from tests.test_discover_feed import FULL_PAGE
from tests.test_sql_budget import _statements, _world

DISCLOSURE = "query($n: ID!) { note(id: $n) { disclosure { kind text } } }"
PRODUCT_UPDATE = """
mutation($id: ID!, $input: ProductUpdateInput!) { productUpdate(id: $id, input: $input) { errors { code } } }"""
SETTINGS_UPDATE = """
mutation($bp: Int!) { merchantSettingsUpdate(input: {defaultCommissionBasisPoints: $bp}) { errors { code } } }"""
SHOWN = {"kind": "COMMISSION", "text": "Commission earned on tagged products · 含佣金推广"}


async def _disclosure(client: GraphQLClient, note: dict[str, Any]) -> Any:
    return (await client.data(DISCLOSURE, {"n": note["id"]}, anonymous=True))["note"]["disclosure"]


async def _do(client: GraphQLClient, query: str, variables: dict[str, Any], token: str) -> None:
    payload = next(iter((await client.data(query, variables, token=token)).values()))
    assert payload["errors"] == [], payload


async def test_a_note_discloses_a_commission_its_author_earns_and_follows_rate_changes(
    client: GraphQLClient,
) -> None:
    merchant, creator = await sign_up(client, "brand"), await sign_up(client, "xiaohong")
    product = await create_product(client, merchant["token"])
    note = await create_note(client, creator["token"], productIds=[product["id"]])
    assert await _disclosure(client, note) is None  # the product pays nothing (default 0)

    await _do(client, SETTINGS_UPDATE, {"bp": 500}, merchant["token"])
    assert await _disclosure(client, note) == SHOWN  # the merchant's default now pays 5 %
    own_rate = {"id": product["id"], "input": {"creatorCommissionBasisPoints": 0}}
    await _do(client, PRODUCT_UPDATE, own_rate, merchant["token"])
    assert await _disclosure(client, note) is None  # the product's own 0 wins over the default
    own_rate["input"] = {"creatorCommissionBasisPoints": 100}
    await _do(client, PRODUCT_UPDATE, own_rate, merchant["token"])
    assert await _disclosure(client, note) == SHOWN

    # The merchant's own note earns nobody a commission; nor does a creator's note of their own goods.
    assert (
        await _disclosure(client, await create_note(client, merchant["token"], productIds=[product["id"]]))
        is None
    )
    mine = await create_product(client, creator["token"], creatorCommissionBasisPoints=3000)
    assert (
        await _disclosure(client, await create_note(client, creator["token"], productIds=[mine["id"]]))
        is None
    )
    assert await _disclosure(client, await create_note(client, creator["token"])) is None  # no product
    # One paying product among others is enough; the author reads what readers read.
    both = await create_note(client, creator["token"], productIds=[mine["id"], product["id"]])
    assert await _disclosure(client, both) == SHOWN
    seen = await client.data(DISCLOSURE, {"n": both["id"]}, token=creator["token"])
    assert seen["note"]["disclosure"] == SHOWN
    # A reviewer earns when others buy from their review: it is disclosed like any other note.
    review = await create_note(
        client, creator["token"], productIds=[product["id"]], review={"productId": product["id"], "rating": 4}
    )
    assert await _disclosure(client, review) == SHOWN


async def test_disclosure_adds_no_statement_to_a_page_that_shows_products(client: GraphQLClient) -> None:
    token = await _world()
    for first in (5, 20, 50):
        without = await _statements(client, token, first)
        with_it = await _statements(client, token, first, "disclosure { kind text }")
        assert with_it == without == 5, (first, without, with_it)
    # Alone, it reads the page's tagged products (and their merchants' defaults): one statement per page.
    alone = "query($first: Int!) { followingFeed(first: $first) { edges { node { id %s } } } }"
    for first in (5, 20, 50):
        base = await client.execute(alone % "", {"first": first}, token=token)
        body = await client.execute(alone % "disclosure { kind }", {"first": first}, token=token)
        assert "errors" not in body, body
        assert body["extensions"]["sqlStatements"] == base["extensions"]["sqlStatements"] + 1
    # Search pages of notes the same way.
    search = 'query($first: Int!) { search(query: "笔记", first: $first) { edges { node { ... on Note { id %s } } } } }'
    costs = set()
    await client.execute(search % "", {"first": 5}, token=token)  # search's per-process data, read once
    for first in (5, 20):
        base = await client.execute(search % "", {"first": first}, token=token)
        body = await client.execute(search % "disclosure { kind }", {"first": first}, token=token)
        assert "errors" not in body and len(body["data"]["search"]["edges"]) == first, body
        costs.add(body["extensions"]["sqlStatements"] - base["extensions"]["sqlStatements"])
    assert costs == {1}, costs


async def test_the_discovery_feed_page_costs_the_same_with_disclosure(
    client: GraphQLClient, demo_user: User
) -> None:
    token = issue_token(user_id=demo_user.id, secret_key=TEST_SECRET, ttl_seconds=600)
    with_it = FULL_PAGE.replace("products {", "disclosure { kind text } products {")
    assert with_it != FULL_PAGE
    for first in (5, 20, 50):
        base = await client.execute(FULL_PAGE, {"first": first, "after": None}, token=token)
        body = await client.execute(with_it, {"first": first, "after": None}, token=token)
        assert "errors" not in body, body
        assert body["extensions"]["sqlStatements"] == base["extensions"]["sqlStatements"] <= 8
