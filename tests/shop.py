"""Shopping through the public API, as a frontend does: the world of a purchase and its steps (carts,
checkout, orders, refunds), with the queries they send."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

from core.ids import parse_global_id
from tests.conftest import GraphQLClient
from tests.factories import create_note, create_product, sign_up
from tests.stripe_emulator import pay, stripe_client

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
PASSWORD = "correct horse"  # what tests.factories.sign_up gives every account

CART = f"query($id: ID!) {{ cart(id: $id) {{ {CART_FIELDS} }} }}"
VIEWER_CART = f"{{ viewer {{ id cart {{ {CART_FIELDS} }} }} }}"
SIGN_IN = f"""
mutation($input: SignInInput!) {{
  signIn(input: $input) {{ token user {{ id }} cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
PRODUCT_UPDATE = f"""
mutation($id: ID!, $input: ProductUpdateInput!) {{
  productUpdate(id: $id, input: $input) {{ product {{ id }} {ERRORS} }}
}}"""
PRODUCT_STOCK = "query($id: ID!) { product(id: $id) { variants { id stock } } }"
CART_ORDER = "query($id: ID!) { cart(id: $id) { id status order { id } } }"

ADDRESS = {
    "name": "林小红",
    "line1": "南京西路 1266 号",
    "city": "上海",
    "postalCode": "200040",
    "country": "cn",
}


PRICE = 12900  # the price of the world's variant, in minor units


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
    client: GraphQLClient, *, stock: int = 10, price: int = PRICE, currency: str = "CNY"
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


# --- carts ---------------------------------------------------------------------------------------------


def gid(type_name: str, pk: int | uuid.UUID | str) -> str:
    """A Relay global id, made the way clients never should (to name objects that do not exist)."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def pk(global_id: str) -> int:
    """The database id a global id names."""
    parsed = parse_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


def err(code: str, field: list[str] | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def cart_not_found() -> list[dict[str, Any]]:
    return [err("NOT_FOUND", ["cartId"], "Cart not found.")]


def line(variant_id: str, quantity: int, note_id: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"variantId": variant_id, "quantity": quantity}
    if note_id is not None:
        spec["sourceNoteId"] = note_id
    return spec


def summary(cart: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    """(variant id, quantity, source note id) of each line, in cart order."""
    return [
        (ln["variant"]["id"], ln["quantity"], ln["sourceNote"]["id"] if ln["sourceNote"] else None)
        for ln in cart["lines"]
    ]


async def read_cart(client: GraphQLClient, cart_id: str, **kw: Any) -> dict[str, Any] | None:
    result: dict[str, Any] | None = (await client.data(CART, {"id": cart_id}, **kw))["cart"]
    return result


async def must_read_cart(client: GraphQLClient, cart_id: str, **kw: Any) -> dict[str, Any]:
    cart = await read_cart(client, cart_id, **kw)
    assert cart is not None, f"cart {cart_id} is not visible"
    return cart


async def viewer_cart(client: GraphQLClient, token: str) -> dict[str, Any] | None:
    viewer = (await client.data(VIEWER_CART, token=token))["viewer"]
    assert viewer is not None
    result: dict[str, Any] | None = viewer["cart"]
    return result


async def empty_cart(client: GraphQLClient, **kw: Any) -> dict[str, Any]:
    cart: dict[str, Any] = (await ok(client, CART_CREATE, {"input": {"lines": []}}, "cartCreate", **kw))[
        "cart"
    ]
    return cart


async def add(client: GraphQLClient, cart_id: str, lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    cart: dict[str, Any] = (
        await ok(client, CART_LINES_ADD, {"cartId": cart_id, "lines": lines}, "cartLinesAdd", **kw)
    )["cart"]
    return cart


async def add_refused(
    client: GraphQLClient, cart_id: str, lines: list[dict[str, Any]], **kw: Any
) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = await refused(
        client, CART_LINES_ADD, {"cartId": cart_id, "lines": lines}, "cartLinesAdd", **kw
    )
    return errors


async def other_variant(
    client: GraphQLClient, w: World, *, price: int, currency: str, stock: int = 10, sku: str = "OTHER-1"
) -> str:
    """A variant of a second product by the same merchant."""
    product = await create_product(
        client,
        w.merchant["token"],
        title=f"Product {sku}",
        variants=[
            {
                "sku": sku,
                "name": f"Variant {sku}",
                "priceMinorUnits": price,
                "currency": currency,
                "stock": stock,
            }
        ],
    )
    return str(product["variants"][0]["id"])


async def edit_variant(
    client: GraphQLClient, w: World, *, price: int = 12900, stock: int = 10, currency: str = "CNY"
) -> None:
    """The merchant edits the world's variant (productUpdate takes every field of the variant)."""
    variant = {
        "id": w.variant_id,
        "sku": "VLT-01",
        "name": "01 正红",
        "priceMinorUnits": price,
        "currency": currency,
        "stock": stock,
    }
    await ok(
        client,
        PRODUCT_UPDATE,
        {"id": w.product["id"], "input": {"variants": [variant]}},
        "productUpdate",
        token=w.merchant["token"],
    )


async def second_note(client: GraphQLClient, w: World, title: str = "第二篇种草") -> str:
    note = await create_note(client, w.creator["token"], productIds=[w.product["id"]], title=title)
    return str(note["id"])


async def sign_in(
    client: GraphQLClient, email: str, guest_cart_id: str | None, **extra: Any
) -> dict[str, Any]:
    variables = {"input": {"email": email, "password": PASSWORD, "guestCartId": guest_cart_id, **extra}}
    payload: dict[str, Any] = (await client.data(SIGN_IN, variables, anonymous=True))["signIn"]
    return payload


def email_of(account: dict[str, Any]) -> str:
    return f"{account['user']['handle']}@example.com"


# --- checkout, orders and refunds ------------------------------------------------------------------------


def problems(errors: list[dict[str, Any]]) -> list[tuple[list[str] | None, str]]:
    """(field path, code) of each error, in order."""
    return [(e["field"], e["code"]) for e in errors]


def kinds(order: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in order["paymentEvents"]]


async def stock_of(client: GraphQLClient, w: World) -> int:
    product = (await client.data(PRODUCT_STOCK, {"id": w.product["id"]}, anonymous=True))["product"]
    (variant,) = [v for v in product["variants"] if v["id"] == w.variant_id]
    return int(variant["stock"])


async def cart_state(client: GraphQLClient, cart_id: str, token: str) -> dict[str, Any]:
    cart = (await client.data(CART_ORDER, {"id": cart_id}, token=token))["cart"]
    assert cart is not None
    return dict(cart)


async def read_order(client: GraphQLClient, order_id: str, **kw: Any) -> dict[str, Any] | None:
    order: dict[str, Any] | None = (await client.data(ORDER, {"id": order_id}, **kw))["order"]
    return order


async def start(
    client: GraphQLClient, w: World, quantity: int = 1, *, token: str | None = None
) -> dict[str, Any]:
    """A fresh cart of `quantity` items checked out by `token` (the shopper by default): the payload."""
    bearer = token or w.shopper["token"]
    cart = await cart_with(client, w, quantity, token=bearer)
    payload = await ok(client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=bearer)
    payload["cart"] = cart
    return dict(payload)


async def complete(client: GraphQLClient, order_id: str, token: str) -> dict[str, Any]:
    payload = await ok(client, CHECKOUT_COMPLETE, {"orderId": order_id}, "checkoutComplete", token=token)
    return dict(payload["order"])


async def paid_order(client: GraphQLClient, base: str, w: World, quantity: int = 1) -> dict[str, Any]:
    """A PAID order of the shopper's."""
    started = await start(client, w, quantity)
    assert await pay(base, started["payment"]["paymentIntentId"]) == "succeeded"
    order = await complete(client, started["order"]["id"], w.shopper["token"])
    assert order["status"] == "PAID"
    return order


async def refund(
    client: GraphQLClient, order_id: str, amount: int, token: str, key: str | None = None
) -> dict[str, Any]:
    variables = {"orderId": order_id, "amount": amount, "key": key}
    return dict(await ok(client, ORDER_REFUND, variables, "orderRefund", token=token))


async def emulator_refunds(base: str, intent_id: str) -> list[int]:
    refunds = await stripe_client(base).v1.refunds.list_async({"payment_intent": intent_id})
    return sorted(int(r["amount"]) for r in refunds.data)
