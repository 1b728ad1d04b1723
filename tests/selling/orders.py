"""A paid order from two shops through the public API, and the queries of its parcels and returns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from core.ids import parse_uuid_global_id
from tests.conftest import GraphQLClient
from tests.factories import create_product, sign_up
from tests.shop import (
    CART_CREATE,
    CHECKOUT_START,
    ERRORS,
    PRICE,
    World,
    checkout_input,
    complete,
    ok,
    world,
)
from tests.stripe_emulator import pay

OTHER_PRICE = 4999  # the second shop's variant

LINE_FIELDS = "id quantity shippedQuantity returnedQuantity sku unitPrice { minorUnits } merchant { handle }"
SHIPMENT_FIELDS = """
  id status trackingNumber carrier shippedAt deliveredAt merchant { handle }
  lines { quantity line { id sku } }
"""
RETURN_FIELDS = """
  id status reason merchantNote restock amount { minorUnits currency } createdAt decidedAt receivedAt
  merchant { handle } lines { quantity line { id sku } } refund { amount { minorUnits } status }
"""
ORDER_FIELDS = f"""
  id status paid {{ minorUnits }} refunded {{ minorUnits }}
  lines {{ {LINE_FIELDS} }}
  shipments {{ {SHIPMENT_FIELDS} }}
  returns {{ {RETURN_FIELDS} }}
  refunds {{ amount {{ minorUnits }} status }}
  paymentEvents {{ kind amount {{ minorUnits }} reference detail }}
"""
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
FULFIL = f"""
mutation($input: OrderFulfillInput) {{
  orderFulfill(input: $input) {{ order {{ {ORDER_FIELDS} }} shipment {{ {SHIPMENT_FIELDS} }} {ERRORS} }}
}}"""
FULFIL_BY_ID = f"""
mutation($orderId: ID, $input: OrderFulfillInput) {{
  orderFulfill(orderId: $orderId, input: $input) {{ order {{ status }} shipment {{ {SHIPMENT_FIELDS} }} {ERRORS} }}
}}"""
DELIVERED = f"""
mutation($id: ID!) {{ shipmentMarkDelivered(shipmentId: $id) {{ shipment {{ {SHIPMENT_FIELDS} }} {ERRORS} }} }}"""
NOTIFICATIONS = """
{ viewer { notifications(first: 50) { nodes { kind actor { handle } order { id } } } } }"""
SALES = f"""{{ viewer {{ salesOrders(first: 10) {{ nodes {{ id lines {{ {LINE_FIELDS} }}
  shipments {{ id merchant {{ handle }} }} }} }} }} }}"""


def order_pk(global_id: str) -> uuid.UUID:
    """The database id of an Order's global id."""
    parsed = parse_uuid_global_id(global_id)
    assert parsed is not None and parsed[0] == "Order", global_id
    return parsed[1]


@dataclass
class TwoShops:
    """`w.merchant` and `other` each sell one line of the shopper's paid order."""

    w: World
    other: dict[str, Any]
    other_variant: str
    order: dict[str, Any]

    @property
    def buyer(self) -> str:
        return str(self.w.shopper["token"])

    @property
    def first(self) -> str:
        return str(self.w.merchant["token"])

    @property
    def second(self) -> str:
        return str(self.other["token"])

    def line_of(self, handle_token: str) -> dict[str, Any]:
        """The order line sold by the merchant signed in with this token."""
        handle = self.w.merchant if handle_token == self.first else self.other
        (line,) = [ln for ln in self.order["lines"] if ln["merchant"]["handle"] == handle["user"]["handle"]]
        return dict(line)


async def read(client: GraphQLClient, order_id: str, token: str) -> dict[str, Any]:
    order = (await client.data(ORDER, {"id": order_id}, token=token))["order"]
    assert order is not None
    return dict(order)


