"""Commerce-aware safety: products withheld from sale cannot be bought, a refund takes a review's verified
mark away, and the fake-review rule puts reviews by new accounts without a purchase in the queue.

Moderation is set up with `safety.withholding` directly (the moderation API is its own work); everything
a shopper, merchant or reviewer does goes through the GraphQL API, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.ids import decode_global_id
from models import (
    CaseSource,
    CaseStatus,
    ModerationCase,
    ModerationState,
    Note,
    Order,
    PaymentAttempt,
    Product,
    ProductVariant,
    ReportCategory,
    Role,
    SubjectKind,
    User,
)
from safety.signals import (
    FAKE_REVIEW_RULE,
    ReviewFacts,
    flag_fake_reviews,
    is_suspect_review,
    scan_reviews,
)
from safety.withholding import refresh_owner, set_moderation
from social.notes import Review, create_note
from tests.conftest import GraphQLClient
from tests.factories import create_product, sign_up
from tests.shop import (
    CART_FIELDS,
    CART_LINES_REMOVE,
    ORDER_FIELDS,
    PRICE,
    World,
    cart_state,
    cart_with,
    checkout_input,
    complete,
    empty_cart,
    line,
    ok,
    other_variant,
    paid_order,
    refund,
    sign_in,
    world,
)
from tests.stripe_emulator import DECLINED, pay
from tests.test_cli import vermilion

# Every order agrees with its payment ledger afterwards.
agrees_with_ledger = pytest.mark.usefixtures("ledger_agrees")

ERRORS = "errors { field code message detail { variantId lineId } }"
CART_CREATE = f"""
mutation($input: CartCreateInput!) {{ cartCreate(input: $input) {{ cart {{ {CART_FIELDS} }} {ERRORS} }} }}"""
CART_LINES_ADD = f"""
mutation($cartId: ID!, $lines: [CartLineInput!]!) {{
  cartLinesAdd(cartId: $cartId, lines: $lines) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
CART = f"query($id: ID!) {{ cart(id: $id) {{ {CART_FIELDS} }} }}"
CHECKOUT_START = f"""
mutation($input: CheckoutStartInput!) {{
  checkoutStart(input: $input) {{ order {{ {ORDER_FIELDS} }} payment {{ paymentIntentId }} {ERRORS} }}
}}"""
NOTE_CREATE = """
mutation($input: NoteCreateInput!) {
  noteCreate(input: $input) { note { id review { rating verifiedPurchase } } errors { field code } }
}"""
NOTE_UPDATE = """
mutation($id: ID!, $input: NoteUpdateInput!) {
  noteUpdate(id: $id, input: $input) { note { id review { rating } } errors { field code } }
}"""
VERIFIED = "query($id: ID!) { note(id: $id) { review { verifiedPurchase } } }"
QUEUE = """query($source: ModerationCaseSource) {
  moderationQueue(source: $source) { edges { node { subjectId source openReportCount reportCount signal } } }
}"""


def pk(global_id: str, type_name: str) -> int:
    return decode_global_id(global_id, type_name, "id")


async def delist(w: World) -> None:
    await set_moderation(Product, pk(w.product["id"], "Product"), ModerationState.DELISTED, "counterfeit")


async def relist(w: World) -> None:
    await set_moderation(Product, pk(w.product["id"], "Product"), ModerationState.NONE, "")


async def suspend_merchant(w: World) -> None:
    merchant_id = pk(w.merchant["user"]["id"], "User")
    await User.filter(id=merchant_id).update(
        suspended_until=datetime.now(UTC) + timedelta(days=7), suspension_reason="selling fakes"
    )
    await refresh_owner(merchant_id)


async def unsuspend_merchant(w: World) -> None:
    merchant_id = pk(w.merchant["user"]["id"], "User")
    await User.filter(id=merchant_id).update(suspended_until=None, suspension_reason="")
    await refresh_owner(merchant_id)


# How a product stops being for sale, and how it comes back: a moderator delists it, or its merchant is
# suspended (safety.withholding keeps `products.withheld` right either way).
WITHHOLDINGS: dict[str, tuple[Callable[[World], Awaitable[None]], Callable[[World], Awaitable[None]]]] = {
    "delisted": (delist, relist),
    "merchant suspended": (suspend_merchant, unsuspend_merchant),
}


async def stock(w: World) -> int:
    return (await ProductVariant.get(id=pk(w.variant_id, "ProductVariant"))).stock


async def payload(
    client: GraphQLClient, query: str, variables: dict[str, Any], field: str, token: str
) -> Any:
    return (await client.data(query, variables, token=token))[field]


# ----------------------------------------------------------------------------- products not for sale


@pytest.mark.parametrize("how", list(WITHHOLDINGS))
@agrees_with_ledger
async def test_a_product_withheld_from_sale_cannot_be_bought(shop: GraphQLClient, how: str) -> None:
    withhold, restore = WITHHOLDINGS[how]
    w = await world(shop, stock=10)
    holding = await cart_with(shop, w, 2)  # put in the cart while it was for sale
    (held_line,) = holding["lines"]
    await withhold(w)

    # Adding it is refused, naming the line and the variant; the cart does not change.
    late = await sign_up(shop, f"late{uuid.uuid4().hex[:6]}")
    cart = await empty_cart(shop, token=late["token"])
    added = await payload(
        shop,
        CART_LINES_ADD,
        {"cartId": cart["id"], "lines": [line(w.variant_id, 1)]},
        "cartLinesAdd",
        late["token"],
    )
    assert added["cart"] is None
    assert [(e["field"], e["code"], e["detail"]) for e in added["errors"]] == [
        (["lines", "0", "variantId"], "PRODUCT_UNAVAILABLE", {"variantId": w.variant_id, "lineId": None})
    ]
    assert added["errors"][0]["message"] == "01 正红 is no longer available."
    unchanged = (await shop.data(CART, {"id": cart["id"]}, token=late["token"]))["cart"]
    assert (unchanged["lines"], unchanged["currency"]) == ([], None)
    created = await payload(
        shop, CART_CREATE, {"input": {"lines": [line(w.variant_id, 1)]}}, "cartCreate", late["token"]
    )
    assert [(e["field"], e["code"]) for e in created["errors"]] == [
        (["input", "lines", "0", "variantId"], "PRODUCT_UNAVAILABLE")
    ]

    # The cart that already holds it says so, leaves it out of the subtotal, and keeps it.
    warned = (await shop.data(CART, {"id": holding["id"]}, token=w.shopper["token"]))["cart"]
    assert warned["warnings"] == [
        {
            "code": "PRODUCT_UNAVAILABLE",
            "message": "01 正红 is no longer available; remove it to check out.",
            "lineId": held_line["id"],
        }
    ]
    assert warned["subtotal"] is None
    assert [ln["quantity"] for ln in warned["lines"]] == [2]

    # Checkout is refused, naming the line; nothing is reserved, no order or PaymentIntent is made.
    refused = await payload(
        shop, CHECKOUT_START, checkout_input(holding["id"]), "checkoutStart", w.shopper["token"]
    )
    assert refused["order"] is None
    assert [(e["field"], e["code"], e["detail"]) for e in refused["errors"]] == [
        (["input", "cartId"], "PRODUCT_UNAVAILABLE", {"variantId": w.variant_id, "lineId": held_line["id"]})
    ]
    assert refused["errors"][0]["message"] == (
        "01 正红 is no longer available. Remove it from the cart to check out."
    )
    assert await stock(w) == 10
    assert await cart_state(shop, holding["id"], w.shopper["token"]) == {
        "id": holding["id"],
        "status": "OPEN",
        "order": None,
    }
    assert await Order.all().count() == 0
    assert await PaymentAttempt.all().count() == 0

    # Back on sale: no warning, and the same cart checks out.
    await restore(w)
    again = (await shop.data(CART, {"id": holding["id"]}, token=w.shopper["token"]))["cart"]
    assert again["warnings"] == []
    assert again["subtotal"]["minorUnits"] == 2 * PRICE
    started = await ok(
        shop, CHECKOUT_START, checkout_input(holding["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert started["order"]["status"] == "PENDING_PAYMENT"
    assert await stock(w) == 8


@agrees_with_ledger
async def test_removing_the_unavailable_line_lets_the_rest_of_the_cart_check_out(shop: GraphQLClient) -> None:
    w = await world(shop, stock=10)
    other = await other_variant(shop, w, price=500, currency="CNY", sku="OK-1")
    holding = await cart_with(shop, w, 1)
    cart = (
        await ok(
            shop,
            CART_LINES_ADD,
            {"cartId": holding["id"], "lines": [line(other, 1)]},
            "cartLinesAdd",
            token=w.shopper["token"],
        )
    )["cart"]
    withheld_line = next(ln["id"] for ln in cart["lines"] if ln["variant"]["id"] == w.variant_id)
    await delist(w)
    warned = (await shop.data(CART, {"id": holding["id"]}, token=w.shopper["token"]))["cart"]
    assert [(x["code"], x["lineId"]) for x in warned["warnings"]] == [("PRODUCT_UNAVAILABLE", withheld_line)]
    assert warned["subtotal"]["minorUnits"] == 500  # only what can be bought

    await ok(
        shop,
        CART_LINES_REMOVE,
        {"cartId": holding["id"], "lineIds": [withheld_line]},
        "cartLinesRemove",
        token=w.shopper["token"],
    )
    started = await ok(
        shop, CHECKOUT_START, checkout_input(holding["id"]), "checkoutStart", token=w.shopper["token"]
    )
    assert started["order"]["total"] == {"minorUnits": 500, "currency": "CNY"}
    assert [ln["sku"] for ln in started["order"]["lines"]] == ["OK-1"]


@agrees_with_ledger
async def test_a_guest_cart_merged_at_sign_in_keeps_the_unavailable_line_with_its_warning(
    shop: GraphQLClient,
) -> None:
    w = await world(shop, stock=10)
    other = await other_variant(shop, w, price=500, currency="CNY", sku="OK-2")
    await ok(
        shop, CART_CREATE, {"input": {"lines": [line(other, 1)]}}, "cartCreate", token=w.shopper["token"]
    )  # the shopper's own cart
    guest = await cart_with(shop, w, 1, anonymous=True)
    await delist(w)

    signed_in = await sign_in(shop, f"{w.shopper['user']['handle']}@example.com", guest["id"])
    assert signed_in["errors"] == []
    merged = signed_in["cart"]
    assert sorted(ln["variant"]["id"] for ln in merged["lines"]) == sorted([other, w.variant_id])
    assert [x["code"] for x in merged["warnings"]] == ["PRODUCT_UNAVAILABLE"]


@agrees_with_ledger
async def test_retrying_a_declined_checkout_of_a_delisted_product_is_refused(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """An unpaid order whose product was delisted after a declined card takes no stock and gets no fresh
    PaymentIntent when the shopper tries again."""
    w = await world(shop, stock=10)
    token = w.shopper["token"]
    cart = await cart_with(shop, w, 1)
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=token)
    assert (
        await pay(stripe_base, started["payment"]["paymentIntentId"], DECLINED) == "requires_payment_method"
    )
    assert (await complete(shop, started["order"]["id"], token))["stockState"] == "RELEASED"
    await delist(w)

    retried = await payload(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token)
    assert [(e["field"], e["code"]) for e in retried["errors"]] == [
        (["input", "cartId"], "PRODUCT_UNAVAILABLE")
    ]
    assert "orderCancel" in retried["errors"][0]["message"]
    assert await stock(w) == 10
    assert await PaymentAttempt.all().count() == 1  # the declined one, not replaced


# ------------------------------------------------------------------------------------ verified purchase


async def review(client: GraphQLClient, token: str, product_id: str, rating: int = 5) -> dict[str, Any]:
    variables = {"input": {"title": "用了一个月", "review": {"productId": product_id, "rating": rating}}}
    created = await payload(client, NOTE_CREATE, variables, "noteCreate", token)
    assert created["errors"] == [], created["errors"]
    return dict(created["note"])


async def verified(client: GraphQLClient, note_id: str) -> bool:
    return bool(
        (await client.data(VERIFIED, {"id": note_id}, anonymous=True))["note"]["review"]["verifiedPurchase"]
    )


@agrees_with_ledger
async def test_a_refund_in_full_takes_the_verified_mark_away(shop: GraphQLClient, stripe_base: str) -> None:
    w = await world(shop, stock=10)
    order = await paid_order(shop, stripe_base, w, 2)
    note = await review(shop, w.shopper["token"], w.product["id"])
    assert note["review"]["verifiedPurchase"] is True

    partly = await refund(shop, order["id"], PRICE, w.merchant["token"])
    assert partly["order"]["status"] == "PARTIALLY_REFUNDED"
    assert await verified(shop, note["id"]) is True  # one of the two is still theirs

    rest = await refund(shop, order["id"], PRICE, w.merchant["token"])
    assert rest["order"]["status"] == "REFUNDED"
    assert await verified(shop, note["id"]) is False

    # Bought again, and kept: verified again.
    await paid_order(shop, stripe_base, w, 1)
    assert await verified(shop, note["id"]) is True


@agrees_with_ledger
async def test_a_merchant_refunding_their_whole_part_of_a_shared_order_unverifies_only_their_product(
    shop: GraphQLClient, stripe_base: str
) -> None:
    """An order with two merchants' products: the first merchant gives back everything of theirs, so the
    order is only PARTIALLY_REFUNDED, yet the first product's review loses the mark and the other's keeps it."""
    w = await world(shop, stock=10)
    second = await sign_up(shop, f"shop2{uuid.uuid4().hex[:6]}")
    their = await create_product(
        shop,
        second["token"],
        title="Cushion 气垫",
        variants=[{"sku": "CU-1", "name": "象牙白", "priceMinorUnits": 8800, "currency": "CNY", "stock": 5}],
    )
    token = w.shopper["token"]
    cart = await cart_with(shop, w, 1)
    await ok(
        shop,
        CART_LINES_ADD,
        {"cartId": cart["id"], "lines": [line(their["variants"][0]["id"], 1)]},
        "cartLinesAdd",
        token=token,
    )
    started = await ok(shop, CHECKOUT_START, checkout_input(cart["id"]), "checkoutStart", token=token)
    assert await pay(stripe_base, started["payment"]["paymentIntentId"]) == "succeeded"
    order = await complete(shop, started["order"]["id"], token)
    first_review = await review(shop, token, w.product["id"])
    second_review = await review(shop, token, their["id"], rating=4)
    assert (await verified(shop, first_review["id"]), await verified(shop, second_review["id"])) == (
        True,
        True,
    )

    refunded = await refund(shop, order["id"], PRICE, w.merchant["token"])
    assert refunded["order"]["status"] == "PARTIALLY_REFUNDED"
    assert (await verified(shop, first_review["id"]), await verified(shop, second_review["id"])) == (
        False,
        True,
    )


# ------------------------------------------------------------------------------------ the fake-review rule


async def backdate_user(account: dict[str, Any], days: int) -> None:
    await User.filter(id=pk(account["user"]["id"], "User")).update(
        created_at=datetime.now(UTC) - timedelta(days=days)
    )


async def backdate_product(product_id: str, days: int) -> None:
    await Product.filter(id=pk(product_id, "Product")).update(
        created_at=datetime.now(UTC) - timedelta(days=days)
    )


async def case_of(note_id: str) -> ModerationCase | None:
    return await ModerationCase.get_or_none(subject_kind=SubjectKind.NOTE, subject_id=pk(note_id, "Note"))


@agrees_with_ledger
async def test_a_new_account_reviewing_without_a_purchase_is_flagged(
    shop: GraphQLClient, stripe_base: str
) -> None:
    w = await world(shop, stock=10)
    await backdate_user(w.shopper, 30)  # a customer from before the product
    await backdate_product(w.product["id"], 10)
    newcomer = await sign_up(shop, f"new{uuid.uuid4().hex[:6]}")  # signed up after the product
    buyer = await sign_up(shop, f"buyer2{uuid.uuid4().hex[:6]}")  # also new, but buys it
    await paid_order(shop, stripe_base, World(w.merchant, w.creator, buyer, w.product, w.note), 1)

    suspect = await review(shop, newcomer["token"], w.product["id"])
    bought = await review(shop, buyer["token"], w.product["id"], rating=4)
    older = await review(shop, w.shopper["token"], w.product["id"], rating=3)

    case = await case_of(suspect["id"])
    assert case is not None
    assert (case.status, case.source, case.open_report_count, case.report_count) == (
        CaseStatus.OPEN,
        CaseSource.FAKE_REVIEW_RULE,
        0,
        0,
    )
    assert case.subject_owner_id == pk(newcomer["user"]["id"], "User")  # type: ignore[attr-defined]
    account = await User.get(id=pk(newcomer["user"]["id"], "User"))
    product = await Product.get(id=pk(w.product["id"], "Product"))
    assert case.signal == {
        "rule": FAKE_REVIEW_RULE,
        "product_id": product.id,
        "account_created_at": account.created_at.isoformat(),
        "product_created_at": product.created_at.isoformat(),
    }
    assert datetime.fromisoformat(case.signal["account_created_at"]) > datetime.fromisoformat(
        case.signal["product_created_at"]
    )
    # Neither the buyer nor the older customer is flagged, and the review is not hidden by the rule.
    assert await case_of(bought["id"]) is None
    assert await case_of(older["id"]) is None
    assert (await Note.get(id=pk(suspect["id"], "Note"))).withheld is False

    # Moderators see it in the queue, with no report and the rule's evidence.
    moderator = await sign_up(shop, f"mod{uuid.uuid4().hex[:6]}")
    await User.filter(id=pk(moderator["user"]["id"], "User")).update(role=Role.MODERATOR)
    queue = await shop.data(QUEUE, {"source": "FAKE_REVIEW_RULE"}, token=moderator["token"])
    assert [e["node"] for e in queue["moderationQueue"]["edges"]] == [
        {
            "subjectId": suspect["id"],
            "source": "FAKE_REVIEW_RULE",
            "openReportCount": 0,
            "reportCount": 0,
            "signal": case.signal,
        }
    ]

    # Running the rule again (and the scan) adds nothing: one case per review.
    assert await flag_fake_reviews([pk(suspect["id"], "Note")]) == []
    assert (await scan_reviews()).flagged == 0
    assert await ModerationCase.all().count() == 1


async def test_making_a_note_a_review_by_an_edit_is_checked_too(shop: GraphQLClient) -> None:
    w = await world(shop)
    await backdate_product(w.product["id"], 10)
    newcomer = await sign_up(shop, f"new{uuid.uuid4().hex[:6]}")
    plain = (
        await payload(shop, NOTE_CREATE, {"input": {"title": "随便聊聊"}}, "noteCreate", newcomer["token"])
    )["note"]
    assert await case_of(plain["id"]) is None
    edited = await payload(
        shop,
        NOTE_UPDATE,
        {"id": plain["id"], "input": {"review": {"productId": w.product["id"], "rating": 5}}},
        "noteUpdate",
        newcomer["token"],
    )
    assert edited["errors"] == []
    case = await case_of(plain["id"])
    assert case is not None
    assert case.signal["rule"] == FAKE_REVIEW_RULE


async def test_the_scan_flags_existing_reviews_once_and_adds_to_a_reported_case(shop: GraphQLClient) -> None:
    """Reviews written before the rule existed (straight through social.notes, as the seed does): the scan
    opens a case for the suspect one, adds its evidence to the case reports opened, and leaves a case a
    moderator resolved alone when it runs again."""
    w = await world(shop)
    merchant_product = pk(w.product["id"], "Product")
    await backdate_product(w.product["id"], 10)
    authors = [await sign_up(shop, f"fan{i}{uuid.uuid4().hex[:6]}") for i in range(3)]
    notes = [
        await create_note(
            author_id=pk(a["user"]["id"], "User"),
            kind=None,
            title=f"好用 {i}",
            body="",
            topics=[],
            product_ids=[merchant_product],
            media=[],
            review=Review(product_id=merchant_product, rating=5),
        )
        for i, a in enumerate(authors)
    ]
    await backdate_user(authors[2], 30)  # older than the product: never flagged
    reported = await ModerationCase.create(
        subject_kind=SubjectKind.NOTE,
        subject_id=notes[1].id,
        subject_owner_id=notes[1].author_id,  # type: ignore[attr-defined]
        source=CaseSource.REPORTS,
        open_report_count=3,
        report_count=3,
        top_category=ReportCategory.SPAM,
    )

    report = await scan_reviews(batch=2)  # more than one batch
    assert (report.reviews, report.flagged) == (3, 2)
    opened = await ModerationCase.get(subject_kind=SubjectKind.NOTE, subject_id=notes[0].id)
    assert (opened.source, opened.status, opened.signal["rule"]) == (
        CaseSource.FAKE_REVIEW_RULE,
        CaseStatus.OPEN,
        FAKE_REVIEW_RULE,
    )
    added = await ModerationCase.get(id=reported.id)
    assert (added.source, added.open_report_count, added.top_category, added.signal["rule"]) == (
        CaseSource.REPORTS,
        3,
        ReportCategory.SPAM,
        FAKE_REVIEW_RULE,
    )
    assert not await ModerationCase.filter(subject_id=notes[2].id).exists()

    # A moderator dismisses the flag; scanning again does not bring it back.
    await ModerationCase.filter(id=opened.id).update(
        status=CaseStatus.RESOLVED, resolved_at=datetime.now(UTC)
    )
    assert (await scan_reviews()).flagged == 0
    assert (await ModerationCase.get(id=opened.id)).status == CaseStatus.RESOLVED
    assert await ModerationCase.all().count() == 2


def facts(*, account_days_ago: float, product_days_ago: float, bought: bool) -> ReviewFacts:
    now = datetime.now(UTC)
    return ReviewFacts(
        note_id=1,
        author_id=2,
        product_id=3,
        account_created_at=now - timedelta(days=account_days_ago),
        product_created_at=now - timedelta(days=product_days_ago),
        bought=bought,
    )


@pytest.mark.parametrize(
    ("account_days_ago", "product_days_ago", "bought", "suspect"),
    [
        (1, 10, False, True),  # signed up after the product, never bought it
        (1, 10, True, False),  # signed up after the product, bought it
        (10, 1, False, False),  # a customer from before the product
        (5, 5, False, False),  # the same moment is not "after"
    ],
)
def test_the_rule(account_days_ago: float, product_days_ago: float, bought: bool, suspect: bool) -> None:
    found = facts(account_days_ago=account_days_ago, product_days_ago=product_days_ago, bought=bought)
    assert is_suspect_review(found) is suspect


def test_the_scan_command_runs_on_an_empty_database(tmp_path: Path) -> None:
    assert vermilion("migrate", cwd=tmp_path).returncode == 0
    scanned = vermilion("moderation", "scan-reviews", cwd=tmp_path)
    assert scanned.returncode == 0, scanned.stderr
    assert scanned.stdout.strip() == "0 review(s) checked; 0 newly flagged as possible fake reviews."
