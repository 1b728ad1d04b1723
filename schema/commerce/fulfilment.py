"""Fulfilment per merchant: orderFulfill (a parcel of one's own lines, with tracking), shipmentMarkDelivered,
and `Order.shipments`. The rules are in commerce.fulfilment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from commerce.events import publish_order_status
from commerce.fulfilment import (
    MAX_CARRIER,
    MAX_PARCEL_LINES,
    MAX_PARCELS_PER_ORDER,
    MAX_TRACKING_NUMBER,
    fulfil,
    mark_delivered,
    order_shipments,
    shipped_lines,
    viewer_scope,
)
from core.errors import DomainError, ErrorCode, ValidationErrors
from core.ids import decode_global_id, decode_uuid_global_id, to_global_id
from models import Order, OrderLine, Shipment, ShipmentStatus
from schema.commerce.types import OrderLineType, OrderType
from schema.context import Info
from schema.enums import described_enum
from schema.errors import UserError, payload_errors, returns_errors

if TYPE_CHECKING:
    from schema.users.types import UserType

UserRef = Annotated["UserType", strawberry.lazy("schema.users.types")]

ShipmentStatusEnum = described_enum(
    ShipmentStatus,
    name="ShipmentStatus",
    description="Where a parcel is: SHIPPED → DELIVERED.",
    values={
        "SHIPPED": "The merchant sent it (`trackingNumber`, `carrier`).",
        "DELIVERED": "The merchant marked it delivered (`deliveredAt`); its goods can be returned within 30 "
        "days of that.",
    },
)


@strawberry.type(description="Some units of one order line in a parcel.")
class ShipmentLine:
    line: OrderLineType = strawberry.field(description="The order line.")
    quantity: int = strawberry.field(description="How many of it are in the parcel.")


@strawberry.type(
    name="Shipment",
    description=f"A parcel a merchant sent: up to {MAX_PARCEL_LINES} of their lines of an order, with its "
    "tracking.",
)
class ShipmentType:
    row: strawberry.Private[Shipment]
    id: strawberry.ID = strawberry.field(
        description="The shipment's id, for shipmentMarkDelivered (not a Node: not fetchable)."
    )
    status: ShipmentStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="SHIPPED, then DELIVERED."
    )
    tracking_number: str = strawberry.field(
        description="The carrier's tracking number; empty for a parcel sent without one."
    )
    carrier: str = strawberry.field(description='Who carries it, e.g. "SF Express"; empty when not given.')
    shipped_at: datetime = strawberry.field(description="When the merchant sent it.")
    delivered_at: datetime | None = strawberry.field(description="When it arrived; null until DELIVERED.")
    lines: list[ShipmentLine] = strawberry.field(description="What is in it, in order line order.")

    @classmethod
    def of(cls, row: Shipment, order_lines: dict[int, OrderLine], currency: str) -> ShipmentType:
        return cls(
            row=row,
            id=strawberry.ID(to_global_id("Shipment", row.id)),
            status=row.status,
            tracking_number=row.tracking_number,
            carrier=row.carrier,
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            lines=[
                ShipmentLine(line=OrderLineType.of(order_lines[line_id], currency), quantity=quantity)
                for line_id, quantity in sorted(shipped_lines(row).items())
                if line_id in order_lines
            ],
        )

    @strawberry.field(description="Who sent it: the merchant of its lines.")
    async def merchant(self, info: Info) -> UserRef:
        from schema.users.types import load_user

        return await load_user(info, self.row.merchant_id)  # type: ignore[attr-defined]


async def shipment_types(order: Order, shipments: list[Shipment]) -> list[ShipmentType]:
    """The parcels with their order lines, read in one statement."""
    ids = sorted({line_id for s in shipments for line_id in shipped_lines(s)})
    lines = {line.id: line for line in await OrderLine.filter(id__in=ids)} if ids else {}
    return [ShipmentType.of(s, lines, order.currency) for s in shipments]


async def shipments_of(info: Info, order: Order) -> list[ShipmentType]:
    """`Order.shipments`: all of them for the buyer, a merchant's own for a merchant."""
    scope = await viewer_scope(order, info.context.viewer_id)
    return await shipment_types(order, await order_shipments(order.id, scope))


@strawberry.input(description="A parcel of your lines of an order, and its tracking.")
class OrderFulfillInput:
    order_id: strawberry.ID = strawberry.field(description="The Order: you must sell something in it.")
    tracking_number: str = strawberry.field(
        description=f"The carrier's tracking number, 1–{MAX_TRACKING_NUMBER} characters once trimmed."
    )
    line_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description=f"1–{MAX_PARCEL_LINES} OrderLine ids to ship, all yours (FORBIDDEN for another "
        "merchant's; ALREADY_SHIPPED for one already in a parcel; TOO_MANY for more); left out: all of your "
        f"lines not shipped yet, in parcels of up to {MAX_PARCEL_LINES} lines that share this tracking.",
    )
    carrier: str | None = strawberry.field(
        default=None, description=f'Who carries it, e.g. "SF Express"; up to {MAX_CARRIER} characters.'
    )


