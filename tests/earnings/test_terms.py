"""Commission terms set by merchants (issue 17, item 1), through the API: a product's own rate or its
merchant's default, bounded, public, and frozen on each order line at checkout — never on a purchase from
one's own note, the merchant's own note, or the buyer's own review."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.ids import parse_uuid_global_id
from models import OrderLine
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up
from tests.shop import CHECKOUT_START, ERRORS, World, checkout_input, ok, paid_order, pk, world

pytestmark = pytest.mark.timeout(120)

PRODUCT_CREATE = f"""
mutation($input: ProductCreateInput!) {{
  productCreate(input: $input) {{ product {{ id creatorCommission {{ basisPoints fromMerchantDefault }} }} {ERRORS} }}
}}"""
PRODUCT_UPDATE = f"""
mutation($id: ID!, $input: ProductUpdateInput!) {{
  productUpdate(id: $id, input: $input) {{
    product {{ id title creatorCommission {{ basisPoints fromMerchantDefault }} }} {ERRORS}
  }}
}}"""
SETTINGS_UPDATE = f"""
mutation($input: MerchantSettingsUpdateInput!) {{
  merchantSettingsUpdate(input: $input) {{ merchantSettings {{ defaultCommissionBasisPoints }} {ERRORS} }}
}}"""
SETTINGS = "{ viewer { merchantSettings { defaultCommissionBasisPoints } } }"
PROFILE_SETTINGS = (
    "query($h: String!) { user(handle: $h) { merchantSettings { defaultCommissionBasisPoints } } }"
)
COMMISSION = "query($id: ID!) { product(id: $id) { creatorCommission { basisPoints fromMerchantDefault } } }"
VARIANT = {"sku": "T-1", "name": "01", "priceMinorUnits": 5000, "currency": "CNY", "stock": 5}


def _terms(basis_points: int, from_default: bool) -> dict[str, Any]:
    return {"basisPoints": basis_points, "fromMerchantDefault": from_default}


async def _commission(client: GraphQLClient, product_id: str) -> dict[str, Any]:
    """What anyone (signed out) reads on the product."""
    return dict(
        (await client.data(COMMISSION, {"id": product_id}, anonymous=True))["product"]["creatorCommission"]
    )


async def _errors(
    client: GraphQLClient, query: str, variables: dict[str, Any], field: str, token: str
) -> Any:
    return [
        (e["field"], e["code"]) for e in (await client.data(query, variables, token=token))[field]["errors"]
    ]


async def test_a_merchant_sets_rates_and_anyone_reads_what_a_product_pays(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "rateshop")
    token = merchant["token"]
    assert (await client.data(SETTINGS, token=token))["viewer"]["merchantSettings"] == {
        "defaultCommissionBasisPoints": 0
    }
    plain = await ok(
        client,
        PRODUCT_CREATE,
        {"input": {"title": "Plain", "variants": [VARIANT]}},
        "productCreate",
        token=token,
    )
    assert plain["product"]["creatorCommission"] == _terms(0, True)  # nothing set: the default, 0
    for bad in (-1, 5001):
        variables = {"input": {"title": "Bad", "variants": [VARIANT], "creatorCommissionBasisPoints": bad}}
        assert await _errors(client, PRODUCT_CREATE, variables, "productCreate", token) == [
            (["input", "creatorCommissionBasisPoints"], "OUT_OF_RANGE")
        ]
    own = await ok(
        client,
        PRODUCT_CREATE,
        {"input": {"title": "Own", "variants": [VARIANT], "creatorCommissionBasisPoints": 1500}},
        "productCreate",
        token=token,
    )
    own_id, plain_id = own["product"]["id"], plain["product"]["id"]
    assert own["product"]["creatorCommission"] == _terms(1500, False)

    # The merchant-wide default: bounded, read back by the merchant, and followed by products without a rate.
    for bad in (-5, 5001):
        assert await _errors(
            client,
            SETTINGS_UPDATE,
            {"input": {"defaultCommissionBasisPoints": bad}},
            "merchantSettingsUpdate",
            token,
        ) == [(["input", "defaultCommissionBasisPoints"], "OUT_OF_RANGE")]
    updated = await ok(
        client,
        SETTINGS_UPDATE,
        {"input": {"defaultCommissionBasisPoints": 800}},
        "merchantSettingsUpdate",
        token=token,
    )
    assert updated["merchantSettings"] == {"defaultCommissionBasisPoints": 800}
    left_out = await ok(client, SETTINGS_UPDATE, {"input": {}}, "merchantSettingsUpdate", token=token)
    assert left_out["merchantSettings"] == {"defaultCommissionBasisPoints": 800}
    assert await _commission(client, plain_id) == _terms(800, True)
    assert await _commission(client, own_id) == _terms(1500, False)
    await ok(
        client,
        SETTINGS_UPDATE,
        {"input": {"defaultCommissionBasisPoints": 5000}},
        "merchantSettingsUpdate",
        token=token,
    )
    assert await _commission(client, plain_id) == _terms(5000, True)  # the bound itself is allowed

    # productUpdate: left out keeps the rate, a number sets it (0 too: it wins over the default), null
    # hands the product back to the default; out of range changes nothing.
    renamed = await ok(
        client, PRODUCT_UPDATE, {"id": own_id, "input": {"title": "Renamed"}}, "productUpdate", token=token
    )
    assert renamed["product"]["creatorCommission"] == _terms(1500, False)
    assert await _errors(
        client,
        PRODUCT_UPDATE,
        {"id": own_id, "input": {"creatorCommissionBasisPoints": 5001}},
        "productUpdate",
        token,
    ) == [(["input", "creatorCommissionBasisPoints"], "OUT_OF_RANGE")]
    zero = await ok(
        client,
        PRODUCT_UPDATE,
        {"id": own_id, "input": {"creatorCommissionBasisPoints": 0}},
        "productUpdate",
        token=token,
    )
    assert zero["product"]["creatorCommission"] == _terms(0, False)
    cleared = await ok(
        client,
        PRODUCT_UPDATE,
        {"id": own_id, "input": {"creatorCommissionBasisPoints": None}},
        "productUpdate",
        token=token,
    )
    assert cleared["product"]["creatorCommission"] == _terms(5000, True)
    assert await _commission(client, own_id) == _terms(5000, True)

    # Only the merchant sets them and reads their settings.
    other = await sign_up(client, "notmerchant")
    assert await _errors(
        client,
        PRODUCT_UPDATE,
        {"id": own_id, "input": {"creatorCommissionBasisPoints": 10}},
        "productUpdate",
        other["token"],
    ) == [(["id"], "FORBIDDEN")]
    anonymous = await client.data(
        SETTINGS_UPDATE, {"input": {"defaultCommissionBasisPoints": 1}}, anonymous=True
    )
    assert [e["code"] for e in anonymous["merchantSettingsUpdate"]["errors"]] == ["UNAUTHENTICATED"]
    seen = await client.data(PROFILE_SETTINGS, {"h": "rateshop"}, token=other["token"])
    assert seen["user"] == {"merchantSettings": None}
    assert await _commission(client, own_id) == _terms(5000, True)


async def _set_rate(client: GraphQLClient, w: World, basis_points: int | None) -> None:
    variables = {"id": w.product["id"], "input": {"creatorCommissionBasisPoints": basis_points}}
    await ok(client, PRODUCT_UPDATE, variables, "productUpdate", token=w.merchant["token"])


async def _line_terms(order_id: str) -> list[tuple[int, int | None]]:
    """(rate, creator) stored on each of the order's lines."""
    parsed = parse_uuid_global_id(order_id)
    assert parsed is not None and parsed[0] == "Order", order_id
    lines = await OrderLine.filter(order_id=parsed[1]).order_by("id")
    return [(line.commission_basis_points, line.commission_creator_id) for line in lines]


