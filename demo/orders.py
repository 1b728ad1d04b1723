"""Paid orders for the demo accounts, so the commerce half has something to show in GraphiQL.

The demo shopper (`demo`) bought products tagged in the demo creator's (`xiaohong`) notes: the creator's
`Note.sales`, the shopper's `viewer.orders` and the merchants' `viewer.salesOrders` are filled, and every
order agrees with its payment ledger. Ids are derived from the order's position, so seeds repeat exactly.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

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
            status=OrderStatus.FULFILLED if index % 2 else OrderStatus.PAID,
            stock_state=StockState.SOLD,
            reserved_until=moment + timedelta(minutes=15),
            paid_at=moment,
            using_db=connection,
        )
        await OrderLine.create(
            order_id=order.id,
            variant_id=variant.id,
            product_id=product_id,
            merchant_id=product.merchant_id,  # type: ignore[attr-defined]
            source_note_id=note.id,
            product_title=product.title,
            variant_name=variant.name,
            sku=variant.sku,
            quantity=quantity,
            unit_price_minor_units=variant.price_minor_units,
            using_db=connection,
        )
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
