"""Money in integer minor units plus an ISO 4217 currency code, as Stripe counts it."""

from __future__ import annotations

from decimal import Decimal

# Fraction digits of the currencies Vermilion sells in; anything else is refused.
CURRENCY_EXPONENTS: dict[str, int] = {
    "CNY": 2, "USD": 2, "EUR": 2, "GBP": 2, "HKD": 2, "TWD": 2, "SGD": 2, "AUD": 2, "CAD": 2,
    "CHF": 2, "MYR": 2, "THB": 2, "NZD": 2, "MOP": 2,
    "JPY": 0, "KRW": 0, "VND": 0,
}  # fmt: skip
# The largest amount Stripe charges in one payment, per currency: eight digits of minor units
# (docs.stripe.com/currencies, "Maximum charge amounts") — USD 999,999.99, JPY ¥99,999,999. Every currency
# Vermilion sells in has that limit; a currency added with another limit gets its own entry. A price, a
# cart and an order total stay within it, so every amount is chargeable and fits GraphQL's 32-bit Int.
STRIPE_MAX_CHARGE = 99_999_999
MAX_CHARGE_MINOR_UNITS: dict[str, int] = dict.fromkeys(CURRENCY_EXPONENTS, STRIPE_MAX_CHARGE)


def max_charge(currency: str) -> int:
    """The largest amount, in minor units, one payment in `currency` may be."""
    return MAX_CHARGE_MINOR_UNITS.get(currency, STRIPE_MAX_CHARGE)


def max_charge_text(currency: str) -> str:
    """The limit as people read it: "999999.99 USD"."""
    if currency not in CURRENCY_EXPONENTS:
        return f"{STRIPE_MAX_CHARGE} minor units"
    return f"{format_amount(max_charge(currency), currency)} {currency}"


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
