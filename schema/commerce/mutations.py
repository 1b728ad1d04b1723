"""Mutations of buying: cart lines, checkout, and what happens to an order afterwards (its parcels and
returns: schema/commerce/fulfilment.py and returns.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

import strawberry

from commerce import cart as carts
from commerce.addresses import Address
from commerce.checkout import checkout_complete, checkout_start
from commerce.events import publish_order_status
from commerce.orders import cancel_order
from commerce.refunds import refund_order
from core.ids import decode_global_id, decode_uuid_global_id
from schema.commerce.types import CartType, OrderType, Payment, RefundType
from schema.context import Info
from schema.errors import UserError, payload_errors, returns_errors


@strawberry.input(description="An item to put in a cart.")
class CartLineInput:
    variant_id: strawberry.ID = strawberry.field(description="The ProductVariant to buy.")
    quantity: int = strawberry.field(description="How many, 1–999 (a cart holds at most 999 of one variant).")
    source_note_id: strawberry.ID | None = strawberry.field(
        default=None, description="The note the shopper is buying from: its creator is credited."
    )


@strawberry.input(description="A new quantity for a line already in the cart.")
class CartLineUpdateInput:
    line_id: strawberry.ID = strawberry.field(description="The CartLine's id.")
    quantity: int = strawberry.field(description="The new quantity, 0–999; 0 removes the line.")


@strawberry.input(description="The items a new cart starts with.")
class CartCreateInput:
    lines: list[CartLineInput] = strawberry.field(
        default_factory=list, description="Up to 100 items, all in one currency; may be empty."
    )


@strawberry.input(description="Where to deliver an order.")
class ShippingAddressInput:
    name: str = strawberry.field(description="The recipient's name, 1–100 characters.")
    line1: str = strawberry.field(description="Street address, 1–200 characters.")
    city: str = strawberry.field(description="City or town, 1–100 characters.")
    postal_code: str = strawberry.field(description="Postal code, 1–20 characters.")
    country: str = strawberry.field(description="ISO 3166 two-letter code, e.g. CN, US.")
    line2: str | None = strawberry.field(
        default=None, description="Apartment, floor, building …, up to 200 characters."
    )
    region: str | None = strawberry.field(
        default=None, description="Province, state or prefecture, up to 100 characters."
    )
    phone: str | None = strawberry.field(
        default=None, description="A phone number for the courier, up to 40 characters."
    )


@strawberry.input(description="What checkoutStart needs: the cart, a receipt address and where to ship.")
class CheckoutStartInput:
    cart_id: strawberry.ID = strawberry.field(description="The Cart to buy; it must be OPEN and not empty.")
    email: str | None = strawberry.field(
        default=None, description="For the receipt; defaults to the account's. Guests must give one."
    )
    shipping_address: ShippingAddressInput | None = strawberry.field(
        default=None,
        description="Where to deliver; defaults to the cart's (cartShippingAddressSet). Given, it is the "
        "address the cart's delivery is priced for.",
    )
    idempotency_key: str = strawberry.field(
        description="One per checkout attempt, made by the client (e.g. a UUID), 1–200 characters: retries "
        "with the same key return the same order and payment."
    )


@strawberry.type(description="The result of a cart mutation.")
class CartPayload:
    cart: CartType | None = strawberry.field(
        default=None, description="The cart as it is now, with totals and warnings; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of checkoutStart: the order, and the payment to confirm.")
class CheckoutStartPayload:
    order: OrderType | None = strawberry.field(
        default=None, description="The order, PENDING_PAYMENT with its stock held; null when refused."
    )
    payment: Payment | None = strawberry.field(
        default=None,
        description="The Stripe PaymentIntent to confirm with `clientSecret`; null when refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of an order mutation.")
class OrderPayload:
    order: OrderType | None = strawberry.field(
        default=None, description="The order as it is now; null when refused."
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of orderRefund.")
class OrderRefundPayload:
    order: OrderType | None = strawberry.field(
        default=None, description="The order with its refunded amounts updated; null when refused."
    )
    refund: RefundType | None = strawberry.field(
        default=None, description="The refund (PENDING until Stripe settles it); null when refused."
    )
    errors: list[UserError] = payload_errors()


CartId = Annotated[
    strawberry.ID, strawberry.argument(description="The Cart: yours, or a guest cart whose id you hold.")
]
# Who may act on an order differs by mutation: each says so on its `orderId`.
BuyerOrMerchantOrderId = Annotated[
    strawberry.ID,
    strawberry.argument(
        description="The Order: you must be its buyer (for a guest order, whoever holds its id) or one of "
        "its merchants."
    ),
]
MerchantOrderId = Annotated[
    strawberry.ID, strawberry.argument(description="The Order: you must sell something in it.")
]


def _line_specs(lines: list[CartLineInput]) -> list[carts.LineSpec]:
    return [
        carts.LineSpec(
            variant_id=decode_global_id(line.variant_id, "ProductVariant", ("lines", i, "variant_id")),
            quantity=line.quantity,
            source_note_id=decode_global_id(line.source_note_id, "Note", ("lines", i, "source_note_id"))
            if line.source_note_id
            else None,
        )
        for i, line in enumerate(lines[: carts.MAX_CART_LINES + 1])
    ]


def cart_uuid(cart_id: strawberry.ID) -> UUID:
    return decode_uuid_global_id(cart_id, "Cart", "cart_id")


def address_of(a: ShippingAddressInput) -> Address:
    return Address(
        name=a.name,
        line1=a.line1,
        line2=a.line2,
        city=a.city,
        region=a.region,
        postal_code=a.postal_code,
        country=a.country,
        phone=a.phone,
    )


def _order_id(order_id: strawberry.ID) -> UUID:
    return decode_uuid_global_id(order_id, "Order", "order_id")


@strawberry.type
class CommerceMutation:
    @strawberry.mutation(
        description="Start a cart (signed in: add to your open cart if you have one). Guests keep the id."
    )
    @returns_errors
    async def cart_create(
        self,
        info: Info,
        input: Annotated[CartCreateInput, strawberry.argument(description="The items to start with.")],
    ) -> CartPayload:
        contents = await carts.create_cart(viewer_id=info.context.viewer_id, lines=_line_specs(input.lines))
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(description="Add items; an item already in the cart has its quantity increased.")
    @returns_errors
    async def cart_lines_add(
        self,
        info: Info,
        cart_id: CartId,
        lines: Annotated[
            list[CartLineInput],
            strawberry.argument(
                description="Up to 100 items, in the cart's currency; a cart holds at most 100 variants."
            ),
        ],
    ) -> CartPayload:
        contents = await carts.add_lines(
            cart_id=cart_uuid(cart_id),
            viewer_id=info.context.viewer_id,
            lines=_line_specs(lines),
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(description="Change quantities; 0 removes the line.")
    @returns_errors
    async def cart_lines_update(
        self,
        info: Info,
        cart_id: CartId,
        lines: Annotated[
            list[CartLineUpdateInput],
            strawberry.argument(description="1–100 lines and their new quantities."),
        ],
    ) -> CartPayload:
        changes = [
            carts.LineChange(decode_global_id(c.line_id, "CartLine", ("lines", i, "line_id")), c.quantity)
            for i, c in enumerate(lines[: carts.MAX_CART_LINES + 1])
        ]
        contents = await carts.update_lines(
            cart_id=cart_uuid(cart_id), viewer_id=info.context.viewer_id, changes=changes
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(description="Take lines out of the cart.")
    @returns_errors
    async def cart_lines_remove(
        self,
        info: Info,
        cart_id: CartId,
        line_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="1–100 CartLine ids to remove.")
        ],
    ) -> CartPayload:
        ids = [
            decode_global_id(line_id, "CartLine", ("line_ids", i))
            for i, line_id in enumerate(line_ids[: carts.MAX_CART_LINES + 1])
        ]
        contents = await carts.remove_lines(
            cart_id=cart_uuid(cart_id), viewer_id=info.context.viewer_id, line_ids=ids
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(
        description="Turn the cart into an order: stock is reserved for a while and a Stripe PaymentIntent "
        "is created; confirm it with `payment.clientSecret`. Idempotent per idempotencyKey."
    )
    @returns_errors
    async def checkout_start(
        self,
        info: Info,
        input: Annotated[CheckoutStartInput, strawberry.argument(description="The cart and where to ship.")],
    ) -> CheckoutStartPayload:
        ctx = info.context
        viewer = await ctx.loaders.user_by_id.load(ctx.viewer_id) if ctx.viewer_id else None
        result = await checkout_start(
            payments=ctx.payments,
            viewer_id=ctx.viewer_id,
            viewer_email=viewer.email if viewer else None,
            cart_id=cart_uuid(input.cart_id),
            email=input.email,
            shipping_address=address_of(input.shipping_address) if input.shipping_address else None,
            idempotency_key=input.idempotency_key,
            reservation=timedelta(minutes=ctx.settings.reservation_minutes),
        )
        await publish_order_status(ctx.broker, result.order.id)
        attempt = result.attempt
        return CheckoutStartPayload(
            order=OrderType.from_row(result.order),
            payment=Payment(
                payment_intent_id=attempt.payment_intent_id or "", client_secret=attempt.client_secret
            ),
        )

    @strawberry.mutation(
        description="Settle the order from its PaymentIntent at Stripe when the webhook is late. Idempotent."
    )
    @returns_errors
    async def checkout_complete(self, info: Info, order_id: BuyerOrMerchantOrderId) -> OrderPayload:
        order = await checkout_complete(
            payments=info.context.payments, viewer_id=info.context.viewer_id, order_id=_order_id(order_id)
        )
        await publish_order_status(info.context.broker, order.id)
        return OrderPayload(order=OrderType.from_row(order))

    @strawberry.mutation(
        description="Call off an unpaid order (its buyer or a merchant); its stock is released. A paid order "
        "is INVALID_TRANSITION: refund it instead."
    )
    @returns_errors
    async def order_cancel(self, info: Info, order_id: BuyerOrMerchantOrderId) -> OrderPayload:
        order = await cancel_order(
            payments=info.context.payments, viewer_id=info.context.viewer_id, order_id=_order_id(order_id)
        )
        await publish_order_status(info.context.broker, order.id)
        return OrderPayload(order=OrderType.from_row(order))

    @strawberry.mutation(
        description="Refund part or all of a paid order (a merchant of the order, up to their lines' value). "
        "The same idempotencyKey returns the same refund instead of refunding twice."
    )
    @returns_errors
    async def order_refund(
        self,
        info: Info,
        order_id: MerchantOrderId,
        amount_minor_units: Annotated[
            int,
            strawberry.argument(
                description="How much to refund, in the order's minor units (1250 = 12.50 CNY); above 0."
            ),
        ],
        idempotency_key: Annotated[
            str | None,
            strawberry.argument(
                description="Up to 200 characters, made by the client (e.g. a UUID): a retry with the same "
                "key and amount returns the same refund. Omit and every call is a new refund."
            ),
        ] = None,
    ) -> OrderRefundPayload:
        from models import Order

        pk = _order_id(order_id)
        refund = await refund_order(
            payments=info.context.payments,
            viewer_id=info.context.require_viewer_id(),
            order_id=pk,
            amount=amount_minor_units,
            idempotency_key=idempotency_key,
        )
        order = await Order.get(id=pk)
        await publish_order_status(info.context.broker, pk)
        return OrderRefundPayload(
            order=OrderType.from_row(order), refund=RefundType.of(refund, order.currency)
        )
