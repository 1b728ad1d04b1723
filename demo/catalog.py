"""The demo catalogue: merchants' products with 1–4 variants each."""

from __future__ import annotations

import random

from demo.brands import PRODUCT_TYPES, SELLING_POINTS, VARIANT_SCHEMES, Brand, ProductType
from demo.world import DAY, WINDOW_START, ProductRow, UserRow, VariantRow

USD_PER_CNY = 0.14


def build_products(
    rng: random.Random, users: list[UserRow], count: int
) -> tuple[list[ProductRow], list[VariantRow]]:
    """`count` products owned by the merchants among `users`, ids in listing order, and their variants."""
    merchants = [user for user in users if user.brand is not None]
    if count and not merchants:
        raise ValueError("products need at least one merchant")
    house = merchants[0]
    drafts: list[tuple[int, int, UserRow, str, ProductType]] = []
    for index in range(count):
        # The demo merchant always has a few products of its own to show.
        merchant = house if index < 3 else rng.choice(merchants)
        category = rng.choice(merchant.categories)
        kind = rng.choice(PRODUCT_TYPES[category])
        listed = rng.randint(merchant.created_at + DAY, WINDOW_START - DAY)
        drafts.append((listed, index, merchant, category, kind))
    drafts.sort(key=lambda draft: (draft[0], draft[1]))

    products: list[ProductRow] = []
    variants: list[VariantRow] = []
    for listed, _, merchant, category, kind in drafts:
        brand = merchant.brand
        assert brand is not None
        product = _product(len(products) + 1, merchant, brand, category, kind, listed)
        products.append(product)
        for variant in _variants(rng, product, brand, kind):
            variants.append(variant._replace(id=len(variants) + 1))
    return products, variants


def _product(
    product_id: int, merchant: UserRow, brand: Brand, category: str, kind: ProductType, listed: int
) -> ProductRow:
    point_zh, point_en = SELLING_POINTS[category]
    return ProductRow(
        id=product_id,
        merchant_id=merchant.id,
        title=f"{brand.name_zh} {kind.name_zh} | {brand.name_en} {kind.name_en}",
        description=(
            f"{brand.name_zh}出品的{kind.name_zh}，{point_zh}。\n"
            f"{kind.name_en} by {brand.name_en}: {point_en}."
        ),
        category=category,
        name_zh=f"{brand.name_zh}{kind.name_zh}",
        name_en=f"{brand.name_en} {kind.name_en}",
        created_at=listed,
    )


def _variants(rng: random.Random, product: ProductRow, brand: Brand, kind: ProductType) -> list[VariantRow]:
    scheme = VARIANT_SCHEMES[kind.scheme]
    options = len(scheme.names)
    wanted = rng.randint(1, min(4, options))
    if scheme.multipliers:
        # Sizes come as a run (30ml, 50ml, 100ml), never as a gap-toothed pick.
        start = rng.randint(0, options - wanted)
        picked = list(range(start, start + wanted))
    else:
        picked = sorted(rng.sample(range(options), wanted))
    base_yuan = rng.randint(kind.low, kind.high)
    currency = "USD" if rng.random() < 0.12 else "CNY"
    rows = []
    for position, option in enumerate(picked):
        multiplier = scheme.multipliers[option] if scheme.multipliers else 1.0
        yuan = base_yuan * multiplier
        # Shop prices end in 9: ¥129.00, $17.99.
        if currency == "CNY":
            price = (int(yuan) // 10 * 10 + 9) * 100
        else:
            price = max(1, round(yuan * USD_PER_CNY)) * 100 - 1
        stock = 0 if rng.random() < 0.08 else rng.choice((rng.randint(1, 20), rng.randint(20, 500)))
        rows.append(
            VariantRow(
                id=0,
                product_id=product.id,
                sku=f"{brand.code}-{product.id:05d}-{position + 1}",
                name=scheme.names[option],
                price_minor_units=price,
                currency=currency,
                stock=stock,
                created_at=product.created_at,
            )
        )
    return rows
