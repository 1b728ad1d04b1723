"""Mutations on the catalogue: merchants create and edit products and set what they pay creators."""

from __future__ import annotations

from typing import Annotated

import strawberry

from commerce.catalog import (
    COMMISSION_RULES,
    CommissionChange,
    VariantSpec,
    create_product,
    update_merchant_settings,
    update_product,
)
from core.ids import decode_global_id
from schema.catalog.types import MerchantSettings, ProductType
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors


@strawberry.input(description="One variant of a product: its code, name, price and stock.")
class ProductVariantInput:
    sku: str = strawberry.field(description="Stock-keeping code, 1–64 characters, unique within the product.")
    name: str = strawberry.field(
        description='What tells it from its siblings, 1–100 characters, e.g. "30 ml".'
    )
    price_minor_units: int = strawberry.field(
        description="Price in minor units: 1250 = 12.50 CNY. Above 0 and at most 99,999,999."
    )
    currency: str = strawberry.field(
        description="ISO 4217, e.g. CNY, USD, JPY (any case); others are INVALID_CURRENCY."
    )
    stock: int = strawberry.field(
        default=0,
        description="How many are for sale, 0–1,000,000. In productUpdate it replaces the variant's stock: "
        "send the current count to keep it.",
    )
    id: strawberry.ID | None = strawberry.field(
        default=None, description="In productUpdate: the variant to change; omit to add a new one."
    )


@strawberry.input(description="A new product and its variants.")
class ProductCreateInput:
    title: str = strawberry.field(description="The product's name, 1–200 characters.")
    description: str | None = strawberry.field(
        default=None, description="The merchant's text, up to 10,000 characters."
    )
    variants: list[ProductVariantInput] = strawberry.field(
        description="1–50 variants (leave their `id` out)."
    )
    media_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="Uploaded pictures (mediaUploadCreate; READY, your own), in display order, up to 10.",
    )
    creator_commission_basis_points: int | None = strawberry.field(
        default=None,
        description=f"What the product pays a creator whose note sells it, {COMMISSION_RULES} of what the "
        "shopper paid for it (OUT_OF_RANGE otherwise); null or left out: your default "
        "(merchantSettingsUpdate), followed as it changes.",
    )


@strawberry.input(description="Only the fields given change; variants with an id are edited, others added.")
class ProductUpdateInput:
    title: str | None = strawberry.field(default=None, description="A new name, 1–200 characters.")
    description: str | None = strawberry.field(
        default=None, description="A new text, up to 10,000 characters."
    )
    variants: list[ProductVariantInput] | None = strawberry.field(
        default=None,
        description="Up to 50 variants to change (with `id`) or add (without); variants not listed stay.",
    )
    media_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Uploaded pictures replacing the product's images, in order (up to 10); images no "
        "longer shown are deleted.",
    )
    creator_commission_basis_points: int | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"The product's own commission for creators from now on, {COMMISSION_RULES} "
        "(OUT_OF_RANGE otherwise). Left out: unchanged; null: your default (merchantSettingsUpdate) from now "
        "on. Orders already placed keep the rate they were bought at.",
    )


def _media_ids(ids: list[strawberry.ID]) -> list[int]:
    return [decode_global_id(g, "Media", ("media_ids", i)) for i, g in enumerate(ids)]


@strawberry.type(description="The result of productCreate.")
class ProductCreatePayload:
    product: ProductType | None = strawberry.field(
        default=None, description="The new product; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of productUpdate.")
class ProductUpdatePayload:
    product: ProductType | None = strawberry.field(
        default=None, description="The product after the edit; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.input(description="Your merchant settings to change; fields left out stay as they are.")
class MerchantSettingsUpdateInput:
    default_commission_basis_points: int | None = strawberry.field(
        default=None,
        description=f"What your products without a rate of their own pay a creator whose note sells them, "
        f"{COMMISSION_RULES} of what the shopper paid (OUT_OF_RANGE otherwise); 0 pays nothing. Orders "
        "already placed keep the rate they were bought at.",
    )


@strawberry.type(description="The result of merchantSettingsUpdate.")
class MerchantSettingsUpdatePayload:
    merchant_settings: MerchantSettings | None = strawberry.field(
        default=None, description="Your settings as they are now; null when refused."
    )
    errors: list[UserError] = payload_errors()


def _commission_change(value: int | None) -> CommissionChange | None:
    """productUpdate's `creatorCommissionBasisPoints`: left out changes nothing, null hands the product
    back to its merchant's default."""
    return None if value is strawberry.UNSET else CommissionChange(value)


def _specs(variants: list[ProductVariantInput]) -> list[VariantSpec]:
    return [
        VariantSpec(
            sku=v.sku,
            name=v.name,
            price_minor_units=v.price_minor_units,
            currency=v.currency,
            stock=v.stock,
            id=decode_global_id(v.id, "ProductVariant", ("variants", i, "id")) if v.id else None,
        )
        for i, v in enumerate(variants)
    ]


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="List a product for sale; you become its merchant.")
    @returns_errors
    async def product_create(
        self,
        info: Info,
        input: Annotated[ProductCreateInput, strawberry.argument(description="The product to list.")],
    ) -> ProductCreatePayload:
        product = await create_product(
            merchant_id=info.context.require_viewer_id(),
            title=input.title,
            description=input.description,
            variants=_specs(input.variants),
            media_ids=_media_ids(input.media_ids),
            creator_commission_basis_points=input.creator_commission_basis_points,
        )
        return ProductCreatePayload(product=ProductType.from_row(product))

    @strawberry.mutation(description="Edit a product you sell.")
    @returns_errors
    async def product_update(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Product id; you must sell it.")],
        input: Annotated[ProductUpdateInput, strawberry.argument(description="The fields to change.")],
    ) -> ProductUpdatePayload:
        product = await update_product(
            product_id=decode_global_id(id, "Product", "id"),
            editor_id=info.context.require_viewer_id(),
            title=input.title,
            description=input.description,
            variants=_specs(input.variants) if input.variants is not None else None,
            media_ids=_media_ids(input.media_ids) if input.media_ids is not None else None,
            commission=_commission_change(input.creator_commission_basis_points),
        )
        info.context.loaders.variants_by_product_id.clear(product.id)
        info.context.loaders.images_by_product_id.clear(product.id)
        info.context.loaders.product_by_id.clear(product.id)
        return ProductUpdatePayload(product=ProductType.from_row(product))

    @strawberry.mutation(
        description="Set what your products pay creators whose notes sell them, where a product sets no "
        "rate of its own (productUpdate's creatorCommissionBasisPoints). Read it back in "
        "`viewer.merchantSettings`."
    )
    @returns_errors
    async def merchant_settings_update(
        self,
        info: Info,
        input: Annotated[MerchantSettingsUpdateInput, strawberry.argument(description="What to change.")],
    ) -> MerchantSettingsUpdatePayload:
        merchant_id = info.context.require_viewer_id()
        merchant = await update_merchant_settings(
            merchant_id=merchant_id, default_commission_basis_points=input.default_commission_basis_points
        )
        info.context.loaders.default_commission_by_merchant_id.clear(merchant_id)
        info.context.loaders.user_by_id.clear(merchant_id)
        return MerchantSettingsUpdatePayload(merchant_settings=MerchantSettings.of(merchant))
