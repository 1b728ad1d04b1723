"""How a cart is priced, as clients see it: delivery groups per merchant, their options, the codes applied
and each line's share of a discount. The rules are commerce/pricing.py; these types only show them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.amounts import group_paid
from commerce.pricing import (
    AppliedCode,
    CartPricing,
    DeliveryGroup,
    DeliveryOption,
    not_shippable_message,
)
from core.errors import ErrorCode
from core.ids import to_global_id
from models.fulfilment import OrderDeliveryGroup
from schema.commerce.discounts import DiscountKindEnum
from schema.commerce.shipping import ShippingRateType
from schema.context import Info
from schema.errors import ErrorCodeEnum
from schema.money import Money

if TYPE_CHECKING:
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]


@strawberry.type(description="When a delivery option brings the goods, counted in days from today.")
class DeliveryEstimate:
    min_days: int = strawberry.field(description="The fewest days delivery takes.")
    max_days: int = strawberry.field(description="The most days delivery takes.")
    earliest: date = strawberry.field(description="Today plus minDays (UTC).")
    latest: date = strawberry.field(description="Today plus maxDays (UTC).")

    @classmethod
    def of(cls, least: int, most: int) -> DeliveryEstimate:
        today = datetime.now(UTC).date()
        return cls(
            min_days=least,
            max_days=most,
            earliest=today + timedelta(days=least),
            latest=today + timedelta(days=most),
        )


@strawberry.type(
    name="DeliveryOption", description="A way one merchant's goods can ship, and what it costs them here."
)
class DeliveryOptionType:
    option: strawberry.Private[DeliveryOption]
    currency: strawberry.Private[str]

    @strawberry.field(
        description="The merchant's rate; pass its id to cartDeliveryOptionSelect. Null when the merchant "
        "has set up no shipping rates: delivery comes with the price of the goods."
    )
    def rate(self) -> ShippingRateType | None:
        return ShippingRateType.from_row(self.option.rate) if self.option.rate else None

    @strawberry.field(
        description="What shipping this group costs with it: the rate's price, or 0 when the group's "
        "subtotal reaches the rate's free-over threshold."
    )
    def price(self) -> Money:
        return Money.of(self.option.price_minor_units, self.currency)

    @strawberry.field(description="When the goods would arrive; null when the merchant gave no rate.")
    def estimated_delivery(self) -> DeliveryEstimate | None:
        rate = self.option.rate
        return DeliveryEstimate.of(rate.min_delivery_days, rate.max_delivery_days) if rate else None


@strawberry.type(name="CartDiscount", description="A discount code on the cart and what it takes off.")
class CartDiscountType:
    applied: strawberry.Private[AppliedCode]
    currency: strawberry.Private[str]
    code: str = strawberry.field(description="The code, upper case.")
    kind: DiscountKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="How it discounts."
    )

    @classmethod
    def of(cls, applied: AppliedCode, currency: str) -> CartDiscountType:
        return cls(applied=applied, currency=currency, code=applied.code.code, kind=applied.code.kind)

    @strawberry.field(
        description="What it takes off, lines and shipping together (0 when it does not apply)."
    )
    def amount(self) -> Money:
        return Money.of(self.applied.total_minor_units, self.currency)

    @strawberry.field(description="Of `amount`, what comes off shipping (FREE_SHIPPING).")
    def shipping_amount(self) -> Money:
        return Money.of(self.applied.shipping_minor_units, self.currency)

    @strawberry.field(description="Whose code it is: it discounts only that merchant's items.")
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.applied.code.merchant_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Why the code takes nothing off now (DISCOUNT_EXPIRED, DISCOUNT_EXHAUSTED, "
        "DISCOUNT_NOT_APPLICABLE); null while it applies. Checkout refuses a cart with such a code."
    )
    def problem(self) -> ErrorCodeEnum | None:  # type: ignore[valid-type]
        return self.applied.problem

    @strawberry.field(description="The problem as an English sentence fit to show; null while it applies.")
    def message(self) -> str | None:
        return self.applied.message


@strawberry.type(description="A share of a discount on one cart line.")
class DiscountAllocation:
    code: str = strawberry.field(description="The code that gives it.")
    amount: Money = strawberry.field(description="The line's share, in whole minor units.")


@strawberry.type(
    name="DeliveryGroup",
    description="One merchant's part of a cart: their items, how they ship and what they come to. "
    "Merchants ship their own goods, so each group has its own delivery option.",
)
class DeliveryGroupType:
    group: strawberry.Private[DeliveryGroup]
    currency: strawberry.Private[str]
    country: strawberry.Private[str | None]
    line_ids: list[strawberry.ID] = strawberry.field(description="The group's CartLine ids.")

    @classmethod
    def of(cls, group: DeliveryGroup, currency: str, country: str | None) -> DeliveryGroupType:
        return cls(
            group=group,
            currency=currency,
            country=country,
            line_ids=[strawberry.ID(to_global_id("CartLine", line.id)) for line, _ in group.lines],
        )

    @strawberry.field(description="Who sells and ships these items.")
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.group.merchant_id)

    @strawberry.field(description="The items' subtotal at today's prices, before discounts.")
    def subtotal(self) -> Money:
        return Money.of(self.group.subtotal_minor_units, self.currency)

    @strawberry.field(
        description="How the group can ship to the cart's address, cheapest first; empty while no address "
        "is set or when the merchant does not ship there."
    )
    def options(self) -> list[DeliveryOptionType]:
        return [DeliveryOptionType(option=o, currency=self.currency) for o in self.group.options]

    @strawberry.field(
        description="The option checkout charges: the one chosen with cartDeliveryOptionSelect while it is "
        "offered, else the cheapest; null when the group cannot ship (checkout refuses: NOT_SHIPPABLE)."
    )
    def selected_option(self) -> DeliveryOptionType | None:
        selected = self.group.selected
        return DeliveryOptionType(option=selected, currency=self.currency) if selected else None

    @strawberry.field(description="False when the group has no option: no address yet, or none for it.")
    def shippable(self) -> bool:
        return self.group.shippable

    @strawberry.field(
        description="NOT_SHIPPABLE when the group cannot ship (checkout refuses the cart with that code); "
        "null when it can."
    )
    def problem(self) -> ErrorCodeEnum | None:  # type: ignore[valid-type]
        return None if self.group.shippable else ErrorCode.NOT_SHIPPABLE

    @strawberry.field(description="Why the group cannot ship, fit to show; null when it can.")
    def message(self) -> str | None:
        return not_shippable_message(self.group, self.country)

    @strawberry.field(description="What shipping the group costs with the selected option.")
    def shipping(self) -> Money:
        return Money.of(self.group.shipping_minor_units, self.currency)

    @strawberry.field(description="The merchant's code on the group, if any.")
    def discount(self) -> CartDiscountType | None:
        code = self.group.code
        return CartDiscountType.of(code, self.currency) if code else None

    @strawberry.field(description="The group's subtotal + shipping − its discount.")
    def total(self) -> Money:
        return Money.of(self.group.total_minor_units, self.currency)


def groups_of(pricing: CartPricing) -> list[DeliveryGroupType]:
    currency = pricing.currency
    if currency is None:
        return []
    return [DeliveryGroupType.of(g, currency, pricing.country) for g in pricing.groups]


def discounts_of(pricing: CartPricing) -> list[CartDiscountType]:
    currency = pricing.currency
    if currency is None:
        return []
    return [CartDiscountType.of(g.code, currency) for g in pricing.groups if g.code is not None]


def allocations_of(pricing: CartPricing, line_id: int) -> list[DiscountAllocation]:
    currency = pricing.currency
    if currency is None:
        return []
    return [
        DiscountAllocation(code=g.code.code.code, amount=Money.of(g.line_discounts[line_id], currency))
        for g in pricing.groups
        if g.code is not None and line_id in g.line_discounts
    ]


@strawberry.type(
    name="OrderDeliveryGroup",
    description="One merchant's part of an order as it was bought: the rate chosen (copied: later edits of "
    "the rate never change it), and what shipping and discounts came to.",
)
class OrderDeliveryGroupType:
    row: strawberry.Private[OrderDeliveryGroup]
    currency: strawberry.Private[str]
    rate_name: str = strawberry.field(
        description="The rate's name at checkout; empty when the merchant had no rates (shipping came with "
        "the price of the goods)."
    )
    discount_code: str | None = strawberry.field(description="The merchant's code used; null when none.")

    @classmethod
    def of(cls, row: OrderDeliveryGroup, currency: str) -> OrderDeliveryGroupType:
        return cls(row=row, currency=currency, rate_name=row.rate_name, discount_code=row.discount_code)

    @strawberry.field(description="Who sells and ships this part.")
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.merchant_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The delivery time promised at checkout; null when no rate was chosen.")
    def estimated_delivery(self) -> DeliveryEstimate | None:
        least, most = self.row.min_delivery_days, self.row.max_delivery_days
        if least is None or most is None:
            return None
        return DeliveryEstimate.of(least, most)

    @strawberry.field(description="The merchant's lines at their checkout prices.")
    def subtotal(self) -> Money:
        return Money.of(self.row.subtotal_minor_units, self.currency)

    @strawberry.field(description="Shipping charged for this part, before any code.")
    def shipping(self) -> Money:
        return Money.of(self.row.shipping_minor_units, self.currency)

    @strawberry.field(description="What the code took off, lines and shipping together.")
    def discount(self) -> Money:
        return Money.of(self.row.discount_minor_units + self.row.shipping_discount_minor_units, self.currency)

    @strawberry.field(description="What the buyer paid for this part: subtotal + shipping − discount.")
    def total(self) -> Money:
        row = self.row
        paid = group_paid(
            subtotal=row.subtotal_minor_units,
            shipping=row.shipping_minor_units,
            discount=row.discount_minor_units,
            shipping_discount=row.shipping_discount_minor_units,
        )
        return Money.of(paid, self.currency)
