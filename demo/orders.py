"""Paid orders for the demo accounts, so the commerce half has something to show in GraphiQL.

The demo shopper (`demo`) bought products tagged in the demo creator's (`xiaohong`) notes: the creator's
`Note.sales`, the shopper's `viewer.orders` and the merchants' `viewer.salesOrders` are filled, and every
order agrees with its payment ledger and its parts. Each order has its merchant's delivery group (shipping
free: the standard rate when the goods reach its free-over threshold, else no rate); every other order is
FULFILLED, its line in one DELIVERED parcel with SF Express tracking, so `Order.shipments` shows one. Ids,
tracking numbers and dates are derived from the order's position and its note, so seeds repeat exactly.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from demo.selling import RATES
from models import (
    Cart,
    CartStatus,
    Note,
    NoteProduct,
    Order,
    OrderLine,
    OrderStatus,
    PaymentEvent,
    PaymentEventKind,
    Product,
    ProductVariant,
    StockState,
    User,
)
from models.fulfilment import OrderDeliveryGroup, Shipment, ShipmentStatus

DEMO_ORDERS = 4
_NAMESPACE = uuid.UUID("6f1c1c52-3f1e-4b51-9a7c-8a9f4f1d2e30")
ADDRESS = {
    "name": "Demo Shopper",
    "line1": "南京西路 1266 号",
    "city": "上海",
    "postalCode": "200040",
    "country": "CN",
}


async def write_demo_orders(connection: BaseDBAsyncClient) -> int:
    """Insert the demo shopper's paid orders; returns how many."""
    shopper = await User.filter(handle="demo").using_db(connection).first()
    creator = await User.filter(handle="xiaohong").using_db(connection).first()
    if shopper is None or creator is None:
        return 0
    notes = await Note.filter(author_id=creator.id, deleted_at=None).order_by("id").using_db(connection)
    links = (
        await NoteProduct.filter(note_id__in=[n.id for n in notes])
        .order_by("note_id", "position")
        .using_db(connection)
    )
    chosen: list[tuple[Note, int]] = []
    seen: set[int] = set()
    by_id = {n.id: n for n in notes}
    for link in links:
        note_id, product_id = link.note_id, link.product_id  # type: ignore[attr-defined]
        if product_id not in seen and len(chosen) < DEMO_ORDERS:
            seen.add(product_id)
            chosen.append((by_id[note_id], product_id))
    products = {p.id: p for p in await Product.filter(id__in=list(seen)).using_db(connection)}
    variants: dict[int, ProductVariant] = {}
    for variant in await ProductVariant.filter(product_id__in=list(seen)).order_by("id").using_db(connection):
        variants.setdefault(variant.product_id, variant)  # type: ignore[attr-defined]
    written = 0
    for index, (note, product_id) in enumerate(chosen):
        if product_id not in variants:
            continue
        variant = variants[product_id]
        product = products[product_id]
        quantity = 1 + index % 2
        total = variant.price_minor_units * quantity
        moment = note.created_at + timedelta(hours=6 + index)
        fulfilled = index % 2 == 1
        cart = await Cart.create(
            id=uuid.uuid5(_NAMESPACE, f"cart-{index}"),
            owner_id=shopper.id,
            status=CartStatus.CLOSED,
            currency=variant.currency,
            using_db=connection,
        )
        order = await Order.create(
            id=uuid.uuid5(_NAMESPACE, f"order-{index}"),
            cart_id=cart.id,
            buyer_id=shopper.id,
            idempotency_key=f"demo-{index}",
            email=shopper.email,
            shipping_address=ADDRESS,
            currency=variant.currency,
            subtotal_minor_units=total,
            total_minor_units=total,
            paid_minor_units=total,
            status=OrderStatus.FULFILLED if fulfilled else OrderStatus.PAID,
            stock_state=StockState.SOLD,
            reserved_until=moment + timedelta(minutes=15),
            paid_at=moment,
            using_db=connection,
        )
        line = await OrderLine.create(
            order_id=order.id,
            variant_id=variant.id,
            product_id=product_id,
            merchant_id=product.merchant_id,  # type: ignore[attr-defined]
            source_note_id=note.id,
            product_title=product.title,
            variant_name=variant.name,
            sku=variant.sku,
            quantity=quantity,
            shipped_quantity=quantity if fulfilled else 0,
            unit_price_minor_units=variant.price_minor_units,
            using_db=connection,
        )
        merchant_id = product.merchant_id  # type: ignore[attr-defined]
        await OrderDeliveryGroup.create(
            order_id=order.id,
            merchant_id=merchant_id,
            subtotal_minor_units=total,
            **_free_standard_rate(variant.currency, total),
            using_db=connection,
        )
        if fulfilled:
            await _delivered_parcel(order, merchant_id, line, moment, index, connection)
        await PaymentEvent.create(
            order_id=order.id,
            kind=PaymentEventKind.PAYMENT_SUCCEEDED,
            amount_minor_units=total,
            currency=variant.currency,
            reference=f"pi_demo_{index}",
            using_db=connection,
        )
        written += 1
    return written


def _free_standard_rate(currency: str, subtotal: int) -> dict[str, object]:
    """The delivery group's rate: the merchants' standard rate (demo.selling) when the goods ship free with
    it, else none (the group ships free without a rate, as an order placed before rates did)."""
    for name, _countries, _price, free_over, least, most in RATES.get(currency, [])[:1]:
        if free_over is not None and subtotal >= free_over:
            return {"rate_name": name, "min_delivery_days": least, "max_delivery_days": most}
    return {}


async def _delivered_parcel(
    order: Order,
    merchant_id: int,
    line: OrderLine,
    paid_at: datetime,
    index: int,
    connection: BaseDBAsyncClient,
) -> None:
    """The order's one parcel: sent the day after payment, delivered three days later."""
    shipped_at = paid_at + timedelta(days=1, hours=3)
    await Shipment.create(
        order_id=order.id,
        merchant_id=merchant_id,
        status=ShipmentStatus.DELIVERED,
        tracking_number=f"SF{uuid.uuid5(_NAMESPACE, f'parcel-{index}').int % 10**13:013d}",
        carrier="顺丰速运 SF Express",
        lines={str(line.id): line.quantity},
        shipped_at=shipped_at,
        delivered_at=shipped_at + timedelta(days=3, hours=5),
        using_db=connection,
    )
