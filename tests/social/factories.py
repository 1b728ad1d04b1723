"""Keyword-only async factories for social rule tests; each writes through the rule functions, so the
rows and counters they leave are the ones the app would."""

from __future__ import annotations

from collections.abc import Sequence

from commerce.catalog import VariantSpec
from commerce.catalog import create_product as catalog_create_product
from models import Note, NoteKind, Product, User
from social.accounts import sign_up
from social.notes import Review, infer_kind
from social.notes import create_note as notes_create_note

PASSWORD = "correct horse"


async def create_user(
    *,
    handle: str = "ann",
    display_name: str | None = None,
    languages: Sequence[str] = (),
    interests: Sequence[str] = (),
) -> User:
    """A signed-up person (with their default board), email `<handle>@example.com`."""
    return await sign_up(
        email=f"{handle}@example.com",
        password=PASSWORD,
        handle=handle,
        display_name=display_name,
        languages=languages,
        interests=interests,
    )


async def create_product(
    *, merchant: User, title: str = "Velvet Lip Tint", sku: str | None = None
) -> Product:
    """A product of `merchant` with one CNY variant in stock."""
    variant = VariantSpec(
        sku=sku or title.upper().replace(" ", "-")[:20],
        name="01",
        price_minor_units=12900,
        currency="CNY",
        stock=10,
    )
    return await catalog_create_product(
        merchant_id=merchant.id, title=title, description=None, variants=[variant]
    )


async def create_note(
    *,
    author: User,
    title: str = "今日份分享",
    body: str = "记录一下",
    topics: Sequence[str] = ("生活",),
    products: Sequence[Product] = (),
    media: Sequence[str] = (),
    kind: NoteKind | None = None,
    review: Review | None = None,
) -> Note:
    """A note by `author`; its kind is inferred from `media` when not given, as the API does."""
    return await notes_create_note(
        author_id=author.id,
        kind=kind or infer_kind(media),
        title=title,
        body=body,
        topics=topics,
        product_ids=[p.id for p in products],
        media=media,
        review=review,
    )
