"""Runnable scenarios: the paused lock holder, and many workers sharing one lock.

Both drive a ``LeaseBackend`` whose clock is a ``ManualClock`` (the embedded service or etcd in
simulated time), so a 15-second "GC pause" takes no real time and every run prints the same story.

``paused_client`` is the scenario from Kleppmann's critique of Redlock: client 1 takes the lock,
checks that its lease is still valid, is paused longer than the lease, and wakes up to finish a
read-modify-write that client 2 has meanwhile done under the same lock. Without fencing, client 1's
late write silently discards client 2's update; with fencing, the store refuses it.

``contention`` repeats that at scale: ``clients`` workers increment one shared counter under the
lock, each write occasionally preceded by a pause; it counts the acknowledged increments the
counter lost.
"""

from __future__ import annotations

import heapq
import random
import uuid
from dataclasses import dataclass, field

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_probability,
    require_seconds,
)
from patterns.clock import ManualClock
from patterns.coordination.backend import MAX_TTL, LeaseBackend, LeaseExpired
from patterns.coordination.primitives import Lock, Session
from patterns.coordination.storage import FencedStore

__all__ = ["Event", "PausedClient", "paused_client", "Contention", "contention"]


@dataclass(frozen=True)
class Event:
    """One line of a scenario's story: at time ``t`` (seconds from the start), ``actor`` did ``what``."""

    t: float
    actor: str
    what: str


@dataclass(frozen=True)
class PausedClient:
    """What ``paused_client`` observed."""

    fencing: bool
    ttl: float
    pause: float
    events: tuple[Event, ...]
    ledger: tuple[str, ...]          # the shared document at the end
    acknowledged: tuple[str, ...]    # entries whose writes the store accepted
    tokens: dict[str, int]           # fencing token each client was given
    held: dict[str, tuple[float, float]] = field(default_factory=dict)  # lock per the service
    believed: dict[str, tuple[float, float]] = field(default_factory=dict)  # lock per the client

    @property
    def lost(self) -> tuple[str, ...]:
        """Acknowledged entries missing from the final document: the corruption."""
        return tuple(entry for entry in self.acknowledged if entry not in self.ledger)

    @property
    def corrupted(self) -> bool:
        return bool(self.lost)

    def story(self) -> str:
        """The events, one per line, for printing."""
        return "\n".join(f"t={e.t:5.1f}s  {e.actor:<9} {e.what}" for e in self.events)


def _manual_clock(backend: LeaseBackend) -> ManualClock:
    clock = backend.clock
    if not isinstance(clock, ManualClock):
        raise TypeError(
            "backend.clock must be a ManualClock (scenarios move simulated time), got "
            f"{type(clock).__name__}"
        )
    return clock


