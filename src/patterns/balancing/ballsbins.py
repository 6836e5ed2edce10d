"""Balls into bins: the arithmetic behind "pick the less loaded of two random servers".

Throw ``n`` balls into ``n`` bins. Each ball into one bin chosen at random (``d=1``), and the
fullest bin ends up with about ``ln n / ln ln n`` balls. Let each ball look at ``d = 2`` random
bins and go to the less full one, and the maximum drops to about ``ln ln n / ln 2`` (Azar, Broder,
Karlin and Upfal, 1994): from growing almost like a logarithm to growing almost not at all. A
third choice helps much less than the second (``ln ln n / ln d``).

* ``max_load(n, d, seed)`` runs the experiment once (``d=1`` vectorised; ``d >= 2`` one ball at a
  time, as the process is sequential: about half a microsecond per ball).
* ``predicted_max_load(n, d)`` predicts the expected maximum without any randomness, from
  Mitzenmacher's fluid limit: the fraction ``s_i`` of bins holding at least ``i`` balls obeys
  ``ds_i/dt = s_{i-1}^d - s_i^d``; after ``balls/n`` time units the number of bins at level ``i``
  or more is about ``n * s_i``, and the maximum reaches ``i`` with probability about
  ``1 - exp(-n * s_i)``. For ``d=1`` this is the Poisson approximation.
* ``supermarket_tail(load, d)`` is the same result for requests that *leave*: ``n`` identical
  servers, Poisson arrivals at ``load`` times their capacity, exponential service, each request
  joining the shorter of ``d`` random queues. As ``n`` grows, the share of servers holding at least
  ``i`` requests tends to ``load**i`` for one choice and ``load**((d**i - 1) / (d - 1))`` for
  ``d >= 2`` (Mitzenmacher; Vvedenskaya, Dobrushin and Karpelevich): geometric against doubly
  exponential.
* ``asymptotic_max_load(n, d)`` is the leading term of the theorems, ``ln n / ln ln n`` and
  ``ln ln n / ln d``: right in growth, off by a constant (the Theta hides it).
"""

from __future__ import annotations

import math

import numpy as np

from patterns._validate import require_instance, require_int, require_sequence

__all__ = [
    "MAX_BINS",
    "max_load",
    "max_loads",
    "level_fractions",
    "fluid_fractions",
    "predicted_max_load",
    "asymptotic_max_load",
    "supermarket_tail",
]

#: The largest experiment accepted: 2**22 bins (a few seconds at d=2).
MAX_BINS = 1 << 22
_LEVELS = 64


def _check(n: int, d: int, balls: int | None) -> tuple[int, int, int]:
    n = require_int(n, "n", minimum=1, maximum=MAX_BINS)
    d = require_int(d, "d", minimum=1, maximum=16)
    balls = n if balls is None else require_int(balls, "balls", minimum=0, maximum=100 * n)
    return n, d, balls


