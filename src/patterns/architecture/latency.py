"""Latency distributions on a fixed grid, so serial and parallel composition is exact.

A ``Latency`` is a probability mass function over multiples of ``GRID_MS`` (0.1 ms). Adding two
independent latencies (one call after another) is a convolution; waiting for the slower of two
parallel calls is the product of their CDFs. Both are exact on the grid, so the percentiles of a
whole request path can be *computed* instead of estimated, and a Monte-Carlo simulation that
samples the same distributions must converge to them.

What is not modelled: correlation between calls (a slow network slows every hop at once), queueing
(latency that grows with load). Those make real tails worse than these numbers, never better.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Mapping
from statistics import NormalDist

import numpy as np

from patterns._validate import require_instance

__all__ = ["GRID_MS", "Latency"]

GRID_MS = 0.1
_Z99 = NormalDist().inv_cdf(0.99)


def _check_ms(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of milliseconds, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of milliseconds >= 0, got {value!r}")
    return float(value)


class Latency:
    """An immutable latency distribution: probability ``pmf[i]`` of taking ``i * GRID_MS`` ms."""

    __slots__ = ("_pmf", "_cdf", "_cdf_list")

    def __init__(self, pmf: Iterable[float]) -> None:
        require_instance(pmf, "pmf", Iterable, what="an iterable of probabilities")
        array = np.asarray(list(pmf), dtype=float)
        if array.ndim != 1 or array.size == 0:
            raise ValueError("pmf must be a non-empty sequence of probabilities")
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise ValueError("pmf must hold finite probabilities >= 0")
        total = float(array.sum())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"pmf must sum to 1, got {total:.6f}")
        nonzero = np.nonzero(array > 1e-15)[0]
        array = array[: nonzero[-1] + 1] / total
        array.setflags(write=False)
        self._pmf = array
        self._cdf = np.minimum(np.cumsum(array), 1.0)
        self._cdf_list: list[float] = self._cdf.tolist()  # plain floats: fast bisect when sampling

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def fixed(cls, ms: float) -> Latency:
        """Always exactly ``ms`` (rounded to the grid)."""
        index = round(_check_ms("ms", ms) / GRID_MS)
        pmf = np.zeros(index + 1)
        pmf[index] = 1.0
        return cls(pmf)

    @classmethod
    def from_points(cls, points: Mapping[float, float]) -> Latency:
        """A distribution from ``{milliseconds: probability}``; probabilities must sum to 1."""
        if not points:
            raise ValueError("points must not be empty")
        indices: dict[int, float] = {}
        for ms, p in points.items():
            _check_ms("points key", ms)
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise ValueError(f"points probabilities must be in [0, 1], got {p!r}")
            i = round(ms / GRID_MS)
            indices[i] = indices.get(i, 0.0) + float(p)
        pmf = np.zeros(max(indices) + 1)
        for i, p in indices.items():
            pmf[i] = p
        return cls(pmf)

    @classmethod
    def lognormal(cls, median_ms: float, p99_ms: float, points: int = 32) -> Latency:
        """A right-skewed latency with the given median and 99th percentile.

        Discretised into ``points`` equally likely values (the quantile at the middle of each slice),
        which keeps the shape of the tail while staying small enough to compose quickly.
        """
        median_ms = _check_ms("median_ms", median_ms)
        p99_ms = _check_ms("p99_ms", p99_ms)
        if median_ms <= 0:
            raise ValueError(f"median_ms must be > 0, got {median_ms!r}")
        if p99_ms < median_ms:
            raise ValueError(f"p99_ms must be >= median_ms ({median_ms}), got {p99_ms!r}")
        if isinstance(points, bool) or not isinstance(points, int) or points < 1:
            raise ValueError(f"points must be an integer >= 1, got {points!r}")
        sigma = (math.log(p99_ms) - math.log(median_ms)) / _Z99
        normal = NormalDist(math.log(median_ms), sigma) if sigma > 0 else None
        values: dict[float, float] = {}
        for k in range(points):
            ms = math.exp(normal.inv_cdf((k + 0.5) / points)) if normal else median_ms
            values[ms] = values.get(ms, 0.0) + 1.0 / points
        return cls.from_points(values)

    # -- composition ---------------------------------------------------------------------------
    def then(self, other: Latency) -> Latency:
        """The latency of doing ``self`` and then ``other`` (independent): a convolution."""
        return Latency(np.convolve(self._pmf, other._pmf))

    def __add__(self, other: Latency) -> Latency:
        if not isinstance(other, Latency):
            return NotImplemented
        return self.then(other)

    @staticmethod
    def slowest(latencies: Iterable[Latency]) -> Latency:
        """The latency of waiting for all of several independent parallel calls (their maximum)."""
        items = list(latencies)
        if not items:
            return ZERO
        size = max(len(item._pmf) for item in items)
        cdf = np.ones(size)
        for item in items:
            padded = np.ones(size)
            padded[: len(item._cdf)] = item._cdf
            cdf *= padded
        return Latency(np.diff(cdf, prepend=0.0).clip(min=0.0))

    # -- reading -------------------------------------------------------------------------------
    @property
    def support_ms(self) -> tuple[float, float]:
        """The smallest and largest possible latency (ms)."""
        nonzero = np.nonzero(self._pmf > 1e-15)[0]
        return nonzero[0] * GRID_MS, nonzero[-1] * GRID_MS

    def mean(self) -> float:
        """The expected latency in ms."""
        return float(np.dot(np.arange(len(self._pmf)), self._pmf) * GRID_MS)

    def quantile(self, q: float) -> float:
        """The smallest latency ``t`` with P(latency <= t) >= q (ms); q in (0, 1]."""
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q <= 1:
            raise ValueError(f"q must be a probability in (0, 1], got {q!r}")
        index = int(np.searchsorted(self._cdf, q - 1e-12))
        return min(index, len(self._pmf) - 1) * GRID_MS

    def cdf(self, ms: float) -> float:
        """P(latency <= ms)."""
        index = math.floor(_check_ms("ms", ms) / GRID_MS + 1e-9)
        return 1.0 if index >= len(self._cdf) else float(self._cdf[index])

    def sample(self, rng: random.Random) -> float:
        """One latency drawn with ``rng`` (ms)."""
        index = bisect.bisect_left(self._cdf_list, rng.random())
        return min(index, len(self._pmf) - 1) * GRID_MS

    def __repr__(self) -> str:
        return f"Latency(mean={self.mean():.1f} ms, p50={self.quantile(0.5):.1f}, p99={self.quantile(0.99):.1f})"


ZERO = Latency([1.0])
