"""Live events of the commerce half: an order's status or payment changed.

Publishing is best effort (`core.pubsub.announce`): a lost event never turns the committed change into an
error; subscribers to `orderStatus` read the order again when they reconnect.
"""

from __future__ import annotations

from uuid import UUID

from core.pubsub import Broker, announce


def order_status_channel(order_id: object) -> str:
    return f"vermilion:order:{order_id}:status"


async def publish_order_status(broker: Broker, order_id: UUID) -> None:
    """Tell subscribers the order changed; called after the change committed."""
    await announce(broker, order_status_channel(order_id), {"orderId": str(order_id)})
