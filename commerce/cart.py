"""Carts: guest or signed-in, one currency each, lines that remember the note they came from.

A guest cart is reached by its id alone (a random UUID, like a Shopify cart id); a signed-in shopper's
cart only by its owner. A signed-in shopper has one open cart: `cartCreate` adds to it when it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from commerce.commissions import effective_rate
from commerce.errors import CartClosed, CurrencyMismatch, ProductUnavailable
from commerce.money import format_amount, max_charge, max_charge_text
from commerce.policy import can_use_cart
from core.errors import DomainError, ErrorCode, NotFound, Path, ValidationErrors
from core.retry import retry_on_conflict
from core.sql import fetch_all, model_from_row, placeholders, select_list, uuid_param
from core.validation import Checks
from models import Cart, CartLine, CartStatus, Note, ProductVariant

MAX_CART_LINES = 100  # distinct variants in one cart, and lines in one request
MAX_LINE_QUANTITY = 999
# Shops in one cart: each is a delivery group with its own options and code, so a cart (and the query that
# shows it, priced by schema/cost.py) stays small; ten is more than a shopper checks out at once.
MAX_CART_MERCHANTS = 10
# Where the lines to add sit among the arguments of cartCreate and cartLinesAdd alike.
_LINES: Path = ("lines",)


@dataclass(frozen=True)
class LineSpec:
    """A line to add: the variant, how many, and the note it was found in."""

    variant_id: int
    quantity: int
    source_note_id: int | None = None


@dataclass(frozen=True)
class LineChange:
    line_id: int
    quantity: int


class WarningCode(StrEnum):
    PRICE_CHANGED = "PRICE_CHANGED"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CURRENCY_CHANGED = "CURRENCY_CHANGED"
    PRODUCT_UNAVAILABLE = "PRODUCT_UNAVAILABLE"


@dataclass(frozen=True)
class CartWarning:
    """Something the shopper should know before paying; it does not block anything."""

    code: WarningCode
    message: str
    line_id: int


@dataclass
class CartContents:
    """A cart with its lines and each line's variant as it is now."""

    cart: Cart
    lines: list[tuple[CartLine, ProductVariant]] = field(default_factory=list)
    # The lines' source notes that still exist, by id (read with the lines).
    notes: dict[int, Note] = field(default_factory=dict)
    # Variants whose product is withheld from sale (read with the lines): they stay in the cart, unbuyable.
    unavailable: frozenset[int] = frozenset()
    # Each line's variant's merchant, by variant id (read with the lines): a cart ships in one delivery
    # group per merchant.
    merchant_of: dict[int, int] = field(default_factory=dict)
    # Each line's product title, by variant id (read with the lines): what an order line copies.
    titles: dict[int, str] = field(default_factory=dict)
    # Each line's creator commission in force, by variant id (the product's, else its merchant's default).
    commission_rates: dict[int, int] = field(default_factory=dict)

    def payable(self) -> list[tuple[CartLine, ProductVariant]]:
        """Lines that can be bought: still for sale, in the cart's currency (a merchant may have re-priced
        one in another)."""
        return [
            (line, v)
            for line, v in self.lines
            if v.currency == self.cart.currency and v.id not in self.unavailable
        ]

    @property
    def subtotal_minor_units(self) -> int:
        # What the shopper would pay now: current prices, not the ones seen when adding.
        return sum(v.price_minor_units * line.quantity for line, v in self.payable())

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line, _ in self.lines)

    def warnings(self) -> list[CartWarning]:
        found: list[CartWarning] = []
        for line, variant in self.lines:
            if variant.id in self.unavailable:
                # Nothing else about an item that cannot be bought matters until it can again.
                found.append(
                    CartWarning(
                        WarningCode.PRODUCT_UNAVAILABLE,
                        f"{variant.name} is no longer available; remove it to check out.",
                        line.id,
                    )
                )
                continue
            if variant.currency != self.cart.currency:
                found.append(
                    CartWarning(
                        WarningCode.CURRENCY_CHANGED,
                        f"{variant.name} is now sold in {variant.currency}, not {self.cart.currency}; "
                        "remove it to check out.",
                        line.id,
                    )
                )
                continue
            if variant.price_minor_units != line.unit_price_minor_units:
                was = format_amount(line.unit_price_minor_units, variant.currency)
                now = format_amount(variant.price_minor_units, variant.currency)
                found.append(
                    CartWarning(
                        WarningCode.PRICE_CHANGED,
                        f"{variant.name}: the price changed from {was} to {now} {variant.currency}.",
                        line.id,
                    )
                )
            if variant.stock <= 0:
                found.append(CartWarning(WarningCode.OUT_OF_STOCK, f"{variant.name} is sold out.", line.id))
            elif variant.stock < line.quantity:
                found.append(
                    CartWarning(
                        WarningCode.INSUFFICIENT_STOCK,
                        f"{variant.name}: only {variant.stock} left, you have {line.quantity}.",
                        line.id,
                    )
                )
        return found


