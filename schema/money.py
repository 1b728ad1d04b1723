"""Money as clients see it: a decimal string, the integer minor units, and the currency."""

from __future__ import annotations

import strawberry

from commerce.money import format_amount


@strawberry.type(description="An amount of money. `amount` is a decimal string: never a float.")
class Money:
    amount: str
    minor_units: int
    currency: str

    @classmethod
    def of(cls, minor_units: int, currency: str) -> Money:
        return cls(amount=format_amount(minor_units, currency), minor_units=minor_units, currency=currency)
