"""The lease service: the small slice of etcd that leases, locks and elections need.

A *lease* is a promise with a deadline: the service keeps every key attached to a lease until the
lease's time-to-live runs out without a keep-alive, then deletes them all at once. That is how a
crashed (or paused) lock holder loses its lock without anyone having to detect the crash.

``LeaseBackend`` is the Protocol; ``MemoryLeaseService`` is the embedded implementation (one process,
time from an injected clock) and ``patterns.coordination.etcd.EtcdLeaseService`` talks to a real
etcd. One contract test suite runs against both. Like etcd, the service keeps one global
*revision* counter that every write increments, and every key remembers the revision that created
it (``create_revision``), the last one that modified it (``mod_revision``) and how many times it was
written since it was created (``version``).

What a lease does not guarantee: that its holder *knows* it has expired. The service deletes the
keys at the deadline; a holder that was paused past it still believes it holds them. Only a check at
the resource (a fencing token, ``patterns.coordination.FencedStore``) closes that gap.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from patterns._validate import require_instance, require_int, require_seconds, require_text
from patterns.clock import Clock, SystemClock
from patterns.errors import PatternError

__all__ = [
    "Entry",
    "LeaseBackend",
    "LeaseExpired",
    "MemoryLeaseService",
    "require_key",
    "require_lease",
    "require_value",
    "MAX_TTL",
]

#: Longest lease accepted: one day. A lease exists to expire; etcd caps TTLs at about 9e10 s, which
#: nobody wants for a lock.
MAX_TTL = 86_400.0


class LeaseExpired(PatternError):
    """The lease is gone (expired or revoked): its keys were deleted and it cannot be renewed."""


@dataclass(frozen=True)
class Entry:
    """One key as the service stores it (etcd's ``KeyValue``)."""

    key: str
    value: str
    create_revision: int
    mod_revision: int
    version: int
    lease: int  # 0 when the key is not attached to a lease


def require_key(key: object, name: str = "key") -> str:
    """A key: 1-512 printable characters without NUL."""
    return require_text(key, name, max_length=512, forbidden="\x00")


def require_lease(lease: object, name: str = "lease") -> int:
    """A lease id: a positive 64-bit integer."""
    return require_int(lease, name, minimum=1, maximum=2**63 - 1)


@runtime_checkable
class LeaseBackend(Protocol):
    """What leases, locks and elections need from a coordination service."""

    @property
    def clock(self) -> Clock: ...

    def grant(self, ttl: float) -> int:
        """A new lease of ``ttl`` seconds; returns its id."""
        ...

    def keep_alive(self, lease: int) -> float:
        """Renew ``lease`` to its full TTL and return that TTL; ``LeaseExpired`` if it is gone."""
        ...

    def time_to_live(self, lease: int) -> float:
        """Seconds left on ``lease`` (0.0 when it has expired or never existed)."""
        ...

    def revoke(self, lease: int) -> None:
        """End ``lease`` now and delete its keys (nothing happens if it is already gone)."""
        ...

    def create(self, key: str, value: str, lease: int) -> bool:
        """Put ``key`` attached to ``lease`` only if the key does not exist; True if created."""
        ...

    def acquire(self, key: str, value: str, lease: int, counter: str) -> int | None:
        """Atomically: if ``key`` is absent, create it on ``lease`` and write ``counter``; return the
        counter's new ``version`` (1, 2, 3, ... over the counter's life). None if ``key`` exists."""
        ...

    def get(self, key: str) -> Entry | None:
        """The entry at ``key``, or None."""
        ...

    def entries(self, prefix: str) -> list[Entry]:
        """Every entry whose key starts with ``prefix``, oldest creation first."""
        ...

    def delete(self, key: str, *, if_value: str | None = None) -> bool:
        """Delete ``key`` (only if its value is ``if_value``, when given); True if deleted."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key starting with ``prefix``; returns how many."""
        ...


@dataclass
class _Lease:
    ttl: float
    deadline: float
    keys: set[str]


class MemoryLeaseService:
    """An in-process lease service with etcd's semantics, on an injected clock.

    Expiry is checked lazily: every call first deletes the keys of leases whose deadline has passed
    (``deadline <= clock.now()``), so with a ``ManualClock`` a lease expires exactly when the clock is
    moved past it and the next call looks. Thread-safe (one lock around every call).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = require_instance(clock, "clock", Clock, what="a Clock") if clock else SystemClock()
        self._lock = threading.Lock()
        self._revision = 0
        self._data: dict[str, Entry] = {}
        self._leases: dict[int, _Lease] = {}
        self._ids = itertools.count(1)

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def revision(self) -> int:
        """The current revision (incremented by every write, as in etcd)."""
        with self._lock:
            return self._revision

    def __repr__(self) -> str:
        return f"MemoryLeaseService(keys={len(self._data)}, leases={len(self._leases)})"

    # -- leases -----------------------------------------------------------------------------------
    def grant(self, ttl: float) -> int:
        ttl = require_seconds(ttl, "ttl", maximum=MAX_TTL)
        with self._lock:
            self._expire()
            lease = next(self._ids)
            self._leases[lease] = _Lease(ttl, self._clock.now() + ttl, set())
            return lease

    def keep_alive(self, lease: int) -> float:
        lease = require_lease(lease)
        with self._lock:
            self._expire()
            record = self._leases.get(lease)
            if record is None:
                raise LeaseExpired(f"lease {lease} has expired or was revoked")
            record.deadline = self._clock.now() + record.ttl
            return record.ttl

    def time_to_live(self, lease: int) -> float:
        lease = require_lease(lease)
        with self._lock:
            self._expire()
            record = self._leases.get(lease)
            return 0.0 if record is None else max(0.0, record.deadline - self._clock.now())

    def revoke(self, lease: int) -> None:
        lease = require_lease(lease)
        with self._lock:
            self._expire()
            self._drop_lease(lease)

    # -- keys -------------------------------------------------------------------------------------
    def create(self, key: str, value: str, lease: int) -> bool:
        key, value, lease = require_key(key), require_value(value), require_lease(lease)
        with self._lock:
            self._expire()
            if key in self._data:
                return False
            self._live(lease)
            self._revision += 1
            self._put(key, value, lease)
            return True

    def acquire(self, key: str, value: str, lease: int, counter: str) -> int | None:
        key, value, lease = require_key(key), require_value(value), require_lease(lease)
        counter = require_key(counter, "counter")
        if counter == key:
            raise ValueError("counter must be a different key from key")
        with self._lock:
            self._expire()
            if key in self._data:
                return None
            self._live(lease)
            self._revision += 1  # one transaction, one revision (as in etcd)
            self._put(key, value, lease)
            return self._put(counter, value, 0).version

    def get(self, key: str) -> Entry | None:
        key = require_key(key)
        with self._lock:
            self._expire()
            return self._data.get(key)

    def entries(self, prefix: str) -> list[Entry]:
        prefix = require_key(prefix, "prefix")
        with self._lock:
            self._expire()
            found = [e for k, e in self._data.items() if k.startswith(prefix)]
        return sorted(found, key=lambda e: (e.create_revision, e.key))

    def delete(self, key: str, *, if_value: str | None = None) -> bool:
        key = require_key(key)
        if if_value is not None:
            if_value = require_value(if_value, "if_value")
        with self._lock:
            self._expire()
            entry = self._data.get(key)
            if entry is None or (if_value is not None and entry.value != if_value):
                return False
            self._revision += 1
            self._remove(key)
            return True

    def delete_prefix(self, prefix: str) -> int:
        prefix = require_key(prefix, "prefix")
        with self._lock:
            self._expire()
            doomed = [k for k in self._data if k.startswith(prefix)]
            if doomed:
                self._revision += 1
            for key in doomed:
                self._remove(key)
            return len(doomed)

    # -- internals (called with the lock held) ----------------------------------------------------
    def _expire(self) -> None:
        now = self._clock.now()
        for lease in [lid for lid, rec in self._leases.items() if rec.deadline <= now]:
            self._drop_lease(lease)

    def _drop_lease(self, lease: int) -> None:
        record = self._leases.pop(lease, None)
        if record is None or not record.keys:
            return
        self._revision += 1
        for key in list(record.keys):
            self._remove(key)

    def _live(self, lease: int) -> None:
        if lease not in self._leases:
            raise LeaseExpired(f"lease {lease} has expired or was revoked")

    def _put(self, key: str, value: str, lease: int) -> Entry:
        old = self._data.get(key)
        if old is not None and old.lease:
            self._leases[old.lease].keys.discard(key)
        entry = Entry(
            key,
            value,
            create_revision=old.create_revision if old else self._revision,
            mod_revision=self._revision,
            version=(old.version + 1) if old else 1,
            lease=lease,
        )
        self._data[key] = entry
        if lease:
            self._leases[lease].keys.add(key)
        return entry

    def _remove(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None and entry.lease and entry.lease in self._leases:
            self._leases[entry.lease].keys.discard(key)


def require_value(value: object, name: str = "value") -> str:
    return require_text(value, name, min_length=0, max_length=64_000, forbidden="\x00")
