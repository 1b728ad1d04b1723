"""The sweeper never leaves stock reserved forever: attempts left in CREATING by a request that died,
and PaymentIntents Stripe cannot settle (unknown to it, or it is unreachable), are resolved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from commerce.checkout import CLAIM_TIMEOUT
from commerce.orders import settle
from commerce.payments import IntentStatus
from commerce.reservations import GIVE_UP_AFTER, sweep_expired
from models import AttemptStatus, Order, OrderStatus, PaymentAttempt, ProductVariant, StockState
from tests.commerce.factories import create_pending_order, create_variant, intent_of
from tests.commerce.fake_payments import FakePayments


async def stock_of(variant: ProductVariant) -> int:
    return (await ProductVariant.get(id=variant.id)).stock


async def _left_creating(attempt_id: int, *, new_key: bool = False) -> None:
    """The request that claimed the attempt died before recording its PaymentIntent, a while ago
    (`new_key`: before it even reached Stripe)."""
    changes: dict[str, object] = {
        "status": AttemptStatus.CREATING,
        "payment_intent_id": None,
        "client_secret": None,
        "claimed_at": datetime.now(UTC) - CLAIM_TIMEOUT - timedelta(seconds=5),
    }
    if new_key:
        changes["stripe_idempotency_key"] = uuid.uuid4()
    await PaymentAttempt.filter(id=attempt_id).update(**changes)


async def test_an_attempt_left_creating_is_taken_over_and_its_intent_cancelled(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    await _left_creating(started.attempt.id)  # Stripe made the intent; we never wrote it down
    later = started.order.reserved_until + timedelta(seconds=1)

    report = await sweep_expired(payments, now=later)

    assert (report.expired, report.paid, report.skipped, report.flagged) == (1, 0, 0, 0)
    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state, order.cancel_reason) == (
        OrderStatus.CANCELLED,
        StockState.RELEASED,
        "RESERVATION_EXPIRED",
    )
    assert await stock_of(variant) == 5
    # The intent the dead request made was found by its idempotency key and can no longer be paid.
    attempt = await PaymentAttempt.get(id=started.attempt.id)
    assert (attempt.status, attempt.payment_intent_id) == (AttemptStatus.CREATED, intent_of(started))
    assert (await payments.get_intent(intent_of(started))).status == IntentStatus.CANCELED


async def test_an_attempt_that_died_before_reaching_stripe_is_released_too(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant, quantity=2)
    await _left_creating(started.attempt.id, new_key=True)

    report = await sweep_expired(payments, now=started.order.reserved_until + timedelta(seconds=1))

    assert report.expired == 1
    assert await stock_of(variant) == 5
    attempt = await PaymentAttempt.get(id=started.attempt.id)
    assert attempt.payment_intent_id not in (None, intent_of(started))
    assert (await payments.get_intent(attempt.payment_intent_id)).status == IntentStatus.CANCELED


async def test_an_intent_stripe_no_longer_knows_is_retried_then_released_and_flagged(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant, quantity=2)
    payments.forget(intent_of(started))
    until = started.order.reserved_until

    # Within the bound: tried again on every sweep, the stock still held.
    for minutes in (1, 30, 59):
        report = await sweep_expired(payments, now=until + timedelta(minutes=minutes))
        assert (report.skipped, report.flagged) == (1, 0)
    assert (await Order.get(id=started.order.id)).status == OrderStatus.PENDING_PAYMENT
    assert await stock_of(variant) == 3

    # Past it: released, cancelled and flagged for the merchant.
    report = await sweep_expired(payments, now=until + GIVE_UP_AFTER + timedelta(seconds=1))

    assert (report.expired, report.skipped, report.flagged) == (0, 0, 1)
    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state) == (OrderStatus.CANCELLED, StockState.RELEASED)
    assert order.attention is not None and intent_of(started) in order.attention
    assert await stock_of(variant) == 5
    assert (await sweep_expired(payments, now=until + 2 * GIVE_UP_AFTER)).changed == 0


async def test_a_payment_that_succeeds_after_the_release_still_settles(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    payments.unreachable = True
    report = await sweep_expired(
        payments, now=started.order.reserved_until + GIVE_UP_AFTER + timedelta(seconds=1)
    )
    assert report.flagged == 1
    assert await stock_of(variant) == 5

    # Stripe was only out of reach, and the shopper's card went through.
    payments.unreachable = False
    payments.succeed(intent_of(started))
    await settle(await payments.get_intent(intent_of(started)))

    order = await Order.get(id=started.order.id)
    assert (order.status, order.stock_state) == (OrderStatus.PAID, StockState.SOLD)
    assert await stock_of(variant) == 4


async def test_an_attempt_left_creating_while_stripe_is_unreachable_is_released_at_the_bound(
    db: str, payments: FakePayments
) -> None:
    variant = await create_variant(stock=5)
    started = await create_pending_order(payments=payments, variant=variant)
    await _left_creating(started.attempt.id)
    payments.unreachable = True
    until = started.order.reserved_until

    assert (await sweep_expired(payments, now=until + timedelta(minutes=1))).skipped == 1
    await PaymentAttempt.filter(id=started.attempt.id).update(
        claimed_at=datetime.now(UTC) - CLAIM_TIMEOUT - timedelta(seconds=5)
    )
    report = await sweep_expired(payments, now=until + GIVE_UP_AFTER + timedelta(seconds=1))

    assert report.flagged == 1
    assert await stock_of(variant) == 5
    assert (await PaymentAttempt.get(id=started.attempt.id)).status == AttemptStatus.FAILED
    assert (await Order.get(id=started.order.id)).status == OrderStatus.CANCELLED
