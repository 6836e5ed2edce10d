"""Load-balancing policies: which backend gets the next request.

Every policy answers ``policy.choose(backends, key=None) -> Backend`` for a non-empty sequence of
*eligible* backends (the pool has already removed the unhealthy and the ejected ones). What each
one looks at:

* ``RoundRobin``: nothing but its own counter. Even *counts*, blind to how long requests take.
* ``WeightedRoundRobin``: the static weights, interleaved smoothly (nginx's algorithm): weights
  5, 1, 1 give ``a a b a c a a`` rather than ``a a a a a b c``.
* ``RandomChoice``: nothing at all; even counts on average, with random imbalance.
* ``LeastConnections``: every backend's in-flight count (divided by its weight). The best
  single-balancer policy when its counts are fresh; it herds when they are stale, and it sends
  *more* traffic to a backend that fails fast (few requests are ever in flight there).
* ``PowerOfTwoChoices``: the in-flight counts of ``d`` backends drawn at random (Mitzenmacher):
  almost all of least-connections' benefit, O(1) work, and no herd on stale counts.
* ``ConsistentHash``: the request's key, on a ring with virtual nodes, so the same key goes to the
  same backend (cache affinity). With ``load_factor=c`` it bounds every backend's in-flight count
  by ``ceil(c * average)`` and walks on to the next backend clockwise when the owner is full
  (Mirrokni, Thorup and Zadimoghaddam's consistent hashing with bounded loads).

A policy keeps a little state (a counter, current weights, an rng) and is not thread-safe on its
own: ``Pool`` calls it under its lock.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from patterns._validate import require_instance, require_int, require_number, require_text
from patterns.sharding import ConsistentHashRing
from patterns.sharding.hashing import Key, require_key, stable_hash64

__all__ = [
    "Backend",
    "Policy",
    "RoundRobin",
    "WeightedRoundRobin",
    "RandomChoice",
    "LeastConnections",
    "PowerOfTwoChoices",
    "ConsistentHash",
    "MAX_WEIGHT",
]

#: The largest weight a backend may have (weights are relative: 1-100 is the usual range).
MAX_WEIGHT = 1_000_000.0


@dataclass
class Backend:
    """One server as a balancer sees it: a name, a static weight and its requests in flight."""

    name: str
    weight: float = 1.0
    in_flight: int = 0

    def __post_init__(self) -> None:
        self.name = require_text(self.name, "name", max_length=200)
        self.weight = require_number(self.weight, "weight", minimum=0.0, maximum=MAX_WEIGHT, strict_min=True)
        self.in_flight = require_int(self.in_flight, "in_flight")

    @property
    def load(self) -> float:
        """In-flight requests per unit of weight: what the load-aware policies compare."""
        return self.in_flight / self.weight


@runtime_checkable
class Policy(Protocol):
    """Chooses one of ``backends`` (non-empty, all eligible) for a request with optional ``key``."""

    name: str

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend: ...


def _require_backends(backends: Sequence[Backend]) -> Sequence[Backend]:
    if not backends:
        raise ValueError("backends must hold at least 1 eligible backend, got none")
    return backends


class RoundRobin:
    """Each backend in turn. Equal request counts; a slow backend gets as many as a fast one."""

    name = "round robin"

    def __init__(self) -> None:
        self._next = 0

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend:
        _require_backends(backends)
        backend = backends[self._next % len(backends)]
        self._next += 1
        return backend


class WeightedRoundRobin:
    """Smooth weighted round robin (nginx): shares proportional to weight, spread out in time.

    Every pick adds each backend's weight to its *current* score, takes the highest score and
    subtracts the total weight from the winner. Over any run of ``sum(weights)`` picks (integer
    weights) each backend is chosen exactly ``weight`` times.
    """

    name = "weighted round robin"

    def __init__(self) -> None:
        self._current: dict[str, float] = {}

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend:
        _require_backends(backends)
        total = 0.0
        best: Backend | None = None
        best_score = -math.inf
        for backend in backends:
            score = self._current.get(backend.name, 0.0) + backend.weight
            self._current[backend.name] = score
            total += backend.weight
            if score > best_score:
                best, best_score = backend, score
        assert best is not None
        self._current[best.name] -= total
        return best


class RandomChoice:
    """A uniformly random backend (``weighted=True``: chosen with probability proportional to weight)."""

    def __init__(self, rng: random.Random | None = None, *, weighted: bool = False) -> None:
        self._rng = require_instance(rng, "rng", random.Random) if rng is not None else random.Random()
        self._weighted = bool(require_instance(weighted, "weighted", bool))
        self.name = "weighted random" if weighted else "random"

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend:
        _require_backends(backends)
        if self._weighted:
            return self._rng.choices(backends, weights=[b.weight for b in backends])[0]
        return backends[self._rng.randrange(len(backends))]


class LeastConnections:
    """The backend with the fewest requests in flight per unit of weight.

    Ties go round robin (the scan starts one place further each time), so an idle fleet is not
    filled from its first backend.
    """

    name = "least connections"

    def __init__(self) -> None:
        self._start = 0

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend:
        n = len(_require_backends(backends))
        start = self._start % n
        self._start += 1
        best = backends[start]
        best_load = best.load
        for i in range(1, n):
            backend = backends[(start + i) % n]
            load = backend.load
            if load < best_load:
                best, best_load = backend, load
        return best


class PowerOfTwoChoices:
    """Draw ``d`` distinct backends at random (``d=2``: the power of two choices), keep the least loaded.

    Ties go to the first one drawn. With one backend there is nothing to choose.
    """

    def __init__(self, rng: random.Random | None = None, *, d: int = 2) -> None:
        self._rng = require_instance(rng, "rng", random.Random) if rng is not None else random.Random()
        self.d = require_int(d, "d", minimum=1, maximum=1_000)
        self.name = "power of two choices" if d == 2 else f"power of {d} choices"

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend:
        n = len(_require_backends(backends))
        rng = self._rng
        if self.d == 2 and n >= 2:  # the common case, without rng.sample's overhead
            i = rng.randrange(n)
            j = rng.randrange(n - 1)
            if j >= i:
                j += 1
            a, b = backends[i], backends[j]
            return b if b.load < a.load else a
        drawn = [backends[i] for i in rng.sample(range(n), min(self.d, n))]
        best = drawn[0]
        for backend in drawn[1:]:
            if backend.load < best.load:
                best = backend
        return best


class ConsistentHash:
    """Key affinity on a hash ring; ``load_factor=c`` adds bounded loads.

    Without a bound the key's owner on the ring always gets it (skipping ineligible backends, so a
    backend that goes down hands only *its* keys to its clockwise neighbours). With ``c`` (> 1) no
    backend takes a request while its in-flight count is at least ``ceil(c * (total + 1) / n)``:
    the request walks clockwise to the first backend under that capacity. ``c`` near 1 is even
    and moves many keys; a large ``c`` is plain consistent hashing. A request without a key is
    refused: there is nothing to hash.
    """

    def __init__(self, *, load_factor: float | None = None, vnodes: int = 100) -> None:
        if load_factor is not None:
            load_factor = require_number(load_factor, "load_factor", minimum=1.0, maximum=100.0, strict_min=True)
        self.load_factor = load_factor
        self.vnodes = require_int(vnodes, "vnodes", minimum=1, maximum=10_000)
        self.name = "consistent hash" + (f" (bounded, c={load_factor:g})" if load_factor else "")
        self._names: tuple[str, ...] = ()
        self._points: list[int] = []
        self._owners: list[str] = []

    def _ring_for(self, backends: Sequence[Backend]) -> None:
        known = set(self._names)
        new = [b.name for b in backends if b.name not in known]
        if not new:
            return
        # Every name ever seen stays on the ring: a backend that is down is skipped, not removed,
        # so its keys come back to it when it returns.
        self._names = (*self._names, *new)
        ring = ConsistentHashRing(self._names, vnodes=self.vnodes)
        table = sorted((p, name) for name in self._names for p in ring.points(name))
        self._points = [p for p, _ in table]
        self._owners = [name for _, name in table]

    def capacity(self, backends: Sequence[Backend]) -> float:
        """The most requests in flight a backend may hold before the next one is refused to it."""
        if self.load_factor is None:
            return math.inf
        total = sum(b.in_flight for b in backends)
        return math.ceil(self.load_factor * (total + 1) / len(backends))

    def choose(self, backends: Sequence[Backend], key: Key | None = None) -> Backend:
        _require_backends(backends)
        if key is None:
            raise ValueError("key must be given for consistent hashing (a str, bytes or int), got None")
        require_key(key)
        self._ring_for(backends)
        by_name = {b.name: b for b in backends}
        cap = self.capacity(backends)
        points, owners = self._points, self._owners
        start = bisect_left(points, stable_hash64(key))
        size = len(points)
        for step in range(size):
            backend = by_name.get(owners[(start + step) % size])
            if backend is not None and backend.in_flight < cap:
                return backend
        # Unreachable: the total is below n * cap, so some eligible backend is under capacity.
        raise AssertionError("no backend under capacity")  # pragma: no cover
