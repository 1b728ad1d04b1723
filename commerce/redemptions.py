"""An order's uses of discount codes, reserved and released with its stock.

`checkoutStart` takes one use of each code on the cart in the transaction that takes the stock (`reserve`):
one conditional UPDATE for all of them (`uses < usage_limit`), so however many shoppers rush a limited code,
its uses never pass its limit. Every path that gives the order's stock back (a declined card, a
cancellation, an expired reservation: commerce/inventory.release_order) gives its uses back (`release`);
a retried checkout takes them again with the stock (`reserve_again`), and a payment makes them spent
(`spend`). The redemption rows say which state each use is in; `DiscountCode.uses` counts the RESERVED
and USED ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Count

from core.errors import DomainError, ErrorCode
from core.sql import fetch_all, placeholders
from models.fulfilment import DiscountCode, DiscountRedemption, RedemptionStatus


class CodeUsedUp(DomainError):
    def __init__(self, codes: Sequence[str]) -> None:
        names = ", ".join(codes)
        super().__init__(
            ErrorCode.DISCOUNT_EXHAUSTED,
            f"The discount code {names} has just been used up; remove it from the cart to check out.",
            "cart_id",
        )


async def reserve(
    order_id: UUID,
    uses: Sequence[tuple[DiscountCode, int]],
    *,
    customer_id: int | None,
    email: str,
) -> None:
    """Take one use of each code (with what it took off the order), all or none: DISCOUNT_EXHAUSTED when
    one is used up. Call inside the transaction that reserves the stock, so a refusal rolls it back."""
    if not uses:
        return
    taken = await take_uses([code.id for code, _ in uses])
    missed = [code.code for code, _ in uses if code.id not in taken]
    if missed:
        raise CodeUsedUp(missed)
    await DiscountRedemption.bulk_create(
        [
            DiscountRedemption(
                code_id=code.id,
                order_id=order_id,
                customer_id=customer_id,
                customer_email=email.strip().lower(),
                amount_minor_units=amount,
            )
            for code, amount in uses
        ]
    )


async def take_uses(code_ids: Sequence[int]) -> set[int]:
    """One use more of each active code still within its limit, in one statement; the ids taken."""
    rows = await fetch_all(
        "UPDATE discount_codes SET uses = uses + 1 "
        f"WHERE id IN ({placeholders(len(code_ids), 2)}) AND active = $1 "
        "AND (usage_limit IS NULL OR uses < usage_limit) RETURNING id",
        [True, *code_ids],
    )
    return {int(r["id"]) for r in rows}


def _of(order_id: UUID, status: RedemptionStatus) -> Subquery:
    return Subquery(DiscountRedemption.filter(order_id=order_id, status=status).values("code_id"))


async def release(order_id: UUID) -> None:
    """Give back the order's reserved uses (never below zero). Call where its stock is given back."""
    await DiscountCode.filter(id__in=_of(order_id, RedemptionStatus.RESERVED), uses__gt=0).update(
        uses=F("uses") - 1
    )
    await DiscountRedemption.filter(order_id=order_id, status=RedemptionStatus.RESERVED).update(
        status=RedemptionStatus.RELEASED
    )


async def reserve_again(order_id: UUID) -> None:
    """Take the released uses again for a retried checkout, all or none (DISCOUNT_EXHAUSTED)."""
    released = await DiscountRedemption.filter(
        order_id=order_id, status=RedemptionStatus.RELEASED
    ).values_list("code_id", flat=True)
    if not released:
        return
    ids = [int(i) for i in released]  # type: ignore[call-overload]
    taken = await take_uses(ids)
    if len(taken) != len(set(ids)):
        names = await DiscountCode.filter(id__in=set(ids) - taken).values_list("code", flat=True)
        raise CodeUsedUp([str(n) for n in names])
    await DiscountRedemption.filter(order_id=order_id, status=RedemptionStatus.RELEASED).update(
        status=RedemptionStatus.RESERVED
    )


async def spend(order_id: UUID) -> None:
    """The order is paid: its uses are spent. A use released before the payment arrived is counted again
    (the money is real), even past a limit, as its stock is taken again or flagged SHORT."""
    await DiscountCode.filter(id__in=_of(order_id, RedemptionStatus.RELEASED)).update(uses=F("uses") + 1)
    await DiscountRedemption.filter(
        order_id=order_id, status__in=[RedemptionStatus.RESERVED, RedemptionStatus.RELEASED]
    ).update(status=RedemptionStatus.USED)


async def customer_uses(
    code_ids: Sequence[int], customer_id: int | None, email: str | None
) -> dict[int, int]:
    """How many uses, reserved or spent, of each of `code_ids` are this customer's: by account, or by the
    email of their orders (so a guest cannot reuse a code once per checkout). One statement."""
    who = [Q(customer_id=customer_id)] if customer_id is not None else []
    if email:
        who.append(Q(customer_email=email.strip().lower()))
    if not who or not code_ids:
        return {}
    rows = (
        await DiscountRedemption.filter(
            Q(*who, join_type=Q.OR),
            code_id__in=list(code_ids),
            status__in=[RedemptionStatus.RESERVED, RedemptionStatus.USED],
        )
        .annotate(count=Count("id"))
        .group_by("code_id")
        .values_list("code_id", "count")
    )
    return {int(code_id): int(count) for code_id, count in rows}  # type: ignore[misc]
