"""Products and their variants: created and edited by the merchant who owns them, with the commission
they pay creators whose notes sell them (the rules of commissions are in commerce.commissions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from commerce.commissions import MAX_COMMISSION_BASIS_POINTS, commission_terms, effective_rate
from commerce.money import max_charge, max_charge_text, normalize_currency
from core.errors import AlreadyExists, DomainError, ErrorCode, Forbidden, NotFound
from core.sql import fetch_rows, placeholders
from core.validation import Checks
from media.attach import MAX_PRODUCT_IMAGES, attach_to_product, attachable
from models import Media, MediaKind, MediaUse, Product, ProductVariant, SearchKind, User
from search.documents import reindex

MAX_VARIANTS = 50
MAX_STOCK = 1_000_000


@dataclass(frozen=True)
class CommissionChange:
    """A product's own commission from now on, in basis points; None: its merchant's default."""

    basis_points: int | None


@dataclass(frozen=True)
class ProductCommission:
    """What a product pays creators today, and whether that is its merchant's default."""

    basis_points: int
    from_merchant_default: bool

    @classmethod
    def of(cls, product_rate: int | None, merchant_default: int | None) -> ProductCommission:
        return cls(effective_rate(product_rate, merchant_default or 0), product_rate is None)


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    name: str
    price_minor_units: int
    currency: str
    stock: int
    id: int | None = None


async def create_product(
    *,
    merchant_id: int,
    title: str,
    description: str | None,
    variants: Sequence[VariantSpec],
    media_ids: Sequence[int] = (),
    creator_commission_basis_points: int | None = None,
) -> Product:
    """A new product; `media_ids`: its images in order (uploaded pictures, READY, the merchant's own);
    `creator_commission_basis_points`: what it pays creators (None: the merchant's default)."""
    images = await _images(merchant_id, media_ids, product_id=None)
    checks = Checks()
    clean_title = checks.text("title", title, max_length=200)
    clean_description = checks.text("description", description or "", max_length=10_000, min_length=0)
    checks.count("variants", variants, maximum=MAX_VARIANTS, minimum=1)
    cleaned = _check_variants(checks, variants)
    _check_commission(checks, "creator_commission_basis_points", creator_commission_basis_points)
    checks.done()
    async with in_transaction():
        product = await Product.create(
            merchant_id=merchant_id,
            title=clean_title,
            description=clean_description or "",
            creator_commission_basis_points=creator_commission_basis_points,
        )
        await ProductVariant.bulk_create(
            [ProductVariant(product_id=product.id, **_variant_fields(v)) for v in cleaned]
        )
        if images:
            await attach_to_product(product.id, images)
        await reindex(SearchKind.PRODUCT, [product.id])
    return product


async def _images(merchant_id: int, media_ids: Sequence[int], *, product_id: int | None) -> list[Media]:
    reattach = (MediaUse.PRODUCT, product_id) if product_id is not None else None
    images = await attachable(merchant_id, media_ids, maximum=MAX_PRODUCT_IMAGES, reattach=reattach)
    for i, media in enumerate(images):
        if media.kind is not MediaKind.IMAGE:
            raise DomainError(ErrorCode.INVALID, "Product images are pictures.", ("media_ids", i))
    return images


async def update_product(
    *,
    product_id: int,
    editor_id: int,
    title: str | None = None,
    description: str | None = None,
    variants: Sequence[VariantSpec] | None = None,
    media_ids: Sequence[int] | None = None,
    commission: CommissionChange | None = None,
) -> Product:
    """Edit a product; `variants` given with an id update that variant, without one add a new one;
    `media_ids` replace its images (those dropped are deleted); `commission` sets its own rate or hands
    it back to the merchant's default (None: unchanged). Orders already placed keep their rate."""
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise NotFound("Product", "id")
    if product.merchant_id != editor_id:  # type: ignore[attr-defined]
        raise Forbidden("Only the merchant who owns this product can edit it.", "id")
    images = await _images(editor_id, media_ids, product_id=product_id) if media_ids is not None else None
    checks = Checks()
    clean_title = checks.text("title", title, max_length=200) if title is not None else None
    clean_description = (
        checks.text("description", description, max_length=10_000, min_length=0)
        if description is not None
        else None
    )
    cleaned: list[VariantSpec] = []
    if variants is not None:
        checks.count("variants", variants, maximum=MAX_VARIANTS)
        cleaned = _check_variants(checks, variants)
    if commission is not None:
        _check_commission(checks, "creator_commission_basis_points", commission.basis_points)
    checks.done()
    existing = {v.id: v for v in await ProductVariant.filter(product_id=product_id)}
    for i, spec in enumerate(cleaned):
        if spec.id is not None and spec.id not in existing:
            raise NotFound(
                "Product variant", ("variants", i, "id"), message="No such variant on this product."
            )
    try:
        async with in_transaction():
            if clean_title is not None:
                product.title = clean_title
            if clean_description is not None:
                product.description = clean_description
            if commission is not None:
                product.creator_commission_basis_points = commission.basis_points
            await product.save()
            for spec in cleaned:
                if spec.id is None:
                    await ProductVariant.create(product_id=product_id, **_variant_fields(spec))
                else:
                    await ProductVariant.filter(id=spec.id).update(**_variant_fields(spec))
            if images is not None:
                await attach_to_product(product_id, images)
            await reindex(SearchKind.PRODUCT, [product_id])
    except IntegrityError as exc:
        raise AlreadyExists("Each SKU may appear once per product.", "variants") from exc
    return product


