"""Discount codes: a merchant's codes, and the rules the cart and checkout price them by.

Rules written down (README "Buying from a note"):
- A code is 3–32 characters of A–Z, 0–9, `-` and `_`, kept upper case and unique across the site, so a
  shopper's code matches whatever its case and names one merchant.
- PERCENT takes basis points of the discounted lines (1500 = 15 %), rounded down to a whole minor unit, so a
  percentage never gives more than it says; FIXED takes its value in minor units of its currency, never more
  than the lines; FREE_SHIPPING makes the merchant's shipping free. Nothing ever goes below zero.
- A discount is shared across lines by largest remainder (`allocate`): shares are whole minor units that
  add up to the discount exactly.
- `uses` counts reserved and spent uses together; one conditional update takes a use, so a usage limit holds
  however many shoppers check out at once (commerce/redemptions.py, with the stock).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from commerce.money import max_charge, max_charge_text, normalize_currency
from core.errors import AlreadyExists, DomainError, ErrorCode, Forbidden, NotFound
from core.validation import Checks
from models import Product, User
from models.fulfilment import DiscountCode, DiscountKind

CODE_PATTERN = re.compile(r"[A-Z0-9_-]{3,32}")
# One merchant's live codes: enough for every campaign, few enough to list and check at checkout.
MAX_ACTIVE_CODES = 200
# A restricted code names at most this many products (the cost analysis bounds `DiscountCode.products` by it).
MAX_CODE_PRODUCTS = 100
MAX_PERCENT_BASIS_POINTS = 10_000
# Counters are 32-bit integers in the database and in GraphQL.
MAX_LIMIT = 1_000_000


@dataclass(frozen=True)
class DiscountCodeSpec:
    """What a merchant asks for in discountCodeCreate."""

    code: str
    kind: DiscountKind
    value: int
    currency: str | None = None
    min_subtotal_minor_units: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: int | None = None
    per_customer_limit: int | None = None
    product_ids: Sequence[int] = ()


def normalize_code(text: str) -> str:
    """The stored form of a code: trimmed and upper case ("summer-15 " → "SUMMER-15")."""
    return text.strip().upper()


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` shared in proportion to `weights` by largest remainder: each share is the floor of its
    exact part, and the minor units left over go one each to the largest remainders (earlier positions
    first on a tie). Shares are non-negative and add up to `amount` exactly; a zero weight gets nothing."""
    if amount < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes a non-negative amount and weights")
    total = sum(weights)
    if total == 0:
        if amount:
            raise ValueError("cannot allocate an amount over zero weights")
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(shares)
    # Fewer units are left than there are non-zero remainders (the remainders add up to `left` × total), so
    # a zero weight, whose remainder is 0, is never reached.
    for i in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:
        shares[i] += 1
    return shares