CART_CREATE = (
    "mutation($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } errors { code } } }"
)


async def _checkout(client: GraphQLClient, variant_id: str, note_id: str | None, token: str) -> str:
    """An order of one item bought (from `note_id` when given) by `token`'s account: its id, with the
    stock reserved and a PaymentIntent made at localstripe."""
    line = {"variantId": variant_id, "quantity": 1, "sourceNoteId": note_id}
    cart = await ok(client, CART_CREATE, {"input": {"lines": [line]}}, "cartCreate", token=token)
    payload = await ok(
        client, CHECKOUT_START, checkout_input(cart["cart"]["id"]), "checkoutStart", token=token
    )
    return str(payload["order"]["id"])


async def test_the_rate_at_purchase_stays_on_the_line_whatever_changes_later(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop)
    await _set_rate(shop, w, 1200)
    order = await paid_order(shop, stripe_base, w)
    creator_pk = pk(w.creator["user"]["id"])
    assert await _line_terms(order["id"]) == [(1200, creator_pk)]

    # The product's rate drops, then it is handed back to a default of 0: the paid line keeps 12 %.
    await _set_rate(shop, w, 300)
    assert await _line_terms(order["id"]) == [(1200, creator_pk)]
    await _set_rate(shop, w, None)
    await ok(
        shop,
        SETTINGS_UPDATE,
        {"input": {"defaultCommissionBasisPoints": 0}},
        "merchantSettingsUpdate",
        token=w.merchant["token"],
    )
    assert await _line_terms(order["id"]) == [(1200, creator_pk)]
    # A purchase from now on is made at the rate in force now.
    later = await paid_order(shop, stripe_base, w)
    assert await _line_terms(later["id"]) == [(0, None)]
    await ok(
        shop,
        SETTINGS_UPDATE,
        {"input": {"defaultCommissionBasisPoints": 450}},
        "merchantSettingsUpdate",
        token=w.merchant["token"],
    )
    latest = await paid_order(shop, stripe_base, w)
    assert await _line_terms(latest["id"]) == [(450, creator_pk)]
    assert await _line_terms(order["id"]) == [(1200, creator_pk)]


