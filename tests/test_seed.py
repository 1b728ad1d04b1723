"""The demo seed: a small, believable, bilingual world whose counters are exact and which is reproducible."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from tortoise.models import Model

from api.db import empty_all_tables
from demo import SeedSummary, counter_mismatches, database_is_empty, seed_database
from demo.world import MEDIA_BASE
from models import (
    Board,
    Collect,
    Comment,
    Follow,
    Like,
    Note,
    NoteProduct,
    NoteTopic,
    Product,
    ProductVariant,
    Topic,
    User,
)
from social.passwords import verify_password
from social.topics import normalize_topic_name

USERS = 30
TABLES: tuple[type[Model], ...] = (
    User,
    Topic,
    Product,
    ProductVariant,
    Note,
    NoteTopic,
    NoteProduct,
    Follow,
    Like,
    Board,
    Collect,
    Comment,
)


@pytest.fixture
async def seeded(db: str) -> SeedSummary:
    """The world as `vermilion seed` writes it: dated to today (tests/test_demo_clock.py pins the day)."""
    return await seed_database(users=USERS, progress=False)


def _present(summary: SeedSummary) -> datetime:
    """The seeded world's present: midnight (UTC) starting the day it is dated to."""
    assert summary.as_of is not None
    return datetime.combine(summary.as_of, time(), tzinfo=UTC)


async def test_small_world_has_the_requested_sizes_and_matches_its_summary(db: str) -> None:
    assert await database_is_empty()

    summary = await seed_database(users=USERS, progress=False)

    assert not await database_is_empty()
    assert summary.rows["users"] == USERS + 1  # the world's people and the demo moderator
    assert summary.rows["notes"] == USERS * 8
    assert summary.rows["products"] == 12
    for model in TABLES:
        assert await model.all().count() == summary.rows[model._meta.db_table], model
    assert summary.rows["likes"] > summary.rows["notes"] * 3
    assert summary.rows["comments"] > 0 and summary.rows["follows"] > 0 and summary.rows["collects"] > 0


async def test_every_denormalised_counter_is_exact(seeded: SeedSummary) -> None:
    assert await counter_mismatches() == []


async def test_counter_check_reports_a_drifted_counter(seeded: SeedSummary) -> None:
    note = await Note.filter(like_count__gt=0).order_by("id").first()
    assert note is not None
    await Note.filter(id=note.id).update(like_count=note.like_count + 1)

    problems = await counter_mismatches()

    assert problems == [
        f"notes.like_count of id {note.id}: stored {note.like_count + 1}, counted {note.like_count}"
    ]


async def test_notes_are_bilingual_and_well_formed(seeded: SeedSummary) -> None:
    notes = await Note.all().values("id", "kind", "title", "body", "language", "media", "created_at")
    languages = Counter(note["language"] for note in notes)
    assert set(languages) == {"zh", "en"}
    assert languages["zh"] > languages["en"] > len(notes) * 0.1
    for note in notes:
        assert 0 < len(note["title"]) <= 100 and 0 < len(note["body"]) <= 5000
        media = note["media"]
        expected = {"IMAGE": range(1, 10), "VIDEO": range(1, 2), "TEXT": range(0, 1)}[note["kind"]]
        assert len(media) in expected, note
        assert all(url.startswith(f"{MEDIA_BASE}/") for url in media)
    topics_per_note = Counter(link["note_id"] for link in await NoteTopic.all().values("note_id"))
    assert set(topics_per_note) == {note["id"] for note in notes}
    assert all(1 <= count <= 4 for count in topics_per_note.values())
    products_per_note = Counter(link["note_id"] for link in await NoteProduct.all().values("note_id"))
    assert all(count <= 3 for count in products_per_note.values())