def paused_client(
    backend: LeaseBackend,
    *,
    fencing: bool,
    ttl: float = 10.0,
    pause: float = 15.0,
    retry: float = 1.0,
    work: float = 0.5,
    name: str | None = None,
) -> PausedClient:
    """Run the paused-client scenario on ``backend`` and return what happened.

    Client 1 acquires the lock, reads the document, checks its lease (still valid), and is paused for
    ``pause`` seconds before writing. Client 2 tries the lock every ``retry`` seconds; once it gets it
    it reads, appends its entry, writes (``work`` seconds per step) and releases. A pause longer than
    ``ttl`` lets client 2 in while client 1 still believes it holds the lock.
    """
    backend = require_instance(backend, "backend", LeaseBackend, what="a LeaseBackend")
    clock = _manual_clock(backend)
    ttl = require_seconds(ttl, "ttl", maximum=MAX_TTL)
    pause = require_seconds(pause, "pause", positive=False, maximum=MAX_TTL)
    retry = require_seconds(retry, "retry", maximum=MAX_TTL)
    work = require_seconds(work, "work", maximum=MAX_TTL)
    if not isinstance(fencing, bool):
        raise TypeError(f"fencing must be True or False, got {type(fencing).__name__}")
    start = clock.now()
    events: list[Event] = []

    def log(actor: str, what: str) -> None:
        events.append(Event(round(clock.now() - start, 6), actor, what))

    lock = Lock(backend, name or f"ledger-{uuid.uuid4().hex[:8]}")
    store: FencedStore[tuple[str, ...]] = FencedStore(fencing=fencing)
    store.seed("ledger", ("opening",))
    acknowledged: list[str] = []
    tokens: dict[str, int] = {}
    held: dict[str, tuple[float, float]] = {}
    believed: dict[str, tuple[float, float]] = {}

    c1 = Session(backend, "client-1", ttl)
    token1 = lock.acquire(c1)
    if token1 is None:  # pragma: no cover - a fresh lock name is free
        raise RuntimeError("the scenario's lock was already held")
    tokens["client-1"] = token1
    log("client-1", f"acquires the lock (fencing token {token1})")
    got_at = clock.now() - start
    snapshot = store.read("ledger", token=token1) or ()
    log("client-1", f"reads the ledger: {list(snapshot)}")
    log("client-1", f"checks its lease: {c1.remaining():.1f} s left, safe to write")
    log("client-1", f"pauses (stop-the-world GC) for {pause:g} s")
    wake = clock.now() + pause

    c2 = Session(backend, "client-2", ttl)
    c1_done = c2_done = expired_logged = False
    while not (c1_done and c2_done):
        next_try = clock.now() + retry
        if not c1_done and (c2_done or wake <= next_try):
            clock.set(max(wake, clock.now()))
            log("client-1", "wakes up, still believing it holds the lock")
            believed["client-1"] = (got_at, clock.now() - start)
            mine = (*snapshot, "client-1")
            if store.write("ledger", mine, token=token1, writer="client-1"):
                acknowledged.append("client-1")
                log("client-1", f"writes {list(mine)}: accepted")
            else:
                log("storage", f"refuses client-1's write: token {token1} < {store.highest_token('ledger')}")
            if lock.release(c1):
                log("client-1", "releases the lock")
            else:
                log("client-1", "releases the lock: it was no longer holding it")
            held.setdefault("client-1", (got_at, clock.now() - start))
            c1_done = True
            continue
        clock.set(next_try)
        c2.keep_alive()
        if not c1_done and not expired_logged and lock.holder() is None:
            expired_logged = True
            held["client-1"] = (got_at, min(clock.now() - start, got_at + ttl))
            log("service", "client-1's lease expired: its lock key is deleted")
        token2 = lock.acquire(c2)
        if token2 is None:
            continue
        tokens["client-2"] = token2
        t2 = clock.now() - start
        log("client-2", f"acquires the lock (fencing token {token2})")
        theirs = store.read("ledger", token=token2) or ()
        log("client-2", f"reads the ledger: {list(theirs)}")
        clock.advance(work)
        if store.write("ledger", (*theirs, "client-2"), token=token2, writer="client-2"):
            acknowledged.append("client-2")
            log("client-2", f"writes {list((*theirs, 'client-2'))}: accepted")
        lock.release(c2)
        log("client-2", "releases the lock")
        held["client-2"] = believed["client-2"] = (t2, clock.now() - start)
        c2_done = True
    c1.close()
    c2.close()
    lock.clear()
    ledger = store.read("ledger") or ()
    return PausedClient(fencing, ttl, pause, tuple(events), tuple(ledger), tuple(acknowledged), tokens,
                        held, believed)


@dataclass(frozen=True)
class Contention:
    """What ``contention`` measured."""

    fencing: bool
    acknowledged: int  # increments the store accepted
    final: int         # the counter's value at the end
    refused: int       # writes the store refused (stale token)
    overlaps: int      # writes made while another client held the lock per the service

    @property
    def lost(self) -> int:
        """Acknowledged increments missing from the counter."""
        return self.acknowledged - self.final


