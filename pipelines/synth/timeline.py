"""Time and id helpers shared by every synthetic source.

All times are integer epoch seconds (or milliseconds for clickstream) in UTC, drawn as
whole numpy arrays. Activity follows a weekly rhythm (weekend peaks for a web shop) and
a daily one (evening peak, quiet nights), plus campaign days that lift traffic, so the
marts have a realistic shape to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

DAY = 86_400
WEEKDAY_W = np.array([1.0, 1.0, 1.05, 1.1, 1.2, 1.35, 0.9])  # Mon..Sun
HOUR_W = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4.5, 5, 5.5, 5, 4.5, 4.5, 5, 5.5, 6.5, 7.5, 8, 7, 5, 2.5],
    dtype=float,
)
# Campaign pushes: (first day offset, length in days, traffic lift). Days past the period are ignored.
CAMPAIGN_DAYS = [(5, 3, 1.6), (19, 4, 1.4), (45, 5, 1.5), (70, 3, 1.8)]


def epoch_s(d: date) -> int:
    """Seconds since 1970-01-01 UTC at the start of day d."""
    return (d - date(1970, 1, 1)).days * DAY


def day_weights(start: date, days: int) -> np.ndarray:
    """Probability of each day of the period: weekday rhythm times campaign lifts."""
    weekday = np.array([(start + timedelta(days=i)).weekday() for i in range(days)])
    w = WEEKDAY_W[weekday].copy()
    for first, length, lift in CAMPAIGN_DAYS:
        w[first : first + length] *= lift
    return w / w.sum()


@dataclass(frozen=True)
class Block:
    """Days [first, first + days) of a period of `period` days: a slice of the period built at once."""

    first: int
    days: int
    period: int

    @property
    def end(self) -> int:
        """Offset of the first day after the block."""
        return self.first + self.days

    @property
    def whole(self) -> bool:
        return self.first == 0 and self.days == self.period


def day_blocks(period: int, block_days: int) -> list[Block]:
    """The period in consecutive blocks of block_days (the last may be shorter); 0 means one block."""
    size = block_days if 0 < block_days < period else period
    return [Block(first, min(size, period - first), period) for first in range(0, period, size)]


def split_by_weight(total: int, start: date, blocks: list[Block]) -> list[int]:
    """total split over the blocks in proportion to their share of the period's day weights (exact sum)."""
    if len(blocks) == 1:
        return [total]
    w = day_weights(start, blocks[0].period)
    share = np.cumsum([w[b.first : b.end].sum() for b in blocks])
    bounds = np.round(share / share[-1] * total).astype(np.int64)
    bounds[-1] = total
    return np.diff(bounds, prepend=0).tolist()


def sample_times(
    rng: np.random.Generator, n: int, start: date, days: int, block: Block | None = None
) -> np.ndarray:
    """n epoch seconds inside [start, start + days) with the weekly and daily rhythm.

    With a block: inside the block's days only, with the same relative day weights.
    """
    p, first = day_weights(start, days), 0
    if block is not None and not block.whole:
        p, first = p[block.first : block.end] / p[block.first : block.end].sum(), block.first
    d = first + rng.choice(len(p), size=n, p=p)
    h = rng.choice(24, size=n, p=HOUR_W / HOUR_W.sum())
    return epoch_s(start) + d * DAY + h * 3600 + rng.integers(0, 3600, size=n)


def ids(prefix: str, n: int, width: int) -> pl.Series:
    """Sequential ids like C0000001, built by polars rather than a Python loop."""
    return prefix + pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(width)


def pick_from(values: list[str] | tuple[str, ...], idx: np.ndarray) -> np.ndarray:
    """Vectorized lookup of a small word list (object array, so string ops stay cheap)."""
    return np.array(values, dtype=object)[idx]
