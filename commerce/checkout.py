"""checkoutStart and checkoutComplete: a cart becomes one order, its stock reserved, paid through Stripe.

The order is created in one transaction (cart frozen, stock reserved, order, lines, payment attempt);
the PaymentIntent is created after it commits, never inside it. One request claims the attempt and
calls Stripe; concurrent retries wait for its result instead of creating a second PaymentIntent.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from commerce import inventory, ledger, redemptions
from commerce.addresses import Address, check_address
from commerce.cart import MAX_CART_MERCHANTS, CartContents, cart_for, check_total, contents_of
from commerce.commissions import commission_terms
from commerce.errors import (
    CartClosed,
    CartEmpty,
    CheckoutInProgress,
    CurrencyMismatch,
    PaymentsNotConfigured,
    ProductUnavailable,
)
from commerce.money import max_charge, max_charge_text
from commerce.orders import latest_attempt, order_for, settle
from commerce.payments import IntentStatus, PaymentProviderError, Payments
from commerce.pricing import CartPricing, not_shippable_message, priced
from commerce.states import move_attempt
from core.errors import DomainError, ErrorCode, ValidationErrors
from core.validation import Checks
from models import (
    AttemptStatus,
    Cart,
    CartLine,
    CartStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentAttempt,
    PaymentEventKind,
    ProductVariant,
    StockState,
)
from models.fulfilment import DiscountCode, OrderDeliveryGroup

DEFAULT_RESERVATION = timedelta(minutes=15)
# A request that claimed an attempt and has not finished within this long is presumed dead.
CLAIM_TIMEOUT = timedelta(seconds=30)
WAIT_STEP_SECONDS = 0.05
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    attempt: PaymentAttempt


def _check_input(
    email: str | None, address: Address | None, idempotency_key: str
) -> tuple[str, dict[str, Any] | None]:
    """The receipt email and the cleaned address (empty optional parts dropped; None when not given), or
    every problem."""
    checks = Checks()
    if not 1 <= len(idempotency_key.strip()) <= 200:
        checks.fail(
            "idempotency_key", ErrorCode.INVALID, "Send a unique key of 1–200 characters per checkout."
        )
    clean_email = (email or "").strip()
    if not _EMAIL.match(clean_email) or len(clean_email) > 254:
        checks.fail("email", ErrorCode.INVALID, "Enter a valid email address for the receipt.")
    address_fields = check_address(checks, address) if address is not None else None
    checks.done()
    return clean_email, address_fields


async def checkout_start(
    *,
    payments: Payments | None,
    viewer_id: int | None,
    viewer_email: str | None,
    cart_id: UUID,
    email: str | None,
    shipping_address: Address | None,
    idempotency_key: str,
    reservation: timedelta = DEFAULT_RESERVATION,
) -> CheckoutResult:
    """Turn the cart into an order with reserved stock and a PaymentIntent; idempotent per key. The
    order ships to `shipping_address`, or to the cart's when it is not given.

    The input and the cart are checked before the payment provider, so a client learns what is wrong with
    what it sent even where payments are not configured."""
    clean_email, given = _check_input(email or viewer_email, shipping_address, idempotency_key)
    key = idempotency_key.strip()
    cart = await cart_for(cart_id, viewer_id)
    address = given or cart.shipping_address
    if address is None:
        raise DomainError(
            ErrorCode.REQUIRED,
            "Give a shipping address, here or on the cart (cartShippingAddressSet).",
            "shipping_address",
        )
    if payments is None:
        raise PaymentsNotConfigured()
    order = await Order.get_or_none(cart_id=cart_id)
    creator = False
    if order is None:
        order, creator = await _create_order(cart, viewer_id, clean_email, address, key, reservation)
    if order.idempotency_key != key:
        creator = await _resume(payments, order, reservation)
    attempt = await _ensure_intent(payments, order, creator=creator)
    return CheckoutResult(await Order.get(id=order.id), attempt)


async def _create_order(
    cart: Cart,
    viewer_id: int | None,
    email: str,
    address: dict[str, Any],
    key: str,
    reservation: timedelta,
) -> tuple[Order, bool]:
    """The cart's order, and whether this call created it."""
    if cart.status != CartStatus.OPEN:
        raise CartClosed("cart_id")
    try:
        async with in_transaction():
            # Freezing the cart is the claim: of two checkouts of one cart, one proceeds. The lines are
            # read after it, so an add that committed before the freeze is in the order and one after
            # it is refused (CART_CLOSED).
            if not await Cart.filter(id=cart.id, status=CartStatus.OPEN).update(status=CartStatus.ORDERED):
                raise _LostRace
            contents = check_total(await contents_of(cart.id), ("cart_id",))  # prices may have risen
            _check_orderable(contents)
            order = await _write_order(
                contents, buyer_id=viewer_id, email=email, address=address, key=key, reservation=reservation
            )
    except (_LostRace, IntegrityError):
        # Another request turned this cart into its order first: that order is the answer.
        existing = await Order.get_or_none(cart_id=cart.id)
        if existing is None:
            raise CartClosed("cart_id") from None
        return existing, False
    return order, True


