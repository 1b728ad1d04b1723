"""Returns: returnRequestCreate (the buyer), returnApprove, returnReject and returnReceive (the merchant),
`Order.returns` and `viewer.returnRequests`. The rules are in commerce.returns."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from commerce.events import publish_order_status
from commerce.fulfilment import viewer_scope
from commerce.returns import (
    MAX_NOTE,
    MAX_REASON,
    MAX_RETURN_LINES,
    MAX_RETURNS_PER_ORDER,
    RETURN_WINDOW,
    ReturnLineSpec,
    approve_return,
    order_returns,
    receive_return,
    reject_return,
    request_return,
    returned_lines,
)
from core.cursors import PageRequest
from core.ids import decode_global_id, decode_uuid_global_id, to_global_id
from models import Order, OrderLine, Refund, ReturnRequest, ReturnStatus
from schema.commerce.types import OrderLineType, OrderType, RefundType
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors
from schema.money import Money
from schema.relay import Connection, build_connection, keyset_window

if TYPE_CHECKING:
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]

ReturnStatusEnum = described_enum(
    ReturnStatus,
    name="ReturnStatus",
    description="REQUESTED → APPROVED → RECEIVED → REFUNDED, or REQUESTED → REJECTED.",
    values={
        "REQUESTED": "The buyer asked to return the goods; the merchant approves or rejects it.",
        "APPROVED": "The merchant will take the goods back: the buyer sends them.",
        "REJECTED": "The merchant refused the return (`merchantNote` says why).",
        "RECEIVED": "The merchant has the goods back; the refund has not gone through yet (returnReceive "
        "again retries it).",
        "REFUNDED": "The buyer was refunded what the returned goods were paid (`amount`, `refund`).",
    },
)


@strawberry.type(description="Some units of one order line in a return.")
class ReturnLine:
    line: OrderLineType = strawberry.field(description="The order line.")
    quantity: int = strawberry.field(description="How many of it are returned.")


@strawberry.type(
    name="ReturnRequest",
    description="A buyer's return of some delivered goods of one merchant, refunded once the merchant has "
    "them back.",
)
class ReturnRequestType:
    row: strawberry.Private[ReturnRequest]
    currency: strawberry.Private[str]
    id: strawberry.ID = strawberry.field(
        description="The return's id, for returnApprove, returnReject and returnReceive (not a Node)."
    )
    status: ReturnStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Where the return stands."
    )
    reason: str = strawberry.field(description="Why the buyer returns the goods.")
    merchant_note: str = strawberry.field(
        description="What the merchant said approving or rejecting it; empty when nothing."
    )
    restock: bool = strawberry.field(description="Whether the received goods went back into stock.")
    amount: Money = strawberry.field(
        description="What the returned units were paid (after discounts), refunded once RECEIVED: as "
        "estimated at the request, and exact from receipt on."
    )
    created_at: datetime = strawberry.field(description="When the buyer asked.")
    decided_at: datetime | None = strawberry.field(
        description="When the merchant approved or rejected it; null before."
    )
    received_at: datetime | None = strawberry.field(description="When the goods came back; null before.")
    lines: list[ReturnLine] = strawberry.field(description="What is returned, in order line order.")

    @classmethod
    def of(cls, row: ReturnRequest, order_lines: dict[int, OrderLine], currency: str) -> ReturnRequestType:
        return cls(
            row=row,
            currency=currency,
            id=strawberry.ID(to_global_id("ReturnRequest", row.id)),
            status=row.status,
            reason=row.reason,
            merchant_note=row.merchant_note,
            restock=row.restock,
            amount=Money.of(row.amount_minor_units, currency),
            created_at=row.created_at,
            decided_at=row.decided_at,
            received_at=row.received_at,
            lines=[
                ReturnLine(line=OrderLineType.of(order_lines[line_id], currency), quantity=quantity)
                for line_id, quantity in sorted(returned_lines(row).items())
                if line_id in order_lines
            ],
        )

    @strawberry.field(
        description="The merchant whose goods are returned: who approves, receives and refunds."
    )
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.merchant_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The order the goods were bought in.")
    async def order(self) -> OrderType:
        return OrderType.from_row(await Order.get(id=self.row.order_id))  # type: ignore[attr-defined]

    @strawberry.field(description="The refund of the return; null until the goods are received.")
    async def refund(self) -> RefundType | None:
        refund_id = self.row.refund_id  # type: ignore[attr-defined]
        row = await Refund.get_or_none(id=refund_id) if refund_id is not None else None
        return RefundType.of(row, self.currency) if row else None


async def return_types(returns: list[ReturnRequest], currency: str | None = None) -> list[ReturnRequestType]:
    """The returns with their order lines (one statement) and, when not given, their orders' currencies."""
    ids = sorted({line_id for r in returns for line_id in returned_lines(r)})
    lines = {line.id: line for line in await OrderLine.filter(id__in=ids)} if ids else {}
    currencies: dict[object, str] = {}
    if currency is None and returns:
        order_ids = {r.order_id for r in returns}  # type: ignore[attr-defined]
        currencies = dict(await Order.filter(id__in=order_ids).values_list("id", "currency"))
    return [
        ReturnRequestType.of(r, lines, currency or currencies[r.order_id])  # type: ignore[attr-defined]
        for r in returns
    ]


async def returns_of(info: Info, order: Order) -> list[ReturnRequestType]:
    """`Order.returns`: all of them for the buyer, a merchant's own for a merchant."""
    scope = await viewer_scope(order, info.context.viewer_id)
    return await return_types(await order_returns(order.id, scope), order.currency)