async def test_review_notes_tag_the_product_they_review(seeded: SeedSummary) -> None:
    reviews = await Note.filter(review_product_id__isnull=False).values(
        "id", "review_product_id", "review_rating"
    )
    notes = await Note.all().count()
    assert 0.05 * notes < len(reviews) < 0.3 * notes
    tagged = {
        (link["note_id"], link["product_id"])
        for link in await NoteProduct.all().values("note_id", "product_id")
    }
    for review in reviews:
        assert (review["id"], review["review_product_id"]) in tagged
        assert 1 <= review["review_rating"] <= 5
    ratings = Counter(review["review_rating"] for review in reviews)
    assert ratings[4] + ratings[5] > ratings[1] + ratings[2] + ratings[3]
    assert await Note.filter(review_product_id__isnull=True, review_rating__isnull=False).count() == 0


async def test_topic_names_and_interests_are_normalised(seeded: SeedSummary) -> None:
    names = await Topic.all().values_list("name", flat=True)
    assert names and all(normalize_topic_name(str(name)) == name for name in names)
    for interests in await User.all().values_list("interests", flat=True):
        assert isinstance(interests, list)
        assert interests and all(normalize_topic_name(name) == name for name in interests)


async def test_replies_point_into_their_own_thread(seeded: SeedSummary) -> None:
    comments = {row["id"]: row for row in await Comment.all().values()}
    replies = [row for row in comments.values() if row["root_id"] is not None]
    assert replies
    for reply in replies:
        root = comments[reply["root_id"]]
        target = comments[reply["reply_to_id"]]
        assert root["root_id"] is None and root["note_id"] == reply["note_id"]
        assert target["id"] == root["id"] or target["root_id"] == root["id"]
        assert target["id"] < reply["id"] and target["created_at"] <= reply["created_at"]


async def test_ids_grow_with_time_and_no_timestamp_is_wall_clock(seeded: SeedSummary) -> None:
    for model in (Note, Comment, Like, Collect, Follow, Board, Product, User):
        stamps = [row["created_at"] for row in await model.all().order_by("id").values("created_at")]
        assert stamps == sorted(stamps), model
        assert max(stamps) <= _present(seeded) <= datetime.now(UTC), model
    notes = await Note.all().values("created_at", "updated_at")
    assert all(note["updated_at"] == note["created_at"] for note in notes)


async def test_demo_accounts_sign_in_and_have_their_roles(seeded: SeedSummary) -> None:
    assert [account.email for account in seeded.accounts] == [
        "demo@vermilion.dev",
        "creator@vermilion.dev",
        "merchant@vermilion.dev",
        "moderator@vermilion.dev",
    ]
    for account in seeded.accounts:
        user = await User.get(email=account.email)
        assert user.handle == account.handle
        assert verify_password(user.password_hash, "vermilion-demo")
    creator = await User.get(handle="xiaohong")
    assert creator.note_count > 0 and creator.follower_count > 0
    assert await Product.filter(merchant__handle="shop").count() >= 3


async def test_demo_shopper_has_a_full_following_feed(seeded: SeedSummary) -> None:
    demo = await User.get(handle="demo")
    followees = await Follow.filter(follower_id=demo.id).values_list("followee_id", flat=True)
    assert len(followees) >= 3
    assert await Note.filter(author_id__in=followees, deleted_at__isnull=True).count() >= 25


async def test_people_catalogue_and_boards_are_well_formed(seeded: SeedSummary) -> None:
    users = await User.all().values("id", "email", "handle", "languages")
    for user in users:
        assert re.fullmatch(r"[a-z0-9_]{1,30}", user["handle"]), user
        assert user["email"] == user["email"].lower()
        assert user["languages"] in (["zh"], ["en"], ["zh", "en"])
    defaults = Counter(b["owner_id"] for b in await Board.filter(is_default=True).values("owner_id", "name"))
    assert set(defaults) == {user["id"] for user in users} and set(defaults.values()) == {1}
    assert set(await Board.filter(is_default=True).values_list("name", flat=True)) <= {
        "默认收藏",
        "Collected",
    }
    variants = await ProductVariant.all().values("product_id", "sku", "currency", "stock")
    per_product = Counter(variant["product_id"] for variant in variants)
    assert all(1 <= count <= 4 for count in per_product.values())
    assert len({(v["product_id"], v["sku"]) for v in variants}) == len(variants)
    assert {v["currency"] for v in variants} <= {"CNY", "USD"}
    assert all(0 <= v["stock"] <= 500 for v in variants)


