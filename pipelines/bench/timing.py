"""Repeat-and-median timing shared by every short measurement."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Timing:
    """Median of the runs, and the runs themselves so the spread stays visible in the JSON."""

    median_seconds: float
    runs_seconds: tuple[float, ...]


def time_runs(fn: Callable[[], object], repeat: int) -> Timing:
    """Call fn `repeat` times (at least once); the median resists one run slowed by a neighbour."""
    runs = []
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return Timing(round(statistics.median(runs), 4), tuple(round(r, 4) for r in runs))


def per_second(count: int, seconds: float | None) -> float | None:
    """A rate rounded to whole units, or None when there is no time to divide by."""
    return round(count / seconds) if seconds else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to 2 decimals, None when either side is missing or zero."""
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)
