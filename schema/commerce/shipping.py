"""Shipping rates, the merchant's side: shippingRateCreate, shippingRateUpdate, shippingRateArchive and
`viewer.shippingRates`. The rules are in commerce.shipping; the cart and checkout use them next."""

from __future__ import annotations

from typing import Annotated

import strawberry

from commerce.shipping import (
    MAX_COUNTRIES,
    MAX_DELIVERY_DAYS,
    MAX_LIVE_RATES,
    MAX_NAME,
    RateSpec,
    archive_rate,
    create_rate,
    merchant_rates,
    update_rate,
)
from core.ids import decode_global_id, to_global_id
from models.fulfilment import ShippingRate
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors
from schema.money import Money

COUNTRIES_RULES = (
    f"ISO 3166-1 alpha-2 codes (CN, US, JP …), 1 to {MAX_COUNTRIES}, any case: stored upper case, each once "
    "(INVALID for an unknown code)."
)
DAYS_RULES = f"0 ≤ minDeliveryDays ≤ maxDeliveryDays ≤ {MAX_DELIVERY_DAYS} (OUT_OF_RANGE)."
FREE_OVER_RULES = (
    "A group of this merchant's goods whose subtotal reaches this many minor units ships free with this "
    "rate; null: never free."
)


@strawberry.type(
    name="ShippingRate",
    description="How a merchant ships: to which countries, for how much, how fast. A cart's delivery group "
    "for the merchant is offered the merchant's live rates for the shipping address's country.",
)
class ShippingRateType:
    id: strawberry.ID = strawberry.field(description="The ShippingRate id.")
    name: str = strawberry.field(description='What shoppers see, e.g. "Standard" or "SF Express next day".')
    countries: list[str] = strawberry.field(
        description="Where it ships: ISO 3166-1 alpha-2 codes, upper case."
    )
    price: Money = strawberry.field(description="What shipping a group costs with this rate (0: free).")
    free_over: Money | None = strawberry.field(description=FREE_OVER_RULES)
    min_delivery_days: int = strawberry.field(description="The fewest days delivery takes.")
    max_delivery_days: int = strawberry.field(description="The most days delivery takes.")
    archived: bool = strawberry.field(
        description="Offered no more (orders that chose it keep their own copy)."
    )

    @classmethod
    def from_row(cls, row: ShippingRate) -> ShippingRateType:
        free_over = row.free_over_minor_units
        return cls(
            id=strawberry.ID(to_global_id("ShippingRate", row.id)),
            name=row.name,
            countries=list(row.countries or []),
            price=Money.of(row.price_minor_units, row.currency),
            free_over=Money.of(free_over, row.currency) if free_over is not None else None,
            min_delivery_days=row.min_delivery_days,
            max_delivery_days=row.max_delivery_days,
            archived=row.archived_at is not None,
        )


@strawberry.input(description="A new shipping rate.")
class ShippingRateCreateInput:
    name: str = strawberry.field(description=f"1–{MAX_NAME} characters.")
    countries: list[str] = strawberry.field(description=COUNTRIES_RULES)
    price_minor_units: int = strawberry.field(
        description="The price in minor units of `currency`, 0 (free) up to what one payment can charge."
    )
    currency: str = strawberry.field(
        description="ISO 4217, as product prices (INVALID_CURRENCY otherwise); a delivery group is offered "
        "the rates in its goods' currency."
    )
    min_delivery_days: int = strawberry.field(description=DAYS_RULES)
    max_delivery_days: int = strawberry.field(description=DAYS_RULES)
    free_over_minor_units: int | None = strawberry.field(default=None, description=FREE_OVER_RULES)


