"""Discount codes as merchants see them: create, deactivate, and list them with their uses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.discounts import (
    DiscountCodeSpec,
    create_discount_code,
    deactivate_discount_code,
)
from core.cursors import PageRequest
from core.ids import decode_global_id, to_global_id
from models import DiscountCode, DiscountKind
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.loaders import load_all
from schema.money import Money
from schema.relay import Connection, keyset_connection

if TYPE_CHECKING:
    from schema.catalog.types import ProductType

ProductRef = Annotated["ProductType", strawberry.lazy("schema.catalog.types")]

DiscountKindEnum = described_enum(
    DiscountKind,
    name="DiscountKind",
    description="What a discount code takes off.",
    values={
        "PERCENT": "A share of the merchant's (or the code's products') lines: `value` in basis points, "
        "1500 = 15 %, rounded down to a whole minor unit.",
        "FIXED": "An amount off those lines (`value` minor units of the code's currency), never more than "
        "they come to.",
        "FREE_SHIPPING": "The merchant's shipping is free; `value` is 0.",
    },
)


@strawberry.type(name="DiscountCode", description="A merchant's discount code, with how often it was used.")
class DiscountCodeType:
    row: strawberry.Private[DiscountCode]
    id: strawberry.ID = strawberry.field(description="Opaque id: pass it to discountCodeDeactivate.")
    code: str = strawberry.field(description="The code, upper case; shoppers may type it in any case.")
    kind: DiscountKindEnum = strawberry.field(description="What it takes off.")  # type: ignore[valid-type]
    value: int = strawberry.field(
        description="PERCENT: basis points (1500 = 15 %); FIXED: minor units of `amount.currency`; "
        "FREE_SHIPPING: 0."
    )
    amount: Money | None = strawberry.field(description="FIXED codes: the amount off; null for other kinds.")
    min_subtotal: Money | None = strawberry.field(
        description="The least the discounted lines must come to; null when there is no minimum."
    )
    starts_at: datetime | None = strawberry.field(description="When it starts to apply; null: at once.")
    ends_at: datetime | None = strawberry.field(description="When it stops applying; null: never.")
    usage_limit: int | None = strawberry.field(description="How many orders may use it; null: no limit.")
    per_customer_limit: int | None = strawberry.field(
        description="How many orders one shopper may use it on; null: no limit."
    )
    uses: int = strawberry.field(
        description="Uses taken: by paid orders and by orders awaiting payment (given back if they are not "
        "paid). Never above `usageLimit`."
    )
    active: bool = strawberry.field(description="False once deactivated: no new cart can use it.")
    created_at: datetime = strawberry.field(description="When it was made.")

    @classmethod
    def from_row(cls, row: DiscountCode) -> DiscountCodeType:
        currency = row.currency
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("DiscountCode", row.id)),
            code=row.code,
            kind=row.kind,
            value=row.value,
            amount=Money.of(row.value, currency) if row.kind is DiscountKind.FIXED and currency else None,
            min_subtotal=Money.of(row.min_subtotal_minor_units, currency)
            if row.min_subtotal_minor_units and currency
            else None,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            usage_limit=row.usage_limit,
            per_customer_limit=row.per_customer_limit,
            uses=row.uses,
            active=row.active,
            created_at=row.created_at,
        )

    @strawberry.field(
        description="The products it is restricted to; empty when it applies to all of the merchant's "
        "products. Products no longer listed are left out."
    )
    async def products(self, info: Info) -> list[ProductRef]:
        from schema.catalog.types import ProductType

        found = await load_all(info.context.loaders.product_by_id, list(self.row.product_ids))
        return [ProductType.from_row(p) for p in found if p is not None]


async def discount_code_connection(merchant_id: int, request: PageRequest) -> Connection[DiscountCodeType]:
    """A merchant's codes, newest first (viewer.discountCodes)."""
    codes = DiscountCode.filter(merchant_id=merchant_id)
    return await keyset_connection(codes, request, DiscountCodeType.from_row, total_count=codes.count)


@strawberry.input(description="A new discount code.")
class DiscountCodeCreateInput:
    code: str = strawberry.field(
        description="3–32 characters of A–Z, 0–9, - and _ (any case; stored upper case), unique across the "
        "site: a taken code is ALREADY_EXISTS."
    )
    kind: DiscountKindEnum = strawberry.field(description="What it takes off.")  # type: ignore[valid-type]
    value: int = strawberry.field(
        description="PERCENT: basis points, 1–10,000 (1500 = 15 %); FIXED: minor units above 0, at most "
        "99,999,999 (1250 = 12.50 CNY); FREE_SHIPPING: 0."
    )
    currency: str | None = strawberry.field(
        default=None,
        description="ISO 4217 (any case), required for FIXED and with a minimum subtotal; others are "
        "INVALID_CURRENCY.",
    )
    min_subtotal_minor_units: int = strawberry.field(
        default=0, description="The least the discounted lines must come to, in minor units; 0: no minimum."
    )
    starts_at: datetime | None = strawberry.field(default=None, description="From when; null: at once.")
    ends_at: datetime | None = strawberry.field(
        default=None, description="Until when (after `startsAt`); null: no end."
    )
    usage_limit: int | None = strawberry.field(
        default=None, description="How many orders may use it, 1–1,000,000; null: no limit."
    )
    per_customer_limit: int | None = strawberry.field(
        default=None, description="How many orders one shopper may use it on, 1–1,000,000; null: no limit."
    )
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Restrict it to these products of yours (up to 100); empty: all your products.",
    )


@strawberry.type(description="The result of discountCodeCreate.")
class DiscountCodeCreatePayload:
    discount_code: DiscountCodeType | None = strawberry.field(
        default=None, description="The new code; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of discountCodeDeactivate.")
class DiscountCodeDeactivatePayload:
    discount_code: DiscountCodeType | None = strawberry.field(
        default=None, description="The code, now inactive; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type
class DiscountMutation:
    @strawberry.mutation(description="Make a discount code for your products (you are its merchant).")
    @returns_errors
    async def discount_code_create(
        self,
        info: Info,
        input: Annotated[DiscountCodeCreateInput, strawberry.argument(description="The code to make.")],
    ) -> DiscountCodeCreatePayload:
        merchant_id = info.context.require_viewer_id()
        spec = DiscountCodeSpec(
            code=input.code,
            kind=DiscountKind(input.kind),
            value=input.value,
            currency=input.currency,
            min_subtotal_minor_units=input.min_subtotal_minor_units,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            usage_limit=input.usage_limit,
            per_customer_limit=input.per_customer_limit,
            product_ids=[
                decode_global_id(g, "Product", ("product_ids", i)) for i, g in enumerate(input.product_ids)
            ],
        )
        code = await create_discount_code(merchant_id=merchant_id, spec=spec)
        return DiscountCodeCreatePayload(discount_code=DiscountCodeType.from_row(code))

    @strawberry.mutation(
        description="Stop one of your codes: no new cart can use it; uses already taken stay. Idempotent."
    )
    @returns_errors
    async def discount_code_deactivate(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A DiscountCode id of yours.")],
    ) -> DiscountCodeDeactivatePayload:
        merchant_id = info.context.require_viewer_id()
        code = await deactivate_discount_code(
            code_id=decode_global_id(id, "DiscountCode", "id"), merchant_id=merchant_id
        )
        return DiscountCodeDeactivatePayload(discount_code=DiscountCodeType.from_row(code))
