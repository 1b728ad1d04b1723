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
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from commerce.commissions import commission_terms, effective_rate
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


@dataclass(frozen=True)
class DemoSale:
    """A demo order written, with its one line and when its parcel arrived (None: not shipped)."""

    order: Order
    line: OrderLine
    delivered_at: datetime | None


async def write_demo_orders(connection: BaseDBAsyncClient) -> list[DemoSale]:
    """Insert the demo shopper's paid orders; returns them."""
    shopper = await User.filter(handle="demo").using_db(connection).first()
    if shopper is None:
        return []
    written = []
    for index, (note, product, variant) in enumerate(await demo_purchases(connection)):
        sale = await write_order(
            connection,
            key=str(index),
            buyer=shopper,
            note=note,
            product=product,
            variant=variant,
            quantity=1 + index % 2,
            paid_at=note.created_at + timedelta(hours=6 + index),
            fulfilled=index % 2 == 1,
        )
        written.append(sale)
    return written


async def demo_purchases(connection: BaseDBAsyncClient) -> list[tuple[Note, Product, ProductVariant]]:
    """What the demo shopper bought: (note, product, its first variant) for the first products tagged in the
    demo creator's notes, one per product, oldest note first (at most DEMO_ORDERS)."""
    creator = await User.filter(handle="xiaohong").using_db(connection).first()
    if creator is None:
        return []
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
    return [(note, products[pid], variants[pid]) for note, pid in chosen if pid in variants]


async def write_order(
    connection: BaseDBAsyncClient,
    *,
    key: str,
    buyer: User,
    note: Note,
    product: Product,
    variant: ProductVariant,
    quantity: int,
    paid_at: datetime,
    fulfilled: bool,
) -> DemoSale:
    """One paid order of `quantity` of `variant` bought from `note` (its ids derived from `key`): its cart,
    line — with the commission terms checkout would have stored (commerce.commissions, the merchant's
    rates as they are now) — delivery group, payment and, when `fulfilled`, its delivered parcel."""
    total = variant.price_minor_units * quantity
    moment = paid_at
    merchant_id = product.merchant_id  # type: ignore[attr-defined]
    merchant = await User.get(id=merchant_id, using_db=connection)
    rate, creator_id = commission_terms(
        rate=effective_rate(
            product.creator_commission_basis_points, merchant.default_commission_basis_points
        ),
        note_author_id=note.author_id,  # type: ignore[attr-defined]
        buyer_id=buyer.id,
        merchant_id=merchant_id,
    )
    cart = await Cart.create(
        id=uuid.uuid5(_NAMESPACE, f"cart-{key}"),
        owner_id=buyer.id,
        status=CartStatus.CLOSED,
        currency=variant.currency,
        created_at=moment - timedelta(minutes=10),
        using_db=connection,
    )
    order = await Order.create(
        id=uuid.uuid5(_NAMESPACE, f"order-{key}"),
        cart_id=cart.id,
        buyer_id=buyer.id,
        idempotency_key=f"demo-{key}",
        email=buyer.email,
        shipping_address=ADDRESS,
        currency=variant.currency,
        subtotal_minor_units=total,
        total_minor_units=total,
        paid_minor_units=total,
        status=OrderStatus.FULFILLED if fulfilled else OrderStatus.PAID,
        stock_state=StockState.SOLD,
        reserved_until=moment + timedelta(minutes=15),
        paid_at=moment,
        created_at=moment - timedelta(minutes=2),
        using_db=connection,
    )
    line = await OrderLine.create(
        order_id=order.id,
        variant_id=variant.id,
        product_id=product.id,
        merchant_id=merchant_id,
        source_note_id=note.id,
        product_title=product.title,
        variant_name=variant.name,
        sku=variant.sku,
        quantity=quantity,
        shipped_quantity=quantity if fulfilled else 0,
        unit_price_minor_units=variant.price_minor_units,
        commission_basis_points=rate,
        commission_creator_id=creator_id,
        using_db=connection,
    )
    await OrderDeliveryGroup.create(
        order_id=order.id,
        merchant_id=merchant_id,
        subtotal_minor_units=total,
        **_free_standard_rate(variant.currency, total),
        using_db=connection,
    )
    delivered_at = (
        await _delivered_parcel(order, merchant_id, line, moment, key, connection) if fulfilled else None
    )
    await PaymentEvent.create(
        order_id=order.id,
        kind=PaymentEventKind.PAYMENT_SUCCEEDED,
        amount_minor_units=total,
        currency=variant.currency,
        reference=f"pi_demo_{key}",
        created_at=moment,
        using_db=connection,
    )
    return DemoSale(order, line, delivered_at)


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
    key: str,
    connection: BaseDBAsyncClient,
) -> datetime:
    """The order's one parcel: sent the day after payment, delivered three days later (returned)."""
    shipped_at = paid_at + timedelta(days=1, hours=3)
    delivered_at = shipped_at + timedelta(days=3, hours=5)
    await Shipment.create(
        order_id=order.id,
        merchant_id=merchant_id,
        status=ShipmentStatus.DELIVERED,
        tracking_number=f"SF{uuid.uuid5(_NAMESPACE, f'parcel-{key}').int % 10**13:013d}",
        carrier="顺丰速运 SF Express",
        lines={str(line.id): line.quantity},
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        using_db=connection,
    )
    return delivered_at
