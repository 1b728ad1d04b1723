"""What paid orders mean for creators (`Note.sales`) and reviewers (`verifiedPurchase`)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from commerce.ledger import ledger_mismatches
from commerce.reservations import sweep_expired
from core.settings import Settings
from models import Order
from tests.conftest import GraphQLClient
from tests.factories import create_note, sign_up
from tests.shop import (
    PRICE,
    World,
    world,
)
from tests.stripe_emulator import DECLINED, pay
from tests.webhooks import (
    buy,
    deliver_intent,
    order_of,
    paid_purchase,
    reserved_until,
    shop_payments,
)

pytestmark = pytest.mark.timeout(120)


SALES = (
    "query($n: ID!) { note(id: $n) { sales { itemsSold orders revenue { amount minorUnits currency } } } }"
)
REVIEW = "query($n: ID!) { note(id: $n) { review { rating verifiedPurchase product { id } } } }"


# --- social commerce: note sales and verified purchases ------------------------------------------


async def _sales(shop: GraphQLClient, w: World, **kw: Any) -> Any:
    return (await shop.data(SALES, {"n": w.note["id"]}, **kw))["note"]["sales"]


async def test_note_sales_count_paid_orders_for_the_author_only(
    shop: GraphQLClient, stripe_base: str, shop_settings: Settings
) -> None:
    w = await world(shop)
    assert await _sales(shop, w, token=w.creator["token"]) == {"itemsSold": 0, "orders": 0, "revenue": []}

    paid = await paid_purchase(shop, stripe_base, w, 2)
    other_buyer = await sign_up(shop, f"fan{uuid.uuid4().hex[:6]}")
    paid_too = await buy(shop, w, 1, buyer=other_buyer)
    assert await pay(stripe_base, paid_too.intent_id) == "succeeded"
    await deliver_intent(shop, stripe_base, "payment_intent.succeeded", paid_too)
    # Not sales: an unpaid order, one cancelled when its reservation expired, one whose card was declined.
    unpaid = await buy(shop, w, 3, buyer=await sign_up(shop, f"slow{uuid.uuid4().hex[:6]}"))
    expired = await buy(shop, w, 1, buyer=await sign_up(shop, f"late{uuid.uuid4().hex[:6]}"))
    await Order.filter(id=expired.pk).update(reserved_until=await reserved_until(unpaid) - timedelta(hours=1))
    report = await sweep_expired(
        shop_payments(shop_settings), now=await reserved_until(unpaid) - timedelta(minutes=30)
    )
    assert report.expired == 1
    assert (await order_of(shop, expired))["status"] == "CANCELLED"
    w_declined = await buy(shop, w, 1, buyer=await sign_up(shop, f"card{uuid.uuid4().hex[:6]}"))
    assert await pay(stripe_base, w_declined.intent_id, DECLINED) == "requires_payment_method"
    await deliver_intent(shop, stripe_base, "payment_intent.payment_failed", w_declined)

    expected = {
        "itemsSold": 3,
        "orders": 2,
        "revenue": [{"amount": "387.00", "minorUnits": 3 * PRICE, "currency": "CNY"}],
    }
    assert await _sales(shop, w, token=w.creator["token"]) == expected
    assert await _sales(shop, w, token=w.merchant["token"]) is None
    assert await _sales(shop, w, token=paid.token) is None
    assert await _sales(shop, w, anonymous=True) is None
    assert (await order_of(shop, unpaid))["status"] == "PENDING_PAYMENT"
    assert await ledger_mismatches() == []


async def test_verified_purchase_on_reviews(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop)
    paid = await paid_purchase(shop, stripe_base, w)
    unpaid_buyer = await sign_up(shop, f"slow{uuid.uuid4().hex[:6]}")
    await buy(shop, w, 1, buyer=unpaid_buyer)
    stranger = await sign_up(shop, f"stranger{uuid.uuid4().hex[:6]}")

    review = {"productId": w.product["id"], "rating": 5}
    notes = {
        "buyer": await create_note(shop, paid.token, title="买了，真香", review=review),
        "unpaid": await create_note(
            shop, unpaid_buyer["token"], title="还没付款", review={**review, "rating": 4}
        ),
        "stranger": await create_note(
            shop, stranger["token"], title="没买过", review={**review, "rating": 1}
        ),
    }
    for name, note in notes.items():
        assert note["review"]["product"]["id"] == w.product["id"], name

    # All three in one request, so a batched lookup must keep the reviewers apart.
    query = "query(" + ", ".join(f"${k}: ID!" for k in notes) + ") {"
    query += " ".join(f"{k}: note(id: ${k}) {{ review {{ rating verifiedPurchase }} }}" for k in notes) + " }"
    data = await shop.data(query, {k: n["id"] for k, n in notes.items()}, anonymous=True)
    assert data == {
        "buyer": {"review": {"rating": 5, "verifiedPurchase": True}},
        "unpaid": {"review": {"rating": 4, "verifiedPurchase": False}},
        "stranger": {"review": {"rating": 1, "verifiedPurchase": False}},
    }
    single = (await shop.data(REVIEW, {"n": notes["buyer"]["id"]}, token=stranger["token"]))["note"]
    assert single["review"] == {"rating": 5, "verifiedPurchase": True, "product": {"id": w.product["id"]}}
    assert await ledger_mismatches() == []