async def test_nobody_earns_on_their_own_purchase_product_or_review(shop: GraphQLClient) -> None:
    w = await world(shop)
    await _set_rate(shop, w, 2000)
    # A creator buying from their own note earns nothing.
    own_purchase = await _checkout(shop, w.variant_id, w.note["id"], w.creator["token"])
    assert await _line_terms(own_purchase) == [(0, None)]
    # The merchant's own note about their product earns nobody anything.
    merchant_note = await create_note(
        shop, w.merchant["token"], productIds=[w.product["id"]], title="店主推荐"
    )
    from_merchant = await _checkout(shop, w.variant_id, merchant_note["id"], w.shopper["token"])
    assert await _line_terms(from_merchant) == [(0, None)]
    # A buyer's own review of the product cannot credit them when they buy from it.
    review = await create_note(
        shop,
        w.shopper["token"],
        productIds=[w.product["id"]],
        title="回购第三次",
        review={"productId": w.product["id"], "rating": 5},
    )
    assert review["review"] == {"rating": 5, "product": {"id": w.product["id"]}}
    from_review = await _checkout(shop, w.variant_id, review["id"], w.shopper["token"])
    assert await _line_terms(from_review) == [(0, None)]
    # Nor does a purchase from no note credit anyone.
    from_nowhere = await _checkout(shop, w.variant_id, None, w.shopper["token"])
    assert await _line_terms(from_nowhere) == [(0, None)]
    # Someone else buying from the creator's note, or from the shopper's review: its author earns the rate.
    fan = await sign_up(shop, f"fan{uuid.uuid4().hex[:6]}")
    from_creator = await _checkout(shop, w.variant_id, w.note["id"], fan["token"])
    assert await _line_terms(from_creator) == [(2000, pk(w.creator["user"]["id"]))]
    from_their_review = await _checkout(shop, w.variant_id, review["id"], fan["token"])
    assert await _line_terms(from_their_review) == [(2000, pk(w.shopper["user"]["id"]))]