def _variant_fields(spec: VariantSpec) -> dict[str, Any]:
    return {
        "sku": spec.sku,
        "name": spec.name,
        "price_minor_units": spec.price_minor_units,
        "currency": spec.currency,
        "stock": spec.stock,
    }


def _check_variants(checks: Checks, variants: Sequence[VariantSpec]) -> list[VariantSpec]:
    cleaned: list[VariantSpec] = []
    skus: set[str] = set()
    for i, v in enumerate(variants[:MAX_VARIANTS]):
        at = ("variants", i)
        sku = v.sku.strip()
        if not sku or len(sku) > 64:
            checks.fail((*at, "sku"), ErrorCode.INVALID, "SKUs are 1–64 characters.")
        elif sku in skus:
            checks.fail((*at, "sku"), ErrorCode.ALREADY_EXISTS, "Each SKU may appear once per product.")
        skus.add(sku)
        name = v.name.strip()
        if not name or len(name) > 100:
            checks.fail((*at, "name"), ErrorCode.INVALID, "Variant names are 1–100 characters.")
        currency = normalize_currency(v.currency)
        if currency is None:
            checks.fail(
                (*at, "currency"), ErrorCode.INVALID_CURRENCY, f"'{v.currency[:8]}' is not supported."
            )
        if v.price_minor_units <= 0:
            checks.fail(
                (*at, "price_minor_units"), ErrorCode.OUT_OF_RANGE, "Prices are positive, in minor units."
            )
        elif v.price_minor_units > max_charge(currency or ""):  # what one payment can charge
            checks.fail(
                (*at, "price_minor_units"),
                ErrorCode.OUT_OF_RANGE,
                f"Prices are at most {max_charge_text(currency or '')}.",
            )
        if not 0 <= v.stock <= MAX_STOCK:
            checks.fail((*at, "stock"), ErrorCode.OUT_OF_RANGE, f"Stock is between 0 and {MAX_STOCK}.")
        cleaned.append(
            VariantSpec(
                sku=sku,
                name=name,
                price_minor_units=v.price_minor_units,
                currency=currency or "",
                stock=v.stock,
                id=v.id,
            )
        )
    return cleaned


COMMISSION_RULES = f"0–{MAX_COMMISSION_BASIS_POINTS:,} basis points (100 = 1 %)"


def _check_commission(checks: Checks, field: str, basis_points: int | None) -> None:
    if basis_points is not None and not 0 <= basis_points <= MAX_COMMISSION_BASIS_POINTS:
        checks.fail(field, ErrorCode.OUT_OF_RANGE, f"A commission is {COMMISSION_RULES}.")


async def update_merchant_settings(*, merchant_id: int, default_commission_basis_points: int | None) -> User:
    """The merchant's settings after a change: `default_commission_basis_points` (None: unchanged) is what
    every product of theirs that sets no rate of its own pays creators from now on (orders already placed
    keep the rate they were bought at)."""
    checks = Checks()
    _check_commission(checks, "default_commission_basis_points", default_commission_basis_points)
    checks.done()
    if default_commission_basis_points is not None:
        await User.filter(id=merchant_id).update(
            default_commission_basis_points=default_commission_basis_points
        )
    return await User.get(id=merchant_id)


async def merchant_default_commissions(merchant_ids: Sequence[int]) -> dict[int, int]:
    """Each merchant's default commission in basis points, in one statement."""
    if not merchant_ids:
        return {}
    rows = await fetch_rows(
        "SELECT id, default_commission_basis_points AS rate FROM users"
        f" WHERE id IN ({placeholders(len(merchant_ids))})",
        list(merchant_ids),
    )
    return {int(r["id"]): int(r["rate"] or 0) for r in rows}


def pays_author(product: Product, commission: ProductCommission, author_id: int) -> bool:
    """Whether a note by `author_id` tagging `product` earns its author a commission on what shoppers buy
    from it (the checkout rule, commerce.commissions.commission_terms, for a buyer other than the author):
    a rate above 0, a product on sale, of a merchant who is not the author."""
    if product.withheld:
        return False
    _, creator = commission_terms(
        rate=commission.basis_points,
        note_author_id=author_id,
        buyer_id=None,
        merchant_id=product.merchant_id,  # type: ignore[attr-defined]
    )
    return creator is not None
