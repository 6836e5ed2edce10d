"""Coordination: leases, locks with fencing tokens, and leader election (chapter 15).

* ``MemoryLeaseService`` (embedded, default) and ``EtcdLeaseService`` (a real etcd, when
  ``PATTERNS_ETCD_URL`` is set) implement one ``LeaseBackend`` Protocol; ``lease_service()`` picks.
* ``Session`` (a kept-alive lease), ``Lock`` (returns a fencing token), ``Election``.
* ``FencedStore``: the resource that checks fencing tokens.
* ``paused_client`` and ``contention``: the paused-holder scenario of Kleppmann's Redlock critique,
  once and at scale.
"""

from patterns.coordination.backend import (
    MAX_TTL,
    Entry,
    LeaseBackend,
    LeaseExpired,
    MemoryLeaseService,
)
from patterns.coordination.etcd import ETCD_URL_ENV, EtcdLeaseService, etcd_url
from patterns.coordination.primitives import Election, Lock, Session, coordination_prefix, lease_service
from patterns.coordination.scenarios import Contention, Event, PausedClient, contention, paused_client
from patterns.coordination.storage import FencedStore, Write

__all__ = [
    "MAX_TTL",
    "Entry",
    "LeaseBackend",
    "LeaseExpired",
    "MemoryLeaseService",
    "ETCD_URL_ENV",
    "EtcdLeaseService",
    "etcd_url",
    "Election",
    "Lock",
    "Session",
    "coordination_prefix",
    "lease_service",
    "Contention",
    "Event",
    "PausedClient",
    "contention",
    "paused_client",
    "FencedStore",
    "Write",
]