async def open_cart_of(user_id: int) -> Cart | None:
    return await Cart.filter(owner_id=user_id, status=CartStatus.OPEN).order_by("-updated_at").first()


async def cart_for(cart_id: UUID, viewer_id: int | None) -> Cart:
    """The cart if this viewer may use it (its owner; anyone holding a guest cart's id)."""
    cart = await Cart.get_or_none(id=cart_id)
    if cart is None or not can_use_cart(cart, viewer_id):
        raise NotFound("Cart", "cart_id")
    return cart


async def load_contents(cart_id: UUID) -> CartContents | None:
    """The cart, its lines, their variants (whether each is still for sale, and whose it is) and their
    live source notes, in one statement."""
    rows = await fetch_all(
        f"SELECT {select_list(Cart, 'c', 'c_')}, {select_list(CartLine, 'l', 'l_')}, "
        f"{select_list(ProductVariant, 'v', 'v_')}, {select_list(Note, 'n', 'n_')}, "
        "p.withheld AS p_withheld, p.merchant_id AS p_merchant_id, p.title AS p_title, "
        "p.creator_commission_basis_points AS p_rate, m.default_commission_basis_points AS m_rate "
        "FROM carts c "
        "LEFT JOIN cart_lines l ON l.cart_id = c.id LEFT JOIN product_variants v ON v.id = l.variant_id "
        "LEFT JOIN products p ON p.id = v.product_id LEFT JOIN users m ON m.id = p.merchant_id "
        "LEFT JOIN notes n ON n.id = l.source_note_id AND n.deleted_at IS NULL "
        "WHERE c.id = $1 ORDER BY l.id",
        [uuid_param(cart_id)],
    )
    if not rows:
        return None
    lines = [r for r in rows if r["l_id"] is not None]
    return CartContents(
        model_from_row(Cart, rows[0], "c_"),
        [(model_from_row(CartLine, r, "l_"), model_from_row(ProductVariant, r, "v_")) for r in lines],
        {int(r["n_id"]): model_from_row(Note, r, "n_") for r in lines if r["n_id"] is not None},
        frozenset(int(r["v_id"]) for r in lines if r["p_withheld"]),
        {int(r["v_id"]): int(r["p_merchant_id"]) for r in lines},
        {int(r["v_id"]): str(r["p_title"]) for r in lines},
        {
            int(r["v_id"]): effective_rate(
                None if r["p_rate"] is None else int(r["p_rate"]), int(r["m_rate"] or 0)
            )
            for r in lines
        },
    )


async def contents_of(cart_id: UUID) -> CartContents:
    contents = await load_contents(cart_id)
    assert contents is not None, "the cart was just written"
    return contents


def check_total(contents: CartContents, at: Path) -> CartContents:
    """The contents, unless the cart is worth more than one payment can charge (Stripe's maximum for its
    currency): then OUT_OF_RANGE at `at`, raised inside the caller's transaction so nothing changes."""
    currency = contents.cart.currency
    if currency is not None and contents.subtotal_minor_units > max_charge(currency):
        raise DomainError(
            ErrorCode.OUT_OF_RANGE,
            f"A cart may be worth at most {max_charge_text(currency)}, the most one payment can charge.",
            at,
        )
    return contents


def _check_specs(specs: Sequence[LineSpec], at: Path) -> None:
    checks = Checks(prefix=at)
    if not specs:
        checks.fail((), ErrorCode.REQUIRED, "Give at least one line.")
    if len(specs) > MAX_CART_LINES:
        checks.fail((), ErrorCode.TOO_MANY, f"At most {MAX_CART_LINES} lines at once.")
    for i, spec in enumerate(specs[:MAX_CART_LINES]):
        if not 1 <= spec.quantity <= MAX_LINE_QUANTITY:
            checks.fail(
                (i, "quantity"),
                ErrorCode.OUT_OF_RANGE,
                f"Quantity is between 1 and {MAX_LINE_QUANTITY}.",
            )
    checks.done()


