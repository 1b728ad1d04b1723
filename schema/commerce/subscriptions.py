"""Live order status over WebSocket: the shopper's page learns the moment the payment settles."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from commerce.events import order_status_channel
from commerce.fulfilment import shipment_state
from commerce.orders import order_for
from commerce.returns import return_state
from core.ids import decode_uuid_global_id
from models import Order
from schema.commerce.types import OrderType
from schema.context import Info


@strawberry.type
class CommerceSubscription:
    @strawberry.subscription(
        description="The order now, then again whenever its status, payment, parcels (`shipments`) or "
        "returns change (buyer and merchants)."
    )
    async def order_status(
        self,
        info: Info,
        order_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The Order; one you may not see ends the subscription with a NOT_FOUND error."
            ),
        ],
    ) -> AsyncGenerator[OrderType, None]:
        pk = decode_uuid_global_id(order_id, "Order", "order_id")
        async with info.context.broker.subscribe(order_status_channel(pk)) as events:
            order = await order_for(pk, info.context.viewer_id)
            last = await _state(order)  # before the yield: what changes while the client reads counts
            yield OrderType.from_row(order)
            async for _ in events:
                current = await Order.get_or_none(id=pk)
                if current is None:
                    return
                state = await _state(current)
                if state != last:
                    last = state
                    yield OrderType.from_row(current)


async def _state(order: Order) -> tuple[object, ...]:
    """What a subscriber is told again when it changes."""
    return (
        order.status,
        order.paid_minor_units,
        order.refunded_minor_units,
        await shipment_state(order.id),
        await return_state(order.id),
    )
