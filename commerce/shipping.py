"""Shipping rates: how each merchant ships, to which countries, for how much and how fast.

A merchant ships their own goods, so a cart is priced per merchant (one delivery group each) by one of
that merchant's rates for the shipping address's country. This module holds the merchant's side (create,
update, archive, list) and the two rules the cart and checkout price with (commerce/pricing.py): `offered`
and `shipping_price`. Archived rates are offered no more but stay stored: orders keep their own copy of what
they chose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from commerce.countries import COUNTRY_CODES
from commerce.money import max_charge, max_charge_text, normalize_currency
from core.errors import DomainError, ErrorCode, Forbidden, NotFound
from core.validation import Checks
from models import User
from models.fulfilment import ShippingRate

MAX_NAME = 100
# Every country there is: a rate "to anywhere" names them all.
MAX_COUNTRIES = 250
MAX_DELIVERY_DAYS = 365
# Live rates per merchant: a checkout offers each group its merchant's rates for one country, so a few
# per country are plenty; fifty keeps every delivery group's options a small, bounded read.
MAX_LIVE_RATES = 50
# `viewer.shippingRates(includeArchived: true)`: the live rates and the most recently archived ones.
MAX_LISTED_RATES = 100


@dataclass(frozen=True)
class RateSpec:
    """A rate's fields as a merchant gives them; None leaves a field as it is (on update)."""

    name: str | None = None
    countries: list[str] | None = None
    price_minor_units: int | None = None
    currency: str | None = None
    free_over_minor_units: int | None = None
    min_delivery_days: int | None = None
    max_delivery_days: int | None = None
    # On update, True sets `free_over_minor_units` (None included: never free); False leaves it.
    set_free_over: bool = True


async def create_rate(*, merchant_id: int, spec: RateSpec) -> ShippingRate:
    """A new rate of `merchant_id`'s; every field is required but `free_over_minor_units` (None: never
    free). At most `MAX_LIVE_RATES` live rates per merchant (TOO_MANY)."""
    checks = Checks()
    fields = _checked(checks, spec, current=None)
    checks.done()
    async with in_transaction():
        # The merchant's row, locked on PostgreSQL, keeps two concurrent creates from both passing the count.
        await User.filter(id=merchant_id).select_for_update().only("id").first()
        live = await ShippingRate.filter(merchant_id=merchant_id, archived_at=None).count()
        if live >= MAX_LIVE_RATES:
            raise DomainError(
                ErrorCode.TOO_MANY, f"At most {MAX_LIVE_RATES} live shipping rates per merchant.", ()
            )
        return await ShippingRate.create(merchant_id=merchant_id, **fields)


async def update_rate(*, merchant_id: int, rate_id: int, spec: RateSpec) -> ShippingRate:
    """Change the given fields of one of `merchant_id`'s rates (archived ones included: unarchiving is not
    an update). The result is checked whole, so min ≤ max days holds whichever of the two changed."""
    rate = await _own_rate(merchant_id, rate_id)
    checks = Checks()
    fields = _checked(checks, spec, current=rate)
    checks.done()
    await ShippingRate.filter(id=rate.id).update(**fields)
    await rate.refresh_from_db()
    return rate


async def archive_rate(*, merchant_id: int, rate_id: int, now: datetime | None = None) -> ShippingRate:
    """Offer one of `merchant_id`'s rates no more. Archiving an archived rate changes nothing."""
    rate = await _own_rate(merchant_id, rate_id)
    if rate.archived_at is None:
        moment = now or datetime.now(UTC)
        # Conditional, so a second archive racing this one keeps the first moment.
        await ShippingRate.filter(id=rate.id, archived_at=None).update(archived_at=moment)
        await rate.refresh_from_db()
    return rate


async def merchant_rates(merchant_id: int, *, include_archived: bool = False) -> list[ShippingRate]:
    """`merchant_id`'s live rates, oldest first; with `include_archived`, then the most recently archived
    ones, up to `MAX_LISTED_RATES` in all."""
    live = list(await ShippingRate.filter(merchant_id=merchant_id, archived_at=None).order_by("id"))
    if not include_archived:
        return live
    archived = await (
        ShippingRate.filter(merchant_id=merchant_id, archived_at__isnull=False)
        .order_by("-archived_at", "-id")
        .limit(max(0, MAX_LISTED_RATES - len(live)))
    )
    return live + list(archived)


def offered(rates: Iterable[ShippingRate], country: str | None, currency: str | None) -> list[ShippingRate]:
    """Of a merchant's `rates`, the live ones that ship to `country` (an alpha-2 code, any case) in
    `currency`, cheapest first (then fastest, then oldest): the options of that merchant's delivery group.
    None for an unknown country, or no country or currency yet. (A JSON list cannot be searched the same way
    on SQLite and PostgreSQL; a merchant has at most MAX_LIVE_RATES live rates, read in one statement and
    matched here.)"""
    code = (country or "").strip().upper()
    if code not in COUNTRY_CODES or currency is None:
        return []
    found = [
        r for r in rates if r.archived_at is None and r.currency == currency and code in (r.countries or [])
    ]
    return sorted(found, key=lambda r: (r.price_minor_units, r.max_delivery_days, r.id))


