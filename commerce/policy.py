"""Who may see and act on carts and orders.

Carts and orders are reached by random UUIDs: a guest cart or a guest order is a capability (whoever holds
its id may use it); one with an owner is for that owner, and an order also for the merchants of its lines.
Every root field, node fetch, subscription and rule asks these functions.
"""

from __future__ import annotations

from uuid import UUID

from models import Cart, Order, OrderLine


async def merchant_ids_of(order_id: UUID) -> set[int]:
    """The merchants who sell something in the order."""
    rows = await OrderLine.filter(order_id=order_id).values_list("merchant_id", flat=True)
    return {int(m) for m in rows}  # type: ignore[call-overload]


def can_use_cart(cart: Cart, viewer_id: int | None) -> bool:
    """A guest cart is anyone's who holds its id; a signed-in shopper's cart is theirs alone."""
    owner_id = cart.owner_id  # type: ignore[attr-defined]
    return owner_id is None or owner_id == viewer_id


def is_buyer(order: Order, viewer_id: int | None) -> bool:
    """The buyer of an order, or anyone holding the id of an order placed from a guest cart."""
    buyer_id = order.buyer_id  # type: ignore[attr-defined]
    return buyer_id is None or buyer_id == viewer_id


async def is_merchant_of(order_id: UUID, viewer_id: int | None) -> bool:
    """The viewer sells something in the order (may fulfil and refund it)."""
    return viewer_id is not None and viewer_id in await merchant_ids_of(order_id)


async def can_view_order(order: Order, viewer_id: int | None) -> bool:
    """Its buyer (or the holder of a guest order's id) and the merchants of its lines."""
    return is_buyer(order, viewer_id) or await is_merchant_of(order.id, viewer_id)


def can_see_client_secret(order: Order, viewer_id: int | None) -> bool:
    """The PaymentIntent's client secret confirms a payment: the buyer's alone, never a merchant's."""
    return is_buyer(order, viewer_id)
