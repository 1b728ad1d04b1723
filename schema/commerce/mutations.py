"""Mutations of buying: cart lines, checkout, and what happens to an order afterwards."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import strawberry

from commerce import cart as carts
from commerce.checkout import Address, checkout_complete, checkout_start
from commerce.events import publish_order_status
from commerce.orders import cancel_order, fulfill_order
from commerce.refunds import refund_order
from core.ids import decode_global_id, decode_uuid_global_id
from schema.commerce.types import CartType, OrderType, Payment, RefundType
from schema.context import Info
from schema.errors import UserError, returns_errors


@strawberry.input
class CartLineInput:
    variant_id: strawberry.ID
    quantity: int = strawberry.field(description="1–999.")
    source_note_id: strawberry.ID | None = strawberry.field(
        default=None, description="The note the shopper is buying from: its creator is credited."
    )


@strawberry.input
class CartLineUpdateInput:
    line_id: strawberry.ID
    quantity: int = strawberry.field(description="0 removes the line.")


@strawberry.input
class CartCreateInput:
    lines: list[CartLineInput] = strawberry.field(default_factory=list)


@strawberry.input
class ShippingAddressInput:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str = strawberry.field(description="ISO 3166 two-letter code, e.g. CN, US.")
    line2: str | None = None
    region: str | None = None
    phone: str | None = None


@strawberry.input
class CheckoutStartInput:
    cart_id: strawberry.ID
    email: str | None = strawberry.field(
        default=None, description="For the receipt; defaults to the account's."
    )
    shipping_address: ShippingAddressInput
    idempotency_key: str = strawberry.field(
        description="One per checkout attempt, made by the client (e.g. a UUID): retries with the same key "
        "return the same order and payment."
    )


@strawberry.type
class CartPayload:
    cart: CartType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CheckoutStartPayload:
    order: OrderType | None = None
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderPayload:
    order: OrderType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderRefundPayload:
    order: OrderType | None = None
    refund: RefundType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


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


def _cart_id(cart_id: strawberry.ID) -> UUID:
    return decode_uuid_global_id(cart_id, "Cart", "cart_id")


def _order_id(order_id: strawberry.ID) -> UUID:
    return decode_uuid_global_id(order_id, "Order", "order_id")


@strawberry.type
class CommerceMutation:
    @strawberry.mutation(
        description="Start a cart (signed in: add to your open cart if you have one). Guests keep the id."
    )
    @returns_errors
    async def cart_create(self, info: Info, input: CartCreateInput) -> CartPayload:
        contents = await carts.create_cart(viewer_id=info.context.viewer_id, lines=_line_specs(input.lines))
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(description="Add items; an item already in the cart has its quantity increased.")
    @returns_errors
    async def cart_lines_add(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineInput]
    ) -> CartPayload:
        contents = await carts.add_lines(
            cart_id=_cart_id(cart_id),
            viewer_id=info.context.viewer_id,
            lines=_line_specs(lines),
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(description="Change quantities; 0 removes the line.")
    @returns_errors
    async def cart_lines_update(
        self, info: Info, cart_id: strawberry.ID, lines: list[CartLineUpdateInput]
    ) -> CartPayload:
        changes = [
            carts.LineChange(decode_global_id(c.line_id, "CartLine", ("lines", i, "line_id")), c.quantity)
            for i, c in enumerate(lines[: carts.MAX_CART_LINES + 1])
        ]
        contents = await carts.update_lines(
            cart_id=_cart_id(cart_id), viewer_id=info.context.viewer_id, changes=changes
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation
    @returns_errors
    async def cart_lines_remove(
        self, info: Info, cart_id: strawberry.ID, line_ids: list[strawberry.ID]
    ) -> CartPayload:
        ids = [
            decode_global_id(line_id, "CartLine", ("line_ids", i))
            for i, line_id in enumerate(line_ids[: carts.MAX_CART_LINES + 1])
        ]
        contents = await carts.remove_lines(
            cart_id=_cart_id(cart_id), viewer_id=info.context.viewer_id, line_ids=ids
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(
        description="Turn the cart into an order: stock is reserved for a while and a Stripe PaymentIntent "
        "is created; confirm it with `payment.clientSecret`. Idempotent per idempotencyKey."
    )
    @returns_errors
    async def checkout_start(self, info: Info, input: CheckoutStartInput) -> CheckoutStartPayload:
        ctx = info.context
        viewer = await ctx.loaders.user_by_id.load(ctx.viewer_id) if ctx.viewer_id else None
        a = input.shipping_address
        result = await checkout_start(
            payments=ctx.payments,
            viewer_id=ctx.viewer_id,
            viewer_email=viewer.email if viewer else None,
            cart_id=_cart_id(input.cart_id),
            email=input.email,
            shipping_address=Address(
                name=a.name,
                line1=a.line1,
                line2=a.line2,
                city=a.city,
                region=a.region,
                postal_code=a.postal_code,
                country=a.country,
                phone=a.phone,
            ),
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
    async def checkout_complete(self, info: Info, order_id: strawberry.ID) -> OrderPayload:
        order = await checkout_complete(
            payments=info.context.payments, viewer_id=info.context.viewer_id, order_id=_order_id(order_id)
        )
        await publish_order_status(info.context.broker, order.id)
        return OrderPayload(order=OrderType.from_row(order))

    @strawberry.mutation(description="Call off an unpaid order; its stock is released.")
    @returns_errors
    async def order_cancel(self, info: Info, order_id: strawberry.ID) -> OrderPayload:
        order = await cancel_order(
            payments=info.context.payments, viewer_id=info.context.viewer_id, order_id=_order_id(order_id)
        )
        await publish_order_status(info.context.broker, order.id)
        return OrderPayload(order=OrderType.from_row(order))

    @strawberry.mutation(description="Mark a paid order shipped (a merchant of the order).")
    @returns_errors
    async def order_fulfill(self, info: Info, order_id: strawberry.ID) -> OrderPayload:
        order = await fulfill_order(viewer_id=info.context.require_viewer_id(), order_id=_order_id(order_id))
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
        order_id: strawberry.ID,
        amount_minor_units: int,
        idempotency_key: str | None = None,
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
