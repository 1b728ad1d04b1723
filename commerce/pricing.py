"""What a cart costs: one delivery group per merchant, its shipping options and its discount code.

The rules, in order, for each merchant whose goods are in the cart (`price_cart`, a plain function the
cart, checkout and the tests all call):
1. The group holds that merchant's lines; its subtotal counts the lines that can be bought (for sale, in
   the cart's currency) at today's prices.
2. Its options are the merchant's live rates that ship to the address's country in the cart's currency,
   cheapest first (`commerce.shipping.offered`); each priced by `shipping_price` against the
   group's subtotal (so a free-over threshold applies per merchant). The chosen rate is the one the shopper
   selected while it is still an option, else the cheapest. No address, or no option: the group is not
   shippable; checkout refuses it (NOT_SHIPPABLE). A merchant who has set up no live rate at all ships
   with the price of the goods (one option, no rate, free, anywhere): shops that arrange delivery
   themselves sell as they did before rates existed.
3. At most one code per merchant. It discounts the group's lines (only its products' when restricted):
   PERCENT and FIXED by `commerce.discounts.discount_for`, shared across those lines by largest remainder
   so the shares add up to the discount exactly; FREE_SHIPPING takes the chosen option's price off
   shipping. A code that is inactive, outside its dates, used up, in another currency or below its
   minimum discounts nothing and says why.
4. The cart's total is subtotal + shipping − discounts, never below zero (each discount is at most what it
   discounts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from commerce.amounts import group_paid
from commerce.cart import CartContents
from commerce.discounts import allocate, discount_for, is_live
from commerce.shipping import offered, shipping_price
from core.errors import ErrorCode
from models import CartLine, ProductVariant
from models.fulfilment import DiscountCode, DiscountKind, ShippingRate

# A group is offered at most this many of its merchant's rates (the cheapest): enough to choose speed
# against price, and a bound the query cost of a cart can count on.
MAX_OPTIONS = 5


@dataclass(frozen=True)
class DeliveryOption:
    """A rate a group may ship with, and what it costs that group. `rate` None: the merchant has no rates
    and ships with the price of the goods."""

    rate: ShippingRate | None
    price_minor_units: int


@dataclass(frozen=True)
class AppliedCode:
    """A code on a group: what it takes off (lines and shipping), or why it takes nothing."""

    code: DiscountCode
    amount_minor_units: int = 0
    shipping_minor_units: int = 0
    # Why it discounts nothing now (DISCOUNT_EXPIRED, DISCOUNT_EXHAUSTED, DISCOUNT_NOT_APPLICABLE) and a
    # sentence to show; None while it applies.
    problem: ErrorCode | None = None
    message: str | None = None

    @property
    def total_minor_units(self) -> int:
        return self.amount_minor_units + self.shipping_minor_units


@dataclass
class DeliveryGroup:
    merchant_id: int
    lines: list[tuple[CartLine, ProductVariant]]
    subtotal_minor_units: int = 0
    options: list[DeliveryOption] = field(default_factory=list)
    selected: DeliveryOption | None = None
    code: AppliedCode | None = None
    # Each discounted line's share of the code's amount, by cart line id.
    line_discounts: dict[int, int] = field(default_factory=dict)

    @property
    def shippable(self) -> bool:
        return self.selected is not None

    @property
    def shipping_minor_units(self) -> int:
        return self.selected.price_minor_units if self.selected else 0

    @property
    def discount_minor_units(self) -> int:
        return self.code.amount_minor_units if self.code else 0

    @property
    def shipping_discount_minor_units(self) -> int:
        return self.code.shipping_minor_units if self.code else 0

    @property
    def total_minor_units(self) -> int:
        return group_paid(
            subtotal=self.subtotal_minor_units,
            shipping=self.shipping_minor_units,
            discount=self.discount_minor_units,
            shipping_discount=self.shipping_discount_minor_units,
        )


@dataclass
class CartPricing:
    currency: str | None
    country: str | None
    groups: list[DeliveryGroup]

    @property
    def subtotal_minor_units(self) -> int:
        return sum(g.subtotal_minor_units for g in self.groups)

    @property
    def shipping_minor_units(self) -> int:
        return sum(g.shipping_minor_units for g in self.groups)

    @property
    def discount_minor_units(self) -> int:
        """Everything the codes take off, lines and shipping together."""
        return sum(g.discount_minor_units + g.shipping_discount_minor_units for g in self.groups)

    @property
    def total_minor_units(self) -> int:
        return sum(g.total_minor_units for g in self.groups)

    def group_of(self, merchant_id: int) -> DeliveryGroup | None:
        return next((g for g in self.groups if g.merchant_id == merchant_id), None)

    def unshippable(self) -> list[DeliveryGroup]:
        """Groups with something to buy and no way to ship it."""
        return [g for g in self.groups if g.subtotal_minor_units > 0 and not g.shippable]

    def line_discount(self, line_id: int) -> int:
        return sum(g.line_discounts.get(line_id, 0) for g in self.groups)


def price_cart(
    contents: CartContents,
    *,
    rates: Iterable[ShippingRate],
    codes: Iterable[DiscountCode],
    now: datetime,
    country: str | None = None,
) -> CartPricing:
    """The cart's delivery groups priced for `country` (default: the cart's shipping address's), with the
    shopper's chosen rates and applied codes. `rates`: the merchants' live rates (others are ignored);
    `codes`: the cart's codes as stored now."""
    cart = contents.cart
    currency = cart.currency
    if country is None:
        country = (cart.shipping_address or {}).get("country")
    country = country.strip().upper() if country else None
    payable = {line.id for line, _ in contents.payable()}
    by_merchant: dict[int, list[tuple[CartLine, ProductVariant]]] = {}
    for line, variant in contents.lines:
        by_merchant.setdefault(contents.merchant_of[variant.id], []).append((line, variant))
    rates_of: dict[int, list[ShippingRate]] = {}
    for rate in rates:
        rates_of.setdefault(rate.merchant_id, []).append(rate)  # type: ignore[attr-defined]
    code_of: dict[int, DiscountCode] = {}
    for each in sorted(codes, key=lambda c: c.id):
        code_of.setdefault(each.merchant_id, each)  # type: ignore[attr-defined]
    chosen: Mapping[str, int] = cart.delivery_rate_ids or {}
    groups = []
    for merchant_id, lines in by_merchant.items():
        group = DeliveryGroup(merchant_id, lines)
        buyable = [(line, v) for line, v in lines if line.id in payable]
        group.subtotal_minor_units = sum(v.price_minor_units * line.quantity for line, v in buyable)
        group.options = _options(rates_of.get(merchant_id, []), country, currency, group.subtotal_minor_units)
        wanted = chosen.get(str(merchant_id))
        group.selected = next((o for o in group.options if o.rate and o.rate.id == wanted), None) or (
            group.options[0] if group.options else None
        )
        code = code_of.get(merchant_id)
        if code is not None:
            _apply(group, code, buyable, currency, now)
        groups.append(group)
    return CartPricing(currency, country, groups)


