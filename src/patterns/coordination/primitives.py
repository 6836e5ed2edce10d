"""Sessions, locks with fencing tokens, and leader election on a ``LeaseBackend``.

These are the recipes of etcd's ``concurrency`` package (and of ZooKeeper's and Chubby's), kept small:

* ``Session``: one lease that its owner keeps alive. Everything the owner holds (a lock, a candidacy)
  is a key attached to that lease, so it all disappears together when the owner stops renewing.
* ``Lock``: at most one holder per name at a time *according to the service*. ``acquire`` returns a
  **fencing token**, a number that grows with every successful acquisition of that lock, so the
  resource can refuse a write from an older holder (see ``FencedStore``).
* ``Election``: candidates register under a prefix; the oldest live registration (lowest create
  revision) is the leader, and when its session ends the next one takes over, in order.

Keys live under ``/<namespace>/coordination/...`` (``patterns.keys.namespace()``), so learners sharing
one etcd never see each other's locks.

What they do not guarantee: that a holder still holds the lock *when it acts*. A holder can be paused
(garbage collection, a swapped-out page, a stopped VM) after it checked, and its lease can expire
during the pause. The service then gives the lock to someone else while the old holder, on waking,
still believes it is the holder. Checking the lease before writing narrows that window; only the
fencing token, checked by the resource, closes it.
"""

from __future__ import annotations

from patterns._validate import require_instance, require_seconds, require_text
from patterns.clock import Clock
from patterns.coordination.backend import MAX_TTL, LeaseBackend, LeaseExpired
from patterns.keys import namespace

__all__ = ["Session", "Lock", "Election", "coordination_prefix", "lease_service"]


def coordination_prefix(kind: str, name: str) -> str:
    """``/<namespace>/coordination/<kind>/<name>/``: where one lock's or election's keys live."""
    kind = require_text(kind, "kind", max_length=40, forbidden="/\x00")
    name = require_text(name, "name", max_length=200, forbidden="/\x00")
    return f"/{namespace()}/coordination/{kind}/{name}/"


def lease_service(clock: Clock | None = None) -> LeaseBackend:
    """The configured lease service: a real etcd when ``PATTERNS_ETCD_URL`` is set (and sockets
    work), else the embedded ``MemoryLeaseService``. ``clock`` drives lease deadlines on both
    (``None``: real time; on etcd, the server's own timers)."""
    from patterns.compat import sockets_available
    from patterns.coordination.backend import MemoryLeaseService
    from patterns.coordination.etcd import EtcdLeaseService, etcd_url

    if etcd_url() and sockets_available():
        return EtcdLeaseService(clock=clock)
    return MemoryLeaseService(clock)


def _backend(backend: object) -> LeaseBackend:
    return require_instance(backend, "backend", LeaseBackend, what="a LeaseBackend (e.g. MemoryLeaseService)")


class Session:
    """A lease owned by one client (``owner``), kept alive by calling ``keep_alive``.

    In production a background task renews the lease every ``ttl / 3`` seconds; here renewals are
    explicit so simulations stay deterministic. A process that stops renewing (crashed, partitioned,
    paused) loses everything attached to the lease ``ttl`` seconds after its last renewal.
    """

    def __init__(self, backend: LeaseBackend, owner: str, ttl: float) -> None:
        self.backend = _backend(backend)
        self.owner = require_text(owner, "owner", max_length=200, forbidden="\x00")
        self.ttl = require_seconds(ttl, "ttl", maximum=MAX_TTL)
        self.lease = self.backend.grant(self.ttl)
        self._closed = False

    def __repr__(self) -> str:
        return f"Session(owner={self.owner!r}, ttl={self.ttl:g})"

    def keep_alive(self) -> float:
        """Renew the lease; ``LeaseExpired`` if it already ran out (the session is then over)."""
        if self._closed:
            raise LeaseExpired(f"session of {self.owner!r} was closed")
        return self.backend.keep_alive(self.lease)

    def remaining(self) -> float:
        """Seconds left before the lease expires without a renewal (0.0 once it has)."""
        return 0.0 if self._closed else self.backend.time_to_live(self.lease)

    def alive(self) -> bool:
        return self.remaining() > 0.0

    def close(self) -> None:
        """Revoke the lease: every key it holds is deleted now, not ``ttl`` seconds later."""
        if not self._closed:
            self._closed = True
            self.backend.revoke(self.lease)