@strawberry.input(description="The fields of a shipping rate to change; those left out stay as they are.")
class ShippingRateUpdateInput:
    id: strawberry.ID = strawberry.field(description="The ShippingRate id; it must be yours.")
    name: str | None = strawberry.field(default=None, description=f"1–{MAX_NAME} characters.")
    countries: list[str] | None = strawberry.field(
        default=None, description=f"Replaces the list. {COUNTRIES_RULES}"
    )
    price_minor_units: int | None = strawberry.field(default=None, description="The new price.")
    currency: str | None = strawberry.field(default=None, description="ISO 4217, as product prices.")
    min_delivery_days: int | None = strawberry.field(default=None, description=DAYS_RULES)
    max_delivery_days: int | None = strawberry.field(default=None, description=DAYS_RULES)
    free_over_minor_units: int | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"{FREE_OVER_RULES} Left out: unchanged; null: never free from now on.",
    )


@strawberry.type(description="The result of shippingRateCreate, shippingRateUpdate and shippingRateArchive.")
class ShippingRatePayload:
    shipping_rate: ShippingRateType | None = strawberry.field(
        default=None, description="The rate as stored now; null when refused."
    )
    errors: list[UserError] = payload_errors()


def _rate_id(global_id: strawberry.ID) -> int:
    return decode_global_id(global_id, "ShippingRate", "id")


@strawberry.type
class ShippingMutation:
    @strawberry.mutation(
        description=f"Add a way you ship your goods. At most {MAX_LIVE_RATES} live rates (TOO_MANY); "
        "archived ones do not count."
    )
    @returns_errors
    async def shipping_rate_create(
        self,
        info: Info,
        input: Annotated[ShippingRateCreateInput, strawberry.argument(description="The rate.")],
    ) -> ShippingRatePayload:
        rate = await create_rate(
            merchant_id=info.context.require_viewer_id(),
            spec=RateSpec(
                name=input.name,
                countries=input.countries,
                price_minor_units=input.price_minor_units,
                currency=input.currency,
                free_over_minor_units=input.free_over_minor_units,
                min_delivery_days=input.min_delivery_days,
                max_delivery_days=input.max_delivery_days,
            ),
        )
        return ShippingRatePayload(shipping_rate=ShippingRateType.from_row(rate))

    @strawberry.mutation(
        description="Change one of your shipping rates (NOT_FOUND for none, FORBIDDEN for someone else's). "
        "Orders already placed keep the rate and price they chose."
    )
    @returns_errors
    async def shipping_rate_update(
        self,
        info: Info,
        input: Annotated[ShippingRateUpdateInput, strawberry.argument(description="What to change.")],
    ) -> ShippingRatePayload:
        merchant_id = info.context.require_viewer_id()
        set_free_over = input.free_over_minor_units is not strawberry.UNSET
        rate = await update_rate(
            merchant_id=merchant_id,
            rate_id=_rate_id(input.id),
            spec=RateSpec(
                name=input.name,
                countries=input.countries,
                price_minor_units=input.price_minor_units,
                currency=input.currency,
                free_over_minor_units=input.free_over_minor_units if set_free_over else None,
                min_delivery_days=input.min_delivery_days,
                max_delivery_days=input.max_delivery_days,
                set_free_over=set_free_over,
            ),
        )
        return ShippingRatePayload(shipping_rate=ShippingRateType.from_row(rate))

    @strawberry.mutation(
        description="Stop offering one of your shipping rates (NOT_FOUND for none, FORBIDDEN for someone "
        "else's); archiving it again changes nothing. Orders that chose it keep their copy."
    )
    @returns_errors
    async def shipping_rate_archive(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The ShippingRate id.")],
    ) -> ShippingRatePayload:
        merchant_id = info.context.require_viewer_id()
        rate = await archive_rate(merchant_id=merchant_id, rate_id=_rate_id(id))
        return ShippingRatePayload(shipping_rate=ShippingRateType.from_row(rate))


async def viewer_shipping_rates(owner_id: int, *, include_archived: bool) -> list[ShippingRateType]:
    """`User.shippingRates`: the merchant's live rates, oldest first, then (when asked) archived ones."""
    rows = await merchant_rates(owner_id, include_archived=include_archived)
    return [ShippingRateType.from_row(row) for row in rows]
