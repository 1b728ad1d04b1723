"""Live events of the commerce half: an order's status or payment changed."""

from __future__ import annotations

from uuid import UUID

from core.pubsub import Broker


def order_status_channel(order_id: object) -> str:
    return f"vermilion:order:{order_id}:status"


async def publish_order_status(broker: Broker, order_id: UUID) -> None:
    """Tell subscribers the order changed; called after the change committed."""
    await broker.publish(order_status_channel(order_id), {"orderId": str(order_id)})
