"""Causal consistency, runnable: vector clocks, causal delivery, and why clients must stay put.

Replicas broadcast their updates to each other over a seeded ``Network``. Each update carries the
vector clock of its origin when it was made: how many updates from every replica the origin had
applied, its own new one included. A replica then decides, update by update, when to apply what
arrives, by a *delivery rule*:

- ``apply_on_arrival``: at once. Fast, and an effect can be seen before its cause: a reply shows up
  before the question it answers, because the question took a slower path.
- ``causally_ready`` (causal delivery, the vector-clock rule of Birman, Schiper and Stephenson): the
  next update from its origin, and only once everything the origin had applied is applied here too.
  Anything else waits in a buffer. No replica ever shows an effect before its cause, and no replica
  ever refuses a local write: waiting costs latency, never availability.

``chat_experiment`` counts the anomaly both ways. ``CausalSession`` shows the catch behind "causal
consistency is available under partition": a *client* that moves to a replica which has not yet
applied what the client already saw must wait, possibly for the whole partition. Only clients that
stay with one replica (sticky clients) keep both causality and availability.

Not thread-safe: one thread drives the simulated network.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from patterns._validate import (
    require_callable,
    require_instance,
    require_int,
    require_seconds,
    require_sequence,
    require_text,
)
from patterns.clock import ManualClock
from patterns.consistency.network import MAX_DELAY, Network

__all__ = [
    "Update",
    "DeliveryRule",
    "causally_ready",
    "apply_on_arrival",
    "CausalReplica",
    "CausalSession",
    "CausalReport",
    "chat_experiment",
]

MAX_CONVERSATIONS = 100_000


@dataclass(frozen=True)
class Update:
    """One write made at ``origin``: the ``seq``-th there, with the origin's vector clock ``deps``."""

    origin: str
    seq: int
    deps: tuple[tuple[str, int], ...]  # sorted (replica, count) pairs; deps[origin] == seq
    text: str
    reply_to: tuple[str, int] | None = None  # the dot of the update this one answers

    @property
    def dot(self) -> tuple[str, int]:
        """The update's unique name: (origin, seq)."""
        return (self.origin, self.seq)

    def dep(self, replica: str) -> int:
        return dict(self.deps).get(replica, 0)


DeliveryRule = Callable[[Mapping[str, int], Update], bool]


def causally_ready(applied: Mapping[str, int], update: Update) -> bool:
    """Apply ``update`` now? Only if it is the next one from its origin and every update the origin
    had applied before making it is applied here too (``applied`` counts updates per origin)."""
    if update.seq != applied.get(update.origin, 0) + 1:
        return False
    return all(count <= applied.get(replica, 0) for replica, count in update.deps if replica != update.origin)


def apply_on_arrival(applied: Mapping[str, int], update: Update) -> bool:
    """No causal delivery: apply whatever arrives, as soon as it arrives."""
    return True


class CausalReplica:
    """A replica that applies updates by ``rule`` and holds back the ones the rule refuses.

    ``applied`` is the replica's vector clock, ``log`` the order in which it applied updates (what a
    user of this replica sees), ``waits`` how long each held-back update waited.
    """

    def __init__(self, name: str, rule: DeliveryRule = causally_ready, *, clock: ManualClock) -> None:
        self.name = require_text(name, "name", max_length=200)
        self.rule = require_callable(rule, "rule")
        self.clock = require_instance(clock, "clock", ManualClock)
        self.applied: dict[str, int] = {}
        self.log: list[Update] = []
        self.held_back = 0  # updates that could not be applied when they arrived
        self.waits: list[float] = []  # how long each of those waited before it was applied
        self._held: list[tuple[Update, float]] = []
        self._known: set[tuple[str, int]] = set()

    @property
    def held(self) -> int:
        """Updates that arrived and are still waiting for their causes."""
        return len(self._held)

    def write(self, text: str, reply_to: tuple[str, int] | None = None) -> Update:
        """A local write: applied here at once (a replica never refuses its own client)."""
        seq = self.applied.get(self.name, 0) + 1
        deps = tuple(sorted({**self.applied, self.name: seq}.items()))
        update = Update(self.name, seq, deps, require_text(text, "text", max_length=10_000), reply_to)
        self._apply(update)
        return update

    def receive(self, update: Update) -> list[Update]:
        """An update from another replica arrives; returns the updates applied because of it."""
        require_instance(update, "update", Update)
        if update.dot in self._known:
            return []  # a duplicate: already applied or already waiting
        self._known.add(update.dot)
        self._held.append((update, self.clock.now()))
        newly: list[Update] = []
        progress = True
        while progress:
            progress = False
            for index, (waiting, since) in enumerate(self._held):
                if self.rule(dict(self.applied), waiting):
                    del self._held[index]
                    if waiting is not update:
                        self.waits.append(self.clock.now() - since)
                    self._apply(waiting)
                    newly.append(waiting)
                    progress = True
                    break
        if update not in newly:
            self.held_back += 1
        return newly

    def _apply(self, update: Update) -> None:
        self._known.add(update.dot)
        self.applied[update.origin] = max(self.applied.get(update.origin, 0), update.seq)
        self.log.append(update)

    def anomalies(self) -> int:
        """Replies this replica applied before the update they answer."""
        seen: set[tuple[str, int]] = set()
        count = 0
        for update in self.log:
            if update.reply_to is not None and update.reply_to not in seen:
                count += 1
            seen.add(update.dot)
        return count


