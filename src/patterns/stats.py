"""Summary statistics the simulations of several chapters share.

``percentile`` is the *nearest-rank* percentile: the smallest observed value with at least ``q``
percent of the observations at or below it. It always returns one of the observations (never an
interpolation between two), which is what a latency SLO such as "99% of requests within 300 ms"
means, and it is exact for any number of samples.

``Estimate.of(values)`` is the mean of independent replications (the same simulation run with
different seeds) with a 95% confidence interval from Student's t distribution. One run of a
simulation is one sample: a single seed can land far from the truth, and only the spread across
seeds says how far.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from patterns._validate import require_int, require_number, require_sequence

__all__ = ["percentile", "Estimate", "t_975"]

# Student's t, 0.975 quantile, for 1..30 degrees of freedom (a two-sided 95% interval).
_T_975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)


def percentile(values: Iterable[float], q: float, *, empty: float | None = None) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``.

    An empty ``values`` raises ``ValueError``, unless ``empty`` gives the answer for that case
    (e.g. ``0.0`` for "no delays were measured").
    """
    q = require_number(q, "q", minimum=0.0, maximum=100.0, strict_min=True)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"values must be a sequence of numbers, got {type(values).__name__}")
    ordered = sorted(values)
    if not ordered:
        if empty is None:
            raise ValueError("values must not be empty (pass empty=... to choose the answer)")
        return empty
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def t_975(degrees_of_freedom: int) -> float:
    """The 0.975 quantile of Student's t (from a table up to 30, the normal 1.96 beyond)."""
    require_int(degrees_of_freedom, "degrees_of_freedom", minimum=1)
    return _T_975[degrees_of_freedom - 1] if degrees_of_freedom <= len(_T_975) else 1.96


@dataclass(frozen=True)
class Estimate:
    """A mean over independent runs and the half-width of its 95% confidence interval."""

    mean: float
    half_width: float
    values: tuple[float, ...]  # one result per run

    @classmethod
    def of(cls, values: Iterable[float]) -> Estimate:
        """The mean of ``values`` (at least 2 independent runs) +- t * s / sqrt(n)."""
        runs = tuple(require_number(v, "values[]") for v in require_sequence(list(values), "values", min_length=2))
        n = len(runs)
        return cls(statistics.fmean(runs), t_975(n - 1) * statistics.stdev(runs) / math.sqrt(n), runs)

    @property
    def runs(self) -> int:
        return len(self.values)

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval."""
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.3f} +- {self.half_width:.3f}"