def shipping_price(rate: ShippingRate, group_subtotal_minor_units: int) -> int:
    """What shipping a merchant's group costs with `rate`, in minor units of the rate's currency: nothing
    when the rate has a free-over threshold and the group's subtotal (the merchant's lines, before any
    discount is decided elsewhere) reaches it; else the rate's price."""
    threshold = rate.free_over_minor_units
    if threshold is not None and group_subtotal_minor_units >= threshold:
        return 0
    return rate.price_minor_units


async def _own_rate(merchant_id: int, rate_id: int) -> ShippingRate:
    rate = await ShippingRate.get_or_none(id=rate_id)
    if rate is None:
        raise NotFound("Shipping rate", "id")
    if rate.merchant_id != merchant_id:  # type: ignore[attr-defined]
        raise Forbidden("Only the merchant who owns this shipping rate can change it.", "id")
    return rate


# A rate's fields as a merchant gives them, in the order they are checked.
_FIELDS = (
    "name",
    "countries",
    "currency",
    "price_minor_units",
    "free_over_minor_units",
    "min_delivery_days",
    "max_delivery_days",
)


def _checked(checks: Checks, spec: RateSpec, *, current: ShippingRate | None) -> dict[str, Any]:
    """The given fields, cleaned, to store. They are checked as the rate they make: on update (`current`),
    the given fields over the stored ones, so an amount is checked in the currency the rate will have and
    one bound of delivery days against the other, whichever of them changed."""
    given = {f: value for f in _FIELDS if (value := getattr(spec, f)) is not None}
    given.pop("free_over_minor_units", None)  # None means "never free": `set_free_over` says if it is given
    if spec.set_free_over:
        given["free_over_minor_units"] = spec.free_over_minor_units
    rate = {f: getattr(current, f, None) for f in _FIELDS} | given
    rate["name"] = checks.text("name", rate["name"], max_length=MAX_NAME)
    rate["countries"] = _countries(checks, rate["countries"])
    currency = rate["currency"] = normalize_currency(rate["currency"] or "")
    if currency is None:
        named = (given.get("currency") or "")[:8]
        checks.fail("currency", ErrorCode.INVALID_CURRENCY, f"'{named}' is not a supported currency.")
    limit, most = max_charge(currency or ""), max_charge_text(currency or "")
    price, free_over = rate["price_minor_units"], rate["free_over_minor_units"]
    if price is None:
        checks.fail("price_minor_units", ErrorCode.REQUIRED, "Price minor units is required.")
    elif not 0 <= price <= limit:
        checks.fail(
            "price_minor_units",
            ErrorCode.OUT_OF_RANGE,
            f"Shipping prices are 0 (free) to {most}, in minor units.",
        )
    if free_over is not None and not 0 <= free_over <= limit:
        checks.fail(
            "free_over_minor_units",
            ErrorCode.OUT_OF_RANGE,
            f"The free-shipping threshold is 0 to {most} in minor units, or null: never free.",
        )
    _check_days(checks, rate["min_delivery_days"], rate["max_delivery_days"])
    return {f: rate[f] for f in given}


def _check_days(checks: Checks, least: int | None, most: int | None) -> None:
    in_range = True
    for field, value in (("min_delivery_days", least), ("max_delivery_days", most)):
        if value is None:
            checks.fail(field, ErrorCode.REQUIRED, f"{field.replace('_', ' ').capitalize()} is required.")
            in_range = False
        elif not 0 <= value <= MAX_DELIVERY_DAYS:
            checks.fail(field, ErrorCode.OUT_OF_RANGE, f"Delivery days are 0 to {MAX_DELIVERY_DAYS}.")
            in_range = False
    if in_range and least is not None and most is not None and least > most:
        checks.fail(
            "min_delivery_days",
            ErrorCode.OUT_OF_RANGE,
            "The fewest delivery days cannot be more than the most.",
        )


def _countries(checks: Checks, given: Sequence[str] | None) -> list[str]:
    """Upper-cased, deduplicated (first mention kept), each an ISO 3166-1 alpha-2 code; an error recorded
    when there are none, too many or an unknown one."""
    values = list(given or [])
    if not checks.count("countries", values, maximum=MAX_COUNTRIES, minimum=1):
        return []
    codes: list[str] = []
    for i, value in enumerate(values):
        code = value.strip().upper()
        if code not in COUNTRY_CODES:
            checks.fail(
                ("countries", i),
                ErrorCode.INVALID,
                f"'{value[:8]}' is not an ISO 3166-1 alpha-2 country code (such as CN, US, JP).",
            )
        elif code not in codes:
            codes.append(code)
    return codes
