"""Service discovery: a registry of instances kept alive by heartbeats.

An instance ``register``s itself with a time to live and must ``heartbeat`` before it runs out;
``instances(service)`` lists the live ones, so a client (or a ``Pool`` through ``update``) learns
of new instances and forgets crashed ones without anyone configuring addresses by hand. That is
the contract of Consul's TTL checks, Eureka's leases and etcd's leased keys; DNS-based discovery
adds a cache TTL on the client side, which is why a crashed instance can keep receiving traffic
for up to "registry TTL + DNS TTL".

What it does not promise: that a live entry is a healthy instance (an instance can heartbeat
while failing every request: that is what health checks and outlier ejection are for), or that
an entry disappears the instant its process dies (only after its TTL).
Thread-safe; time comes from the injected clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from patterns._validate import require_seconds, require_text
from patterns.clock import Clock, SystemClock

__all__ = ["ServiceRegistry", "Registration"]


@dataclass(frozen=True)
class Registration:
    """One instance of one service, live until ``expires``."""

    service: str
    instance: str
    address: str
    expires: float


class ServiceRegistry:
    """In-memory registry: ``register``, ``heartbeat``, ``deregister``, ``instances``."""

    def __init__(self, *, ttl: float = 10.0, clock: Clock | None = None) -> None:
        self.ttl = require_seconds(ttl, "ttl", maximum=86_400.0)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._entries: dict[tuple[str, str], Registration] = {}
        self._lock = threading.Lock()

    def register(self, service: str, instance: str, address: str = "") -> Registration:
        """Add (or renew) ``instance`` of ``service``, live for ``ttl`` seconds from now."""
        service = require_text(service, "service", max_length=200)
        instance = require_text(instance, "instance", max_length=200)
        address = require_text(address or instance, "address", max_length=500)
        entry = Registration(service, instance, address, self.clock.now() + self.ttl)
        with self._lock:
            self._entries[(service, instance)] = entry
        return entry

    def heartbeat(self, service: str, instance: str) -> bool:
        """Renew a live registration; False if it had already expired (it must register again)."""
        service, instance = _names(service, instance)
        now = self.clock.now()
        with self._lock:
            entry = self._entries.get((service, instance))
            if entry is None or entry.expires <= now:
                self._entries.pop((service, instance), None)
                return False
            self._entries[(service, instance)] = Registration(service, instance, entry.address, now + self.ttl)
            return True

    def deregister(self, service: str, instance: str) -> bool:
        """Remove an instance at once (a clean shutdown); False if it was not registered."""
        service, instance = _names(service, instance)
        with self._lock:
            return self._entries.pop((service, instance), None) is not None

    def instances(self, service: str) -> list[str]:
        """The live instances of ``service``, sorted (expired ones are dropped)."""
        service = require_text(service, "service", max_length=200)
        now = self.clock.now()
        with self._lock:
            for key in [k for k, e in self._entries.items() if e.expires <= now]:
                del self._entries[key]
            return sorted(i for (s, i) in self._entries if s == service)

    def address(self, service: str, instance: str) -> str:
        service, instance = _names(service, instance)
        with self._lock:
            return self._entries[(service, instance)].address


def _names(service: object, instance: object) -> tuple[str, str]:
    return require_text(service, "service", max_length=200), require_text(instance, "instance", max_length=200)
