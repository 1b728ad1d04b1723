"""Stock: reserved at checkout by conditional decrements, so it can never go below zero.

`UPDATE … SET stock = stock - n WHERE id = … AND stock >= n` is atomic on both databases: of many
buyers racing for the last items, exactly as many succeed as there is stock. Rows are touched in
variant id order so two checkouts sharing variants cannot deadlock on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorCode
from models import ProductVariant


def _totals(lines: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    totals: Counter[int] = Counter()
    for variant_id, quantity in lines:
        totals[variant_id] += quantity
    return sorted(totals.items())


async def reserve(
    lines: Sequence[tuple[int, int]], fields: Mapping[int, Sequence[str]] | None = None
) -> None:
    """Take (variant id, quantity) from stock, all or nothing; call inside the caller's transaction
    so that a refusal rolls back what was already taken."""
    for variant_id, quantity in _totals(lines):
        taken = await ProductVariant.filter(id=variant_id, stock__gte=quantity).update(
            stock=F("stock") - quantity
        )
        if not taken:
            variant = await ProductVariant.get_or_none(id=variant_id)
            left = variant.stock if variant else 0
            name = variant.name if variant else "This item"
            message = f"{name} is sold out." if left <= 0 else f"Only {left} of {name} left."
            raise DomainError(ErrorCode.OUT_OF_STOCK, message, list((fields or {}).get(variant_id, [])))


async def restock(lines: Sequence[tuple[int, int]]) -> None:
    """Give reserved quantities back."""
    for variant_id, quantity in _totals(lines):
        await ProductVariant.filter(id=variant_id).update(stock=F("stock") + quantity)


async def try_reserve(lines: Sequence[tuple[int, int]]) -> bool:
    """Reserve again if all of it is still there (a savepoint keeps a partial take from sticking)."""
    try:
        async with in_transaction():
            await reserve(lines)
    except DomainError:
        return False
    return True