@strawberry.type(description="The result of orderFulfill.")
class OrderFulfillPayload:
    order: OrderType | None = strawberry.field(
        default=None,
        description="The order as it is now (FULFILLED once every line has shipped); null when refused.",
    )
    shipment: ShipmentType | None = strawberry.field(
        default=None,
        description="The parcel just sent (the first, when all your lines left filled several: "
        "`order.shipments` lists them all); null when refused.",
    )
    errors: list[UserError] = payload_errors()


@strawberry.type(description="The result of shipmentMarkDelivered.")
class ShipmentPayload:
    shipment: ShipmentType | None = strawberry.field(
        default=None, description="The parcel as it is now; null when refused."
    )
    errors: list[UserError] = payload_errors()


def _in_input(exc: DomainError) -> DomainError:
    """The refusal of a rule called with `input`'s fields, its paths led into `input` (its `orderId`
    would otherwise be read as the `orderId` argument)."""
    for error in exc.errors if isinstance(exc, ValidationErrors) else [exc]:
        if error.field is not None:
            error.field = ["input", *error.field]
    return exc


@strawberry.type
class FulfilmentMutation:
    @strawberry.mutation(
        description="Ship your lines of a paid order in one parcel (a merchant of the order): "
        f"`input {{ orderId lineIds trackingNumber carrier }}`. A parcel holds up to {MAX_PARCEL_LINES} "
        f"lines and an order ships in at most {MAX_PARCELS_PER_ORDER} parcels, always enough for all of its "
        "lines: a parcel after which the lines left would not fit in the parcels left is TOO_MANY (put more "
        "lines in it). The order becomes FULFILLED with the parcel that ships its last line. The buyer is "
        "told once per call. `orderFulfill(orderId)` without `input` (the first form of this mutation) ships "
        f"all of your lines not shipped yet, without tracking, in parcels of up to {MAX_PARCEL_LINES} lines. "
        "INVALID_TRANSITION for an order that is not paid (or already FULFILLED)."
    )
    @returns_errors
    async def order_fulfill(
        self,
        info: Info,
        order_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The Order, for the form without tracking; leave it out when giving `input`."
            ),
        ] = None,
        input: Annotated[
            OrderFulfillInput | None, strawberry.argument(description="The parcel: lines and tracking.")
        ] = None,
    ) -> OrderFulfillPayload:
        viewer_id = info.context.require_viewer_id()
        if order_id is not None and input is not None:
            raise DomainError(
                ErrorCode.INVALID, "Give the order as orderId or in input, not both.", "order_id"
            )
        if input is not None:
            try:
                done = await fulfil(
                    viewer_id=viewer_id,
                    order_id=decode_uuid_global_id(input.order_id, "Order", "order_id"),
                    line_ids=None
                    if input.line_ids is None
                    else [
                        decode_global_id(line_id, "OrderLine", ("line_ids", i))
                        for i, line_id in enumerate(input.line_ids[: MAX_PARCEL_LINES + 1])
                    ],
                    tracking_number=input.tracking_number,
                    carrier=input.carrier,
                )
            except DomainError as exc:
                raise _in_input(exc) from None
        elif order_id is not None:
            pk: UUID = decode_uuid_global_id(order_id, "Order", "order_id")
            done = await fulfil(viewer_id=viewer_id, order_id=pk)
        else:
            raise DomainError(ErrorCode.REQUIRED, "Give the parcel as input.", ("input",))
        await publish_order_status(info.context.broker, done.order.id)
        return OrderFulfillPayload(
            order=OrderType.from_row(done.order),
            shipment=(await shipment_types(done.order, [done.shipment]))[0],
        )

    @strawberry.mutation(
        description="Say that one of your parcels arrived (the merchant who sent it); the buyer is told. "
        "Saying it again changes nothing."
    )
    @returns_errors
    async def shipment_mark_delivered(
        self,
        info: Info,
        shipment_id: Annotated[
            strawberry.ID, strawberry.argument(description="The Shipment id (`Order.shipments`).")
        ],
    ) -> ShipmentPayload:
        shipment = await mark_delivered(
            viewer_id=info.context.require_viewer_id(),
            shipment_id=decode_global_id(shipment_id, "Shipment", "shipment_id"),
        )
        order = await Order.get(id=shipment.order_id)  # type: ignore[attr-defined]
        await publish_order_status(info.context.broker, order.id)
        return ShipmentPayload(shipment=(await shipment_types(order, [shipment]))[0])
