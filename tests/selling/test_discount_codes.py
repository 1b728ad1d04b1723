"""Discount codes, merchant side: discountCodeCreate/discountCodeDeactivate and viewer.discountCodes through
the API, the pricing rules the cart will use (normalize_code, allocate, discount_for), and the usage counter
that a rush of checkouts must never push past its limit."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

import commerce.discounts
from commerce.discounts import (
    allocate,
    discount_for,
    normalize_code,
)
from commerce.redemptions import take_uses
from models import DiscountCode, DiscountKind
from tests.conftest import GraphQLClient
from tests.factories import create_product, sign_up

ERRORS = "errors { field message code }"
CODE_FIELDS = """
  id code kind value amount { amount minorUnits currency } minSubtotal { minorUnits currency }
  startsAt endsAt usageLimit perCustomerLimit uses active products { id }
"""
CREATE = f"""
mutation($input: DiscountCodeCreateInput!) {{
  discountCodeCreate(input: $input) {{ discountCode {{ {CODE_FIELDS} }} {ERRORS} }}
}}"""
DEACTIVATE = f"""
mutation($id: ID!) {{ discountCodeDeactivate(id: $id) {{ discountCode {{ {CODE_FIELDS} }} {ERRORS} }} }}"""
VIEWER_CODES = """
query($first: Int, $after: String) {
  viewer { discountCodes(first: $first, after: $after) {
    nodes { code uses active } pageInfo { hasNextPage endCursor }
  } }
}"""
USER_CODES = "query($handle: String!) { user(handle: $handle) { discountCodes { nodes { code } } } }"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def create(client: GraphQLClient, token: str | None, **fields: Any) -> dict[str, Any]:
    payload = {"code": "summer-15", "kind": "PERCENT", "value": 1500, **fields}
    body = await client.execute(CREATE, {"input": payload}, token=token, anonymous=token is None)
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]["discountCodeCreate"]
    return result


def refusals(payload: dict[str, Any]) -> set[tuple[tuple[str, ...], str]]:
    return {(tuple(e["field"] or ()), e["code"]) for e in payload["errors"]}


# --- the rules -----------------------------------------------------------------------------------------


def test_codes_are_trimmed_and_upper_case() -> None:
    assert normalize_code("  summer-15 ") == "SUMMER-15"
    assert normalize_code("Vip_Day") == "VIP_DAY"


def test_allocate_gives_leftover_units_to_the_largest_remainders_then_by_position() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]  # a three-way tie: the first line takes the extra unit
    assert allocate(10, [1, 2]) == [3, 7]  # 3.33 / 6.67: the larger remainder goes to the second
    assert allocate(7, [0, 5, 0, 5]) == [0, 4, 0, 3]  # zero weights get nothing
    assert allocate(0, [3, 4]) == [0, 0]
    assert allocate(0, [0, 0]) == [0, 0]
    for nothing_to_share_among in ([], [0, 0]):
        with pytest.raises(ValueError):
            allocate(5, nothing_to_share_among)
    with pytest.raises(ValueError):
        allocate(-1, [1])
    with pytest.raises(ValueError):
        allocate(1, [1, -1])


def _largest_remainder(amount: int, weights: list[int]) -> list[int]:
    """The rule as written, with exact fractions: floors, then one unit each to the largest remainders."""
    total = sum(weights)
    exact = [Fraction(amount * w, total) for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def test_allocate_shares_add_up_exactly_and_follow_the_weights_in_many_random_cases() -> None:
    rng = random.Random(16)
    for _ in range(3000):
        weights = [
            rng.choice([0, rng.randint(1, 10), rng.randint(1, 10**8)]) for _ in range(rng.randint(1, 12))
        ]
        if not any(weights):
            weights[rng.randrange(len(weights))] = 1
        amount = rng.choice([0, rng.randint(0, 20), rng.randint(0, 99_999_999)])
        shares = allocate(amount, weights)
        assert sum(shares) == amount
        assert all(s >= 0 for s in shares)
        assert shares == _largest_remainder(amount, weights)
        total = sum(weights)
        for share, weight in zip(shares, weights, strict=True):
            assert abs(share - Fraction(amount * weight, total)) < 1  # within a unit of its exact part
            if weight == 0:
                assert share == 0


def code(**fields: Any) -> DiscountCode:
    values = {"code": "X-1", "kind": DiscountKind.PERCENT, "value": 1500, "merchant_id": 1, **fields}
    return DiscountCode(**values)


async def test_discount_for_never_exceeds_the_lines_and_is_zero_outside_its_window(db: str) -> None:
    assert discount_for(code(), 10_000, NOW) == 1500
    assert discount_for(code(), 999, NOW) == 149  # 149.85 rounded down: a percentage never gives more
    assert discount_for(code(value=10_000), 4321, NOW) == 4321  # 100 %: free, never below zero
    assert discount_for(code(kind=DiscountKind.FIXED, value=5000, currency="CNY"), 3000, NOW) == 3000
    assert discount_for(code(kind=DiscountKind.FIXED, value=500, currency="CNY"), 3000, NOW) == 500
    assert discount_for(code(kind=DiscountKind.FREE_SHIPPING, value=0), 3000, NOW) == 0
    assert discount_for(code(min_subtotal_minor_units=5000, currency="CNY"), 4999, NOW) == 0
    assert discount_for(code(min_subtotal_minor_units=5000, currency="CNY"), 5000, NOW) == 750
    assert discount_for(code(starts_at=NOW + timedelta(seconds=1)), 10_000, NOW) == 0
    assert discount_for(code(starts_at=NOW), 10_000, NOW) == 1500
    assert discount_for(code(ends_at=NOW), 10_000, NOW) == 0  # the end is exclusive
    assert discount_for(code(ends_at=NOW + timedelta(days=1)), 10_000, NOW) == 1500
    assert discount_for(code(active=False), 10_000, NOW) == 0
    assert discount_for(code(), 0, NOW) == 0


async def test_a_rush_of_fifty_takes_exactly_the_ten_uses_allowed(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "rushmerchant")
    created = await create(client, merchant["token"], code="RUSH-10", usageLimit=10)
    row = await DiscountCode.get(code="RUSH-10")
    assert created["errors"] == []

    taken = await asyncio.gather(*(take_uses([row.id]) for _ in range(50)))

    assert taken.count({row.id}) == 10 and taken.count(set()) == 40
    await row.refresh_from_db()
    assert row.uses == 10


async def test_an_inactive_code_takes_no_use_and_an_unlimited_one_always_does(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "usemerchant")
    await create(client, merchant["token"], code="OPEN")
    row = await DiscountCode.get(code="OPEN")
    assert all(await asyncio.gather(*(take_uses([row.id]) for _ in range(20))))
    await DiscountCode.filter(id=row.id).update(active=False)
    assert not await take_uses([row.id])
    await row.refresh_from_db()
    assert row.uses == 20


# --- through the API -------------------------------------------------------------------------------------


async def test_a_merchant_creates_codes_stored_upper_case_and_lists_them_newest_first(
    client: GraphQLClient,
) -> None:
    merchant = await sign_up(client, "codemerchant")
    token = merchant["token"]
    product = await create_product(client, token)
    percent = await create(client, token, code="summer-15", usageLimit=100, perCustomerLimit=1)
    fixed = await create(
        client,
        token,
        code="Ten_Off",
        kind="FIXED",
        value=1000,
        currency="cny",
        minSubtotalMinorUnits=5000,
        startsAt="2026-01-01T00:00:00+00:00",
        endsAt="2027-01-01T00:00:00+00:00",
        productIds=[product["id"], product["id"]],
    )
    free = await create(client, token, code="SHIPFREE", kind="FREE_SHIPPING", value=0)

    assert percent["errors"] == fixed["errors"] == free["errors"] == []
    made = percent["discountCode"]
    assert (made["code"], made["kind"], made["value"], made["amount"], made["minSubtotal"]) == (
        "SUMMER-15",
        "PERCENT",
        1500,
        None,
        None,
    )
    assert (made["usageLimit"], made["perCustomerLimit"], made["uses"], made["active"]) == (100, 1, 0, True)
    ten = fixed["discountCode"]
    assert ten["code"] == "TEN_OFF"
    assert ten["amount"] == {"amount": "10.00", "minorUnits": 1000, "currency": "CNY"}
    assert ten["minSubtotal"] == {"minorUnits": 5000, "currency": "CNY"}
    assert ten["products"] == [{"id": product["id"]}]  # a product named twice is kept once
    assert ten["startsAt"].startswith("2026-01-01") and ten["endsAt"].startswith("2027-01-01")
    assert free["discountCode"]["kind"] == "FREE_SHIPPING"

    first = (await client.data(VIEWER_CODES, {"first": 2}, token=token))["viewer"]["discountCodes"]
    assert [n["code"] for n in first["nodes"]] == ["SHIPFREE", "TEN_OFF"]
    assert first["pageInfo"]["hasNextPage"]
    rest = await client.data(VIEWER_CODES, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token)
    assert [n["code"] for n in rest["viewer"]["discountCodes"]["nodes"]] == ["SUMMER-15"]

    other = await sign_up(client, "codecurious")
    seen = await client.data(USER_CODES, {"handle": "codemerchant"}, token=other["token"])
    assert seen["user"]["discountCodes"] is None


async def test_codes_are_unique_across_the_site_whatever_their_case(client: GraphQLClient) -> None:
    one = await sign_up(client, "firstseller")
    two = await sign_up(client, "secondseller")
    assert (await create(client, one["token"], code="VIP"))["errors"] == []

    taken = await create(client, two["token"], code=" vip ")

    assert taken["discountCode"] is None
    assert refusals(taken) == {(("input", "code"), "ALREADY_EXISTS")}
    assert await DiscountCode.filter(code="VIP").count() == 1


async def test_bad_input_is_refused_with_a_code_per_field_and_stores_nothing(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "strictseller")
    token = merchant["token"]
    cases: list[tuple[dict[str, Any], set[tuple[tuple[str, ...], str]]]] = [
        ({"code": "ab"}, {(("input", "code"), "INVALID")}),
        ({"code": "x" * 33}, {(("input", "code"), "INVALID")}),
        ({"code": "TEN OFF"}, {(("input", "code"), "INVALID")}),
        ({"code": "满减"}, {(("input", "code"), "INVALID")}),
        ({"value": 0}, {(("input", "value"), "OUT_OF_RANGE")}),
        ({"value": 10_001}, {(("input", "value"), "OUT_OF_RANGE")}),
        ({"kind": "FIXED", "value": 500}, {(("input", "currency"), "REQUIRED")}),
        ({"kind": "FIXED", "value": 500, "currency": "XYZ"}, {(("input", "currency"), "INVALID_CURRENCY")}),
        ({"kind": "FIXED", "value": 0, "currency": "CNY"}, {(("input", "value"), "OUT_OF_RANGE")}),
        ({"kind": "FIXED", "value": 100_000_000, "currency": "USD"}, {(("input", "value"), "OUT_OF_RANGE")}),
        ({"kind": "FREE_SHIPPING", "value": 100}, {(("input", "value"), "INVALID")}),
        ({"minSubtotalMinorUnits": 5000}, {(("input", "currency"), "REQUIRED")}),
        (
            {"minSubtotalMinorUnits": -1, "currency": "CNY"},
            {(("input", "minSubtotalMinorUnits"), "OUT_OF_RANGE")},
        ),
        (
            {"startsAt": "2026-02-01T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"},
            {(("input", "endsAt"), "INVALID")},
        ),
        ({"usageLimit": 0}, {(("input", "usageLimit"), "OUT_OF_RANGE")}),
        ({"perCustomerLimit": -2}, {(("input", "perCustomerLimit"), "OUT_OF_RANGE")}),
        (
            {"code": "a", "value": 0, "usageLimit": 0},
            {
                (("input", "code"), "INVALID"),
                (("input", "value"), "OUT_OF_RANGE"),
                (("input", "usageLimit"), "OUT_OF_RANGE"),
            },
        ),
    ]
    for fields, expected in cases:
        refused = await create(client, token, **fields)
        assert refused["discountCode"] is None, fields
        assert refusals(refused) == expected, fields
    assert await DiscountCode.all().count() == 0


async def test_a_code_names_only_the_merchants_own_products(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "ownseller")
    rival = await sign_up(client, "rivalseller")
    mine = await create_product(client, merchant["token"])
    theirs = await create_product(client, rival["token"])
    missing = "UHJvZHVjdDo5OTk5OTk="  # Product:999999

    refused = await create(client, merchant["token"], productIds=[mine["id"], theirs["id"], missing])

    assert refusals(refused) == {
        (("input", "productIds", "1"), "FORBIDDEN"),
        (("input", "productIds", "2"), "NOT_FOUND"),
    }
    malformed = await create(client, merchant["token"], productIds=[mine["id"], "bad"])
    assert refusals(malformed) == {(("input", "productIds", "1"), "INVALID")}
    assert await DiscountCode.all().count() == 0
    restricted = await create(client, merchant["token"], productIds=[mine["id"]])
    assert restricted["discountCode"]["products"] == [{"id": mine["id"]}]


async def test_anonymous_people_make_no_codes(client: GraphQLClient) -> None:
    refused = await create(client, None)
    assert [e["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"]
    anonymous = await client.execute(VIEWER_CODES, anonymous=True)
    assert anonymous["data"]["viewer"] is None
    assert await DiscountCode.all().count() == 0


async def test_a_merchant_keeps_at_most_the_active_codes_allowed(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commerce.discounts, "MAX_ACTIVE_CODES", 2)
    merchant = await sign_up(client, "busyseller")
    token = merchant["token"]
    first = await create(client, token, code="ONE")
    assert (await create(client, token, code="TWO"))["errors"] == []

    refused = await create(client, token, code="THREE")
    assert refusals(refused) == {(("input", "code"), "TOO_MANY")}
    await client.data(DEACTIVATE, {"id": first["discountCode"]["id"]}, token=token)
    assert (await create(client, token, code="THREE"))["errors"] == []
    assert await DiscountCode.filter(merchant__handle="busyseller", active=True).count() == 2


async def test_concurrent_creates_never_pass_the_active_codes_allowed(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commerce.discounts, "MAX_ACTIVE_CODES", 3)
    merchant = await sign_up(client, "rushseller")

    made = await asyncio.gather(*(create(client, merchant["token"], code=f"RUSH-{i}") for i in range(12)))

    assert sum(1 for m in made if m["errors"] == []) == 3
    assert all(refusals(m) == {(("input", "code"), "TOO_MANY")} for m in made if m["errors"])
    assert await DiscountCode.filter(merchant__handle="rushseller").count() == 3


async def test_only_its_merchant_deactivates_a_code_and_doing_it_twice_is_harmless(
    client: GraphQLClient,
) -> None:
    merchant = await sign_up(client, "stopseller")
    other = await sign_up(client, "notseller")
    made = (await create(client, merchant["token"], code="STOPME"))["discountCode"]

    forbidden = (await client.data(DEACTIVATE, {"id": made["id"]}, token=other["token"]))[
        "discountCodeDeactivate"
    ]
    assert refusals(forbidden) == {(("id",), "FORBIDDEN")}
    assert (await DiscountCode.get(code="STOPME")).active
    anonymous = (await client.data(DEACTIVATE, {"id": made["id"]}, anonymous=True))["discountCodeDeactivate"]
    assert [e["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    missing = (await client.data(DEACTIVATE, {"id": "RGlzY291bnRDb2RlOjk5OTk5"}, token=other["token"]))[
        "discountCodeDeactivate"
    ]  # DiscountCode:99999
    assert refusals(missing) == {(("id",), "NOT_FOUND")}

    for _ in range(2):
        done = (await client.data(DEACTIVATE, {"id": made["id"]}, token=merchant["token"]))[
            "discountCodeDeactivate"
        ]
        assert done["errors"] == [] and done["discountCode"]["active"] is False
    assert not (await DiscountCode.get(code="STOPME")).active
    listed = await client.data(VIEWER_CODES, token=merchant["token"])
    assert listed["viewer"]["discountCodes"]["nodes"] == [{"code": "STOPME", "uses": 0, "active": False}]