async def create_cart(*, viewer_id: int | None, lines: Sequence[LineSpec]) -> CartContents:
    """A new cart (or, for a signed-in shopper who has one, their open cart) holding these lines.
    A refused line leaves no new cart behind."""
    if lines:
        _check_specs(lines, _LINES)
    cart = await open_cart_of(viewer_id) if viewer_id is not None else None
    if cart is not None:
        if not lines:
            return await contents_of(cart.id)
        return await add_lines(cart_id=cart.id, viewer_id=viewer_id, lines=lines)
    async with in_transaction():
        cart = await Cart.create(owner_id=viewer_id)
        if not lines:
            return await contents_of(cart.id)
        return await add_lines(cart_id=cart.id, viewer_id=viewer_id, lines=lines)


@retry_on_conflict
async def add_lines(
    *,
    cart_id: UUID,
    viewer_id: int | None,
    lines: Sequence[LineSpec],
    refuse_unavailable: bool = True,
) -> CartContents:
    """Add lines; a variant already in the cart gets the quantities added together. A variant whose product
    is withheld from sale is refused (PRODUCT_UNAVAILABLE), unless `refuse_unavailable` is False: a guest
    cart merged at sign-in keeps such lines, which the cart then warns about.

    At most five statements, in one transaction: the variants with the cart's lines for them (and whether
    each is for sale); the cart claimed by a conditional update (open, this viewer's, same currency — it
    also takes the row lock on PostgreSQL); the source notes (only when given); one upsert of every line;
    the cart read back."""
    at = _LINES
    _check_specs(lines, at)
    merged: dict[int, LineSpec] = {}
    last_index: dict[int, int] = {}  # errors name the request's last line for a variant
    for index, spec in enumerate(lines):
        last_index[spec.variant_id] = index
        before = merged.get(spec.variant_id)
        merged[spec.variant_id] = LineSpec(
            spec.variant_id,
            spec.quantity + (before.quantity if before else 0),
            (before.source_note_id if before else None) or spec.source_note_id,
        )
    async with in_transaction():
        found, line_count, unavailable = await _lines_for_variants(cart_id, list(merged))
        known = {v.id: (line, v) for line, v in found}
        missing = [vid for vid in merged if vid not in known]
        if missing:
            index = next(i for i, s in enumerate(lines) if s.variant_id == missing[0])
            raise NotFound("Product variant", (*at, index, "variant_id"))
        if refuse_unavailable and unavailable:
            raise ValidationErrors(
                [
                    ProductUnavailable(
                        spec.variant_id, name=known[spec.variant_id][1].name, field=(*at, i, "variant_id")
                    )
                    for i, spec in enumerate(lines)
                    if spec.variant_id in unavailable
                ]
            )
        currencies = {v.currency for _, v in found}
        currency = currencies.pop()
        if currencies:
            raise CurrencyMismatch("These items are sold in different currencies.", at)
        await _claim_cart(cart_id, viewer_id, currency, at)
        await _check_source_notes(lines, at)
        rows: list[tuple[int, int, int | None, int]] = []
        for spec in merged.values():
            line, variant = known[spec.variant_id]
            quantity = spec.quantity + (line.quantity if line is not None else 0)
            if quantity > MAX_LINE_QUANTITY:
                raise DomainError(
                    ErrorCode.OUT_OF_RANGE,
                    f"At most {MAX_LINE_QUANTITY} of one item per cart.",
                    (*at, last_index[spec.variant_id], "quantity"),
                )
            rows.append((variant.id, spec.quantity, spec.source_note_id, variant.price_minor_units))
        new_lines = sum(1 for line, _ in found if line is None)
        if line_count + new_lines > MAX_CART_LINES:
            raise DomainError(ErrorCode.TOO_MANY, f"A cart holds at most {MAX_CART_LINES} items.", at)
        await _upsert_lines(cart_id, rows)
        contents = check_total(await contents_of(cart_id), at)
        if len(set(contents.merchant_of.values())) > MAX_CART_MERCHANTS:
            raise DomainError(
                ErrorCode.TOO_MANY,
                f"A cart holds items of at most {MAX_CART_MERCHANTS} shops; check this one out or start "
                "another.",
                at,
            )
        return contents