async def priced(
    contents: CartContents, *, country: str | None = None, now: datetime | None = None
) -> CartPricing:
    """`price_cart` with what it needs read: the merchants' live rates and the cart's codes (one statement
    each, the second only when the cart has codes)."""
    merchants = set(contents.merchant_of.values())
    rates = await ShippingRate.filter(merchant_id__in=merchants, archived_at=None) if merchants else []
    code_ids = list((contents.cart.discount_code_ids or {}).values())
    codes = await DiscountCode.filter(id__in=code_ids) if code_ids else []
    return price_cart(contents, rates=rates, codes=codes, now=now or datetime.now(UTC), country=country)


def not_shippable_message(group: DeliveryGroup, country: str | None) -> str | None:
    """Why `group` cannot ship, fit to show; None when it can."""
    if group.shippable:
        return None
    if country is None:
        return "Set the shipping address (cartShippingAddressSet) to see this seller's delivery options."
    return f"This seller does not ship to {country}; remove their items or ship elsewhere."


def _options(
    rates: list[ShippingRate], country: str | None, currency: str | None, subtotal: int
) -> list[DeliveryOption]:
    if not any(r.archived_at is None for r in rates):
        return [DeliveryOption(None, 0)]
    return [
        DeliveryOption(r, shipping_price(r, subtotal))
        for r in offered(rates, country, currency)[:MAX_OPTIONS]
    ]


