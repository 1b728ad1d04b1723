"""Merchants' shipping rates: made, changed, archived and listed by their merchant through the API, with
every bad input refused by a clear code; and the two rules the cart prices with, `offered` and
`shipping_price`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from commerce.countries import COUNTRY_CODES
from commerce.shipping import MAX_LIVE_RATES, RateSpec, create_rate, offered, shipping_price
from core.errors import DomainError, ErrorCode
from models.fulfilment import ShippingRate
from social.accounts import sign_up as sign_up_rule
from tests.conftest import GraphQLClient
from tests.factories import sign_up

RATE = (
    "shippingRate { id name countries price { amount minorUnits currency } "
    "freeOver { minorUnits currency } minDeliveryDays maxDeliveryDays archived }"
)
CREATE = f"""
mutation($input: ShippingRateCreateInput!) {{
  shippingRateCreate(input: $input) {{ {RATE} errors {{ field message code }} }}
}}"""
UPDATE = f"""
mutation($input: ShippingRateUpdateInput!) {{
  shippingRateUpdate(input: $input) {{ {RATE} errors {{ field message code }} }}
}}"""
ARCHIVE = f"""
mutation($id: ID!) {{ shippingRateArchive(id: $id) {{ {RATE} errors {{ field message code }} }} }}"""
LIST = """
query($user: ID!, $all: Boolean!) {
  viewer { shippingRates(includeArchived: $all) { id name archived } }
  node(id: $user) { ... on User { shippingRates { id } } }
}"""

STANDARD = {
    "name": "Standard 标准快递",
    "countries": ["cn", "HK", "mo", "CN"],
    "priceMinorUnits": 1200,
    "currency": "cny",
    "freeOverMinorUnits": 19900,
    "minDeliveryDays": 2,
    "maxDeliveryDays": 5,
}


@pytest.fixture
async def merchant(client: GraphQLClient) -> dict[str, Any]:
    return await sign_up(client, "lumi_store")


async def _create(client: GraphQLClient, token: str, **change: Any) -> dict[str, Any]:
    return (await client.data(CREATE, {"input": {**STANDARD, **change}}, token=token))["shippingRateCreate"]


# --- through the API ------------------------------------------------------------------------------------------


async def test_a_merchant_creates_a_rate_as_given_cleaned(
    client: GraphQLClient, merchant: dict[str, Any]
) -> None:
    result = await _create(client, merchant["token"])
    assert result["errors"] == []
    rate = result["shippingRate"]
    assert rate["name"] == "Standard 标准快递"
    assert rate["countries"] == ["CN", "HK", "MO"]  # upper-cased, each once, in the order given
    assert rate["price"] == {"amount": "12.00", "minorUnits": 1200, "currency": "CNY"}
    assert rate["freeOver"] == {"minorUnits": 19900, "currency": "CNY"}
    assert (rate["minDeliveryDays"], rate["maxDeliveryDays"], rate["archived"]) == (2, 5, False)
    stored = await ShippingRate.get()
    assert stored.countries == ["CN", "HK", "MO"] and stored.currency == "CNY"


async def test_free_shipping_and_no_threshold_are_allowed(
    client: GraphQLClient, merchant: dict[str, Any]
) -> None:
    result = await _create(client, merchant["token"], priceMinorUnits=0, freeOverMinorUnits=None)
    assert result["errors"] == []
    assert result["shippingRate"]["price"]["minorUnits"] == 0
    assert result["shippingRate"]["freeOver"] is None


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": "  "}, ["input", "name"], "REQUIRED"),
        ({"name": "快" * 101}, ["input", "name"], "TOO_LONG"),
        ({"countries": []}, ["input", "countries"], "REQUIRED"),
        ({"countries": ["CN", "ZZ"]}, ["input", "countries", "1"], "INVALID"),
        ({"countries": ["UK"]}, ["input", "countries", "0"], "INVALID"),  # GB is the code
        ({"countries": ["CN"] * 251}, ["input", "countries"], "TOO_MANY"),
        ({"currency": "BTC"}, ["input", "currency"], "INVALID_CURRENCY"),
        ({"priceMinorUnits": -1}, ["input", "priceMinorUnits"], "OUT_OF_RANGE"),
        ({"priceMinorUnits": 100_000_000}, ["input", "priceMinorUnits"], "OUT_OF_RANGE"),
        ({"freeOverMinorUnits": -5}, ["input", "freeOverMinorUnits"], "OUT_OF_RANGE"),
        ({"minDeliveryDays": -1}, ["input", "minDeliveryDays"], "OUT_OF_RANGE"),
        ({"maxDeliveryDays": 366}, ["input", "maxDeliveryDays"], "OUT_OF_RANGE"),
        ({"minDeliveryDays": 6, "maxDeliveryDays": 5}, ["input", "minDeliveryDays"], "OUT_OF_RANGE"),
    ],
)
async def test_bad_rates_are_refused_and_change_nothing(
    client: GraphQLClient, merchant: dict[str, Any], change: dict[str, Any], field: list[str], code: str
) -> None:
    result = await _create(client, merchant["token"], **change)
    assert result["shippingRate"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [(field, code)]
    assert await ShippingRate.all().count() == 0


async def test_all_249_countries_fit_in_one_rate(client: GraphQLClient, merchant: dict[str, Any]) -> None:
    result = await _create(client, merchant["token"], countries=sorted(COUNTRY_CODES))
    assert result["errors"] == []
    assert len(result["shippingRate"]["countries"]) == 249


async def test_anonymous_people_cannot_make_rates(client: GraphQLClient) -> None:
    result = (await client.data(CREATE, {"input": STANDARD}, anonymous=True))["shippingRateCreate"]
    assert [e["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    assert await ShippingRate.all().count() == 0


async def test_the_merchant_updates_some_fields_and_the_rest_stay(
    client: GraphQLClient, merchant: dict[str, Any]
) -> None:
    rate = (await _create(client, merchant["token"]))["shippingRate"]
    change = {"id": rate["id"], "name": "Express", "maxDeliveryDays": 3, "countries": ["jp"]}
    result = (await client.data(UPDATE, {"input": change}, token=merchant["token"]))["shippingRateUpdate"]
    assert result["errors"] == []
    updated = result["shippingRate"]
    assert (updated["name"], updated["countries"], updated["maxDeliveryDays"]) == ("Express", ["JP"], 3)
    assert updated["price"]["minorUnits"] == 1200 and updated["freeOver"]["minorUnits"] == 19900
    assert updated["minDeliveryDays"] == 2

    # freeOver left out stays; null removes the threshold.
    never = {"id": rate["id"], "freeOverMinorUnits": None}
    result = (await client.data(UPDATE, {"input": never}, token=merchant["token"]))["shippingRateUpdate"]
    assert result["errors"] == [] and result["shippingRate"]["freeOver"] is None
    assert (await ShippingRate.get()).free_over_minor_units is None


async def test_an_update_is_checked_against_what_is_stored(
    client: GraphQLClient, merchant: dict[str, Any]
) -> None:
    rate = (await _create(client, merchant["token"]))["shippingRate"]
    # minDeliveryDays 6 alone is more than the stored maximum (5).
    change = {"id": rate["id"], "minDeliveryDays": 6, "name": "Later"}
    result = (await client.data(UPDATE, {"input": change}, token=merchant["token"]))["shippingRateUpdate"]
    assert result["shippingRate"] is None
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        (["input", "minDeliveryDays"], "OUT_OF_RANGE")
    ]
    stored = await ShippingRate.get()
    assert (stored.name, stored.min_delivery_days) == ("Standard 标准快递", 2)


async def test_only_the_owner_changes_or_archives_a_rate(
    client: GraphQLClient, merchant: dict[str, Any]
) -> None:
    rate = (await _create(client, merchant["token"]))["shippingRate"]
    rival = await sign_up(client, "rival_store")
    update = await client.data(UPDATE, {"input": {"id": rate["id"], "name": "Mine"}}, token=rival["token"])
    assert [e["code"] for e in update["shippingRateUpdate"]["errors"]] == ["FORBIDDEN"]
    archive = await client.data(ARCHIVE, {"id": rate["id"]}, token=rival["token"])
    assert [e["code"] for e in archive["shippingRateArchive"]["errors"]] == ["FORBIDDEN"]
    anonymous = await client.data(ARCHIVE, {"id": rate["id"]}, anonymous=True)
    assert [e["code"] for e in anonymous["shippingRateArchive"]["errors"]] == ["UNAUTHENTICATED"]
    stored = await ShippingRate.get()
    assert stored.name == "Standard 标准快递" and stored.archived_at is None

    gone = await client.data(ARCHIVE, {"id": _global_id(stored.id + 1000)}, token=merchant["token"])
    assert gone["shippingRateArchive"]["errors"][0]["code"] == "NOT_FOUND"
    forged = await client.data(ARCHIVE, {"id": "not-an-id"}, token=merchant["token"])
    assert forged["shippingRateArchive"]["errors"][0]["code"] == "INVALID"


async def test_archived_rates_are_listed_only_when_asked(
    client: GraphQLClient, merchant: dict[str, Any]
) -> None:
    token = merchant["token"]
    first = (await _create(client, token, name="Standard"))["shippingRate"]
    second = (await _create(client, token, name="Express"))["shippingRate"]
    archived = (await client.data(ARCHIVE, {"id": first["id"]}, token=token))["shippingRateArchive"]
    assert archived["errors"] == [] and archived["shippingRate"]["archived"] is True
    again = (await client.data(ARCHIVE, {"id": first["id"]}, token=token))["shippingRateArchive"]
    assert again["errors"] == [] and again["shippingRate"]["archived"] is True

    variables = {"user": merchant["user"]["id"], "all": False}
    live = await client.data(LIST, variables, token=token)
    assert [r["name"] for r in live["viewer"]["shippingRates"]] == ["Express"]
    assert live["node"]["shippingRates"] == [{"id": second["id"]}]
    every = await client.data(LIST, {**variables, "all": True}, token=token)
    assert [(r["name"], r["archived"]) for r in every["viewer"]["shippingRates"]] == [
        ("Express", False),
        ("Standard", True),
    ]
    # Anyone else sees null on the merchant's profile.
    shopper = await sign_up(client, "a_shopper")
    theirs = await client.data(LIST, variables, token=shopper["token"])
    assert theirs["node"]["shippingRates"] is None
    assert theirs["viewer"]["shippingRates"] == []


async def test_at_most_fifty_live_rates(client: GraphQLClient, merchant: dict[str, Any]) -> None:
    owner = await _user_id(merchant)
    await ShippingRate.bulk_create(
        [ShippingRate(merchant_id=owner, **_row(f"R{i}")) for i in range(MAX_LIVE_RATES)]
    )
    refused = await _create(client, merchant["token"])
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [(["input"], "TOO_MANY")]
    assert await ShippingRate.all().count() == MAX_LIVE_RATES
    # Archiving one makes room.
    rate = await ShippingRate.filter(merchant_id=owner).first()
    assert rate is not None
    await client.data(ARCHIVE, {"id": _global_id(rate.id)}, token=merchant["token"])
    assert (await _create(client, merchant["token"]))["errors"] == []


# --- the rules the cart prices with -----------------------------------------------------------------------------


async def _merchant(handle: str) -> int:
    user = await sign_up_rule(
        email=f"{handle}@example.com", password="correct horse", handle=handle, display_name=None
    )
    return user.id


def _row(name: str, **change: Any) -> dict[str, Any]:
    return {
        "name": name,
        "countries": ["CN"],
        "price_minor_units": 1000,
        "currency": "CNY",
        "free_over_minor_units": None,
        "min_delivery_days": 1,
        "max_delivery_days": 3,
        **change,
    }


async def test_rates_for_a_country_are_the_live_ones_cheapest_first(db: str) -> None:
    shop, other = await _merchant("shop_one"), await _merchant("shop_two")
    slow = await ShippingRate.create(
        merchant_id=shop, **_row("Slow", price_minor_units=800, max_delivery_days=9)
    )
    fast = await ShippingRate.create(
        merchant_id=shop, **_row("Fast", price_minor_units=800, max_delivery_days=2)
    )
    dear = await ShippingRate.create(
        merchant_id=shop, **_row("Dear", price_minor_units=2500, countries=["JP", "CN"])
    )
    await ShippingRate.create(merchant_id=shop, **_row("Gone", price_minor_units=1))  # archived below
    await ShippingRate.filter(name="Gone").update(archived_at=datetime(2026, 1, 1, tzinfo=UTC))
    await ShippingRate.create(merchant_id=shop, **_row("Japan", countries=["JP"]))
    await ShippingRate.create(merchant_id=other, **_row("Theirs", price_minor_units=0))

    mine = await ShippingRate.filter(merchant_id=shop)  # as the cart reads them: all of the merchant's
    assert [r.id for r in offered(mine, "cn", "CNY")] == [fast.id, slow.id, dear.id]
    assert [r.name for r in offered(mine, "JP", "CNY")] == ["Japan", "Dear"]
    assert offered(mine, "US", "CNY") == []
    assert offered(mine, "XX", "CNY") == []
    assert offered(mine, "CN", "USD") == []  # another currency than the cart's
    assert offered(mine, None, "CNY") == []


def test_shipping_is_free_once_the_group_reaches_the_threshold() -> None:
    rate = ShippingRate(price_minor_units=1200, currency="CNY", free_over_minor_units=19900)
    assert shipping_price(rate, 0) == 1200
    assert shipping_price(rate, 19899) == 1200
    assert shipping_price(rate, 19900) == 0
    assert shipping_price(rate, 50000) == 0
    never = ShippingRate(price_minor_units=1200, currency="CNY", free_over_minor_units=None)
    assert shipping_price(never, 10**8) == 1200
    always = ShippingRate(price_minor_units=1200, currency="CNY", free_over_minor_units=0)
    assert shipping_price(always, 0) == 0


async def test_the_rule_refuses_all_problems_at_once(db: str) -> None:
    shop = await _merchant("shop_three")
    spec = RateSpec(
        name="",
        countries=["CN"],
        price_minor_units=-1,
        currency="CNY",
        min_delivery_days=1,
        max_delivery_days=3,
    )
    with pytest.raises(DomainError) as refused:
        await create_rate(merchant_id=shop, spec=spec)
    codes = [(e.field, e.code) for e in getattr(refused.value, "errors", [refused.value])]
    assert codes == [(["name"], ErrorCode.REQUIRED), (["price_minor_units"], ErrorCode.OUT_OF_RANGE)]
    assert await ShippingRate.all().count() == 0


async def _user_id(account: dict[str, Any]) -> int:
    from core.ids import parse_global_id

    parsed = parse_global_id(account["user"]["id"])
    assert parsed is not None
    return parsed[1]


def _global_id(pk: int) -> str:
    from core.ids import to_global_id

    return to_global_id("ShippingRate", pk)
