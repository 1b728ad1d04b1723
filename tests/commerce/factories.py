"""Keyword-only async factories for commerce rule tests.

Products and carts are written through the rule functions (`commerce.catalog`, `commerce.cart`), so
they are the rows the app would make. People are inserted directly: commerce needs only their ids, and
hashing a password for each would make every test slower for nothing it checks.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import timedelta

from commerce import cart as carts
from commerce.catalog import VariantSpec, create_product
from commerce.checkout import DEFAULT_RESERVATION, Address, CheckoutResult, checkout_start
from commerce.orders import latest_attempt, settle
from commerce.payments import Payments
from models import Cart, Order, ProductVariant, User
from tests.commerce.fake_payments import FakePayments

ADDRESS = Address(name="林小红", line1="南京西路 1266 号", city="上海", postal_code="200040", country="CN")
_serial = itertools.count(1)


async def create_user(*, handle: str | None = None) -> User:
    """A person, email `<handle>@example.com`."""
    handle = handle or f"person{next(_serial)}"
    return await User.create(
        email=f"{handle}@example.com", handle=handle, display_name=handle, password_hash="!"
    )


async def create_variant(
    *,
    merchant: User | None = None,
    price_minor_units: int = 1000,
    stock: int = 5,
    currency: str = "CNY",
    title: str = "Velvet Lip Tint",
) -> ProductVariant:
    """The one variant of a new product of `merchant` (a new merchant when None)."""
    merchant = merchant or await create_user()
    product = await create_product(
        merchant_id=merchant.id,
        title=title,
        description=None,
        variants=[
            VariantSpec(
                sku=f"SKU-{next(_serial)}",
                name="01",
                price_minor_units=price_minor_units,
                currency=currency,
                stock=stock,
            )
        ],
    )
    return await ProductVariant.get(product_id=product.id)


async def create_cart(*, buyer: User | None = None, lines: Sequence[tuple[ProductVariant, int]] = ()) -> Cart:
    """A cart holding `(variant, quantity)` lines: the buyer's, or a guest cart when None."""
    contents = await carts.create_cart(
        viewer_id=buyer.id if buyer else None,
        lines=[carts.LineSpec(variant_id=v.id, quantity=q) for v, q in lines],
    )
    return contents.cart


async def start_checkout(
    *,
    payments: Payments | None,
    cart: Cart,
    buyer: User | None = None,
    key: str | None = None,
    reservation: timedelta = DEFAULT_RESERVATION,
) -> CheckoutResult:
    """checkoutStart for the cart, with a fresh idempotency key unless one is given."""
    return await checkout_start(
        payments=payments,
        viewer_id=buyer.id if buyer else None,
        viewer_email=buyer.email if buyer else None,
        cart_id=cart.id,
        email=None if buyer else "guest@example.com",
        shipping_address=ADDRESS,
        idempotency_key=key or str(uuid.uuid4()),
        reservation=reservation,
    )


async def create_pending_order(
    *,
    payments: Payments,
    buyer: User | None = None,
    variant: ProductVariant | None = None,
    quantity: int = 1,
    reservation: timedelta = DEFAULT_RESERVATION,
) -> CheckoutResult:
    """An order waiting for its payment: stock reserved, a PaymentIntent created."""
    buyer = buyer or await create_user()
    variant = variant or await create_variant()
    cart = await create_cart(buyer=buyer, lines=[(variant, quantity)])
    return await start_checkout(payments=payments, cart=cart, buyer=buyer, reservation=reservation)


async def create_paid_order(
    *,
    payments: FakePayments,
    buyer: User | None = None,
    variant: ProductVariant | None = None,
    quantity: int = 1,
) -> Order:
    """An order whose payment succeeded and was settled."""
    started = await create_pending_order(payments=payments, buyer=buyer, variant=variant, quantity=quantity)
    intent_id = intent_of(started)
    payments.succeed(intent_id)
    await settle(await payments.get_intent(intent_id))
    return await Order.get(id=started.order.id)


def intent_of(result: CheckoutResult) -> str:
    """The PaymentIntent id a checkout answered with."""
    assert result.attempt.payment_intent_id is not None
    return result.attempt.payment_intent_id


async def current_intent_of(order: Order) -> str:
    """The id of the order's current PaymentIntent."""
    attempt = await latest_attempt(order.id)
    assert attempt is not None and attempt.payment_intent_id is not None
    return attempt.payment_intent_id
