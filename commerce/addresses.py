"""Shipping addresses as shoppers give them: checked whole, cleaned, stored as a small JSON object.

One shape for the cart's address (`cartShippingAddressSet`) and checkout's (`checkoutStart`), so what the
cart was priced for is what the order ships to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commerce.countries import COUNTRY_CODES
from core.errors import ErrorCode, Path
from core.validation import Checks


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None
    phone: str | None = None


def check_address(checks: Checks, address: Address, at: Path = ("shipping_address",)) -> dict[str, Any]:
    """The cleaned address (trimmed; empty optional parts dropped; the country upper case), its problems
    added to `checks` under `at`. The country is an ISO 3166-1 alpha-2 code that exists."""
    inner = Checks(prefix=at)
    fields = {
        "name": inner.text("name", address.name, max_length=100),
        "line1": inner.text("line1", address.line1, max_length=200),
        "line2": inner.text("line2", address.line2, max_length=200, min_length=0, required=False),
        "city": inner.text("city", address.city, max_length=100),
        "region": inner.text("region", address.region, max_length=100, min_length=0, required=False),
        "postalCode": inner.text("postal_code", address.postal_code, max_length=20),
        "phone": inner.text("phone", address.phone, max_length=40, min_length=0, required=False),
        "country": address.country.strip().upper(),
    }
    if fields["country"] not in COUNTRY_CODES:
        inner.fail("country", ErrorCode.INVALID, "Use the two-letter country code, e.g. CN or US.")
    checks.errors += inner.errors
    return {k: v for k, v in fields.items() if v}
