"""Money as clients see it: a decimal string, the integer minor units, and the currency."""

from __future__ import annotations

import strawberry

from commerce.money import format_amount


@strawberry.type(description="An amount of money. `amount` is a decimal string: never a float.")
class Money:
    amount: str = strawberry.field(
        description="The amount in major units as a decimal string with the currency's own decimals: "
        '"12.50" CNY, "1250" JPY. Format it for display; do arithmetic on `minorUnits`.'
    )
    minor_units: int = strawberry.field(
        description="The amount as an integer in the currency's smallest unit, as Stripe counts it: 1250 = "
        "12.50 CNY (fen) or 1250 JPY (yen has no minor unit)."
    )
    currency: str = strawberry.field(description="ISO 4217 code, upper case: CNY, USD, JPY …")

    @classmethod
    def of(cls, minor_units: int, currency: str) -> Money:
        return cls(amount=format_amount(minor_units, currency), minor_units=minor_units, currency=currency)