def code_problem(
    code: DiscountCode, eligible_subtotal: int, currency: str | None, now: datetime
) -> tuple[ErrorCode, str] | None:
    """Why `code` discounts nothing on lines coming to `eligible_subtotal` (its merchant's, or its
    products'), or None when it applies. Its per-customer limit is checked apart: it needs the customer."""
    return state_problem(code, now) or fit_problem(code, eligible_subtotal, currency)


def state_problem(code: DiscountCode, now: datetime) -> tuple[ErrorCode, str] | None:
    """What is wrong with the code itself at `now`: inactive or outside its dates, or used up."""
    if not code.active:
        return ErrorCode.DISCOUNT_EXPIRED, f"The code {code.code} is no longer active."
    if not is_live(code, now):
        when = "has not started yet" if code.starts_at is not None and now < code.starts_at else "has ended"
        return ErrorCode.DISCOUNT_EXPIRED, f"The code {code.code} {when}."
    if code.usage_limit is not None and code.uses >= code.usage_limit:
        return ErrorCode.DISCOUNT_EXHAUSTED, f"The code {code.code} has been used up."
    return None


def fit_problem(
    code: DiscountCode, eligible_subtotal: int, currency: str | None
) -> tuple[ErrorCode, str] | None:
    """Why the code does not fit lines coming to `eligible_subtotal` in `currency`."""
    if eligible_subtotal <= 0:
        return ErrorCode.DISCOUNT_NOT_APPLICABLE, f"Nothing in the cart is discounted by {code.code}."
    if code.kind is DiscountKind.FIXED and code.currency != currency:
        return (
            ErrorCode.DISCOUNT_NOT_APPLICABLE,
            f"The code {code.code} is in {code.currency}; this cart is in {currency}.",
        )
    if eligible_subtotal < code.min_subtotal_minor_units:
        return (
            ErrorCode.DISCOUNT_NOT_APPLICABLE,
            f"The code {code.code} applies from a subtotal of {code.min_subtotal_minor_units} "
            "(minor units) of its items.",
        )
    return None


def eligible_lines(
    code: DiscountCode, lines: Iterable[tuple[CartLine, ProductVariant]]
) -> list[tuple[CartLine, ProductVariant]]:
    """The lines `code` discounts: its merchant's buyable lines, only its products' when restricted."""
    restricted = set(code.product_ids or [])
    return [(line, v) for line, v in lines if not restricted or v.product_id in restricted]  # type: ignore[attr-defined]


def _apply(
    group: DeliveryGroup,
    code: DiscountCode,
    buyable: list[tuple[CartLine, ProductVariant]],
    currency: str | None,
    now: datetime,
) -> None:
    lines = eligible_lines(code, buyable)
    weights = [v.price_minor_units * line.quantity for line, v in lines]
    subtotal = sum(weights)
    problem = code_problem(code, subtotal, currency, now)
    if problem is not None:
        group.code = AppliedCode(code, problem=problem[0], message=problem[1])
        return
    if code.kind is DiscountKind.FREE_SHIPPING:
        group.code = AppliedCode(code, shipping_minor_units=group.shipping_minor_units)
        return
    amount = discount_for(code, subtotal, now)
    shares = allocate(amount, weights)
    group.line_discounts = {line.id: share for (line, _), share in zip(lines, shares, strict=True) if share}
    group.code = AppliedCode(code, amount_minor_units=amount)
