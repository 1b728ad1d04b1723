"""Shipping rates and discount codes for the demo merchants, so a cart in GraphiQL shows delivery options
and takes a code.

Every merchant ships in each currency they sell in: a standard rate to Greater China (free over a
threshold), an express rate within the mainland, and an international rate. The demo merchant (`shop`)
has the codes the README's walk-through uses: WELCOME10 (10 % off), SHOPFREESHIP (free shipping from
99.00 CNY) and SPRING2025 (ended, to show DISCOUNT_EXPIRED); a few other merchants have a code each.
Dates are relative to the seed's clock only where they must be (the ended code, dated against BASE_TIME
and moved with the world: demo.clock): live codes have no end.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from demo.clock import DemoClock
from models import Product, ProductVariant, User
from models.fulfilment import DiscountCode, DiscountKind, ShippingRate

GREATER_CHINA = ["CN", "HK", "MO", "TW"]
INTERNATIONAL = ["US", "GB", "JP", "KR", "SG", "MY", "AU", "CA", "FR", "DE"]
# (name, countries, price, free over, min days, max days) per currency, in minor units.
RATES: dict[str, list[tuple[str, list[str], int, int | None, int, int]]] = {
    "CNY": [
        ("标准快递 Standard", GREATER_CHINA, 1000, 9900, 2, 5),
        ("顺丰次日 SF next day", ["CN"], 2300, None, 1, 2),
        ("国际快递 International", INTERNATIONAL, 9000, 59900, 6, 14),
    ],
    "USD": [
        ("Standard", [*GREATER_CHINA, *INTERNATIONAL], 800, 6000, 5, 12),
        ("Express", [*GREATER_CHINA, *INTERNATIONAL], 2500, None, 2, 4),
    ],
}
CODED_MERCHANTS = 5  # besides the demo merchant, the first few merchants have a code each


async def write_demo_selling(connection: BaseDBAsyncClient, clock: DemoClock) -> tuple[int, int]:
    """Insert the merchants' rates and the demo codes (dated on `clock`); returns (rates, codes)."""
    currencies: dict[int, set[str]] = {}
    rows = await ProductVariant.all().using_db(connection).values_list("product_id", "currency")
    merchant_of = dict(await Product.all().using_db(connection).values_list("id", "merchant_id"))
    for product_id, currency in rows:
        currencies.setdefault(int(merchant_of[product_id]), set()).add(str(currency))  # type: ignore[call-overload, index]
    rates = [
        ShippingRate(
            merchant_id=merchant_id,
            name=name,
            countries=countries,
            price_minor_units=price,
            currency=currency,
            free_over_minor_units=free_over,
            min_delivery_days=least,
            max_delivery_days=most,
        )
        for merchant_id in sorted(currencies)
        for currency in sorted(currencies[merchant_id])
        for name, countries, price, free_over, least, most in RATES.get(currency, [])
    ]
    await ShippingRate.bulk_create(rates, using_db=connection)
    shop = await User.filter(handle="shop").using_db(connection).first()
    codes: list[DiscountCode] = []
    if shop is not None:
        codes += [
            DiscountCode(merchant_id=shop.id, code="WELCOME10", kind=DiscountKind.PERCENT, value=1000),
            DiscountCode(
                merchant_id=shop.id,
                code="SHOPFREESHIP",
                kind=DiscountKind.FREE_SHIPPING,
                value=0,
                min_subtotal_minor_units=9900,
            ),
            DiscountCode(
                merchant_id=shop.id,
                code="SPRING2025",
                kind=DiscountKind.PERCENT,
                value=2000,
                ends_at=clock.moved(datetime(2025, 6, 1, tzinfo=UTC)),
            ),
        ]
    others = [m for m in sorted(currencies) if shop is None or m != shop.id][:CODED_MERCHANTS]
    for position, merchant_id in enumerate(others, start=1):
        codes.append(
            DiscountCode(
                merchant_id=merchant_id,
                code=f"SHOP{merchant_id}-15",
                kind=DiscountKind.PERCENT,
                value=1500,
                usage_limit=100 * position,
                per_customer_limit=1,
            )
        )
    await DiscountCode.bulk_create(codes, using_db=connection)
    return len(rates), len(codes)
