"""Fairness signals (issue 17, item 5): the discovery feed ranks by interest, never by revenue. A note's
sales — however many, whatever commission its author earns — never raise its rank by themselves, and
the feed's code reads no commerce table at all."""

from __future__ import annotations

import ast
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from commerce import cart as carts
from commerce.orders import settle
from commerce.sales import sales_by_note
from feed.service import discover_page
from feed.snapshots import TableSnapshots
from models import FeedSnapshot, Note, ProductVariant, User, commerce, earnings, fulfilment
from tests.commerce import factories as shop
from tests.commerce.fake_payments import FakePayments
from tests.feed.factories import create_note, create_user, like

SECRET = "feed-fairness-test-secret"
FEED_CODE = Path(__file__).resolve().parents[2] / "feed"


def _interests(*topics: str) -> Callable[[], Awaitable[list[str]]]:
    async def chosen() -> list[str]:
        return list(topics)

    return chosen


async def _ranked(reader: User) -> list[int]:
    """The reader's first page of the discovery feed (a new session, the same seed every time)."""
    page = await discover_page(
        viewer_id=reader.id,
        onboarding=_interests("护肤"),
        first=10,
        after=None,
        secret=SECRET,
        snapshots=TableSnapshots(),
        seed=7,
    )
    return [item.note_id for item in page.items]


async def _sell(note: Note, variant: ProductVariant, orders: int) -> None:
    """`orders` paid orders of one item, each by a new shopper who bought it from `note`."""
    payments = FakePayments()
    for _ in range(orders):
        buyer = await shop.create_user()
        contents = await carts.create_cart(
            viewer_id=buyer.id, lines=[carts.LineSpec(variant.id, 1, source_note_id=note.id)]
        )
        started = await shop.start_checkout(payments=payments, cart=contents.cart, buyer=buyer)
        payments.succeed(shop.intent_of(started))
        await settle(await payments.get_intent(shop.intent_of(started)))


async def test_many_sales_with_little_engagement_never_outrank_a_relevant_note(db: str) -> None:
    reader = await create_user(handle="reader", interests=["护肤"])
    seller, writer = await create_user(handle="seller"), await create_user(handle="writer")
    merchant = await shop.create_user(handle="brand")
    variant = await shop.create_variant(merchant=merchant, stock=100)
    product = await variant.product  # type: ignore[attr-defined]
    product.creator_commission_basis_points = 2000  # its author earns 20 % of every sale
    await product.save()
    # Two notes as relevant to the reader (one topic, 护肤): one well received, one shown often and liked
    # by nobody, which tags the product and is about to sell a lot. And one the reader has no interest in.
    relevant = await create_note(author=writer, title="干皮冬季护肤", topics=["护肤"])
    selling = await create_note(author=seller, title="这支面霜闭眼入", topics=["护肤"], products=[product])
    await create_note(author=writer, title="周末咖啡店", topics=["咖啡"])
    for fan in range(4):
        await like(viewer=await create_user(handle=f"fan{fan}"), note=relevant)
    await Note.filter(id=selling.id).update(impression_count=80)
    await Note.filter(id=relevant.id).update(impression_count=12)

    before = await _ranked(reader)
    assert before.index(relevant.id) < before.index(selling.id), before

    await _sell(selling, variant, 30)
    assert (await sales_by_note([selling.id]))[selling.id].items_sold == 30
    # A new session leaves out what the last one served: forget it (as a day later) to rank the same notes.
    await FeedSnapshot.filter(user_id=reader.id).delete()
    after = await _ranked(reader)
    # Thirty paid orders, a 20 % commission: the same page, in the same order.
    assert after == before
    assert after.index(relevant.id) < after.index(selling.id)


def _commerce_models() -> dict[str, str]:
    """Class name → table of every model of carts, orders, payments, fulfilment and earnings."""
    found = {}
    for module in (commerce, fulfilment, earnings):
        for name, value in vars(module).items():
            meta = getattr(value, "_meta", None)
            if isinstance(value, type) and meta is not None and value.__module__ == module.__name__:
                found[name] = meta.db_table
    return found


def test_the_feed_reads_no_sales_order_or_earnings_table() -> None:
    models = _commerce_models()
    tables = set(models.values())
    assert {"orders", "order_lines", "carts", "cart_lines"} <= tables, tables
    words = re.compile(r"\b(" + "|".join(sorted(map(re.escape, tables))) + r")\b")
    for path in sorted(FEED_CODE.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert not words.findall(source), (path.name, words.findall(source))
        imports = [
            (node.module or "", alias.name)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        ] + [
            (alias.name, "")
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        forbidden = [
            (module, name)
            for module, name in imports
            if module.split(".")[0] == "commerce"
            or module in {"models.commerce", "models.fulfilment", "models.earnings"}
            or (module == "models" and name in models)
        ]
        assert not forbidden, (path.name, forbidden)
