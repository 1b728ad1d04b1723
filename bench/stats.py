"""Summaries of timings shared by the benchmarks, so every report means the same by p95."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The value at rank ⌊q · (n − 1)⌋ of the sorted values (nearest rank below, no interpolation)."""
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max in the values' unit (rounded to 0.01), and how many there were."""
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
        "n": len(values),
    }