async def _write_order(
    contents: CartContents,
    *,
    buyer_id: int | None,
    email: str,
    address: dict[str, Any],
    key: str,
    reservation: timedelta,
) -> Order:
    """Inside the transaction that froze the cart: take its stock (all or nothing), then write the
    order, its lines and its first payment attempt, claimed by this request."""
    now = datetime.now(UTC)
    currency = contents.cart.currency or contents.lines[0][1].currency
    pricing = await priced(contents, country=address["country"], now=now)
    uses = await _check_priced(pricing, buyer_id, email, now)
    await inventory.reserve(
        [(v.id, line.quantity) for line, v in contents.lines],
        {v.id: ("cart_id",) for _, v in contents.lines},
    )
    order = await Order.create(
        cart_id=contents.cart.id,
        buyer_id=buyer_id,
        idempotency_key=key,
        email=email,
        shipping_address=address,
        currency=currency,
        subtotal_minor_units=pricing.subtotal_minor_units,
        shipping_minor_units=pricing.shipping_minor_units,
        discount_minor_units=pricing.discount_minor_units,
        total_minor_units=pricing.total_minor_units,
        status=OrderStatus.PENDING_PAYMENT,
        stock_state=StockState.RESERVED,
        reserved_until=now + reservation,
    )
    await redemptions.reserve(order.id, uses, customer_id=buyer_id, email=email)
    await OrderLine.bulk_create(_order_lines(order.id, contents, pricing, buyer_id))
    await OrderDeliveryGroup.bulk_create(_delivery_groups(order.id, pricing))
    await PaymentAttempt.create(
        order_id=order.id,
        claimed_at=now,
        amount_minor_units=order.total_minor_units,
        currency=currency,
    )
    return order


async def _check_priced(
    pricing: CartPricing, buyer_id: int | None, email: str, now: datetime
) -> list[tuple[DiscountCode, int]]:
    """Inside the transaction that froze the cart: every group can ship, every code on the cart still
    applies (dates, limits, this customer's uses: re-checked here, not trusted from the cart), and one
    payment can charge the total. The codes to take a use of, each with what it takes off."""
    if len(pricing.groups) > MAX_CART_MERCHANTS:  # a cart filled before the limit: parcels count on it
        raise DomainError(
            ErrorCode.TOO_MANY,
            f"An order holds items of at most {MAX_CART_MERCHANTS} shops; remove some to check out.",
            "cart_id",
        )
    unshippable = pricing.unshippable()
    if unshippable:
        raise ValidationErrors(
            [
                DomainError(
                    ErrorCode.NOT_SHIPPABLE, not_shippable_message(g, pricing.country) or "", "cart_id"
                )
                for g in unshippable
            ]
        )
    applied = [g.code for g in pricing.groups if g.code is not None]
    for code in applied:
        if code.problem is not None:
            raise DomainError(
                code.problem, f"{code.message} Remove it from the cart to check out.", "cart_id"
            )
    limited = [c.code.id for c in applied if c.code.per_customer_limit is not None]
    used = await redemptions.customer_uses(limited, buyer_id, email)
    for code in applied:
        limit = code.code.per_customer_limit
        if limit is not None and used.get(code.code.id, 0) >= limit:
            raise DomainError(
                ErrorCode.DISCOUNT_EXHAUSTED,
                f"The code {code.code.code} has been used as often as one customer may use it.",
                "cart_id",
            )
    uses = [(c.code, c.total_minor_units) for c in applied]
    currency = pricing.currency or ""
    if currency and pricing.total_minor_units > max_charge(currency):
        raise DomainError(
            ErrorCode.OUT_OF_RANGE,
            f"An order may be worth at most {max_charge_text(currency)}, the most one payment can charge.",
            "cart_id",
        )
    if pricing.total_minor_units <= 0:
        raise DomainError(
            ErrorCode.OUT_OF_RANGE,
            "This order comes to nothing after discounts, and a card payment needs an amount; add an item "
            "or remove a code.",
            "cart_id",
        )
    return uses