async def _claim_cart(cart_id: UUID, viewer_id: int | None, currency: str, at: Path) -> None:
    """Touch the cart if it is open, usable by this viewer and in this currency (or has none yet);
    otherwise say which of those failed."""
    claimed = await Cart.filter(
        Q(owner_id=None) | Q(owner_id=viewer_id),
        Q(currency=None) | Q(currency=currency),
        id=cart_id,
        status=CartStatus.OPEN,
    ).update(currency=currency, updated_at=datetime.now(UTC))
    if claimed:
        return
    cart = await Cart.get_or_none(id=cart_id)
    if cart is None or not can_use_cart(cart, viewer_id):
        raise NotFound("Cart", "cart_id")
    _require_open(cart)
    raise CurrencyMismatch(
        f"This cart is in {cart.currency}; these items are sold in {currency}. Use a separate cart.",
        at,
        cart_currency=cart.currency,
    )


def _require_open(cart: Cart) -> None:
    if cart.status != CartStatus.OPEN:
        raise CartClosed(
            "cart_id", message="This cart has been checked out and can no longer change; start a new cart."
        )


async def _lines_for_variants(
    cart_id: UUID, variant_ids: list[int]
) -> tuple[list[tuple[CartLine | None, ProductVariant]], int, set[int]]:
    """The requested variants, each with the cart's line for it when there is one, how many lines the
    cart has, and which of the variants are withheld from sale (one statement)."""
    rows = await fetch_all(
        f"SELECT {select_list(ProductVariant, 'v', 'v_')}, {select_list(CartLine, 'l', 'l_')}, "
        "p.withheld AS p_withheld, "
        "(SELECT COUNT(*) FROM cart_lines c WHERE c.cart_id = $1) AS line_count "
        "FROM product_variants v JOIN products p ON p.id = v.product_id "
        "LEFT JOIN cart_lines l ON l.variant_id = v.id AND l.cart_id = $1 "
        f"WHERE v.id IN ({placeholders(len(variant_ids), 2)})",
        [uuid_param(cart_id), *variant_ids],
    )
    found = [
        (
            model_from_row(CartLine, r, "l_") if r["l_id"] is not None else None,
            model_from_row(ProductVariant, r, "v_"),
        )
        for r in rows
    ]
    unavailable = {int(r["v_id"]) for r in rows if r["p_withheld"]}
    return found, int(rows[0]["line_count"]) if rows else 0, unavailable


async def _check_source_notes(lines: Sequence[LineSpec], at: Path) -> None:
    wanted = {s.source_note_id for s in lines if s.source_note_id is not None}
    if not wanted:
        return
    live = set(await Note.filter(id__in=wanted, deleted_at=None).values_list("id", flat=True))
    for i, spec in enumerate(lines):
        if spec.source_note_id is not None and spec.source_note_id not in live:
            raise NotFound("Note", (*at, i, "source_note_id"))


async def _upsert_lines(cart_id: UUID, rows: list[tuple[int, int, int | None, int]]) -> None:
    """Insert new lines and add to existing ones. Quantities are added in SQL, so two adds to the same
    cart at once both count; a line keeps the note it first came from."""
    values = ", ".join(
        f"(${5 * i + 1}, ${5 * i + 2}, ${5 * i + 3}, ${5 * i + 4}, ${5 * i + 5})" for i in range(len(rows))
    )
    params: list[object] = []
    for variant_id, quantity, source, price in rows:
        params += [uuid_param(cart_id), variant_id, quantity, source, price]
    await fetch_all(
        "INSERT INTO cart_lines (cart_id, variant_id, quantity, source_note_id, unit_price_minor_units) "
        f"VALUES {values} ON CONFLICT (cart_id, variant_id) DO UPDATE SET "
        f"quantity = CASE WHEN cart_lines.quantity + EXCLUDED.quantity > {MAX_LINE_QUANTITY} "
        f"THEN {MAX_LINE_QUANTITY} ELSE cart_lines.quantity + EXCLUDED.quantity END, "
        "source_note_id = COALESCE(cart_lines.source_note_id, EXCLUDED.source_note_id), "
        "unit_price_minor_units = EXCLUDED.unit_price_minor_units",
        params,
    )


