"""A seeded Zipf workload: a few keys are hot, most are cold, as in real traffic.

Key of rank ``r`` (1-based) is requested with probability proportional to ``1 / r**skew``.
``skew = 0`` is uniform; around 0.8-1.0 matches many web workloads (Breslau et al., INFOCOM 1999).
"""

from __future__ import annotations

import itertools
import random

from patterns._validate import require_instance, require_int, require_number

__all__ = ["ZipfWorkload"]


class ZipfWorkload:
    """``sample(n)`` draws ``n`` keys ``item:<rank>``; the same seed gives the same keys."""

    def __init__(self, n_keys: int, skew: float = 1.0, seed: int = 0) -> None:
        self.n_keys = require_int(n_keys, "n_keys", minimum=1, maximum=1_000_000)
        self.skew = require_number(skew, "skew", minimum=0.0, maximum=10.0)
        self.seed = require_int(seed, "seed", minimum=0, maximum=2**63 - 1)
        weights = [1.0 / (rank**self.skew) for rank in range(1, n_keys + 1)]
        total = sum(weights)
        self.probabilities = [w / total for w in weights]
        self._cum = list(itertools.accumulate(self.probabilities))
        self.keys = [f"item:{rank}" for rank in range(1, n_keys + 1)]

    def sample(self, n: int, rng: random.Random | None = None) -> list[str]:
        """``n`` keys drawn with Zipf probabilities (from ``random.Random(seed)`` unless given)."""
        require_int(n, "n", minimum=0, maximum=10_000_000)
        if rng is not None:
            require_instance(rng, "rng", random.Random, what="a random.Random or None")
        rng = rng if rng is not None else random.Random(self.seed)
        return rng.choices(self.keys, cum_weights=self._cum, k=n)

    def top_share(self, k: int) -> float:
        """The fraction of requests that go to the ``k`` most popular keys."""
        return float(sum(self.probabilities[: max(0, k)]))
