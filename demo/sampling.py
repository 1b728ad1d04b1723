"""Random helpers shared by the generators; each takes the caller's `random.Random`, never the global one."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from demo.world import BASE_TS


def cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def distinct_picks(rng: random.Random, cum_weights: Sequence[float], k: int, exclude: int = -1) -> list[int]:
    """Up to k distinct indices drawn by weight, never `exclude`, in the order first drawn."""
    size = len(cum_weights)
    available = size - (0 <= exclude < size)
    k = min(k, available)
    if k <= 0:
        return []
    if k * 3 > available:
        # Near-complete draws would keep hitting the same heavy indices: take a plain sample instead.
        return rng.sample([i for i in range(size) if i != exclude], k)
    population = range(size)
    chosen: dict[int, None] = {}
    for _ in range(50):
        for index in rng.choices(population, cum_weights=cum_weights, k=k - len(chosen)):
            if index != exclude:
                chosen[index] = None
        if len(chosen) >= k:
            break
    return list(chosen)[:k]


def stochastic_round(rng: random.Random, value: float) -> int:
    """`value` rounded up with probability equal to its fraction, so totals stay unbiased."""
    whole = int(value)
    return whole + (rng.random() < value - whole)


def later(rng: random.Random, start: int, mean_delay: float, minimum: int = 60) -> int:
    """A moment after `start`, usually soon (exponential delay), never after the seed's base time."""
    moment = start + minimum + int(rng.expovariate(1 / mean_delay))
    return max(start, min(moment, BASE_TS - 1))
