"""Mutations on the catalogue: merchants create and edit products."""

from __future__ import annotations

import strawberry

from commerce.catalog import VariantSpec, create_product, update_product
from core.ids import decode_global_id
from schema.catalog.types import ProductType
from schema.context import Info
from schema.errors import UserError, returns_errors


@strawberry.input
class ProductVariantInput:
    sku: str
    name: str
    price_minor_units: int = strawberry.field(description="Price in minor units: 1250 = 12.50 CNY.")
    currency: str = strawberry.field(description="ISO 4217, e.g. CNY, USD, JPY.")
    stock: int = 0
    id: strawberry.ID | None = strawberry.field(
        default=None, description="In productUpdate: the variant to change; omit to add a new one."
    )


@strawberry.input
class ProductCreateInput:
    title: str
    description: str | None = None
    variants: list[ProductVariantInput]


@strawberry.input(description="Only the fields given change; variants with an id are edited, others added.")
class ProductUpdateInput:
    title: str | None = None
    description: str | None = None
    variants: list[ProductVariantInput] | None = None


@strawberry.type
class ProductCreatePayload:
    product: ProductType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProductUpdatePayload:
    product: ProductType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


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
    async def product_create(self, info: Info, input: ProductCreateInput) -> ProductCreatePayload:
        product = await create_product(
            merchant_id=info.context.require_viewer_id(),
            title=input.title,
            description=input.description,
            variants=_specs(input.variants),
        )
        return ProductCreatePayload(product=ProductType.from_row(product))

    @strawberry.mutation(description="Edit a product you sell.")
    @returns_errors
    async def product_update(
        self, info: Info, id: strawberry.ID, input: ProductUpdateInput
    ) -> ProductUpdatePayload:
        product = await update_product(
            product_id=decode_global_id(id, "Product", "id"),
            editor_id=info.context.require_viewer_id(),
            title=input.title,
            description=input.description,
            variants=_specs(input.variants) if input.variants is not None else None,
        )
        info.context.loaders.variants_by_product_id.clear(product.id)
        return ProductUpdatePayload(product=ProductType.from_row(product))