CODE_CREATE = f"""
mutation($input: DiscountCodeCreateInput!) {{
  discountCodeCreate(input: $input) {{ discountCode {{ id code }} {ERRORS} }}
}}"""
CODE_APPLY = f"""
mutation($cartId: ID!, $code: String!) {{ cartDiscountCodeApply(cartId: $cartId, code: $code) {{ {ERRORS} }} }}"""


async def two_shop_order(
    client: GraphQLClient,
    base: str,
    *,
    quantity: int = 2,
    other_quantity: int = 1,
    stock: int = 10,
    discount: int = 0,
) -> TwoShops:
    """A PAID order of the shopper's: `quantity` of the world's variant and `other_quantity` of a second
    shop's; with `discount`, the first shop's FIXED code for that many minor units applied."""
    w = await world(client, stock=stock)
    other = await sign_up(client, f"shop{uuid.uuid4().hex[:6]}")
    product = await create_product(
        client,
        other["token"],
        title="Silk Scarf 真丝方巾",
        variants=[
            {
                "sku": "SCARF-1",
                "name": "蓝",
                "priceMinorUnits": OTHER_PRICE,
                "currency": "CNY",
                "stock": stock,
            }
        ],
    )
    variant = str(product["variants"][0]["id"])
    lines = [
        {"variantId": w.variant_id, "quantity": quantity, "sourceNoteId": w.note["id"]},
        {"variantId": variant, "quantity": other_quantity},
    ]
    cart = (
        await ok(client, CART_CREATE, {"input": {"lines": lines}}, "cartCreate", token=w.shopper["token"])
    )["cart"]
    if discount:
        code = f"OFF{uuid.uuid4().hex[:6]}".upper()
        fixed = {"code": code, "kind": "FIXED", "value": discount, "currency": "CNY"}
        await ok(client, CODE_CREATE, {"input": fixed}, "discountCodeCreate", token=w.merchant["token"])
        applied = {"cartId": cart["id"], "code": code}
        await ok(client, CODE_APPLY, applied, "cartDiscountCodeApply", token=w.shopper["token"])
    started = await ok(
        client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert await pay(base, started["payment"]["paymentIntentId"]) == "succeeded"
    paid = await complete(client, started["order"]["id"], w.shopper["token"])
    assert paid["status"] == "PAID"
    assert paid["paid"]["minorUnits"] == quantity * PRICE + other_quantity * OTHER_PRICE - discount
    order = await read(client, paid["id"], w.shopper["token"])
    return TwoShops(w, other, variant, order)


@dataclass
class OneShop:
    """A shopper's PAID order of `len(order["lines"])` variants of one merchant's product."""

    merchant: dict[str, Any]
    shopper: dict[str, Any]
    order: dict[str, Any]

    @property
    def line_ids(self) -> list[str]:
        return [str(line["id"]) for line in self.order["lines"]]


async def one_shop_order(client: GraphQLClient, base: str, *, lines: int, quantity: int = 1) -> OneShop:
    """A PAID order of `lines` lines, `quantity` each, all of one merchant's."""
    merchant = await sign_up(client, f"shop{uuid.uuid4().hex[:6]}")
    shopper = await sign_up(client, f"buyer{uuid.uuid4().hex[:6]}")
    variants = [
        {"sku": f"V-{i:02d}", "name": f"{i:02d}", "priceMinorUnits": 1000 + i, "currency": "CNY", "stock": 10}
        for i in range(lines)
    ]
    product = await create_product(client, merchant["token"], title="Sample Set 小样套装", variants=variants)
    wanted = [{"variantId": v["id"], "quantity": quantity} for v in product["variants"]]
    cart = (
        await ok(client, CART_CREATE, {"input": {"lines": wanted}}, "cartCreate", token=shopper["token"])
    )["cart"]
    started = await ok(
        client, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=shopper["token"]
    )
    assert await pay(base, started["payment"]["paymentIntentId"]) == "succeeded"
    paid = await complete(client, started["order"]["id"], shopper["token"])
    assert paid["status"] == "PAID"
    order = await read(client, paid["id"], shopper["token"])
    assert len(order["lines"]) == lines
    return OneShop(merchant, shopper, order)


async def fulfil(client: GraphQLClient, token: str, **fields: Any) -> dict[str, Any]:
    """orderFulfill(input) that must succeed: its payload."""
    return dict(await ok(client, FULFIL, {"input": fields}, "orderFulfill", token=token))


async def fulfil_refused(client: GraphQLClient, token: str, **fields: Any) -> list[tuple[Any, str]]:
    payload = (await client.data(FULFIL, {"input": fields}, token=token))["orderFulfill"]
    assert payload["errors"] and payload["order"] is None and payload["shipment"] is None, payload
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def notifications(client: GraphQLClient, token: str) -> list[tuple[str, str | None]]:
    """(kind, actor handle) of the viewer's notifications, newest first."""
    nodes = (await client.data(NOTIFICATIONS, token=token))["viewer"]["notifications"]["nodes"]
    return [(n["kind"], (n["actor"] or {}).get("handle")) for n in nodes]


RETURN_CREATE = f"""
mutation($input: ReturnRequestCreateInput!) {{
  returnRequestCreate(input: $input) {{ returnRequest {{ {RETURN_FIELDS} }} {ERRORS} }}
}}"""
RETURN_APPROVE = f"""
mutation($input: ReturnDecisionInput!) {{
  returnApprove(input: $input) {{ returnRequest {{ {RETURN_FIELDS} }} {ERRORS} }}
}}"""
RETURN_REJECT = f"""
mutation($input: ReturnDecisionInput!) {{
  returnReject(input: $input) {{ returnRequest {{ {RETURN_FIELDS} }} {ERRORS} }}
}}"""
RETURN_RECEIVE = f"""
mutation($input: ReturnReceiveInput!) {{
  returnReceive(input: $input) {{ returnRequest {{ {RETURN_FIELDS} }} {ERRORS} }}
}}"""
VIEWER_RETURNS = """
query($status: ReturnStatus) { viewer { returnRequests(status: $status, first: 10) {
  totalCount nodes { id status order { id } lines { quantity line { sku } } }
} } }"""


async def delivered(client: GraphQLClient, t: TwoShops, token: str) -> dict[str, Any]:
    """The merchant signed in with `token` ships their line and marks the parcel delivered: the parcel."""
    shipment = (await fulfil(client, token, orderId=t.order["id"], trackingNumber="SF-1"))["shipment"]
    payload = await ok(client, DELIVERED, {"id": shipment["id"]}, "shipmentMarkDelivered", token=token)
    return dict(payload["shipment"])


async def ask_return(
    client: GraphQLClient, t: TwoShops, lines: list[tuple[dict[str, Any], int]], reason: str = "尺寸不合适"
) -> dict[str, Any]:
    """returnRequestCreate by the buyer that must succeed: the return."""
    variables = {
        "input": {
            "orderId": t.order["id"],
            "lines": [{"lineId": line["id"], "quantity": quantity} for line, quantity in lines],
            "reason": reason,
        }
    }
    payload = await ok(client, RETURN_CREATE, variables, "returnRequestCreate", token=t.buyer)
    return dict(payload["returnRequest"])


async def return_step(
    client: GraphQLClient, mutation: str, token: str, return_id: str, **fields: Any
) -> dict[str, Any]:
    """A returnApprove/returnReject/returnReceive call: its payload (`returnRequest`, `errors`)."""
    field = {RETURN_APPROVE: "returnApprove", RETURN_REJECT: "returnReject", RETURN_RECEIVE: "returnReceive"}[
        mutation
    ]
    body = await client.data(mutation, {"input": {"returnId": return_id, **fields}}, token=token)
    return dict(body[field])
