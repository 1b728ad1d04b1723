"""GraphQL types of the catalogue: products and their variants."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from commerce.catalog import COMMISSION_RULES, ProductCommission
from core.cursors import page_request
from core.ids import to_global_id
from models import Note, Product, ProductVariant, User
from schema.context import Info
from schema.execution import batched
from schema.loaders import load_all
from schema.money import Money
from schema.relay import After, Before, Connection, First, Last, Node, SqlList, sql_connection
from schema.users.related import related_people
from social.policy import note_sql

if TYPE_CHECKING:
    from schema.media.types import MediaType
    from schema.notes.types import NoteType
    from schema.safety.moderation_types import ModerationStatus
    from schema.users.types import UserType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
MediaRef = Annotated["MediaType", strawberry.lazy("schema.media.types")]
ModerationStatusRef = Annotated["ModerationStatus", strawberry.lazy("schema.safety.moderation_types")]


@strawberry.type(name="ProductVariant", description="A purchasable version of a product (size, shade …).")
class ProductVariantType(Node):
    row: strawberry.Private[ProductVariant]
    sku: str = strawberry.field(description="The merchant's stock-keeping code, unique within the product.")
    name: str = strawberry.field(description='What tells it from its siblings, e.g. "30 ml" or "#999 Matte".')
    price: Money = strawberry.field(description="The price of one, today.")
    stock: int = strawberry.field(
        description="How many can be bought now (stock held for unpaid orders is not counted)."
    )

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

    @strawberry.field(description="True when at least one can be bought now (stock above 0).")
    def in_stock(self) -> bool:
        return self.stock > 0


_merchants = related_people("merchant_id")


async def _variants(products: list[ProductType], info: Info) -> list[list[ProductVariantType]]:
    found = await load_all(info.context.loaders.variants_by_product_id, [p.row.id for p in products])
    return [[ProductVariantType.from_row(v) for v in rows] for rows in found]


async def _images(products: list[ProductType], info: Info) -> list[list[MediaType]]:
    from schema.media.types import MediaType

    found = await load_all(info.context.loaders.images_by_product_id, [p.row.id for p in products])
    return [[MediaType.from_row(m) for m in rows] for rows in found]


async def _prices(products: list[ProductType], info: Info) -> list[Money | None]:
    found = await load_all(info.context.loaders.variants_by_product_id, [p.row.id for p in products])
    return [_lowest_price(rows) for rows in found]


def _lowest_price(rows: list[Any]) -> Money | None:
    if not rows:
        return None
    cheapest = min(rows, key=lambda v: (v.currency, v.price_minor_units))
    return Money.of(cheapest.price_minor_units, cheapest.currency)


@strawberry.type(
    description="What a product pays a creator whose note sells it, as a share of what the shopper paid for "
    "it (after discounts). Public: creators choose what to post about, and shoppers may know it."
)
class CreatorCommission:
    basis_points: int = strawberry.field(
        description=f"The rate today, {COMMISSION_RULES}; 0 when it pays nothing. Orders already placed "
        "keep the rate they were bought at."
    )
    from_merchant_default: bool = strawberry.field(
        description="True when the product sets no rate of its own and pays its merchant's default."
    )

    @classmethod
    def of(cls, commission: ProductCommission) -> CreatorCommission:
        return cls(
            basis_points=commission.basis_points, from_merchant_default=commission.from_merchant_default
        )


@strawberry.type(description="What a merchant set for all of their products.")
class MerchantSettings:
    default_commission_basis_points: int = strawberry.field(
        description=f"The commission, {COMMISSION_RULES}, paid to creators on products that set none of "
        "their own (0 when never set): each product shows what it pays in `Product.creatorCommission`."
    )

    @classmethod
    def of(cls, user: User) -> MerchantSettings:
        return cls(default_commission_basis_points=user.default_commission_basis_points)


async def commissions_of(products: list[Product], info: Info) -> list[ProductCommission]:
    """What each product pays creators today: its own rate, else its merchant's default (one statement for
    a page of products, none when their merchants or the notes tagging them were read already)."""
    defaults = await load_all(
        info.context.loaders.default_commission_by_merchant_id,
        [p.merchant_id for p in products],  # type: ignore[attr-defined]
    )
    return [
        ProductCommission.of(p.creator_commission_basis_points, default)
        for p, default in zip(products, defaults, strict=True)
    ]


async def _commissions(products: list[ProductType], info: Info) -> list[CreatorCommission]:
    return [CreatorCommission.of(c) for c in await commissions_of([p.row for p in products], info)]


@strawberry.type(name="Product", description="Something a merchant sells; notes can tag it and review it.")
class ProductType(Node):
    row: strawberry.Private[Product]
    title: str = strawberry.field(description="The product's name, 1–200 characters.")
    description: str = strawberry.field(
        description="The merchant's text, up to 10,000 characters; may be empty."
    )
    review_count: int = strawberry.field(description="How many review notes rate this product.")
    created_at: datetime = strawberry.field(description="When the product was listed.")

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

    @strawberry.field(
        description="Mean review rating, 1–5, rounded to 2 decimals; null until someone reviews it."
    )
    def average_rating(self) -> float | None:
        if self.row.review_count <= 0:
            return None
        return round(self.row.rating_sum / self.row.review_count, 2)

    @strawberry.field(
        description="A moderator's decision on the product and why (a delisted product is seen by its "
        "merchant alone): for its merchant and staff; null for everyone else."
    )
    async def moderation(self, info: Info) -> ModerationStatusRef | None:
        from schema.safety.moderation_types import moderation_status

        return await moderation_status(info, self.row, self.row.merchant_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who sells the product.", metadata=batched(_merchants))
    async def merchant(self, info: Info) -> UserRef:
        return (await _merchants([self], info))[0]  # type: ignore[no-any-return]

    @strawberry.field(
        description="The versions on sale (sizes, shades …), in the order they were added.",
        metadata=batched(_variants),
    )
    async def variants(self, info: Info) -> list[ProductVariantType]:
        return (await _variants([self], info))[0]

    @strawberry.field(
        description="The product's pictures in display order (up to 10), with sizes and placeholders.",
        metadata=batched(_images),
    )
    async def images(self, info: Info) -> list[MediaRef]:
        return (await _images([self], info))[0]

    @strawberry.field(
        description='The lowest variant price, for a "from" label; null when the product has no variants.',
        metadata=batched(_prices),
    )
    async def price(self, info: Info) -> Money | None:
        return (await _prices([self], info))[0]

    @strawberry.field(
        description="What the product pays creators whose notes sell it: its own rate, or its merchant's "
        "default. Anyone may read it.",
        metadata=batched(_commissions),
    )
    async def creator_commission(self, info: Info) -> CreatorCommission:
        return (await _commissions([self], info))[0]

    @strawberry.field(
        description="Review notes about this product, newest first; `totalCount` is `reviewCount`, kept with "
        "every review."
    )
    async def reviews(
        self, info: Info, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> Connection[NoteRef]:
        from schema.notes.types import NoteType

        request = page_request(first, after, last, before)
        params: list[Any] = [self.row.id]
        visible = note_sql(await info.context.audience(), "t", params)
        reviews = SqlList(
            Note, f"t.review_product_id = $1 AND {visible}", params, authors=info.context.loaders.user_by_id
        )
        return await sql_connection(reviews, request, NoteType.from_row, total_count=self.row.review_count)