async def test_rows_added_after_the_seed_get_fresh_ids(seeded: SeedSummary) -> None:
    """The seed writes explicit ids; the database must still number new rows after them."""
    user = await User.create(
        email="new@vermilion.example", handle="newcomer", display_name="N", password_hash="x"
    )
    note = await Note.create(author=user, kind="TEXT", title="hi", body="hello")
    assert user.id == seeded.rows["users"] + 1  # after the world's people and the demo moderator
    assert note.id == seeded.rows["notes"] + 1


async def test_same_seed_gives_identical_data_and_another_seed_differs(db: str) -> None:
    day = date(2026, 11, 1)  # pinned: a run across midnight would date the second seed a day later
    await seed_database(users=USERS, seed=11, as_of=day, progress=False)
    first = await _dump()
    await empty_all_tables()
    await seed_database(users=USERS, seed=11, as_of=day, progress=False)
    second = await _dump()
    await empty_all_tables()
    await seed_database(users=USERS, seed=12, as_of=day, progress=False)
    other = await _dump()

    assert first == second
    assert first["notes"] != other["notes"]


async def _dump() -> dict[str, list[list[tuple[str, str]]]]:
    """Every row of every table, minus the password hash (Argon2 salts each hash at random)."""
    dump = {}
    for model in TABLES:
        rows: list[dict[str, Any]] = await model.all().order_by("id").values()
        dump[model._meta.db_table] = [
            sorted((key, repr(value)) for key, value in row.items() if key != "password_hash") for row in rows
        ]
    return dump


async def test_demo_accounts_have_an_inbox_that_follows_the_notification_rules(seeded: SeedSummary) -> None:
    from models import Notification

    creator = await User.get(handle="xiaohong")
    inbox = await Notification.filter(recipient_id=creator.id).order_by("id")
    assert {n.kind for n in inbox} >= {"LIKE", "FOLLOW", "COMMENT"}
    assert all(n.actor_id != n.recipient_id for n in inbox)  # type: ignore[attr-defined]
    times = [n.created_at for n in inbox]
    assert times == sorted(times)  # newest-first by id is newest-first by time
    assert seeded.rows["notifications"] == await Notification.all().count()
    everyone_else = await Notification.exclude(recipient__handle__in=["demo", "xiaohong", "shop"]).count()
    assert everyone_else == 0


async def test_demo_orders_show_sales_and_agree_with_the_ledger(seeded: SeedSummary) -> None:
    from commerce.ledger import ledger_mismatches
    from commerce.sales import sales_by_note
    from models import Order, OrderLine

    assert seeded.rows["orders"] == await Order.all().count() > 0
    assert await ledger_mismatches() == []
    lines = await OrderLine.all()
    sales = await sales_by_note([line.source_note_id for line in lines])  # type: ignore[attr-defined]
    assert sum(s.items_sold for s in sales.values()) == sum(line.quantity for line in lines)


