"""A client-side load balancer: a set of backends, a policy, and the health signals that filter it.

``Pool`` is what sits inside a service mesh sidecar or a smart client library: ``pick(key)``
returns the backend for the next request, ``start``/``finish`` keep the in-flight counts the
load-aware policies read, and the results feed the outlier detector. ``with pool.request(key) as
backend:`` does all three (an exception inside the block counts as a failed response).

Eligibility: a backend receives traffic when the health checker (if any) says healthy and the
outlier detector (if any) has not ejected it. When none is eligible, ``pick`` raises
``NoBackendAvailable`` rather than sending traffic to a backend known to be down.

Load reports: ``report_every=0`` (the default) shows the policy live in-flight counts, as a
balancer that counts its own requests has. ``report_every=T`` shows it a snapshot refreshed every
``T`` seconds instead, like a balancer fed by periodic load reports; that is where
least-connections herds and the power of two choices does not.

Thread-safe: one lock covers the policy's state, the counts and the snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from patterns._validate import require_instance, require_number, require_seconds
from patterns.balancing.health import HealthChecker, OutlierDetector
from patterns.balancing.policies import MAX_WEIGHT, Backend, Policy
from patterns.clock import Clock, SystemClock
from patterns.errors import PatternError
from patterns.sharding.hashing import Key

__all__ = ["Pool", "NoBackendAvailable"]


class NoBackendAvailable(PatternError):
    """Every backend of a pool is unhealthy or ejected (or the pool is empty)."""


class Pool:
    """``Pool(["a", "b"], LeastConnections())``; or ``Pool({"a": 3, "b": 1}, WeightedRoundRobin())``."""

    def __init__(
        self,
        backends: Iterable[str] | Mapping[str, float],
        policy: Policy,
        *,
        health: HealthChecker | None = None,
        outlier: OutlierDetector | None = None,
        report_every: float = 0.0,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise TypeError(f"policy must have name and choose(backends, key), got {type(policy).__name__}")
        self.policy = policy
        self.health = require_instance(health, "health", HealthChecker) if health is not None else None
        self.outlier = require_instance(outlier, "outlier", OutlierDetector) if outlier is not None else None
        self.report_every = require_seconds(report_every, "report_every", positive=False, maximum=3_600.0)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._backends: dict[str, Backend] = {}
        self._snapshot: dict[str, Backend] = {}
        self._reported_at = -float("inf")
        self.update(backends)

    # -- membership (service discovery feeds this) -----------------------------------------

    def update(self, backends: Iterable[str] | Mapping[str, float]) -> None:
        """Make the pool exactly ``backends``: new ones join idle, missing ones leave.

        A backend that leaves while requests are in flight is forgotten; ``finish`` for those
        requests is ignored.
        """
        if isinstance(backends, (str, bytes)) or not isinstance(backends, Iterable):
            raise TypeError(f"backends must be a list of names or a name -> weight mapping, got {type(backends).__name__}")
        if isinstance(backends, Mapping):
            wanted = {name: require_number(w, f"weight of {name!r}", minimum=0.0, maximum=MAX_WEIGHT,
                                           strict_min=True) for name, w in backends.items()}
        else:
            wanted = dict.fromkeys(backends, 1.0)
        fresh = {name: Backend(name, weight) for name, weight in wanted.items()}  # validates names
        with self._lock:
            for name, backend in fresh.items():
                if name in self._backends:
                    self._backends[name].weight = backend.weight
                else:
                    self._backends[name] = backend
            for name in [n for n in self._backends if n not in fresh]:
                del self._backends[name]
            self._reported_at = -float("inf")
        for name in fresh:
            if self.health is not None:
                self.health.add(name)
            if self.outlier is not None:
                self.outlier.add(name)

    @property
    def names(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._backends)

    def in_flight(self) -> dict[str, int]:
        """Each backend's requests in flight now (from this pool)."""
        with self._lock:
            return {name: b.in_flight for name, b in self._backends.items()}

    def eligible(self) -> list[str]:
        """The backends that may receive traffic now."""
        with self._lock:
            names = list(self._backends)
        return [n for n in names if self._is_eligible(n)]

    def _is_eligible(self, name: str) -> bool:
        if self.health is not None and not self.health.is_healthy(name):
            return False
        return not (self.outlier is not None and self.outlier.is_ejected(name))

    # -- the request path ---------------------------------------------------------------------

    def pick(self, key: Key | None = None) -> str:
        """The backend for the next request (does not count it in flight: see ``start``)."""
        eligible = self.eligible()
        with self._lock:
            live = [self._backends[n] for n in eligible if n in self._backends]
            if not live:
                raise NoBackendAvailable(
                    f"no eligible backend among {len(self._backends)} (all unhealthy or ejected)"
                )
            if self.report_every > 0:
                now = self.clock.now()
                if now - self._reported_at >= self.report_every:
                    self._snapshot = {name: replace(b) for name, b in self._backends.items()}
                    self._reported_at = now
                view = [self._snapshot.get(b.name, b) for b in live]
            else:
                view = live
            return self.policy.choose(view, key).name

    def start(self, name: str) -> None:
        """Count one request in flight at ``name``."""
        with self._lock:
            if name not in self._backends:
                raise KeyError(f"name must be a backend of this pool, got {name!r}")
            self._backends[name].in_flight += 1

    def finish(self, name: str, ok: bool = True) -> None:
        """One request at ``name`` is done; ``ok=False`` reports a failed response."""
        ok = require_instance(ok, "ok", bool)
        with self._lock:
            backend = self._backends.get(name)
            if backend is not None and backend.in_flight > 0:
                backend.in_flight -= 1
        if backend is not None and self.outlier is not None:
            self.outlier.record(name, ok)

    def send(self, key: Key | None = None) -> str:
        """``pick`` and ``start`` in one step; pair it with ``finish``."""
        while True:
            name = self.pick(key)
            try:
                self.start(name)
                return name
            except KeyError:  # removed by a concurrent update between pick and start: pick again
                continue

    @contextmanager
    def request(self, key: Key | None = None) -> Iterator[str]:
        """``with pool.request() as backend:``; an exception inside counts as a failed response."""
        name = self.send(key)
        ok = False
        try:
            yield name
            ok = True
        finally:
            self.finish(name, ok)

    def __repr__(self) -> str:
        return f"Pool({list(self.names)!r}, {self.policy.name})"
