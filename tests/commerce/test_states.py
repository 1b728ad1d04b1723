"""The state tables and the conditional moves that consult them."""

from __future__ import annotations

import pytest

from commerce.states import (
    ATTEMPT_TRANSITIONS,
    REFUNDABLE,
    STOCK_TRANSITIONS,
    TRANSITIONS,
    IllegalMove,
    check_transition,
    move_attempt,
    move_order,
    move_stock,
)
from core.errors import DomainError, ErrorCode
from models import AttemptStatus, Order, OrderStatus, PaymentAttempt, StockState
from tests.commerce.factories import create_pending_order
from tests.commerce.fake_payments import FakePayments

S = OrderStatus


def test_every_state_has_a_row_in_its_table() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert set(STOCK_TRANSITIONS) == set(StockState)
    assert set(ATTEMPT_TRANSITIONS) == set(AttemptStatus)


def test_people_may_ask_only_for_the_listed_order_transitions() -> None:
    check_transition(S.PENDING_PAYMENT, S.CANCELLED)
    check_transition(S.PAID, S.FULFILLED)
    with pytest.raises(DomainError) as refused:
        check_transition(S.PAID, S.CANCELLED)
    assert refused.value.code == ErrorCode.INVALID_TRANSITION
    assert refused.value.message == "An order that is PAID cannot become CANCELLED."
    # Only a succeeded payment revives a cancelled order; nobody may ask for it.
    with pytest.raises(DomainError):
        check_transition(S.CANCELLED, S.PAID)


def test_refundable_orders_are_those_that_may_still_become_refunded() -> None:
    assert set(REFUNDABLE) == {S.PAID, S.PARTIALLY_REFUNDED, S.FULFILLED}


def test_terminal_states_lead_nowhere() -> None:
    assert not STOCK_TRANSITIONS[StockState.SOLD]
    assert not STOCK_TRANSITIONS[StockState.SHORT]
    assert not ATTEMPT_TRANSITIONS[AttemptStatus.REPLACED]
    assert not TRANSITIONS[S.REFUNDED]


async def test_a_move_happens_once_when_requests_race(db: str, payments: FakePayments) -> None:
    order = (await create_pending_order(payments=payments)).order

    first = await move_stock(order.id, from_=StockState.RESERVED, to=StockState.RELEASED)
    second = await move_stock(order.id, from_=StockState.RESERVED, to=StockState.RELEASED)

    assert (first, second) == (True, False)
    assert (await Order.get(id=order.id)).stock_state == StockState.RELEASED


async def test_a_move_only_from_the_expected_order_status(db: str, payments: FakePayments) -> None:
    order = (await create_pending_order(payments=payments)).order

    assert not await move_stock(
        order.id, from_=StockState.RESERVED, to=StockState.RELEASED, status=S.CANCELLED
    )
    assert not await move_order(order.id, from_=S.PAID, to=S.FULFILLED)
    assert await move_order(order.id, from_=S.PENDING_PAYMENT, to=S.CANCELLED, cancel_reason="BY_BUYER")

    row = await Order.get(id=order.id)
    assert (row.status, row.stock_state, row.cancel_reason) == (S.CANCELLED, StockState.RESERVED, "BY_BUYER")


async def test_an_order_and_its_stock_move_together_or_not_at_all(db: str, payments: FakePayments) -> None:
    order = (await create_pending_order(payments=payments)).order

    # The stock is RESERVED, not RELEASED: the status does not move either.
    assert not await move_order(
        order.id, from_=S.PENDING_PAYMENT, to=S.PAID, stock=(StockState.RELEASED, StockState.SOLD)
    )
    assert await move_order(
        order.id, from_=S.PENDING_PAYMENT, to=S.PAID, stock=(StockState.RESERVED, StockState.SOLD)
    )
    row = await Order.get(id=order.id)
    assert (row.status, row.stock_state) == (S.PAID, StockState.SOLD)


async def test_moves_missing_from_the_tables_are_refused_before_the_database(
    db: str, payments: FakePayments
) -> None:
    started = await create_pending_order(payments=payments)
    order, attempt = started.order, started.attempt

    with pytest.raises(IllegalMove):
        await move_stock(order.id, from_=StockState.SOLD, to=StockState.RESERVED)
    with pytest.raises(IllegalMove):
        await move_order(order.id, from_=S.REFUNDED, to=S.PAID)
    with pytest.raises(IllegalMove):
        await move_order(
            order.id, from_=S.PENDING_PAYMENT, to=S.PAID, stock=(StockState.RESERVED, StockState.SHORT)
        )
    with pytest.raises(IllegalMove):
        await move_attempt(attempt.id, from_=AttemptStatus.REPLACED, to=AttemptStatus.CREATING)

    row = await Order.get(id=order.id)
    assert (row.status, row.stock_state) == (S.PENDING_PAYMENT, StockState.RESERVED)


async def test_a_claim_is_taken_over_only_while_it_is_the_same_claim(db: str, payments: FakePayments) -> None:
    attempt = (await create_pending_order(payments=payments)).attempt
    await PaymentAttempt.filter(id=attempt.id).update(status=AttemptStatus.FAILED)
    claimed_at = (await PaymentAttempt.get(id=attempt.id)).claimed_at
    later = claimed_at.replace(year=claimed_at.year + 1)

    assert not await move_attempt(
        attempt.id, from_=AttemptStatus.FAILED, to=AttemptStatus.CREATING, claim_of=later, claimed_at=later
    )
    assert await move_attempt(
        attempt.id,
        from_=AttemptStatus.FAILED,
        to=AttemptStatus.CREATING,
        claim_of=claimed_at,
        claimed_at=later,
    )
    assert (await PaymentAttempt.get(id=attempt.id)).status == AttemptStatus.CREATING
