"""How a payment's outcome settles an order: `commerce.orders.settle`, in any order, any number of times."""

from __future__ import annotations

from commerce.orders import cancel_pending, settle
from models import (
    Cart,
    CartStatus,
    Order,
    OrderStatus,
    PaymentEvent,
    PaymentEventKind,
    ProductVariant,
    StockState,
)
from tests.commerce.factories import create_pending_order, create_variant, intent_of
from tests.commerce.fake_payments import FakePayments


async def stock_of(variant: ProductVariant) -> int:
    return (await ProductVariant.get(id=variant.id)).stock


async def ledger_kinds(order: Order) -> list[str]:
    return [
        str(k)
        for k in await PaymentEvent.filter(order_id=order.id).order_by("id").values_list("kind", flat=True)
    ]


async def test_a_paid_order_sells_its_reservation_and_closes_its_cart(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant, quantity=2)
    payments.succeed(intent_of(started))

    settled = await settle(await payments.get_intent(intent_of(started)))

    assert settled is not None
    assert (settled.status, settled.stock_state) == (OrderStatus.PAID, StockState.SOLD)
    assert settled.paid_minor_units == settled.total_minor_units
    assert settled.attention is None
    assert await stock_of(variant) == 3  # the reservation became the sale; nothing taken twice
    assert (await Cart.get(id=settled.cart_id)).status == CartStatus.CLOSED  # type: ignore[attr-defined]
    assert await ledger_kinds(settled) == ["PAYMENT_INTENT_CREATED", "PAYMENT_SUCCEEDED"]


async def test_settling_twice_changes_nothing_more(db: str, payments: FakePayments) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    payments.succeed(intent_of(started))
    intent = await payments.get_intent(intent_of(started))

    await settle(intent)
    await settle(intent)

    assert await stock_of(variant) == 4
    assert (await ledger_kinds(started.order)).count("PAYMENT_SUCCEEDED") == 1


async def test_a_decline_releases_the_stock_until_the_shopper_tries_again(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant, quantity=2)
    payments.decline(intent_of(started), "Your card has insufficient funds.")

    settled = await settle(await payments.get_intent(intent_of(started)))
    await settle(await payments.get_intent(intent_of(started)))  # replayed: given back once

    assert settled is not None
    assert (settled.status, settled.stock_state) == (OrderStatus.PENDING_PAYMENT, StockState.RELEASED)
    assert await stock_of(variant) == 5
    failed = await PaymentEvent.get(order_id=settled.id, kind=PaymentEventKind.PAYMENT_FAILED)
    assert failed.detail == "Your card has insufficient funds."


async def test_an_intent_that_is_not_ours_settles_nothing(db: str, payments: FakePayments) -> None:
    foreign = await payments.create_intent(amount=100, currency="CNY", metadata={}, idempotency_key="x")
    payments.succeed(foreign.id)

    assert await settle(await payments.get_intent(foreign.id)) is None


async def test_an_unknown_intent_status_moves_nothing(db: str, payments: FakePayments) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    payments.set_status(intent_of(started), "requires_something_new")

    intent = await payments.get_intent(intent_of(started))
    settled = await settle(intent)

    assert intent.status == "unknown"
    assert settled is not None
    assert (settled.status, settled.stock_state) == (OrderStatus.PENDING_PAYMENT, StockState.RESERVED)
    assert await stock_of(variant) == 4


async def test_paid_after_a_release_takes_the_stock_again(db: str, payments: FakePayments) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant, quantity=2)
    payments.decline(intent_of(started))
    await settle(await payments.get_intent(intent_of(started)))
    assert await stock_of(variant) == 5

    payments.succeed(intent_of(started))  # another card on the same PaymentIntent
    settled = await settle(await payments.get_intent(intent_of(started)))

    assert settled is not None
    assert (settled.status, settled.stock_state) == (OrderStatus.PAID, StockState.SOLD)
    assert settled.attention is None
    assert await stock_of(variant) == 3


async def test_paid_after_the_stock_was_sold_elsewhere_is_flagged_short(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=2)
    started = await create_pending_order(payments=payments, variant=variant, quantity=2)
    payments.decline(intent_of(started))
    await settle(await payments.get_intent(intent_of(started)))
    await ProductVariant.filter(id=variant.id).update(stock=1)  # one sold to someone else meanwhile

    payments.succeed(intent_of(started))
    settled = await settle(await payments.get_intent(intent_of(started)))

    assert settled is not None
    # The money is real: the order is PAID, but without stock, for the merchant to refund or restock.
    assert (settled.status, settled.stock_state) == (OrderStatus.PAID, StockState.SHORT)
    assert settled.attention is not None and "refund or restock" in settled.attention
    assert await stock_of(variant) == 1  # a partial take did not stick


async def test_a_payment_that_succeeds_after_the_order_was_cancelled_revives_it(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=1)
    started = await create_pending_order(payments=payments, variant=variant)
    # Cancelled while the shopper's bank was still deciding (the intent was never stopped).
    assert await cancel_pending(started.order.id, "RESERVATION_EXPIRED")
    assert await stock_of(variant) == 1

    payments.succeed(intent_of(started))
    settled = await settle(await payments.get_intent(intent_of(started)))

    assert settled is not None
    assert (settled.status, settled.stock_state) == (OrderStatus.PAID, StockState.SOLD)
    assert await stock_of(variant) == 0


async def test_a_short_payment_is_flagged_for_attention(db: str, payments: FakePayments) -> None:
    started = await create_pending_order(payments=payments)
    payments.succeed(intent_of(started), amount_received=1)

    settled = await settle(await payments.get_intent(intent_of(started)))

    assert settled is not None
    assert settled.status == OrderStatus.PAID
    assert settled.paid_minor_units == 1
    assert settled.attention == f"Stripe received 1 CNY; the order is {settled.total_minor_units} CNY."