def _delivery_groups(order_id: UUID, pricing: CartPricing) -> list[OrderDeliveryGroup]:
    """Each merchant's part as chosen: the rate is copied, so later edits never rewrite the order."""
    groups = []
    for g in pricing.groups:
        rate = g.selected.rate if g.selected else None
        groups.append(
            OrderDeliveryGroup(
                order_id=order_id,
                merchant_id=g.merchant_id,
                rate_id=rate.id if rate else None,
                rate_name=rate.name if rate else "",
                min_delivery_days=rate.min_delivery_days if rate else None,
                max_delivery_days=rate.max_delivery_days if rate else None,
                subtotal_minor_units=g.subtotal_minor_units,
                shipping_minor_units=g.shipping_minor_units,
                discount_minor_units=g.discount_minor_units,
                shipping_discount_minor_units=g.shipping_discount_minor_units,
                discount_code=g.code.code.code if g.code else None,
            )
        )
    return groups


def _order_lines(
    order_id: UUID, contents: CartContents, pricing: CartPricing, buyer_id: int | None
) -> list[OrderLine]:
    """The cart's lines as bought: titles, names and prices are copied, so catalogue edits never
    rewrite an order; each line keeps its share of its merchant's discount."""
    return [
        OrderLine(
            order_id=order_id,
            variant_id=v.id,
            product_id=v.product_id,  # type: ignore[attr-defined]
            merchant_id=contents.merchant_of[v.id],
            source_note_id=line.source_note_id,  # type: ignore[attr-defined]
            product_title=contents.titles[v.id],
            variant_name=v.name,
            sku=v.sku,
            quantity=line.quantity,
            unit_price_minor_units=v.price_minor_units,
            discount_minor_units=pricing.line_discount(line.id),
            **_commission(contents, line, v, buyer_id),
        )
        for line, v in contents.lines
    ]


def _commission(
    contents: CartContents, line: CartLine, variant: ProductVariant, buyer_id: int | None
) -> dict[str, Any]:
    """The line's commission terms at checkout (commerce/commissions.py)."""
    note = contents.notes.get(line.source_note_id)  # type: ignore[attr-defined]
    rate, creator = commission_terms(
        rate=contents.commission_rates.get(variant.id, 0),
        note_author_id=note.author_id if note is not None else None,  # type: ignore[attr-defined]
        buyer_id=buyer_id,
        merchant_id=contents.merchant_of[variant.id],
    )
    return {"commission_basis_points": rate, "commission_creator_id": creator}


class _LostRace(Exception):
    pass


def _check_orderable(contents: CartContents) -> None:
    """Every line can be bought: raised inside the transaction that froze the cart, so a refusal leaves
    the cart open, nothing reserved and no PaymentIntent made."""
    if not contents.lines:
        raise CartEmpty("cart_id")
    unavailable = [
        ProductUnavailable(
            v.id, name=v.name, line_id=line.id, field="cart_id", then="Remove it from the cart to check out."
        )
        for line, v in contents.lines
        if v.id in contents.unavailable
    ]
    if unavailable:
        raise ValidationErrors(unavailable)
    if len(contents.payable()) != len(contents.lines):
        raise CurrencyMismatch(
            "An item in the cart is now sold in another currency; remove it to check out.",
            "cart_id",
            cart_currency=contents.cart.currency,
        )


async def _resume(payments: Payments, order: Order, reservation: timedelta) -> bool:
    """A new key for a cart that already has its order: carry on with that order while it is unpaid
    (say, after a declined card), taking its stock again if it was released. After a decline the old
    PaymentIntent is cancelled — so it can never also succeed — and a fresh one is made. True when
    this request must create that fresh PaymentIntent."""
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise CartClosed(
            "cart_id", message=f"This cart's order is already {order.status.value}; start a new cart."
        )
    attempt = await latest_attempt(order.id)
    intent = None
    if attempt is not None and attempt.status == AttemptStatus.CREATED and attempt.payment_intent_id:
        intent = await payments.get_intent(attempt.payment_intent_id)
        if intent.status == IntentStatus.SUCCEEDED:
            await settle(intent)
            return False
    await _check_still_for_sale(order.id)
    async with in_transaction():
        await inventory.reserve_order_again(order.id, until=datetime.now(UTC) + reservation)
    if (
        attempt is None
        or intent is None
        or not (intent.failure_message or intent.status == IntentStatus.CANCELED)
    ):
        return False
    if intent.status != IntentStatus.CANCELED:
        intent = await payments.cancel_intent(intent.id)
        if intent.status == IntentStatus.SUCCEEDED:
            await settle(intent)
            return False
    # Of several retries at once, the one that retires the old attempt makes the new one.
    if not await move_attempt(attempt.id, from_=AttemptStatus.CREATED, to=AttemptStatus.REPLACED):
        return False
    await PaymentAttempt.create(
        order_id=order.id,
        claimed_at=datetime.now(UTC),
        amount_minor_units=order.total_minor_units,
        currency=order.currency,
    )
    return True


