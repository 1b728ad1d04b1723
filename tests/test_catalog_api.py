"""Products and variants through the public API."""

from __future__ import annotations

from tests.conftest import GraphQLClient
from tests.factories import PRODUCT_CREATE, create_product, sign_up

PRODUCT_UPDATE = """
mutation($id: ID!, $input: ProductUpdateInput!) {
  productUpdate(id: $id, input: $input) {
    product { title variants { sku name stock price { amount minorUnits currency } } }
    errors { field code }
  }
}"""


async def test_money_is_exact_per_currency(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "yen")
    product = await create_product(
        client, merchant["token"],
        variants=[
            {"sku": "A", "name": "small", "priceMinorUnits": 1980, "currency": "jpy", "stock": 3},
            {"sku": "B", "name": "large", "priceMinorUnits": 1005, "currency": "USD", "stock": 0},
        ],
    )  # fmt: skip
    prices = [v["price"] for v in product["variants"]]
    assert prices == [
        {"amount": "1980", "minorUnits": 1980, "currency": "JPY"},
        {"amount": "10.05", "minorUnits": 1005, "currency": "USD"},
    ]
    page = await client.data(
        "query($id: ID!) { product(id: $id) { merchant { handle } variants { inStock } } }",
        {"id": product["id"]},
    )
    assert page["product"] == {
        "merchant": {"handle": "yen"},
        "variants": [{"inStock": True}, {"inStock": False}],
    }


async def test_invalid_variants_are_refused_and_nothing_is_created(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "strict")
    bad = {
        "title": "Bad",
        "variants": [
            {"sku": "X", "name": "a", "priceMinorUnits": 0, "currency": "XYZ", "stock": -1},
            {"sku": "X", "name": "", "priceMinorUnits": 100, "currency": "CNY", "stock": 1},
        ],
    }
    body = await client.data(PRODUCT_CREATE, {"input": bad}, token=merchant["token"])
    assert body["productCreate"]["product"] is None
    assert {(tuple(e["field"]), e["code"]) for e in body["productCreate"]["errors"]} == {
        (("input", "variants", "0", "priceMinorUnits"), "OUT_OF_RANGE"),
        (("input", "variants", "0", "currency"), "INVALID_CURRENCY"),
        (("input", "variants", "0", "stock"), "OUT_OF_RANGE"),
        (("input", "variants", "1", "sku"), "ALREADY_EXISTS"),
        (("input", "variants", "1", "name"), "INVALID"),
    }
    none = await client.data(
        PRODUCT_CREATE, {"input": {"title": "Empty", "variants": []}}, token=merchant["token"]
    )
    assert [(e["field"], e["code"]) for e in none["productCreate"]["errors"]] == [
        (["input", "variants"], "REQUIRED")
    ]


async def test_only_the_merchant_updates_and_variants_are_edited_or_added(client: GraphQLClient) -> None:
    merchant = await sign_up(client, "owner")
    rival = await sign_up(client, "rival")
    product = await create_product(client, merchant["token"])
    variant_id = product["variants"][0]["id"]

    refused = await client.data(
        PRODUCT_UPDATE, {"id": product["id"], "input": {"title": "Mine now"}}, token=rival["token"]
    )
    assert refused["productUpdate"] == {"product": None, "errors": [{"field": ["id"], "code": "FORBIDDEN"}]}

    updated = await client.data(
        PRODUCT_UPDATE,
        {"id": product["id"], "input": {"title": "Velvet Lip Tint v2", "variants": [
            {"id": variant_id, "sku": "VLT-01", "name": "01 正红", "priceMinorUnits": 9900, "currency": "CNY", "stock": 4},
            {"sku": "VLT-02", "name": "02 豆沙", "priceMinorUnits": 9900, "currency": "CNY", "stock": 8},
        ]}},
        token=merchant["token"],
    )  # fmt: skip
    result = updated["productUpdate"]
    assert result["errors"] == []
    assert result["product"]["title"] == "Velvet Lip Tint v2"
    assert [(v["sku"], v["stock"], v["price"]["amount"]) for v in result["product"]["variants"]] == [
        ("VLT-01", 4, "99.00"), ("VLT-02", 8, "99.00"),
    ]  # fmt: skip
    clash = await client.data(
        PRODUCT_UPDATE,
        {
            "id": product["id"],
            "input": {
                "variants": [{"sku": "VLT-02", "name": "dup", "priceMinorUnits": 1, "currency": "CNY"}]
            },
        },
        token=merchant["token"],
    )
    assert clash["productUpdate"]["errors"][0]["code"] == "ALREADY_EXISTS"
    page = await client.data(
        "query($id: ID!) { product(id: $id) { variants { sku } } }", {"id": product["id"]}
    )
    assert [v["sku"] for v in page["product"]["variants"]] == ["VLT-01", "VLT-02"]