async def _touch_cart(cart_id: UUID, viewer_id: int | None) -> None:
    """Claim an open cart this viewer may change (the row lock on PostgreSQL), or say why not."""
    claimed = await Cart.filter(
        Q(owner_id=None) | Q(owner_id=viewer_id), id=cart_id, status=CartStatus.OPEN
    ).update(updated_at=datetime.now(UTC))
    if not claimed:
        _require_open(await cart_for(cart_id, viewer_id))


@retry_on_conflict
async def update_lines(
    *, cart_id: UUID, viewer_id: int | None, changes: Sequence[LineChange]
) -> CartContents:
    """Set line quantities; 0 removes the line."""
    checks = Checks()
    checks.count("lines", changes, maximum=MAX_CART_LINES, minimum=1)
    for i, change in enumerate(changes[:MAX_CART_LINES]):
        if not 0 <= change.quantity <= MAX_LINE_QUANTITY:
            checks.fail(
                ("lines", i, "quantity"),
                ErrorCode.OUT_OF_RANGE,
                f"Quantity is between 0 (remove) and {MAX_LINE_QUANTITY}.",
            )
    checks.done()
    async with in_transaction():
        await _touch_cart(cart_id, viewer_id)
        await _require_lines(cart_id, [c.line_id for c in changes], "lines", "line_id")
        for change in changes:
            if change.quantity == 0:
                await CartLine.filter(id=change.line_id, cart_id=cart_id).delete()
            else:
                await CartLine.filter(id=change.line_id, cart_id=cart_id).update(quantity=change.quantity)
        await _forget_currency_when_empty(cart_id)
        return check_total(await contents_of(cart_id), ("lines",))


@retry_on_conflict
async def remove_lines(*, cart_id: UUID, viewer_id: int | None, line_ids: Sequence[int]) -> CartContents:
    checks = Checks()
    checks.count("line_ids", line_ids, maximum=MAX_CART_LINES, minimum=1)
    checks.done()
    async with in_transaction():
        await _touch_cart(cart_id, viewer_id)
        await _require_lines(cart_id, list(line_ids), "line_ids", None)
        await CartLine.filter(id__in=list(line_ids), cart_id=cart_id).delete()
        await _forget_currency_when_empty(cart_id)
        return await contents_of(cart_id)


async def _require_lines(cart_id: UUID, line_ids: list[int], field: str, subfield: str | None) -> None:
    present = set(await CartLine.filter(cart_id=cart_id, id__in=line_ids).values_list("id", flat=True))
    for i, line_id in enumerate(line_ids):
        if line_id not in present:
            path: Path = (field, i, subfield) if subfield else (field, i)
            raise NotFound("Cart line", path)


async def _forget_currency_when_empty(cart_id: UUID) -> None:
    # An emptied cart may be refilled in another currency.
    if not await CartLine.filter(cart_id=cart_id).exists():
        await Cart.filter(id=cart_id).update(currency=None)


async def merge_guest_cart(*, user_id: int, guest_cart_id: UUID) -> Cart | None:
    """Fold a guest cart into the shopper's open cart at sign-in; adopt it when they have none.

    Never fails sign-in: a cart that is gone, already someone's, or in another currency than the
    shopper's cart is left as it is (still reachable by its id), and the shopper's own cart is returned."""
    guest = await Cart.get_or_none(id=guest_cart_id, owner_id=None, status=CartStatus.OPEN)
    mine = await open_cart_of(user_id)
    if guest is None:
        return mine
    if mine is None:
        await Cart.filter(id=guest.id, owner_id=None, status=CartStatus.OPEN).update(owner_id=user_id)
        return await open_cart_of(user_id)
    guest_contents = await contents_of(guest.id)
    if guest_contents.lines and mine.currency not in (None, guest.currency):
        return mine
    specs = [
        # A source note deleted since is forgotten, not a reason to keep the carts apart.
        LineSpec(v.id, line.quantity, s if (s := line.source_note_id) in guest_contents.notes else None)  # type: ignore[attr-defined]
        for line, v in guest_contents.lines
    ]
    try:
        async with in_transaction():
            taken = await Cart.filter(id=guest.id, owner_id=None, status=CartStatus.OPEN).update(
                status=CartStatus.MERGED
            )
            if taken and specs:
                # Items no longer for sale come along too: the cart warns about them, as the guest's did.
                await add_lines(cart_id=mine.id, viewer_id=user_id, lines=specs, refuse_unavailable=False)
    except DomainError:
        pass  # e.g. the merged cart would be over the limits: keep both carts as they were
    return mine
