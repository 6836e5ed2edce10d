"""Summary statistics the simulations of several chapters share.

``percentile`` is the *nearest-rank* percentile: the smallest observed value with at least ``q``
percent of the observations at or below it. It always returns one of the observations (never an
interpolation between two), which is what a latency SLO such as "99% of requests within 300 ms"
means, and it is exact for any number of samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from patterns._validate import require_number

__all__ = ["percentile"]


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