async def _check_still_for_sale(order_id: UUID) -> None:
    """Before an unpaid order takes its stock again and gets a fresh PaymentIntent: every product in it
    can still be bought. Its cart is frozen, so the way on is a new cart without the item."""
    gone = await OrderLine.filter(order_id=order_id, product__withheld=True).values_list(
        "variant_id", "variant_name"
    )
    if gone:
        raise ValidationErrors(
            [
                ProductUnavailable(
                    int(variant_id),
                    name=str(name),
                    field="cart_id",
                    then="Cancel this order (orderCancel) and check out a new cart without it.",
                )
                for variant_id, name in gone  # type: ignore[misc]
            ]
        )


async def _ensure_intent(payments: Payments, order: Order, *, creator: bool) -> PaymentAttempt:
    """The order's PaymentIntent, created by exactly one request; concurrent retries wait for it.

    The request that created the order holds the claim on its attempt from the start; anyone else
    may claim an attempt only when it failed or its claimant went silent for CLAIM_TIMEOUT (a REPLACED
    attempt is never claimed: the retry that replaced it is about to write the next one)."""
    attempt = await latest_attempt(order.id)
    assert attempt is not None, "every order is created with a payment attempt"
    if creator and attempt.status == AttemptStatus.CREATING:
        return await _create_intent(payments, order, attempt)
    deadline = asyncio.get_running_loop().time() + CLAIM_TIMEOUT.total_seconds()
    while True:
        if attempt.status == AttemptStatus.CREATED:
            return attempt
        stale = attempt.claimed_at < datetime.now(UTC) - CLAIM_TIMEOUT
        claimable = attempt.status == AttemptStatus.FAILED or (
            attempt.status == AttemptStatus.CREATING and stale
        )
        if claimable and await move_attempt(
            attempt.id,
            from_=attempt.status,
            to=AttemptStatus.CREATING,
            claim_of=attempt.claimed_at,
            claimed_at=datetime.now(UTC),
        ):
            return await _create_intent(payments, order, attempt)
        if asyncio.get_running_loop().time() > deadline:
            raise CheckoutInProgress("This checkout is still being set up; try again in a moment.")
        await asyncio.sleep(WAIT_STEP_SECONDS)
        # The latest attempt: a retry after a decline may have replaced the one read before.
        attempt = await latest_attempt(order.id)
        assert attempt is not None


async def _create_intent(payments: Payments, order: Order, attempt: PaymentAttempt) -> PaymentAttempt:
    try:
        await create_attempt_intent(payments, order, attempt)
    except PaymentProviderError:
        await move_attempt(attempt.id, from_=AttemptStatus.CREATING, to=AttemptStatus.FAILED)
        raise
    return await PaymentAttempt.get(id=attempt.id)


async def create_attempt_intent(
    payments: Payments, order: Order, attempt: PaymentAttempt, *, claim_of: datetime | None = None
) -> bool:
    """Create (or, by the attempt's idempotency key, get back) the attempt's PaymentIntent and move the
    attempt CREATING → CREATED with it; False when the move lost.

    Conditional like every move: a claimant presumed dead that comes back late changes nothing when the
    request that took its claim over has already settled the attempt, and records nothing either."""
    intent = await payments.create_intent(
        amount=attempt.amount_minor_units,
        currency=attempt.currency,
        metadata={"order_id": str(order.id), "attempt_id": str(attempt.id)},
        idempotency_key=str(attempt.stripe_idempotency_key),
    )
    moved = await move_attempt(
        attempt.id,
        from_=AttemptStatus.CREATING,
        to=AttemptStatus.CREATED,
        claim_of=claim_of,
        payment_intent_id=intent.id,
        client_secret=intent.client_secret,
    )
    if moved:
        await ledger.record(
            order.id,
            PaymentEventKind.PAYMENT_INTENT_CREATED,
            amount=intent.amount,
            currency=order.currency,
            reference=intent.id,
        )
    return moved


async def checkout_complete(*, payments: Payments | None, viewer_id: int | None, order_id: UUID) -> Order:
    """Settle from the PaymentIntent's state at Stripe, for when the webhook is late; idempotent."""
    order = await order_for(order_id, viewer_id)
    if payments is None:
        raise PaymentsNotConfigured()
    attempt = await latest_attempt(order.id)
    if attempt is None or attempt.payment_intent_id is None:
        return order
    settled = await settle(await payments.get_intent(attempt.payment_intent_id))
    return settled or order