async def merchant_returns(
    merchant_id: int, status: ReturnStatus | None, request: PageRequest
) -> Connection[ReturnRequestType]:
    """`viewer.returnRequests`: returns of the merchant's goods, newest first."""
    query = ReturnRequest.filter(merchant_id=merchant_id)
    if status is not None:
        query = query.filter(status=status)
    cursor = request.id_cursor()
    page = await keyset_window(query, request, None if cursor is None else (cursor,))
    typed = {t.row.id: t for t in await return_types(page.rows)}
    return build_connection(page, None, lambda row: typed[row.id], total_count=query.count)


@strawberry.input(description="Units of one order line to return.")
class ReturnLineInput:
    line_id: strawberry.ID = strawberry.field(description="The OrderLine.")
    quantity: int = strawberry.field(
        description="How many, at least 1: at most those delivered, less those already returned or in "
        "returns still open (OUT_OF_RANGE)."
    )


@strawberry.input(description="What to return, and why.")
class ReturnRequestCreateInput:
    order_id: strawberry.ID = strawberry.field(description="The Order: you must be its buyer.")
    lines: list[ReturnLineInput] = strawberry.field(
        description=f"1–{MAX_RETURN_LINES} lines of one merchant (TOO_MANY for more; INVALID for a second "
        "merchant's: ask each separately), each in a DELIVERED shipment (NOT_DELIVERED) delivered at most "
        f"{RETURN_WINDOW.days} days ago (RETURN_WINDOW_CLOSED)."
    )
    reason: str = strawberry.field(description=f"Why, 1–{MAX_REASON} characters.")


@strawberry.input(description="A merchant's decision on a return.")
class ReturnDecisionInput:
    return_id: strawberry.ID = strawberry.field(description="The ReturnRequest: returned goods of yours.")
    note: str | None = strawberry.field(
        default=None, description=f"What to tell the buyer, up to {MAX_NOTE} characters."
    )


@strawberry.input(description="Returned goods a merchant has back.")
class ReturnReceiveInput:
    return_id: strawberry.ID = strawberry.field(
        description="The ReturnRequest: APPROVED (or RECEIVED, to retry its refund)."
    )
    restock: bool = strawberry.field(
        default=False, description="Put the returned units back into their variants' stock."
    )


@strawberry.type(description="The result of a return mutation.")
class ReturnRequestPayload:
    return_request: ReturnRequestType | None = strawberry.field(
        default=None, description="The return as it is now; null when refused."
    )
    errors: list[UserError] = payload_errors()


def _return_id(return_id: strawberry.ID) -> int:
    return decode_global_id(return_id, "ReturnRequest", "return_id")


async def _payload(info: Info, row: ReturnRequest) -> ReturnRequestPayload:
    await publish_order_status(info.context.broker, row.order_id)  # type: ignore[attr-defined]
    (typed,) = await return_types([row])
    return ReturnRequestPayload(return_request=typed)


@strawberry.type
class ReturnMutation:
    @strawberry.mutation(
        description=f"Ask to return delivered goods of one merchant (the order's buyer), within "
        f"{RETURN_WINDOW.days} days of delivery. At most {MAX_RETURN_LINES} lines per return and "
        f"{MAX_RETURNS_PER_ORDER} returns per order, rejected ones included (TOO_MANY). The merchant is told."
    )
    @returns_errors
    async def return_request_create(
        self,
        info: Info,
        input: Annotated[ReturnRequestCreateInput, strawberry.argument(description="What and why.")],
    ) -> ReturnRequestPayload:
        row = await request_return(
            viewer_id=info.context.viewer_id,
            order_id=decode_uuid_global_id(input.order_id, "Order", "order_id"),
            lines=[
                ReturnLineSpec(
                    line_id=decode_global_id(line.line_id, "OrderLine", ("lines", i, "line_id")),
                    quantity=line.quantity,
                )
                for i, line in enumerate(input.lines[: MAX_RETURN_LINES + 1])
            ],
            reason=input.reason,
        )
        return await _payload(info, row)

    @strawberry.mutation(
        description="Agree to take returned goods back (the merchant whose goods they are); the buyer is "
        "told. Approving again changes nothing; a rejected return is INVALID_TRANSITION."
    )
    @returns_errors
    async def return_approve(
        self, info: Info, input: Annotated[ReturnDecisionInput, strawberry.argument(description="Which.")]
    ) -> ReturnRequestPayload:
        row = await approve_return(
            viewer_id=info.context.require_viewer_id(), return_id=_return_id(input.return_id), note=input.note
        )
        return await _payload(info, row)

    @strawberry.mutation(
        description="Refuse a return (the merchant whose goods they are), saying why in `note`; the buyer is "
        "told. Rejecting again changes nothing; an approved return is INVALID_TRANSITION."
    )
    @returns_errors
    async def return_reject(
        self, info: Info, input: Annotated[ReturnDecisionInput, strawberry.argument(description="Which.")]
    ) -> ReturnRequestPayload:
        row = await reject_return(
            viewer_id=info.context.require_viewer_id(), return_id=_return_id(input.return_id), note=input.note
        )
        return await _payload(info, row)

    @strawberry.mutation(
        description="You have the returned goods back (an APPROVED return): they count as returned, go back "
        "into stock when `restock`, and the buyer is refunded what they paid for them through Stripe "
        "(REFUNDED). Idempotent: a retry never refunds twice; after a refund Stripe refused "
        "(PAYMENT_PROVIDER_ERROR, the return stays RECEIVED) it tries the refund again."
    )
    @returns_errors
    async def return_receive(
        self, info: Info, input: Annotated[ReturnReceiveInput, strawberry.argument(description="Which.")]
    ) -> ReturnRequestPayload:
        row = await receive_return(
            payments=info.context.payments,
            viewer_id=info.context.require_viewer_id(),
            return_id=_return_id(input.return_id),
            restock=input.restock,
        )
        return await _payload(info, row)