def contention(
    backend: LeaseBackend,
    *,
    fencing: bool,
    clients: int = 3,
    duration: float = 120.0,
    ttl: float = 5.0,
    work: float = 0.2,
    pause_probability: float = 0.05,
    pause_mean: float = 6.0,
    retry: float = 0.5,
    fence_reads: bool = True,
    rng: random.Random | None = None,
    name: str | None = None,
) -> Contention:
    """``clients`` workers increment one counter under one lock for ``duration`` simulated seconds.

    Each worker: renew its session (a new one if the lease expired), try the lock, read the counter,
    work ``work`` seconds, with probability ``pause_probability`` pause for an exponential time of
    mean ``pause_mean`` seconds, write counter + 1 with its fencing token, release. A refused try
    waits ``retry`` seconds. Deterministic for a given ``rng`` seed.

    ``fence_reads=False`` shows the token only when writing: then even a fenced store can lose an
    update, when a late write from the old holder lands between the new holder's read and write.
    """
    backend = require_instance(backend, "backend", LeaseBackend, what="a LeaseBackend")
    clock = _manual_clock(backend)
    clients = require_int(clients, "clients", minimum=1, maximum=64)
    duration = require_seconds(duration, "duration", maximum=MAX_TTL)
    ttl = require_seconds(ttl, "ttl", maximum=MAX_TTL)
    work = require_seconds(work, "work", maximum=MAX_TTL)
    pause_probability = require_probability(pause_probability, "pause_probability")
    pause_mean = require_number(pause_mean, "pause_mean", minimum=0.0, maximum=MAX_TTL, strict_min=True)
    retry = require_seconds(retry, "retry", maximum=MAX_TTL)
    rng = require_instance(rng, "rng", random.Random) if rng is not None else random.Random(0)
    for flag, flag_name in ((fencing, "fencing"), (fence_reads, "fence_reads")):
        if not isinstance(flag, bool):
            raise TypeError(f"{flag_name} must be True or False, got {type(flag).__name__}")

    lock = Lock(backend, name or f"counter-{uuid.uuid4().hex[:8]}")
    store: FencedStore[int] = FencedStore(fencing=fencing)
    store.seed("counter", 0)
    start = clock.now()
    sessions = {i: Session(backend, f"worker-{i}", ttl) for i in range(clients)}
    # (time, seq, worker, step, token, value read)
    queue: list[tuple[float, int, int, str, int, int]] = []
    seq = 0

    def schedule(at: float, worker: int, step: str, token: int = 0, value: int = 0) -> None:
        nonlocal seq
        heapq.heappush(queue, (at, seq, worker, step, token, value))
        seq += 1

    for i in range(clients):
        schedule(start + i * retry / clients, i, "try")
    acknowledged = refused = overlaps = 0
    while queue:
        at, _, worker, step, token, value = heapq.heappop(queue)
        if at > start + duration:
            break
        clock.set(max(at, clock.now()))
        session = sessions[worker]
        if step == "try":
            try:
                session.keep_alive()
            except LeaseExpired:
                session = sessions[worker] = Session(backend, f"worker-{worker}", ttl)
            got = lock.acquire(session)
            if got is None:
                schedule(at + retry, worker, "try")
                continue
            seen = store.read("counter", token=got if fence_reads else None) or 0
            delay = work + (rng.expovariate(1 / pause_mean) if rng.random() < pause_probability else 0.0)
            schedule(at + delay, worker, "write", got, seen)
        else:  # "write", after the work (and maybe a pause), without looking at the lease again
            holder = lock.holder()
            overlaps += holder is not None and holder != session.owner
            if store.write("counter", value + 1, token=token, writer=session.owner):
                acknowledged += 1
            else:
                refused += 1
            lock.release(session)
            schedule(at + retry * rng.random(), worker, "try")
    for session in sessions.values():
        session.close()
    lock.clear()
    return Contention(fencing, acknowledged, store.read("counter") or 0, refused, overlaps)
