"""Money in integer minor units plus an ISO 4217 currency code, as Stripe counts it."""

from __future__ import annotations

from decimal import Decimal

# Fraction digits of the currencies Vermilion sells in; anything else is refused.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "TWD": 2, "SGD": 2, "AUD": 2, "CAD": 2,
    "CHF": 2, "MYR": 2, "THB": 2, "NZD": 2, "MOP": 2,
    "JPY": 0, "KRW": 0, "VND": 0,
}  # fmt: skip
MAX_MINOR_UNITS = 10**12


def normalize_currency(code: str) -> str | None:
    """Upper-case ISO code when supported, else None."""
    upper = code.strip().upper()
    return upper if upper in CURRENCY_EXPONENTS else None


def format_amount(minor_units: int, currency: str) -> str:
    """Decimal string of an amount: 1250 USD → "12.50", 1250 JPY → "1250"."""
    exponent = CURRENCY_EXPONENTS[currency]
    if exponent == 0:
        return str(minor_units)
    return str(Decimal(minor_units).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))
