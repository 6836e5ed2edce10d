"""Counters every cache keeps, so a lab can show what a strategy actually bought.

A hit ratio alone hides the cost side: ``loads`` is how many times the source of truth was asked,
``stale_reads`` how many hits served a value that differed from the source at that moment (only
counted when the cache was given an ``audit`` oracle; for write-behind the cache is *ahead* of the
source rather than behind it), ``refused_fills`` how many fills a lease turned away, ``fallbacks`` how many reads were served
straight from the source because Redis could not be reached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields

__all__ = ["CacheStats"]


@dataclass
class CacheStats:
    """Thread-safe counters; read them at any time, ``reset()`` between experiments."""

    hits: int = 0
    misses: int = 0
    loads: int = 0
    stale_reads: int = 0
    refused_fills: int = 0
    early_recomputes: int = 0
    invalidations: int = 0
    fallbacks: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        """Increment one counter by ``amount`` (atomically with respect to other threads)."""
        if name not in _COUNTER_SET:
            raise ValueError(f"name must be one of {sorted(_COUNTERS)}, got {name!r}")
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    @property
    def requests(self) -> int:
        return self.hits + self.misses

    @property
    def hit_ratio(self) -> float:
        """hits / (hits + misses); 0.0 before the first request."""
        total = self.requests
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            out: dict[str, float] = {name: getattr(self, name) for name in _COUNTERS}
        out["hit_ratio"] = round(out["hits"] / max(1, out["hits"] + out["misses"]), 4)
        return out

    def reset(self) -> None:
        with self._lock:
            for name in _COUNTERS:
                setattr(self, name, 0)


_COUNTERS = tuple(f.name for f in fields(CacheStats) if not f.name.startswith("_"))
_COUNTER_SET = frozenset(_COUNTERS)
