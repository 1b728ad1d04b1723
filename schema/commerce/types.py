"""GraphQL types of buying: carts, orders, payments, refunds and the payment ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from commerce.amounts import line_paid
from commerce.cart import CartContents, WarningCode, load_contents
from commerce.fulfilment import order_part, viewer_scope
from commerce.orders import latest_attempt
from commerce.policy import can_see_client_secret, can_view_order, is_merchant_of
from commerce.pricing import CartPricing, priced
from core.cursors import PageRequest, bad_cursor, decode_cursor
from core.ids import to_global_id
from models import (
    CartLine,
    CartStatus,
    Note,
    Order,
    OrderLine,
    PaymentEvent,
    PaymentEventKind,
    ProductVariant,
    Refund,
    RefundStatus,
    StockState,
)
from models.fulfilment import OrderDeliveryGroup
from schema.commerce.cart_pricing import (
    CartDiscountType,
    DeliveryGroupType,
    DiscountAllocation,
    OrderDeliveryGroupType,
    allocations_of,
    discounts_of,
    groups_of,
)
from schema.commerce.enums import OrderStatusEnum
from schema.context import Info
from schema.enums import described_enum
from schema.money import Money
from schema.relay import Connection, KeysetOrder, Node, build_connection, keyset_window
from social.policy import can_view_note

if TYPE_CHECKING:
    from schema.catalog.types import ProductType, ProductVariantType
    from schema.commerce.fulfilment import ShipmentType
    from schema.commerce.returns import ReturnRequestType
    from schema.notes.types import NoteType
    from schema.users.types import UserType

NoteRef = Annotated["NoteType", strawberry.lazy("schema.notes.types")]
UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]
ProductRef = Annotated["ProductType", strawberry.lazy("schema.catalog.types")]
VariantRef = Annotated["ProductVariantType", strawberry.lazy("schema.catalog.types")]
ShipmentRef = Annotated["ShipmentType", strawberry.lazy("schema.commerce.fulfilment")]
ReturnRequestRef = Annotated["ReturnRequestType", strawberry.lazy("schema.commerce.returns")]

CartStatusEnum = described_enum(
    CartStatus,
    name="CartStatus",
    description="Whether a cart can still change.",
    values={
        "OPEN": "Items can be added, changed and removed, and the cart checked out.",
        "ORDERED": "Checkout started: the cart became its order (`Cart.order`) and no longer changes.",
        "CLOSED": "Its order was paid.",
        "MERGED": "A guest cart folded into the account's own cart at sign-in; use that cart.",
    },
)
StockStateEnum = described_enum(
    StockState,
    name="StockState",
    description="What happened to the stock an order took at checkout.",
    values={
        "RESERVED": "Held for the order until `reservedUntil`, while it waits for payment.",
        "RELEASED": "Given back to the shop: the payment failed, or the order was cancelled or expired.",
        "SOLD": "The payment succeeded: the held stock became a sale.",
        "SHORT": "Paid after the hold was released and the stock had gone: a merchant must refund or "
        "restock (see `attention`).",
    },
)
RefundStatusEnum = described_enum(
    RefundStatus,
    name="RefundStatus",
    description="Where a refund stands at Stripe.",
    values={
        "PENDING": "Asked of Stripe and not settled yet; its amount already counts as refunded.",
        "SUCCEEDED": "Stripe returned the money to the buyer.",
        "FAILED": "Stripe refused it (see `failure`); its amount can be refunded again.",
    },
)
PaymentEventKindEnum = described_enum(
    PaymentEventKind,
    name="PaymentEventKind",
    description="What a payment ledger entry records.",
    values={
        "PAYMENT_INTENT_CREATED": "A Stripe PaymentIntent was created for the order's total.",
        "PAYMENT_SUCCEEDED": "The buyer's payment succeeded.",
        "PAYMENT_FAILED": "The buyer's payment failed (see `detail`); a new checkout may try again.",
        "REFUND_SUCCEEDED": "A refund made in Vermilion succeeded.",
        "REFUND_FAILED": "A refund made in Vermilion failed (see `detail`).",
        "EXTERNAL_REFUND": "A refund made outside Vermilion, e.g. in the Stripe dashboard.",
        "RETURN_REQUESTED": "The buyer asked to return some lines (`reference`: the return; `amount` 0, "
        "as for every step of a return: money moves only in its refund, REFUND_SUCCEEDED; `detail` says "
        "what the lines were paid and why they come back).",
        "RETURN_APPROVED": "The merchant approved a return (`detail`: their note).",
        "RETURN_REJECTED": "The merchant rejected a return (`detail`: their note).",
        "RETURN_RECEIVED": "The merchant received the returned goods (`detail`: what they were paid, and "
        "whether they were restocked); their refund follows as REFUND_*.",
    },
)
CartWarningCodeEnum = described_enum(
    WarningCode,
    name="CartWarningCode",
    description="What changed about a cart line since it was added.",
    values={
        "PRICE_CHANGED": "The price differs from when the item was added; checkout charges today's price.",
        "INSUFFICIENT_STOCK": "Fewer are left than the line's quantity.",
        "OUT_OF_STOCK": "None are left.",
        "CURRENCY_CHANGED": "The variant is now sold in another currency than the cart's; remove the line "
        "to check out.",
        "PRODUCT_UNAVAILABLE": "The product can no longer be bought (delisted by a moderator, or its "
        "merchant is suspended or leaving); checkout refuses the cart until the line is removed. The line's "
        "other warnings are left out.",
    },
)


async def _note(info: Info, note_id: int | None) -> NoteType | None:
    from schema.notes.types import load_note

    return await load_note(info, note_id)


async def _product(info: Info, product_id: int) -> ProductType | None:
    from schema.catalog.types import ProductType

    row = await info.context.loaders.product_by_id.load(product_id)
    return ProductType.from_row(row) if row else None


@strawberry.type(description="Something to know before paying; it does not block checkout.")
class CartWarning:
    code: CartWarningCodeEnum = strawberry.field(  # type: ignore[valid-type]
        description="What changed, for a client to act on."
    )
    message: str = strawberry.field(
        description="An English sentence fit to show, naming the item and the numbers."
    )
    line_id: strawberry.ID = strawberry.field(description="The CartLine concerned.")


@strawberry.type(name="CartLine", description="One variant in a cart, with its quantity.")
class CartLineType:
    line: strawberry.Private[CartLine]
    variant_row: strawberry.Private[ProductVariant]
    note_row: strawberry.Private[Note | None]
    cart_currency: strawberry.Private[str]
    pricing: strawberry.Private[Callable[[], Awaitable[CartPricing]]]
    id: strawberry.ID = strawberry.field(
        description="The line's id, for cartLinesUpdate and cartLinesRemove (not a Node: not fetchable)."
    )
    quantity: int = strawberry.field(description="How many, 1–999.")

    @classmethod
    def of(
        cls,
        line: CartLine,
        variant: ProductVariant,
        contents: CartContents,
        pricing: Callable[[], Awaitable[CartPricing]],
    ) -> CartLineType:
        source = line.source_note_id  # type: ignore[attr-defined]
        return cls(
            line=line,
            variant_row=variant,
            note_row=contents.notes.get(source) if source is not None else None,
            cart_currency=contents.cart.currency or variant.currency,
            pricing=pricing,
            id=strawberry.ID(to_global_id("CartLine", line.id)),
            quantity=line.quantity,
        )

    @strawberry.field(description="The variant in the cart, as it is now (price, stock).")
    def variant(self) -> VariantRef:
        from schema.catalog.types import ProductVariantType

        return ProductVariantType.from_row(self.variant_row)

    @strawberry.field(description="The variant's product; null if it no longer exists.")
    async def product(self, info: Info) -> ProductRef | None:
        return await _product(info, self.variant_row.product_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The note this item was found in; its creator is credited with the sale. Null when "
        "none was given, or the note was deleted or is hidden from you."
    )
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

    @strawberry.field(description="`unitPrice` × `quantity`.")
    def line_total(self) -> Money:
        return Money.of(self.variant_row.price_minor_units * self.line.quantity, self.variant_row.currency)

    @strawberry.field(
        description="The line's shares of discount codes, in whole minor units (a code's shares across its "
        "lines add up to its amount exactly); empty when no code discounts it."
    )
    async def discount_allocations(self) -> list[DiscountAllocation]:
        return allocations_of(await self.pricing(), self.line.id)


@strawberry.type(
    name="Cart", description="A shopping cart. A guest cart is reached by its id alone: keep it private."
)
class CartType(Node):
    contents: strawberry.Private[CartContents]
    status: CartStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Whether the cart can still change; only OPEN carts can."
    )
    currency: str | None = strawberry.field(
        description="ISO 4217 code, fixed by the first item: one currency per cart. Null while the cart is "
        "empty."
    )
    updated_at: datetime = strawberry.field(description="When the cart last changed.")
    # The cart priced once per response, however many fields ask (commerce/pricing.py).
    pricing_task: strawberry.Private[list[asyncio.Future[CartPricing]]] = strawberry.field(
        default_factory=list
    )

    async def pricing(self) -> CartPricing:
        if not self.pricing_task:
            self.pricing_task.append(asyncio.ensure_future(priced(self.contents)))
        return await self.pricing_task[0]

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

    @strawberry.field(description="The items, in the order they were first added.")
    def lines(self) -> list[CartLineType]:
        return [
            CartLineType.of(line, variant, self.contents, self.pricing)
            for line, variant in self.contents.lines
        ]

    @strawberry.field(description="Items in the cart, counting quantities.")
    def total_quantity(self) -> int:
        return self.contents.quantity

    @strawberry.field(
        description="At today's prices, of the items that can be bought (for sale, in the cart's currency); "
        "null when there are none."
    )
    def subtotal(self) -> Money | None:
        if not self.contents.payable() or self.contents.cart.currency is None:
            return None
        return Money.of(self.contents.subtotal_minor_units, self.contents.cart.currency)

    @strawberry.field(description="Where the cart ships; null until cartShippingAddressSet.")
    def shipping_address(self) -> ShippingAddress | None:
        address = self.contents.cart.shipping_address
        return ShippingAddress.of(address) if address else None

    @strawberry.field(
        description="The cart split by merchant, each group with its delivery options, the option chosen "
        "and its discount code, priced for the shipping address's country."
    )
    async def delivery_groups(self) -> list[DeliveryGroupType]:
        return groups_of(await self.pricing())

    @strawberry.field(
        description="The discount codes on the cart, one per merchant at most, and what each takes off."
    )
    async def discounts(self) -> list[CartDiscountType]:
        return discounts_of(await self.pricing())

    @strawberry.field(
        description="What the groups' selected options cost together; null while the cart is empty."
    )
    async def shipping(self) -> Money | None:
        pricing = await self.pricing()
        return Money.of(pricing.shipping_minor_units, pricing.currency) if pricing.currency else None

    @strawberry.field(
        description="What the codes take off, lines and shipping together; null while the cart is empty."
    )
    async def discount(self) -> Money | None:
        pricing = await self.pricing()
        return Money.of(pricing.discount_minor_units, pricing.currency) if pricing.currency else None

    @strawberry.field(
        description="What checkout would charge now: subtotal + shipping − discounts (never below zero); "
        "null while the cart is empty."
    )
    async def total(self) -> Money | None:
        pricing = await self.pricing()
        return Money.of(pricing.total_minor_units, pricing.currency) if pricing.currency else None

    @strawberry.field(
        description="Price changes, stock shortfalls and items no longer for sale since items were added."
    )
    def warnings(self) -> list[CartWarning]:
        return [
            CartWarning(
                code=w.code, message=w.message, line_id=strawberry.ID(to_global_id("CartLine", w.line_id))
            )
            for w in self.contents.warnings()
        ]

    @strawberry.field(
        description="The order this cart became, once checkout started; null before, or if you may not see "
        "it."
    )
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
    id: strawberry.ID = strawberry.field(
        description="The line's id, for orderFulfill and returnRequestCreate (not a Node: not fetchable)."
    )
    product_title: str = strawberry.field(description="The product's title at checkout.")
    variant_name: str = strawberry.field(description="The variant's name at checkout.")
    sku: str = strawberry.field(description="The variant's SKU at checkout.")
    quantity: int = strawberry.field(description="How many were bought.")
    shipped_quantity: int = strawberry.field(description="How many have shipped (`Order.shipments`).")
    returned_quantity: int = strawberry.field(
        description="How many came back in received returns (`Order.returns`)."
    )

    @classmethod
    def of(cls, row: OrderLine, currency: str) -> OrderLineType:
        return cls(
            row=row,
            currency=currency,
            id=strawberry.ID(to_global_id("OrderLine", row.id)),
            product_title=row.product_title,
            variant_name=row.variant_name,
            sku=row.sku,
            quantity=row.quantity,
            shipped_quantity=row.shipped_quantity,
            returned_quantity=row.returned_quantity,
        )

    @strawberry.field(description="The price of one, as charged at checkout.")
    def unit_price(self) -> Money:
        return Money.of(self.row.unit_price_minor_units, self.currency)

    @strawberry.field(description="`unitPrice` × `quantity`.")
    def line_total(self) -> Money:
        return Money.of(self.row.unit_price_minor_units * self.row.quantity, self.currency)

    @strawberry.field(
        description="The line's share of its merchant's discount code, in whole minor units (shares across "
        "a code's lines add up to what it took off)."
    )
    def discount(self) -> Money:
        return Money.of(self.row.discount_minor_units, self.currency)

    @strawberry.field(description="What the buyer paid for the line: `lineTotal` − `discount`.")
    def paid_total(self) -> Money:
        return Money.of(line_paid(self.row), self.currency)

    @strawberry.field(description="The product as it is now; null if it no longer exists.")
    async def product(self, info: Info) -> ProductRef | None:
        return await _product(info, self.row.product_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The note the item was bought from, whose creator is credited; null when none, or the "
        "note was deleted or is hidden from you."
    )
    async def source_note(self, info: Info) -> NoteRef | None:
        return await _note(info, self.row.source_note_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Who sells this line's product: the one who ships and may refund it.")
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.merchant_id)  # type: ignore[attr-defined]


@strawberry.type(description="The Stripe PaymentIntent a frontend confirms with Stripe.js.")
class Payment:
    payment_intent_id: str = strawberry.field(description='The Stripe PaymentIntent id ("pi_…").')
    client_secret: str | None = strawberry.field(
        description="Pass it to Stripe.js to confirm the payment. Only the buyer sees it; null for merchants."
    )


@strawberry.type(name="Refund", description="Money a merchant gave back on an order through Stripe.")
class RefundType:
    row: strawberry.Private[Refund]
    id: strawberry.ID = strawberry.field(description="The refund's id (not a Node: not fetchable).")
    amount: Money = strawberry.field(description="How much, in the order's currency.")
    status: RefundStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Where the refund stands at Stripe."
    )
    failure: str | None = strawberry.field(description="Why Stripe refused it; null unless FAILED.")
    created_at: datetime = strawberry.field(description="When the merchant asked for the refund.")

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
    kind: PaymentEventKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="What happened."
    )
    amount: Money = strawberry.field(description="The amount the fact is about (charged, refunded …).")
    reference: str = strawberry.field(description="The Stripe object: PaymentIntent, charge or refund id.")
    detail: str | None = strawberry.field(
        description="More about it, e.g. Stripe's reason for a failure; null when there is nothing to add."
    )
    created_at: datetime = strawberry.field(description="When Vermilion recorded it.")

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
    name: str = strawberry.field(description="The recipient's name.")
    line1: str = strawberry.field(description="Street address.")
    line2: str | None = strawberry.field(description="Apartment, floor, building …; null when none.")
    city: str = strawberry.field(description="City or town.")
    region: str | None = strawberry.field(description="Province, state or prefecture; null when none.")
    postal_code: str = strawberry.field(description="Postal code.")
    country: str = strawberry.field(description="ISO 3166-1 two-letter country code, e.g. CN, US.")
    phone: str | None = strawberry.field(description="A phone number for the courier; null when none.")

    @classmethod
    def of(cls, a: dict[str, Any]) -> ShippingAddress:
        return cls(
            name=a.get("name", ""),
            line1=a.get("line1", ""),
            line2=a.get("line2"),
            city=a.get("city", ""),
            region=a.get("region"),
            postal_code=a.get("postalCode", ""),
            country=a.get("country", ""),
            phone=a.get("phone"),
        )


@strawberry.type(
    name="Order", description="A cart that went to checkout. Seen by its buyer and its merchants."
)
class OrderType(Node):
    row: strawberry.Private[Order]
    status: OrderStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Where the order is between payment, shipping, cancellation and refunds."
    )
    stock_state: StockStateEnum = strawberry.field(  # type: ignore[valid-type]
        description="What happened to the stock the order took."
    )
    email: str = strawberry.field(description="The email address the receipt goes to.")
    reserved_until: datetime = strawberry.field(description="Unpaid orders give their stock back after this.")
    attention: str | None = strawberry.field(
        description="Why a person must look at this order (e.g. paid after its stock was sold to someone "
        "else); null when nothing is wrong."
    )
    cancel_reason: str | None = strawberry.field(
        description="BY_BUYER, BY_MERCHANT or RESERVATION_EXPIRED; null unless CANCELLED."
    )
    created_at: datetime = strawberry.field(description="When checkout started.")
    paid_at: datetime | None = strawberry.field(description="When the payment succeeded; null until then.")

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

    @strawberry.field(
        description="What the order costs: its lines at their checkout prices, plus shipping, less discounts "
        "(`subtotal` + `shipping` − `discount`); what the PaymentIntent charges."
    )
    def total(self) -> Money:
        return Money.of(self.row.total_minor_units, self.row.currency)

    @strawberry.field(description="The lines at their checkout prices, before discounts.")
    def subtotal(self) -> Money:
        return Money.of(self.row.subtotal_minor_units, self.row.currency)

    @strawberry.field(description="Shipping, the merchants' chosen rates together.")
    def shipping(self) -> Money:
        return Money.of(self.row.shipping_minor_units, self.row.currency)

    @strawberry.field(description="What discount codes took off, lines and shipping together.")
    def discount(self) -> Money:
        return Money.of(self.row.discount_minor_units, self.row.currency)

    @strawberry.field(description="What Stripe received for the order; zero until it is paid.")
    def paid(self) -> Money:
        return Money.of(self.row.paid_minor_units, self.row.currency)

    @strawberry.field(description="Refunded so far, counting refunds still PENDING at Stripe.")
    def refunded(self) -> Money:
        return Money.of(self.row.refunded_minor_units, self.row.currency)

    @strawberry.field(description="What can still be refunded: `paid` minus `refunded`.")
    def refundable(self) -> Money:
        return Money.of(max(self.row.paid_minor_units - self.row.refunded_minor_units, 0), self.row.currency)

    @strawberry.field(description="Where to deliver.")
    def shipping_address(self) -> ShippingAddress:
        return ShippingAddress.of(self.row.shipping_address or {})

    @strawberry.field(
        description="What was bought, one line per variant: all of them for the buyer, your own for a "
        "merchant."
    )
    async def lines(self, info: Info) -> list[OrderLineType]:
        rows = await order_part(OrderLine, self.row.id, await viewer_scope(self.row, info.context.viewer_id))
        return [OrderLineType.of(r, self.row.currency) for r in rows]

    @strawberry.field(
        description="Each merchant's part: the rate chosen, shipping, discount and what it came to; all of "
        "them for the buyer, your own for a merchant. Empty for orders placed before delivery groups."
    )
    async def delivery_groups(self, info: Info) -> list[OrderDeliveryGroupType]:
        scope = await viewer_scope(self.row, info.context.viewer_id)
        rows = await order_part(OrderDeliveryGroup, self.row.id, scope)
        return [OrderDeliveryGroupType.of(r, self.row.currency) for r in rows]

    @strawberry.field(
        description="The parcels sent, oldest first, with their tracking: all of them for the buyer, your "
        "own for a merchant."
    )
    async def shipments(self, info: Info) -> list[ShipmentRef]:
        from schema.commerce.fulfilment import shipments_of

        return await shipments_of(info, self.row)

    @strawberry.field(
        description="Returns asked for, oldest first: all of them for the buyer, those of your goods for a "
        "merchant."
    )
    async def returns(self, info: Info) -> list[ReturnRequestRef]:
        from schema.commerce.returns import returns_of

        return await returns_of(info, self.row)

    @strawberry.field(description="The signed-in shopper who placed the order; null for guest orders.")
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

    @strawberry.field(description="Refunds asked for on this order, oldest first.")
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
    items_sold: int = strawberry.field(description="Items bought from the note, counting quantities.")
    orders: int = strawberry.field(description="Paid orders with at least one item bought from the note.")
    revenue: list[Money] = strawberry.field(
        description="What those items brought in: one amount per currency, by currency code."
    )
    commission: list[Money] = strawberry.field(
        default_factory=list,
        description="What you earned on those sales: their commissions less what refunds and returns "
        "took back, pending or released; one amount per currency, by currency code (none when nothing was "
        "earned).",
    )


def _order_key(row: Order) -> str:
    return f"{row.created_at.isoformat()}|{row.id}"


# Order ids are random, so the keyset is (created_at, id).
ORDERS_NEWEST_FIRST = KeysetOrder(fields=("created_at", "id"))


def _order_position(request: PageRequest) -> tuple[datetime, UUID] | None:
    if request.cursor is None:
        return None
    (key,) = decode_cursor(request.cursor, argument=request.cursor_argument)
    try:
        stamp, _, raw_id = str(key).partition("|")
        return datetime.fromisoformat(stamp), UUID(raw_id)
    except ValueError:
        raise bad_cursor(request.cursor_argument) from None


async def order_connection(queryset: Any, request: PageRequest) -> Connection[OrderType]:
    """Orders newest first, either way; the total is counted only when a client asks for it."""
    page = await keyset_window(queryset, request, _order_position(request), ORDERS_NEWEST_FIRST)
    return build_connection(page, None, OrderType.from_row, key=_order_key, total_count=queryset.count)
