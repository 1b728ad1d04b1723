"""Async helpers that act through the public GraphQL API, as a frontend would."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { token user { id handle displayName } errors { field message code } }
}"""

NOTE_CREATE = """
mutation NoteCreate($input: NoteCreateInput!) {
  noteCreate(input: $input) {
    note { id title language kind topics { name } products { id } review { rating product { id } } }
    errors { field message code }
  }
}"""

PRODUCT_CREATE = """
mutation ProductCreate($input: ProductCreateInput!) {
  productCreate(input: $input) {
    product { id title variants { id sku price { amount minorUnits currency } stock } }
    errors { field message code }
  }
}"""


async def sign_up(client: GraphQLClient, handle: str, **extra: Any) -> dict[str, Any]:
    """A new account; returns {token, user}."""
    variables = {
        "input": {"email": f"{handle}@example.com", "password": "correct horse", "handle": handle, **extra}
    }
    data = await client.data(SIGN_UP, variables, anonymous=True)
    payload = data["signUp"]
    assert payload["errors"] == [], payload["errors"]
    return {"token": payload["token"], "user": payload["user"]}


async def create_note(client: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = {"title": "今日份分享", "body": "记录一下", "topics": ["生活"], **fields}
    data = await client.data(NOTE_CREATE, {"input": payload}, token=token)
    result = data["noteCreate"]
    assert result["errors"] == [], result["errors"]
    return result["note"]


async def create_product(client: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    payload = {
        "title": "Velvet Lip Tint 丝绒唇釉",
        "variants": [
            {"sku": "VLT-01", "name": "01 正红", "priceMinorUnits": 12900, "currency": "CNY", "stock": 10}
        ],
        **fields,
    }
    data = await client.data(PRODUCT_CREATE, {"input": payload}, token=token)
    result = data["productCreate"]
    assert result["errors"] == [], result["errors"]
    return result["product"]
