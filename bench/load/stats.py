"""Latency percentiles of one run, and the median (with min and max) over several runs."""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Spread:
    """One figure over several runs: median, min and max."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(statistics.median(values), min(values), max(values))

    def text(self, unit: str = "", digits: int = 0) -> str:
        def number(value: float) -> str:
            return f"{value:,.{digits}f}"

        return f"**{number(self.median)}**{unit} ({number(self.low)}-{number(self.high)})"


@dataclass(frozen=True)
class LoadResult:
    """One run of one load: latencies in seconds of the operations that succeeded."""

    latencies: tuple[float, ...]
    failures: int
    elapsed: float

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


def highest_rate_within(p99_by_rate: dict[int, float], limit_ms: float) -> int:
    """The highest offered rate whose p99 stayed within ``limit_ms`` (0 if none did)."""
    return max((rate for rate, p99 in p99_by_rate.items() if p99 <= limit_ms), default=0)