@dataclass
class CausalSession:
    """A client's causal context: every update it has seen. It may read at a replica only when that
    replica has applied all of them; otherwise the read must wait (or break causality)."""

    seen: dict[str, int] = field(default_factory=dict)

    def can_read(self, replica: CausalReplica) -> bool:
        return all(replica.applied.get(origin, 0) >= count for origin, count in self.seen.items())

    def read(self, replica: CausalReplica) -> list[Update] | None:
        """The replica's log if it is causally up to date for this client, else None (must wait)."""
        require_instance(replica, "replica", CausalReplica)
        if not self.can_read(replica):
            return None
        for origin, count in replica.applied.items():
            self.seen[origin] = max(self.seen.get(origin, 0), count)
        return list(replica.log)


@dataclass(frozen=True)
class CausalReport:
    """What one run of the chat did: Alice asks, Bob answers as soon as he sees a question, Carol reads."""

    rule: str
    conversations: int
    anomalies: int  # replies applied before their question, summed over the replicas
    held: int  # updates some replica held back before applying them
    mean_wait: float  # seconds a held-back update waited, on average (0 if none)
    max_wait: float
    converged: bool  # every replica applied every update


def chat_experiment(rule: DeliveryRule = causally_ready, *, conversations: int = 200, seed: int = 0,
                    delay: tuple[float, float] = (0.001, 0.050), spacing: float = 0.1,
                    replicas: Sequence[str] = ("alice", "bob", "carol")) -> CausalReport:
    """Alice posts ``conversations`` questions ``spacing`` seconds apart; each replica broadcasts its
    updates to the others with seeded random delays; Bob replies to each question the moment his
    replica applies it. Counts, on every replica, the replies applied before their question."""
    require_callable(rule, "rule")
    conversations = require_int(conversations, "conversations", minimum=1, maximum=MAX_CONVERSATIONS)
    spacing = require_seconds(spacing, "spacing", maximum=MAX_DELAY)
    names = [require_text(r, "replicas: each name", max_length=200)
             for r in require_sequence(replicas, "replicas", max_length=3)]
    if len(names) != 3 or len(set(names)) != 3:
        raise ValueError(f"replicas must be three distinct names (asker, answerer, reader), got {names}")
    asker, answerer, _reader = names
    clock = ManualClock()
    network = Network(names, clock=clock, rng=random.Random(require_int(seed, "seed", minimum=None)),
                      delay=delay)
    nodes = {n: CausalReplica(n, rule, clock=clock) for n in names}

    def broadcast(source: str, update: Update) -> None:
        for target in names:
            if target != source:
                network.send(source, target, partial(arrive, target, update))

    def arrive(target: str, update: Update) -> None:
        for applied in nodes[target].receive(update):
            react(target, applied)

    def react(node: str, update: Update) -> None:
        if node == answerer and update.origin == asker and update.reply_to is None:
            broadcast(answerer, nodes[answerer].write(f"re: {update.text}", reply_to=update.dot))

    def ask(i: int) -> None:
        question = nodes[asker].write(f"question {i}")
        broadcast(asker, question)

    for i in range(conversations):
        network.schedule(clock.now() + i * spacing, partial(ask, i))
    network.run()
    waits = [w for n in nodes.values() for w in n.waits]
    total = {n.name: len(n.log) for n in nodes.values()}
    name = getattr(rule, "__name__", type(rule).__name__)
    return CausalReport(
        rule=name,
        conversations=conversations,
        anomalies=sum(n.anomalies() for n in nodes.values()),
        held=sum(n.held_back for n in nodes.values()),
        mean_wait=statistics.fmean(waits) if waits else 0.0,
        max_wait=max(waits, default=0.0),
        converged=len(set(total.values())) == 1 and not any(n.held for n in nodes.values()),
    )