async def test_the_demo_creator_has_earnings_in_every_state_and_they_reconcile(seeded: SeedSummary) -> None:
    """xiaohong earned commissions on the demo shop's sales from her notes: some still PENDING, some
    released and AVAILABLE, one payout PAID and one REQUESTED, all as the ledger's rules would have written
    them (demo/earnings.py)."""
    from commerce.earnings import balances
    from commerce.earnings_check import earnings_mismatches
    from commerce.ledger import ledger_mismatches
    from commerce.payouts import minimum_payout
    from models import EarningEntry, Payout, PayoutStatus

    assert await ledger_mismatches() == []
    assert await earnings_mismatches() == []
    creator = await User.get(handle="xiaohong")
    cny = (await balances(creator.id))["CNY"]
    assert min(cny.pending, cny.available, cny.in_payout, cny.paid_out) > 0
    payouts = await Payout.filter(creator_id=creator.id).order_by("id")
    assert [p.status for p in payouts] == [PayoutStatus.PAID, PayoutStatus.REQUESTED]
    assert all(p.amount_minor_units >= minimum_payout(p.currency) for p in payouts)
    assert (cny.paid_out, cny.in_payout) == tuple(p.amount_minor_units for p in payouts)
    assert seeded.rows["payouts"] == len(payouts)
    assert seeded.rows["earning_entries"] == await EarningEntry.all().count()
    stamps = [e.created_at for e in await EarningEntry.all().order_by("id")]
    assert stamps == sorted(stamps) and max(stamps) < _present(seeded)
    assert (await User.get(handle="shop")).default_commission_basis_points > 0


async def test_demo_orders_show_their_parcels_and_each_shops_part(seeded: SeedSummary) -> None:
    """A FULFILLED demo order went out in one DELIVERED parcel after it was paid; a PAID one has not shipped;
    every order has its merchant's delivery group, which adds up to the order."""
    from models import Order, OrderLine, OrderStatus, Shipment, ShipmentStatus
    from models.fulfilment import OrderDeliveryGroup

    statuses = set()
    for order in await Order.all():
        statuses.add(order.status)
        lines = await OrderLine.filter(order_id=order.id)
        (group,) = await OrderDeliveryGroup.filter(order_id=order.id)
        assert {line.merchant_id for line in lines} == {group.merchant_id}  # type: ignore[attr-defined]
        assert group.subtotal_minor_units == order.subtotal_minor_units == order.total_minor_units
        assert group.shipping_minor_units == group.discount_minor_units == 0
        parcels = await Shipment.filter(order_id=order.id)
        if order.status == OrderStatus.PAID:
            assert parcels == [] and all(line.shipped_quantity == 0 for line in lines)
            continue
        (parcel,) = parcels
        assert parcel.status == ShipmentStatus.DELIVERED and parcel.tracking_number and parcel.carrier
        assert order.paid_at is not None and parcel.delivered_at is not None
        assert order.paid_at < parcel.shipped_at < parcel.delivered_at
        assert parcel.lines == {str(line.id): line.quantity for line in lines}
        assert all(line.shipped_quantity == line.quantity for line in lines)
    assert statuses == {OrderStatus.PAID, OrderStatus.FULFILLED}


async def test_demo_merchants_ship_and_the_demo_codes_price_a_cart(seeded: SeedSummary) -> None:
    from commerce.cart import load_contents
    from commerce.pricing import priced
    from models import Cart, CartLine, DiscountCode, ProductVariant, ShippingRate, User

    assert seeded.rows["shipping_rates"] == await ShippingRate.all().count() > 0
    shop = await User.get(handle="shop")
    variant = await ProductVariant.filter(product__merchant_id=shop.id, stock__gt=0, currency="CNY").first()
    assert variant is not None
    welcome = await DiscountCode.get(code="WELCOME10")
    cart = await Cart.create(
        currency="CNY",
        shipping_address={
            "name": "Demo",
            "line1": "1",
            "city": "上海",
            "postalCode": "200040",
            "country": "CN",
        },
        discount_code_ids={str(shop.id): welcome.id},
    )
    await CartLine.create(
        cart=cart, variant=variant, quantity=1, unit_price_minor_units=variant.price_minor_units
    )
    contents = await load_contents(cart.id)
    assert contents is not None
    (group,) = (await priced(contents)).groups
    assert [o.rate.name for o in group.options if o.rate] == ["标准快递 Standard", "顺丰次日 SF next day"]
    assert group.code is not None and group.code.problem is None
    assert group.discount_minor_units == variant.price_minor_units // 10
    expired = await DiscountCode.get(code="SPRING2025")
    assert expired.ends_at is not None and expired.ends_at < datetime.now(UTC)  # shows DISCOUNT_EXPIRED
