"""GraphQL types of the catalogue: products and their variants."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from core.cursors import decode_id_cursor, page_size
from core.ids import to_global_id
from models import Note, Product, ProductVariant
from schema.context import Info
from schema.money import Money
from schema.relay import Connection, Node, build_connection, keyset_page
from social.policy import note_filter

if TYPE_CHECKING:
    from schema.notes.types import NoteType
    from schema.users.types import UserType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]


@strawberry.type(name="ProductVariant", description="A purchasable version of a product (size, shade …).")
class ProductVariantType(Node):
    row: strawberry.Private[ProductVariant]
    sku: str
    name: str
    price: Money
    stock: int

    @classmethod
    def from_row(cls, row: ProductVariant) -> ProductVariantType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("ProductVariant", row.id)),
            sku=row.sku,
            name=row.name,
            price=Money.of(row.price_minor_units, row.currency),
            stock=row.stock,
        )

    @strawberry.field
    def in_stock(self) -> bool:
        return self.stock > 0


@strawberry.type(name="Product", description="Something a merchant sells; notes can tag it and review it.")
class ProductType(Node):
    row: strawberry.Private[Product]
    title: str
    description: str
    review_count: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: Product) -> ProductType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Product", row.id)),
            title=row.title,
            description=row.description,
            review_count=row.review_count,
            created_at=row.created_at,
        )

    @strawberry.field(description="Mean review rating, 1–5; null until someone reviews it.")
    def average_rating(self) -> float | None:
        if self.row.review_count <= 0:
            return None
        return round(self.row.rating_sum / self.row.review_count, 2)

    @strawberry.field
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.merchant_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def variants(self, info: Info) -> list[ProductVariantType]:
        rows = await info.context.loaders.variants_by_product_id.load(self.row.id)
        return [ProductVariantType.from_row(v) for v in rows]

    @strawberry.field(description="The lowest variant price; null when the product has no variants.")
    async def price(self, info: Info) -> Money | None:
        rows = await info.context.loaders.variants_by_product_id.load(self.row.id)
        if not rows:
            return None
        cheapest = min(rows, key=lambda v: (v.currency, v.price_minor_units))
        return Money.of(cheapest.price_minor_units, cheapest.currency)

    @strawberry.field(description="Review notes about this product, newest first.")
    async def reviews(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[NoteRef]:
        from schema.notes.types import NoteType

        rows, more = await keyset_page(
            Note.filter(note_filter(await info.context.audience()), review_product_id=self.row.id),
            page_size(first),
            decode_id_cursor(after),
        )
        return build_connection(rows, more, NoteType.from_row, total_count=self.row.review_count)