def _loads(n: int, d: int, balls: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(require_int(seed, "seed", minimum=0, maximum=2**63 - 1))
    if d == 1:
        # np.intp: on 32-bit wasm (Pyodide) bincount refuses int64 indices
        return np.bincount(rng.integers(0, n, balls).astype(np.intp), minlength=n)
    choices = [rng.integers(0, n, balls).tolist() for _ in range(d)]
    load = [0] * n
    if d == 2:
        for a, b in zip(choices[0], choices[1], strict=True):
            if load[b] < load[a]:
                load[b] += 1
            else:
                load[a] += 1
    else:
        for picks in zip(*choices, strict=True):
            best = picks[0]
            for p in picks[1:]:
                if load[p] < load[best]:
                    best = p
            load[best] += 1
    return np.array(load, dtype=np.int64)


def max_load(n: int, d: int = 1, seed: int = 0, *, balls: int | None = None) -> int:
    """The fullest bin after ``balls`` (default ``n``) balls into ``n`` bins, each the least full
    of ``d`` bins drawn uniformly at random (ties to the first drawn)."""
    n, d, balls = _check(n, d, balls)
    return int(_loads(n, d, balls, seed).max()) if balls else 0


def max_loads(n: int, d: int, seeds: range | list[int], *, balls: int | None = None) -> list[int]:
    """``max_load`` for each seed: one independent run per seed."""
    seeds = require_instance(seeds, "seeds", (range, list, tuple))
    return [max_load(n, d, s, balls=balls) for s in require_sequence(list(seeds), "seeds", max_length=10_000)]


def level_fractions(n: int, d: int = 1, seed: int = 0, *, balls: int | None = None) -> np.ndarray:
    """Measured: element ``i`` is the fraction of bins holding at least ``i`` balls (``[0] == 1``)."""
    n, d, balls = _check(n, d, balls)
    counts = np.bincount(_loads(n, d, balls, seed).astype(np.intp))
    at_least = counts[::-1].cumsum()[::-1]
    return np.asarray(at_least / n, dtype=float)


def fluid_fractions(d: int, load: float = 1.0, levels: int = _LEVELS, steps: int = 200) -> np.ndarray:
    """Predicted: ``s_i``, the fraction of bins with at least ``i`` balls after ``load * n`` balls,
    for ``i = 0 .. levels`` (RK4 on ``ds_i/dt = s_{i-1}^d - s_i^d``, ``s_0 = 1``)."""
    d = require_int(d, "d", minimum=1, maximum=16)
    if not (isinstance(load, (int, float)) and not isinstance(load, bool)) or not 0 <= load <= 100:
        raise ValueError(f"load must be a number of balls per bin in [0, 100], got {load!r}")
    levels = require_int(levels, "levels", minimum=1, maximum=1_000)
    steps = require_int(steps, "steps", minimum=1, maximum=1_000_000)
    s = np.zeros(levels + 1)
    s[0] = 1.0

    def rate(x: np.ndarray) -> np.ndarray:
        p = x**d
        out = np.zeros_like(x)
        out[1:] = p[:-1] - p[1:]
        return out

    h = float(load) / steps
    for _ in range(steps):
        k1 = rate(s)
        k2 = rate(s + h / 2 * k1)
        k3 = rate(s + h / 2 * k2)
        k4 = rate(s + h * k3)
        s = np.clip(s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0, 1.0)
    return s


def predicted_max_load(n: int, d: int = 1, *, balls: int | None = None) -> float:
    """The expected fullest bin, predicted from the fluid limit (see the module docstring)."""
    n, d, balls = _check(n, d, balls)
    s = fluid_fractions(d, balls / n)
    return float(np.sum(-np.expm1(-n * s[1:])))


def asymptotic_max_load(n: int, d: int = 1) -> float:
    """The leading term: ``ln n / ln ln n`` for ``d=1``, ``ln ln n / ln d`` for ``d >= 2`` (n >= 16)."""
    n = require_int(n, "n", minimum=16, maximum=2**62)
    d = require_int(d, "d", minimum=1, maximum=16)
    if d == 1:
        return math.log(n) / math.log(math.log(n))
    return math.log(math.log(n)) / math.log(d)


def supermarket_tail(load: float, d: int = 1, levels: int = 10) -> list[float]:
    """Element ``i``: the limiting share of servers with at least ``i`` requests (``[0] == 1``)."""
    if isinstance(load, bool) or not isinstance(load, (int, float)) or not 0 <= load < 1:
        raise ValueError(f"load must be a number in [0, 1) (a stable system), got {load!r}")
    d = require_int(d, "d", minimum=1, maximum=16)
    levels = require_int(levels, "levels", minimum=1, maximum=1_000)
    if d == 1:
        return [float(load) ** i for i in range(levels + 1)]
    return [float(load) ** ((d**i - 1) / (d - 1)) for i in range(levels + 1)]