def discount_for(code: DiscountCode, lines_subtotal_minor_units: int, now: datetime) -> int:
    """What `code` takes off lines coming to `lines_subtotal_minor_units` (its merchant's lines, or its
    products' when restricted; in its currency for FIXED: the caller checks): never more than the lines, 0
    when inactive, outside its window or below its minimum. FREE_SHIPPING takes nothing off the lines."""
    subtotal = max(lines_subtotal_minor_units, 0)
    if not code.active or not is_live(code, now) or subtotal < code.min_subtotal_minor_units:
        return 0
    if code.kind is DiscountKind.PERCENT:
        return min(subtotal * code.value // MAX_PERCENT_BASIS_POINTS, subtotal)
    if code.kind is DiscountKind.FIXED:
        return min(code.value, subtotal)
    return 0


def is_live(code: DiscountCode, now: datetime) -> bool:
    """Whether `now` is within the code's window: from `starts_at` (inclusive) to `ends_at` (exclusive)."""
    if code.starts_at is not None and now < code.starts_at:
        return False
    return code.ends_at is None or now < code.ends_at


async def create_discount_code(*, merchant_id: int, spec: DiscountCodeSpec) -> DiscountCode:
    """A new code of `merchant_id`'s, checked as a whole: every input problem is reported at once."""
    checks = Checks()
    code = normalize_code(spec.code)
    if not CODE_PATTERN.fullmatch(code):
        checks.fail("code", ErrorCode.INVALID, "A code is 3–32 characters of A–Z, 0–9, - and _.")
    currency = _check_amounts(checks, spec)
    if spec.starts_at is not None and spec.ends_at is not None and spec.ends_at <= spec.starts_at:
        checks.fail("ends_at", ErrorCode.INVALID, "The end must come after the start.")
    for field, limit in (("usage_limit", spec.usage_limit), ("per_customer_limit", spec.per_customer_limit)):
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            checks.fail(field, ErrorCode.OUT_OF_RANGE, f"A limit is 1–{MAX_LIMIT:,}, or null for none.")
    product_ids = list(dict.fromkeys(spec.product_ids))
    if checks.count("product_ids", spec.product_ids, maximum=MAX_CODE_PRODUCTS):
        await _check_products(checks, merchant_id, spec.product_ids)
    checks.done()
    try:
        async with in_transaction():
            # The merchant's row, locked on PostgreSQL, keeps two concurrent creates from both passing the
            # count (as for shipping rates).
            await User.filter(id=merchant_id).select_for_update().only("id").first()
            if await DiscountCode.filter(merchant_id=merchant_id, active=True).count() >= MAX_ACTIVE_CODES:
                raise DomainError(
                    ErrorCode.TOO_MANY,
                    f"At most {MAX_ACTIVE_CODES} active codes per merchant: deactivate one first.",
                    "code",
                )
            return await DiscountCode.create(
                merchant_id=merchant_id,
                code=code,
                kind=spec.kind,
                value=spec.value,
                currency=currency,
                min_subtotal_minor_units=spec.min_subtotal_minor_units,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
                usage_limit=spec.usage_limit,
                per_customer_limit=spec.per_customer_limit,
                product_ids=product_ids,
            )
    except IntegrityError as exc:  # the unique code, taken by anyone (checked here, not before: no race)
        raise AlreadyExists(f"The code {code} is taken.", "code") from exc


def _check_amounts(checks: Checks, spec: DiscountCodeSpec) -> str | None:
    """The code's currency (normalised) after checking its value and minimum against its kind: amounts are
    within what one payment can charge."""
    currency = None
    if spec.currency is not None:
        currency = normalize_currency(spec.currency)
        if currency is None:
            checks.fail("currency", ErrorCode.INVALID_CURRENCY, f"'{spec.currency[:8]}' is not supported.")
    elif spec.kind is DiscountKind.FIXED or spec.min_subtotal_minor_units > 0:
        checks.fail(
            "currency", ErrorCode.REQUIRED, "A fixed amount or a minimum subtotal needs its currency."
        )
    limit = max_charge(currency or "")
    if spec.kind is DiscountKind.PERCENT and not 1 <= spec.value <= MAX_PERCENT_BASIS_POINTS:
        checks.fail("value", ErrorCode.OUT_OF_RANGE, "A percentage is 1–10,000 basis points (1500 = 15 %).")
    elif spec.kind is DiscountKind.FIXED and not 0 < spec.value <= limit:
        checks.fail(
            "value",
            ErrorCode.OUT_OF_RANGE,
            f"A fixed amount is above 0 and at most {max_charge_text(currency or '')}.",
        )
    elif spec.kind is DiscountKind.FREE_SHIPPING and spec.value != 0:
        checks.fail("value", ErrorCode.INVALID, "Free shipping takes no value: send 0.")
    if not 0 <= spec.min_subtotal_minor_units <= limit:
        checks.fail(
            "min_subtotal_minor_units", ErrorCode.OUT_OF_RANGE, "The minimum is 0 or more, within a charge."
        )
    return currency


async def _check_products(checks: Checks, merchant_id: int, product_ids: Sequence[int]) -> None:
    """Each product named must exist and be the merchant's own: one read for them all."""
    owners = dict(await Product.filter(id__in=set(product_ids)).values_list("id", "merchant_id"))
    for i, product_id in enumerate(product_ids):
        owner = owners.get(product_id)
        if owner is None:
            checks.fail(("product_ids", i), ErrorCode.NOT_FOUND, "Product not found.")
        elif owner != merchant_id:
            checks.fail(
                ("product_ids", i), ErrorCode.FORBIDDEN, "A code can only discount your own products."
            )


async def deactivate_discount_code(*, code_id: int, merchant_id: int) -> DiscountCode:
    """Stop a code for new carts; uses already reserved stay (they are released with their stock). Doing it
    twice changes nothing."""
    code = await DiscountCode.get_or_none(id=code_id)
    if code is None:
        raise NotFound("Discount code", "id")
    if code.merchant_id != merchant_id:  # type: ignore[attr-defined]
        raise Forbidden("Only the merchant who made this code can deactivate it.", "id")
    if code.active:
        await DiscountCode.filter(id=code_id).update(active=False)
        code.active = False
    return code
