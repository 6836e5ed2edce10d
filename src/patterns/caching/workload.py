"""A seeded Zipf workload: a few keys are hot, most are cold, as in real traffic.

Key of rank ``r`` (1-based) is requested with probability proportional to ``1 / r**skew``.
``skew = 0`` is uniform; around 0.8-1.0 matches many web workloads (Breslau et al., INFOCOM 1999).
"""

from __future__ import annotations

import itertools
import math
import random

__all__ = ["ZipfWorkload"]


class ZipfWorkload:
    """``sample(n)`` draws ``n`` keys ``item:<rank>``; the same seed gives the same keys."""

    def __init__(self, n_keys: int, skew: float = 1.0, seed: int = 0) -> None:
        if isinstance(n_keys, bool) or not isinstance(n_keys, int):
            raise TypeError(f"n_keys must be an int, got {type(n_keys).__name__}")
        if n_keys < 1:
            raise ValueError(f"n_keys must be an integer >= 1, got {n_keys}")
        if isinstance(skew, bool) or not isinstance(skew, (int, float)):
            raise TypeError(f"skew must be a number, got {type(skew).__name__}")
        if not math.isfinite(skew) or skew < 0:
            raise ValueError(f"skew must be a finite number >= 0, got {skew!r}")
        self.n_keys = n_keys
        self.skew = float(skew)
        self.seed = seed
        weights = [1.0 / (rank**self.skew) for rank in range(1, n_keys + 1)]
        total = sum(weights)
        self.probabilities = [w / total for w in weights]
        self._cum = list(itertools.accumulate(self.probabilities))
        self.keys = [f"item:{rank}" for rank in range(1, n_keys + 1)]

    def sample(self, n: int, rng: random.Random | None = None) -> list[str]:
        """``n`` keys drawn with Zipf probabilities (from ``random.Random(seed)`` unless given)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        rng = rng if rng is not None else random.Random(self.seed)
        return rng.choices(self.keys, cum_weights=self._cum, k=n)

    def top_share(self, k: int) -> float:
        """The fraction of requests that go to the ``k`` most popular keys."""
        return float(sum(self.probabilities[: max(0, k)]))
