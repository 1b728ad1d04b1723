"""The arithmetic of reversals (commerce/commissions.py), on numbers alone: however a line is returned or
its merchant's part refunded, in however many steps, the parts reversed add up to the commission exactly,
each is never negative, and what is kept never goes below zero."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest

from commerce.commissions import MerchantPart, commission_on, held_shares, kept_after, reversed_total


def test_a_commission_is_the_rate_of_what_was_paid_rounded_down() -> None:
    assert commission_on(12900, 1000) == 1290
    assert commission_on(999, 1500) == 149  # 149.85
    assert commission_on(0, 5000) == 0
    assert commission_on(-5, 5000) == 0


def _compositions(n: int) -> list[list[int]]:
    """Every way of returning n units in steps of at least one."""
    found = []
    for cuts in itertools.product([False, True], repeat=n - 1):
        parts, size = [], 1
        for cut in cuts:
            if cut:
                parts.append(size)
                size = 1
            else:
                size += 1
        found.append([*parts, size])
    return found


@pytest.mark.parametrize("commission", [0, 1, 2, 7, 100, 1291, 99_999])
@pytest.mark.parametrize("quantity", [1, 2, 3, 5, 7])
def test_returns_in_any_steps_reverse_the_whole_commission_exactly(commission: int, quantity: int) -> None:
    for steps in _compositions(quantity):
        returned, total, parts = 0, 0, []
        for k in steps:
            part = reversed_total(commission, quantity=quantity, returned=returned + k) - reversed_total(
                commission, quantity=quantity, returned=returned
            )
            returned += k
            parts.append(part)
            total += part
            assert 0 <= kept_after(commission, quantity=quantity, returned=returned) <= commission
        assert all(p >= 0 for p in parts), (steps, parts)
        assert total == commission, (steps, parts)


def test_one_unit_of_three_reverses_a_third_rounded_so_the_creator_keeps_the_floor() -> None:
    # 100 on three units: the creator keeps ⌊100 × 2/3⌋ = 66 after one return, 33 after two, 0 after three.
    assert [reversed_total(100, quantity=3, returned=r) for r in range(4)] == [0, 34, 67, 100]


def test_partial_refunds_add_up_to_a_full_reversal() -> None:
    rng = random.Random(17)
    for _ in range(300):
        total = rng.randint(1, 100_000)
        commission = rng.randint(0, total // 2)
        cuts = sorted(rng.randint(0, total) for _ in range(rng.randint(1, 4)))
        refunded, reversed_so_far, parts = 0, 0, []
        for cut in [*cuts, total]:
            refunded = max(refunded, cut)
            share = held_shares({1: MerchantPart(total, 0, refunded)})[1]
            now = reversed_total(commission, quantity=1, returned=0, held=share)
            parts.append(now - reversed_so_far)
            reversed_so_far = now
        assert all(p >= 0 for p in parts)
        assert sum(parts) == commission


def test_an_outside_refund_takes_from_every_merchant_in_proportion_and_all_of_it_takes_everything() -> None:
    parts = {1: MerchantPart(300), 2: MerchantPart(100)}
    assert held_shares(parts, external=0) == {1: 1, 2: 1}
    assert held_shares(parts, external=100) == {1: Fraction(3, 4), 2: Fraction(3, 4)}
    assert held_shares(parts, external=400) == {1: 0, 2: 0}
    # The first merchant gave back their whole part; an outside refund of the rest empties the other's.
    parts = {1: MerchantPart(300, refunded=300), 2: MerchantPart(100)}
    assert held_shares(parts, external=100) == {1: 0, 2: 0}
    # Returns come off a part before the share is taken: half of what is left refunded is half.
    assert held_shares({1: MerchantPart(300, returned=100, refunded=100)})[1] == Fraction(1, 2)


def test_returns_and_refunds_together_never_reverse_more_than_the_commission() -> None:
    rng = random.Random(4)
    for _ in range(500):
        quantity = rng.randint(1, 6)
        commission = rng.randint(0, 5000)
        before = 0
        returned, refunded, total = 0, 0, rng.randint(quantity, 50_000)
        while returned < quantity or refunded < total:
            if rng.random() < 0.5 and returned < quantity:
                returned += rng.randint(1, quantity - returned)
            else:
                refunded = min(total, refunded + rng.randint(1, total))
            share = held_shares({1: MerchantPart(total, 0, refunded)})[1]
            now = reversed_total(commission, quantity=quantity, returned=returned, held=share)
            assert before <= now <= commission
            before = now
        assert before == commission
