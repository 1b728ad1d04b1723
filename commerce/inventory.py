"""Stock: reserved at checkout by conditional decrements, so it can never go below zero.

`UPDATE … SET stock = stock - n WHERE id = … AND stock >= n` is atomic on both databases: of many
buyers racing for the last items, exactly as many succeed as there is stock. Rows are touched in
variant id order so two checkouts sharing variants cannot deadlock on PostgreSQL.

An order's claim on that stock (RESERVED, RELEASED, SOLD, SHORT) moves through commerce/states.py:
`release_order` and `reserve_order_again` change the shelf only when their move of the order's stock
state won, so racing releases give the quantities back once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from commerce import redemptions
from commerce.errors import OutOfStock
from commerce.states import move_stock
from core.errors import DomainError, FieldLike
from models import OrderLine, OrderStatus, ProductVariant, StockState


def _totals(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    totals: Counter[int] = Counter()
    for variant_id, quantity in lines:
        totals[variant_id] += quantity
    return sorted(totals.items())


async def reserve(lines: Sequence[tuple[int, int]], fields: Mapping[int, FieldLike] | None = None) -> None:
    """Take (variant id, quantity) from stock, all or nothing; call inside the caller's transaction
    so that a refusal rolls back what was already taken."""
    for variant_id, quantity in _totals(lines):
        taken = await ProductVariant.filter(id=variant_id, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        if not taken:
            variant = await ProductVariant.get_or_none(id=variant_id)
            raise OutOfStock(
                variant_id,
                variant.stock if variant else 0,
                name=variant.name if variant else None,
                field=(fields or {}).get(variant_id),
            )


async def restock(lines: Sequence[tuple[int, int]]) -> None:
    """Give reserved quantities back."""
    for variant_id, quantity in _totals(lines):
        await ProductVariant.filter(id=variant_id).update(stock=F("stock") + quantity)


async def order_quantities(order_id: UUID) -> list[tuple[int, int]]:
    """(variant id, quantity) of each line of the order."""
    return [
        (int(v), int(q))
        for v, q in await OrderLine.filter(order_id=order_id).values_list("variant_id", "quantity")
    ]


async def release_order(order_id: UUID, *, status: OrderStatus | None = None) -> bool:
    """RESERVED → RELEASED with the order's quantities back in stock, once; False when its stock was not
    reserved (or the order is no longer `status`). Its discount code uses go back with it. Call inside
    the caller's transaction."""
    if not await move_stock(order_id, from_=StockState.RESERVED, to=StockState.RELEASED, status=status):
        return False
    await restock(await order_quantities(order_id))
    await redemptions.release(order_id)
    return True


async def reserve_order_again(order_id: UUID, *, until: datetime) -> bool:
    """RELEASED → RESERVED for an unpaid order whose shopper tries again, taking its quantities again
    (OUT_OF_STOCK when they are gone) and its discount code uses (DISCOUNT_EXHAUSTED when one is used up).
    Call inside the caller's transaction, so a refusal rolls back."""
    if not await move_stock(
        order_id,
        from_=StockState.RELEASED,
        to=StockState.RESERVED,
        status=OrderStatus.PENDING_PAYMENT,
        reserved_until=until,
    ):
        return False
    await reserve(await order_quantities(order_id))
    await redemptions.reserve_again(order_id)
    return True


async def try_reserve(lines: Sequence[tuple[int, int]]) -> bool:
    """Reserve again if all of it is still there (a savepoint keeps a partial take from sticking)."""
    try:
        async with in_transaction():
            await reserve(lines)
    except DomainError:
        return False
    return True
