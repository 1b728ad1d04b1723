"""What a shopper chooses for a cart besides its items: where it ships, how, and which discount codes.

Each choice is checked against the cart as it is and stored on the cart row (`shipping_address`,
`delivery_rate_ids` and `discount_code_ids`, the last two by merchant id), under the cart's row lock, so
two choices made at once both stay. Pricing reads them (commerce/pricing.py) and ignores what no longer
fits (a rate archived since, a merchant whose items were removed); checkout re-checks everything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from commerce.addresses import Address, check_address
from commerce.cart import CartContents, cart_for, contents_of
from commerce.discounts import normalize_code
from commerce.errors import CartClosed
from commerce.pricing import MAX_OPTIONS, eligible_lines, fit_problem, priced, state_problem
from commerce.redemptions import customer_uses
from core.errors import DomainError, ErrorCode, NotFound
from core.retry import retry_on_conflict
from core.validation import Checks
from models import Cart, CartStatus
from models.fulfilment import DiscountCode, ShippingRate


async def _claimed(cart_id: UUID, viewer_id: int | None) -> Cart:
    """The open cart this viewer may change, its row locked (PostgreSQL) for the rest of the transaction."""
    cart = await Cart.filter(Q(owner_id=None) | Q(owner_id=viewer_id), id=cart_id).select_for_update().first()
    if cart is None:
        await cart_for(cart_id, viewer_id)  # NOT_FOUND, as for any cart this viewer may not use
        raise NotFound("Cart", "cart_id")
    if cart.status != CartStatus.OPEN:
        raise CartClosed(
            "cart_id", message="This cart has been checked out and can no longer change; start a new cart."
        )
    return cart


@retry_on_conflict
async def set_shipping_address(*, cart_id: UUID, viewer_id: int | None, address: Address) -> CartContents:
    """Where the cart ships: checked whole (every problem at once), then delivery options are priced for
    its country."""
    checks = Checks()
    clean = check_address(checks, address, ("address",))
    checks.done()
    async with in_transaction():
        await _claimed(cart_id, viewer_id)
        await Cart.filter(id=cart_id).update(shipping_address=clean, updated_at=datetime.now(UTC))
        return await contents_of(cart_id)


@retry_on_conflict
async def select_delivery_option(
    *, cart_id: UUID, viewer_id: int | None, merchant_id: int, rate_id: int
) -> CartContents:
    """Ship `merchant_id`'s items with `rate_id`: one of that merchant's live rates that ships to the cart's
    address in the cart's currency."""
    async with in_transaction():
        cart = await _claimed(cart_id, viewer_id)
        contents = await contents_of(cart_id)
        if merchant_id not in contents.merchant_of.values():
            raise DomainError(
                ErrorCode.INVALID, "Nothing in this cart is sold by this merchant.", "merchant_id"
            )
        rate = await ShippingRate.get_or_none(id=rate_id, merchant_id=merchant_id, archived_at=None)
        if rate is None:
            raise NotFound("Shipping rate", "rate_id")
        country = (cart.shipping_address or {}).get("country")
        if country is None:
            raise DomainError(
                ErrorCode.REQUIRED, "Set the shipping address first (cartShippingAddressSet).", "cart_id"
            )
        if country not in (rate.countries or []) or rate.currency != cart.currency:
            raise DomainError(
                ErrorCode.NOT_SHIPPABLE,
                f"{rate.name} does not ship to {country} in {cart.currency}; pick another option.",
                "rate_id",
            )
        group = (await priced(contents)).group_of(merchant_id)
        if group is None or all(o.rate is None or o.rate.id != rate.id for o in group.options):
            raise DomainError(
                ErrorCode.INVALID,
                f"{rate.name} is not among the {MAX_OPTIONS} options offered for these items; pick one.",
                "rate_id",
            )
        chosen: dict[str, Any] = dict(cart.delivery_rate_ids or {})
        chosen[str(merchant_id)] = rate.id
        await Cart.filter(id=cart_id).update(delivery_rate_ids=chosen, updated_at=datetime.now(UTC))
        return await contents_of(cart_id)


@retry_on_conflict
async def apply_code(
    *, cart_id: UUID, viewer_id: int | None, code: str, now: datetime | None = None
) -> CartContents:
    """Put a merchant's discount code on the cart; applying it again changes nothing. Refused, with the
    reason's code, when it does not exist or is inactive (NOT_FOUND), is outside its dates
    (DISCOUNT_EXPIRED), is used up or by this shopper as often as allowed (DISCOUNT_EXHAUSTED), discounts
    nothing here (DISCOUNT_NOT_APPLICABLE), or the cart has another code of the same merchant
    (DISCOUNT_NOT_COMBINABLE)."""
    moment = now or datetime.now(UTC)
    wanted = normalize_code(code)
    found = await DiscountCode.get_or_none(code=wanted, active=True) if wanted else None
    if found is None:
        raise NotFound("Discount code", "code")
    merchant_id: int = found.merchant_id  # type: ignore[attr-defined]
    problem = state_problem(found, moment)
    if problem is not None:
        raise DomainError(problem[0], problem[1], "code")
    async with in_transaction():
        cart = await _claimed(cart_id, viewer_id)
        applied: dict[str, Any] = dict(cart.discount_code_ids or {})
        other = applied.get(str(merchant_id))
        if other == found.id:
            return await contents_of(cart_id)
        if other is not None:
            raise DomainError(
                ErrorCode.DISCOUNT_NOT_COMBINABLE,
                "The cart already has a code of this merchant: one code per merchant. Remove it first.",
                "code",
            )
        contents = await contents_of(cart_id)
        lines = [(line, v) for line, v in contents.payable() if contents.merchant_of[v.id] == merchant_id]
        if not lines:
            raise DomainError(
                ErrorCode.DISCOUNT_NOT_APPLICABLE,
                f"The code {found.code} is for another shop's items; nothing in this cart is theirs.",
                "code",
            )
        subtotal = sum(v.price_minor_units * line.quantity for line, v in eligible_lines(found, lines))
        problem = fit_problem(found, subtotal, cart.currency)
        if problem is not None:
            raise DomainError(problem[0], problem[1], "code")
        limit = found.per_customer_limit
        if (
            viewer_id is not None
            and limit is not None
            and (await customer_uses([found.id], viewer_id, None)).get(found.id, 0) >= limit
        ):
            raise DomainError(
                ErrorCode.DISCOUNT_EXHAUSTED,
                f"You have used {found.code} as often as it may be used.",
                "code",
            )
        applied[str(merchant_id)] = found.id
        await Cart.filter(id=cart_id).update(discount_code_ids=applied, updated_at=datetime.now(UTC))
        return await contents_of(cart_id)


@retry_on_conflict
async def remove_code(*, cart_id: UUID, viewer_id: int | None, code: str) -> CartContents:
    """Take a code off the cart; NOT_FOUND when the cart does not carry it."""
    wanted = normalize_code(code)
    async with in_transaction():
        cart = await _claimed(cart_id, viewer_id)
        applied: dict[str, Any] = dict(cart.discount_code_ids or {})
        ids = set(applied.values())
        found = await DiscountCode.get_or_none(code=wanted, id__in=ids) if wanted and ids else None
        if found is None:
            raise NotFound("Discount code", "code")
        applied = {merchant: code_id for merchant, code_id in applied.items() if code_id != found.id}
        await Cart.filter(id=cart_id).update(discount_code_ids=applied, updated_at=datetime.now(UTC))
        return await contents_of(cart_id)