class Lock:
    """A named mutual-exclusion lock on a lease service, with fencing tokens.

    ``acquire(session)`` creates the lock key on the session's lease if nobody holds it, in the same
    atomic step bumping a per-lock counter whose new version is the **fencing token**: 1 for the
    first holder ever, 2 for the next, and so on. The lock is released by ``release``, by closing the
    session, or by the lease expiring.
    """

    def __init__(self, backend: LeaseBackend, name: str) -> None:
        self.backend = _backend(backend)
        self.name = require_text(name, "name", max_length=200, forbidden="/\x00")
        prefix = coordination_prefix("lock", self.name)
        self._key = prefix + "holder"
        self._counter = prefix + "token"

    def __repr__(self) -> str:
        return f"Lock({self.name!r})"

    def acquire(self, session: Session) -> int | None:
        """The fencing token if ``session`` now holds the lock; None if someone else does.

        ``LeaseExpired`` if the session's lease has already run out.
        """
        session = require_instance(session, "session", Session)
        return self.backend.acquire(self._key, session.owner, session.lease, self._counter)

    def holder(self) -> str | None:
        """The owner the service currently records as holding the lock, or None."""
        entry = self.backend.get(self._key)
        return None if entry is None else entry.value

    def release(self, session: Session) -> bool:
        """Release the lock if ``session``'s owner holds it; True if released."""
        session = require_instance(session, "session", Session)
        return self.backend.delete(self._key, if_value=session.owner)

    def clear(self) -> int:
        """Delete the lock's keys, counter included (tokens start again at 1)."""
        return self.backend.delete_prefix(coordination_prefix("lock", self.name))


class Election:
    """Leader election: the oldest live candidate leads; the rest queue behind it in order.

    ``campaign(session)`` registers ``session.owner`` under the election's prefix on the session's
    lease (a candidate registers once per session). ``leader()`` reads the registration with the
    lowest create revision. When the leader's session ends (closed, or its lease expired), its key
    is deleted and the next-oldest candidate is the leader, with no vote and no extra message.
    """

    def __init__(self, backend: LeaseBackend, name: str) -> None:
        self.backend = _backend(backend)
        self.name = require_text(name, "name", max_length=200, forbidden="/\x00")
        self._prefix = coordination_prefix("election", self.name)

    def __repr__(self) -> str:
        return f"Election({self.name!r})"

    def _key(self, session: Session) -> str:
        return f"{self._prefix}{session.lease:016x}"

    def campaign(self, session: Session) -> bool:
        """Register ``session``'s owner as a candidate; True if it leads right away."""
        session = require_instance(session, "session", Session)
        self.backend.create(self._key(session), session.owner, session.lease)
        return self.leader() == session.owner

    def candidates(self) -> list[str]:
        """Live candidates, leader first (oldest registration first)."""
        return [entry.value for entry in self.backend.entries(self._prefix)]

    def leader(self) -> str | None:
        """The current leader's owner name, or None when nobody is campaigning."""
        found = self.backend.entries(self._prefix)
        return found[0].value if found else None

    def is_leader(self, session: Session) -> bool:
        found = self.backend.entries(self._prefix)
        return bool(found) and found[0].key == self._key(require_instance(session, "session", Session))

    def resign(self, session: Session) -> bool:
        """Withdraw ``session``'s candidacy (the session itself stays open)."""
        return self.backend.delete(self._key(require_instance(session, "session", Session)))

    def clear(self) -> int:
        return self.backend.delete_prefix(self._prefix)
