"""Enums of buying that the error payloads share with the commerce types (kept apart so that
schema.errors need not import the types)."""

from models import OrderStatus
from schema.enums import described_enum

OrderStatusEnum = described_enum(
    OrderStatus,
    name="OrderStatus",
    description="PENDING_PAYMENT → PAID → FULFILLED; PENDING_PAYMENT → CANCELLED; "
    "PAID → (PARTIALLY_)REFUNDED.",
    values={
        "PENDING_PAYMENT": "Waiting for the payment; the stock is held until `reservedUntil`.",
        "PAID": "The payment succeeded; the merchants ship it.",
        "FULFILLED": "Shipped by the merchants.",
        "CANCELLED": "Called off before payment (see `cancelReason`); its stock was released.",
        "REFUNDED": "Everything paid was refunded.",
        "PARTIALLY_REFUNDED": "Part of what was paid was refunded; more can be (`refundable`).",
    },
)
