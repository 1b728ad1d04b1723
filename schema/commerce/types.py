"""GraphQL types of buying: carts, orders, payments, refunds and the payment ledger."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from tortoise.expressions import Q

from commerce.cart import CartContents, WarningCode, load_contents
from commerce.orders import latest_attempt
from commerce.policy import can_see_client_secret, can_view_order, is_merchant_of
from core.cursors import decode_cursor, page_size
from core.errors import DomainError, ErrorCode
from core.ids import to_global_id
from models import (
    CartLine,
    CartStatus,
    Note,
    Order,
    OrderLine,
    OrderStatus,
    PaymentEvent,
    PaymentEventKind,
    ProductVariant,
    Refund,
    RefundStatus,
    StockState,
)
from schema.context import Info
from schema.money import Money
from schema.relay import Connection, Node, build_connection
from social.policy import can_view_note

if TYPE_CHECKING:
    from schema.catalog.types import ProductType, ProductVariantType
    from schema.notes.types import NoteType
    from schema.users.types import UserType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
ProductRef = Annotated["ProductType", strawberry.lazy("schema.catalog.types")]
VariantRef = Annotated["ProductVariantType", strawberry.lazy("schema.catalog.types")]

CartStatusEnum = strawberry.enum(CartStatus, name="CartStatus")
OrderStatusEnum = strawberry.enum(
    OrderStatus,
    name="OrderStatus",
    description="PENDING_PAYMENT → PAID → FULFILLED; PENDING_PAYMENT → CANCELLED; "
    "PAID → (PARTIALLY_)REFUNDED.",
)
StockStateEnum = strawberry.enum(StockState, name="StockState")
RefundStatusEnum = strawberry.enum(RefundStatus, name="RefundStatus")
PaymentEventKindEnum = strawberry.enum(PaymentEventKind, name="PaymentEventKind")
CartWarningCodeEnum = strawberry.enum(WarningCode, name="CartWarningCode")


async def _note(info: Info, note_id: int | None) -> NoteType | None:
    from schema.notes.types import load_note

    return await load_note(info, note_id)


async def _product(info: Info, product_id: int) -> ProductType | None:
    from schema.catalog.types import ProductType

    row = await info.context.loaders.product_by_id.load(product_id)
    return ProductType.from_row(row) if row else None


@strawberry.type(description="Something to know before paying; it does not block checkout.")
class CartWarning:
    code: CartWarningCodeEnum  # type: ignore[valid-type]
    message: str
    line_id: strawberry.ID


@strawberry.type(name="CartLine")
class CartLineType:
    line: strawberry.Private[CartLine]
    variant_row: strawberry.Private[ProductVariant]
    note_row: strawberry.Private[Note | None]
    cart_currency: strawberry.Private[str]
    id: strawberry.ID
    quantity: int

    @classmethod
    def of(cls, line: CartLine, variant: ProductVariant, contents: CartContents) -> CartLineType:
        source = line.source_note_id  # type: ignore[attr-defined]
        return cls(
            line=line,
            variant_row=variant,
            note_row=contents.notes.get(source) if source is not None else None,
            cart_currency=contents.cart.currency or variant.currency,
            id=strawberry.ID(to_global_id("CartLine", line.id)),
            quantity=line.quantity,
        )

    @strawberry.field
    def variant(self) -> VariantRef:
        from schema.catalog.types import ProductVariantType

        return ProductVariantType.from_row(self.variant_row)

    @strawberry.field
    async def product(self, info: Info) -> ProductRef | None:
        return await _product(info, self.variant_row.product_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The note this item was found in; its creator is credited with the sale.")
    async def source_note(self, info: Info) -> NoteRef | None:
        from schema.notes.types import NoteType

        # Read with the cart's lines: no query per line.
        if self.note_row is None or not can_view_note(self.note_row, await info.context.audience()):
            return None
        return NoteType.from_row(self.note_row)

    @strawberry.field(description="The price now; what checkout charges.")
    def unit_price(self) -> Money:
        return Money.of(self.variant_row.price_minor_units, self.variant_row.currency)

    @strawberry.field(description="The price when the item was added (differs when the price changed since).")
    def added_at_price(self) -> Money:
        # Lines are added in the cart's currency, whatever the variant is priced in today.
        return Money.of(self.line.unit_price_minor_units, self.cart_currency)

    @strawberry.field
    def line_total(self) -> Money:
        return Money.of(self.variant_row.price_minor_units * self.line.quantity, self.variant_row.currency)


@strawberry.type(
    name="Cart", description="A shopping cart. A guest cart is reached by its id alone: keep it private."
)
class CartType(Node):
    contents: strawberry.Private[CartContents]
    status: CartStatusEnum  # type: ignore[valid-type]
    currency: str | None = strawberry.field(description="Fixed by the first item: one currency per cart.")
    updated_at: datetime

    @classmethod
    def of(cls, contents: CartContents) -> CartType:
        cart = contents.cart
        return cls(
            contents=contents,
            id=strawberry.ID(to_global_id("Cart", cart.id)),
            status=cart.status,
            currency=cart.currency,
            updated_at=cart.updated_at,
        )

    @strawberry.field
    def lines(self) -> list[CartLineType]:
        return [CartLineType.of(line, variant, self.contents) for line, variant in self.contents.lines]

    @strawberry.field(description="Items in the cart, counting quantities.")
    def total_quantity(self) -> int:
        return self.contents.quantity

    @strawberry.field(
        description="At today's prices, of the items sold in the cart's currency; null when there are none."
    )
    def subtotal(self) -> Money | None:
        if not self.contents.payable() or self.contents.cart.currency is None:
            return None
        return Money.of(self.contents.subtotal_minor_units, self.contents.cart.currency)

    @strawberry.field(description="Price changes and stock shortfalls since items were added.")
    def warnings(self) -> list[CartWarning]:
        return [
            CartWarning(
                code=w.code, message=w.message, line_id=strawberry.ID(to_global_id("CartLine", w.line_id))
            )
            for w in self.contents.warnings()
        ]

    @strawberry.field(description="The order this cart became, once checkout started.")
    async def order(self, info: Info) -> OrderType | None:
        row = await Order.get_or_none(cart_id=self.contents.cart.id)
        return OrderType.from_row(row) if row and await can_view_order(row, info.context.viewer_id) else None


async def cart_type(cart_id: UUID) -> CartType | None:
    contents = await load_contents(cart_id)
    return CartType.of(contents) if contents else None


@strawberry.type(name="OrderLine", description="What was bought, as it was at checkout.")
class OrderLineType:
    row: strawberry.Private[OrderLine]
    currency: strawberry.Private[str]
    product_title: str
    variant_name: str
    sku: str
    quantity: int

    @classmethod
    def of(cls, row: OrderLine, currency: str) -> OrderLineType:
        return cls(
            row=row,
            currency=currency,
            product_title=row.product_title,
            variant_name=row.variant_name,
            sku=row.sku,
            quantity=row.quantity,
        )

    @strawberry.field
    def unit_price(self) -> Money:
        return Money.of(self.row.unit_price_minor_units, self.currency)

    @strawberry.field
    def line_total(self) -> Money:
        return Money.of(self.row.unit_price_minor_units * self.row.quantity, self.currency)

    @strawberry.field
    async def product(self, info: Info) -> ProductRef | None:
        return await _product(info, self.row.product_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def source_note(self, info: Info) -> NoteRef | None:
        return await _note(info, self.row.source_note_id)  # type: ignore[attr-defined]

    @strawberry.field
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.merchant_id)  # type: ignore[attr-defined]


@strawberry.type(description="The Stripe PaymentIntent a frontend confirms with Stripe.js.")
class Payment:
    payment_intent_id: str
    client_secret: str | None = strawberry.field(description="Only for the buyer.")


@strawberry.type(name="Refund")
class RefundType:
    row: strawberry.Private[Refund]
    id: strawberry.ID
    amount: Money
    status: RefundStatusEnum  # type: ignore[valid-type]
    failure: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: Refund, currency: str) -> RefundType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Refund", row.id)),
            amount=Money.of(row.amount_minor_units, currency),
            status=row.status,
            failure=row.failure,
            created_at=row.created_at,
        )


@strawberry.type(description="One fact in the order's append-only payment ledger.")
class PaymentLedgerEntry:
    kind: PaymentEventKindEnum  # type: ignore[valid-type]
    amount: Money
    reference: str = strawberry.field(description="The Stripe object: PaymentIntent, charge or refund id.")
    detail: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: PaymentEvent) -> PaymentLedgerEntry:
        return cls(
            kind=row.kind,
            amount=Money.of(row.amount_minor_units, row.currency),
            reference=row.reference,
            detail=row.detail,
            created_at=row.created_at,
        )


@strawberry.type(description="A postal address for delivery.")
class ShippingAddress:
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None


@strawberry.type(
    name="Order", description="A cart that went to checkout. Seen by its buyer and its merchants."
)
class OrderType(Node):
    row: strawberry.Private[Order]
    status: OrderStatusEnum  # type: ignore[valid-type]
    stock_state: StockStateEnum  # type: ignore[valid-type]
    email: str
    reserved_until: datetime = strawberry.field(description="Unpaid orders give their stock back after this.")
    attention: str | None = strawberry.field(
        description="Why a person must look at this order, if they must."
    )
    cancel_reason: str | None = strawberry.field(description="BY_BUYER, BY_MERCHANT or RESERVATION_EXPIRED.")
    created_at: datetime
    paid_at: datetime | None

    @classmethod
    def from_row(cls, row: Order) -> OrderType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Order", row.id)),
            status=row.status,
            stock_state=row.stock_state,
            email=row.email,
            reserved_until=row.reserved_until,
            attention=row.attention,
            cancel_reason=row.cancel_reason,
            created_at=row.created_at,
            paid_at=row.paid_at,
        )

    @strawberry.field
    def total(self) -> Money:
        return Money.of(self.row.total_minor_units, self.row.currency)

    @strawberry.field(description="What Stripe received.")
    def paid(self) -> Money:
        return Money.of(self.row.paid_minor_units, self.row.currency)

    @strawberry.field(description="Refunded or being refunded.")
    def refunded(self) -> Money:
        return Money.of(self.row.refunded_minor_units, self.row.currency)

    @strawberry.field(description="What can still be refunded.")
    def refundable(self) -> Money:
        return Money.of(max(self.row.paid_minor_units - self.row.refunded_minor_units, 0), self.row.currency)

    @strawberry.field
    def shipping_address(self) -> ShippingAddress:
        a = self.row.shipping_address or {}
        return ShippingAddress(
            name=a.get("name", ""),
            line1=a.get("line1", ""),
            line2=a.get("line2"),
            city=a.get("city", ""),
            region=a.get("region"),
            postal_code=a.get("postalCode", ""),
            country=a.get("country", ""),
            phone=a.get("phone"),
        )

    @strawberry.field
    async def lines(self) -> list[OrderLineType]:
        rows = await OrderLine.filter(order_id=self.row.id).order_by("id")
        return [OrderLineType.of(r, self.row.currency) for r in rows]

    @strawberry.field(description="Null for guest orders.")
    async def buyer(self, info: Info) -> UserRef | None:
        from schema.users.types import load_user

        buyer_id = self.row.buyer_id  # type: ignore[attr-defined]
        return await load_user(info, buyer_id) if buyer_id is not None else None

    @strawberry.field(description="The current PaymentIntent; its client secret only for the buyer.")
    async def payment(self, info: Info) -> Payment | None:
        attempt = await latest_attempt(self.row.id)
        if attempt is None or attempt.payment_intent_id is None:
            return None
        secret = attempt.client_secret if can_see_client_secret(self.row, info.context.viewer_id) else None
        return Payment(payment_intent_id=attempt.payment_intent_id, client_secret=secret)

    @strawberry.field
    async def refunds(self) -> list[RefundType]:
        rows = await Refund.filter(order_id=self.row.id).order_by("id")
        return [RefundType.of(r, self.row.currency) for r in rows]

    @strawberry.field(
        description="The payment ledger, oldest first; for the buyer and the order's merchants."
    )
    async def payment_events(self) -> list[PaymentLedgerEntry]:
        rows = await PaymentEvent.filter(order_id=self.row.id).order_by("id")
        return [PaymentLedgerEntry.of(r) for r in rows]

    @strawberry.field(description="True when the viewer sells something in this order.")
    async def viewer_is_merchant(self, info: Info) -> bool:
        return await is_merchant_of(self.row.id, info.context.viewer_id)


@strawberry.type(
    description="What a note sold: items and revenue from paid orders of shoppers who bought from it."
)
class NoteSales:
    items_sold: int
    orders: int
    revenue: list[Money] = strawberry.field(description="One amount per currency.")


def _order_key(row: Order) -> str:
    return f"{row.created_at.isoformat()}|{row.id}"


async def order_connection(queryset: Any, first: int | None, after: str | None) -> Connection[OrderType]:
    """Orders newest first. Their ids are random, so the keyset is (created_at, id)."""
    size = page_size(first)
    if after is not None:
        (key,) = decode_cursor(after)
        try:
            stamp, _, raw_id = str(key).partition("|")
            at, pk = datetime.fromisoformat(stamp), UUID(raw_id)
        except ValueError:
            raise DomainError(ErrorCode.INVALID, "The cursor is not valid for this list.", "after") from None
        queryset = queryset.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    rows = list(await queryset.order_by("-created_at", "-id").limit(size + 1))
    return build_connection(rows[:size], len(rows) > size, OrderType.from_row, key=_order_key)
