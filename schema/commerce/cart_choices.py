"""Mutations of what a cart ships to and with, and its discount codes (rules: commerce/cart_choices.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from commerce import cart_choices
from core.ids import decode_global_id
from schema.commerce.mutations import CartId, CartPayload, ShippingAddressInput, address_of, cart_uuid
from schema.commerce.types import CartType
from schema.context import Info
from schema.errors import returns_errors

CodeArgument = Annotated[
    str, strawberry.argument(description="The code, in any case (codes are kept upper case).")
]


@strawberry.type
class CartChoiceMutation:
    @strawberry.mutation(
        description="Set where the cart ships: its delivery groups are then offered their merchants' rates "
        "for this country. Checked whole: every problem is reported at once and nothing changes."
    )
    @returns_errors
    async def cart_shipping_address_set(
        self,
        info: Info,
        cart_id: CartId,
        address: Annotated[ShippingAddressInput, strawberry.argument(description="Where to deliver.")],
    ) -> CartPayload:
        contents = await cart_choices.set_shipping_address(
            cart_id=cart_uuid(cart_id), viewer_id=info.context.viewer_id, address=address_of(address)
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(
        description="Choose how one merchant's items ship: one of the options of that merchant's delivery "
        "group (`Cart.deliveryGroups.options`). NOT_SHIPPABLE when the rate does not ship to the cart's "
        "address; REQUIRED before an address is set."
    )
    @returns_errors
    async def cart_delivery_option_select(
        self,
        info: Info,
        cart_id: CartId,
        merchant_id: Annotated[
            strawberry.ID, strawberry.argument(description="The merchant (User) whose items ship.")
        ],
        rate_id: Annotated[strawberry.ID, strawberry.argument(description="The ShippingRate to ship with.")],
    ) -> CartPayload:
        contents = await cart_choices.select_delivery_option(
            cart_id=cart_uuid(cart_id),
            viewer_id=info.context.viewer_id,
            merchant_id=decode_global_id(merchant_id, "User", "merchant_id"),
            rate_id=decode_global_id(rate_id, "ShippingRate", "rate_id"),
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(
        description="Apply a merchant's discount code: it discounts that merchant's items (only its products "
        "when restricted). One code per merchant (DISCOUNT_NOT_COMBINABLE); refused with DISCOUNT_EXPIRED, "
        "DISCOUNT_EXHAUSTED or DISCOUNT_NOT_APPLICABLE when it cannot take anything off, NOT_FOUND when no "
        "such code is active. Applying it again changes nothing."
    )
    @returns_errors
    async def cart_discount_code_apply(self, info: Info, cart_id: CartId, code: CodeArgument) -> CartPayload:
        contents = await cart_choices.apply_code(
            cart_id=cart_uuid(cart_id), viewer_id=info.context.viewer_id, code=code
        )
        return CartPayload(cart=CartType.of(contents))

    @strawberry.mutation(description="Take a discount code off the cart (NOT_FOUND when it is not on it).")
    @returns_errors
    async def cart_discount_code_remove(self, info: Info, cart_id: CartId, code: CodeArgument) -> CartPayload:
        contents = await cart_choices.remove_code(
            cart_id=cart_uuid(cart_id), viewer_id=info.context.viewer_id, code=code
        )
        return CartPayload(cart=CartType.of(contents))
