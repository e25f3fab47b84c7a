"""Medians and spreads of repeated measurements."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """A median with the smallest and largest round value."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Figure:
        """Summarise the per-round values."""
        if not values:
            raise ValueError("no values")
        return cls(statistics.median(values), min(values), max(values))

    def scaled(self, factor: float) -> Figure:
        """The same figure in other units."""
        return Figure(self.median * factor, self.low * factor, self.high * factor)

    def inverse(self, numerator: float = 1.0) -> Figure:
        """``numerator / value`` (e.g. ms per login to logins per second)."""
        return Figure(numerator / self.median, numerator / self.high, numerator / self.low)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (0 < pct <= 100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def round_median(samples: list[float]) -> float:
    """The median of one round's samples."""
    return statistics.median(samples)
