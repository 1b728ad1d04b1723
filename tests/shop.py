"""Shopping through the public API, as a frontend does: the world of a purchase and its steps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up

CART_FIELDS = """
  id status currency totalQuantity
  subtotal { amount minorUnits currency }
  lines { id quantity variant { id stock } sourceNote { id } unitPrice { minorUnits } addedAtPrice { minorUnits } }
  warnings { code message lineId }
"""
ORDER_FIELDS = """
  id status stockState email
  total { minorUnits currency } paid { minorUnits } refunded { minorUnits } refundable { minorUnits }
  lines { quantity productTitle sku unitPrice { minorUnits } sourceNote { id } merchant { handle } }
  payment { paymentIntentId clientSecret }
  refunds { amount { minorUnits } status }
  paymentEvents { kind amount { minorUnits } reference }
  attention cancelReason
"""
ERRORS = "errors { field message code }"

CART_CREATE = f"""
mutation($input: CartCreateInput!) {{ cartCreate(input: $input) {{ cart {{ {CART_FIELDS} }} {ERRORS} }} }}"""
CART_LINES_ADD = f"""
mutation($cartId: ID!, $lines: [CartLineInput!]!) {{
  cartLinesAdd(cartId: $cartId, lines: $lines) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
CART_LINES_UPDATE = f"""
mutation($cartId: ID!, $lines: [CartLineUpdateInput!]!) {{
  cartLinesUpdate(cartId: $cartId, lines: $lines) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
CART_LINES_REMOVE = f"""
mutation($cartId: ID!, $lineIds: [ID!]!) {{
  cartLinesRemove(cartId: $cartId, lineIds: $lineIds) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
CHECKOUT_START = f"""
mutation($input: CheckoutStartInput!) {{
  checkoutStart(input: $input) {{ order {{ {ORDER_FIELDS} }} payment {{ clientSecret paymentIntentId }} {ERRORS} }}
}}"""
CHECKOUT_COMPLETE = f"""
mutation($orderId: ID!) {{ checkoutComplete(orderId: $orderId) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }} }}"""
ORDER_CANCEL = f"""
mutation($orderId: ID!) {{ orderCancel(orderId: $orderId) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }} }}"""
ORDER_FULFILL = f"""
mutation($orderId: ID!) {{ orderFulfill(orderId: $orderId) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }} }}"""
ORDER_REFUND = f"""
mutation($orderId: ID!, $amount: Int!, $key: String) {{
  orderRefund(orderId: $orderId, amountMinorUnits: $amount, idempotencyKey: $key) {{
    order {{ {ORDER_FIELDS} }} refund {{ amount {{ minorUnits }} status }} {ERRORS}
  }}
}}"""
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"

ADDRESS = {
    "name": "林小红",
    "line1": "南京西路 1266 号",
    "city": "上海",
    "postalCode": "200040",
    "country": "cn",
}


@dataclass
class World:
    """A merchant selling one product, a creator whose note tags it, and a shopper."""

    merchant: dict[str, Any]
    creator: dict[str, Any]
    shopper: dict[str, Any]
    product: dict[str, Any]
    note: dict[str, Any]

    @property
    def variant_id(self) -> str:
        return str(self.product["variants"][0]["id"])


async def world(
    client: GraphQLClient, *, stock: int = 10, price: int = 12900, currency: str = "CNY"
) -> World:
    merchant = await sign_up(client, f"shop{uuid.uuid4().hex[:6]}")
    creator = await sign_up(client, f"xiaohong{uuid.uuid4().hex[:6]}")
    shopper = await sign_up(client, f"buyer{uuid.uuid4().hex[:6]}")
    product = await create_product(
        client,
        merchant["token"],
        variants=[
            {
                "sku": "VLT-01",
                "name": "01 正红",
                "priceMinorUnits": price,
                "currency": currency,
                "stock": stock,
            }
        ],
    )
    note = await create_note(client, creator["token"], productIds=[product["id"]], title="这支唇釉绝了")
    return World(merchant, creator, shopper, product, note)


async def ok(client: GraphQLClient, query: str, variables: dict[str, Any], field: str, **kw: Any) -> Any:
    """The payload of a mutation that must succeed."""
    payload = (await client.data(query, variables, **kw))[field]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def refused(client: GraphQLClient, query: str, variables: dict[str, Any], field: str, **kw: Any) -> Any:
    """The errors of a mutation that must be refused."""
    payload = (await client.data(query, variables, **kw))[field]
    assert payload["errors"], payload
    return payload["errors"]


async def cart_with(
    client: GraphQLClient, w: World, quantity: int = 1, *, token: str | None = None, anonymous: bool = False
) -> dict[str, Any]:
    lines = [{"variantId": w.variant_id, "quantity": quantity, "sourceNoteId": w.note["id"]}]
    kw: dict[str, Any] = {"anonymous": True} if anonymous else {"token": token or w.shopper["token"]}
    return (await ok(client, CART_CREATE, {"input": {"lines": lines}}, "cartCreate", **kw))["cart"]


def checkout_input(cart_id: str, key: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "cartId": cart_id,
            "email": "buyer@example.com",
            "shippingAddress": ADDRESS,
            "idempotencyKey": key or str(uuid.uuid4()),
            **extra,
        }
    }
