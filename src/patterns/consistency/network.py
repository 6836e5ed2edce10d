"""A simulated cluster network: N named nodes, random message delays, partitions and heals.

The network is a discrete-event simulator on a ``ManualClock``. ``send`` schedules a delivery
``delay`` seconds ahead (drawn from a seeded ``random.Random``); ``run_until`` / ``run`` deliver
due messages in time order and move the clock. A partition splits the nodes into groups: a message
between groups is dropped when sent *and* when it would be delivered (a partition that starts while
a message is in flight still cuts it). Same seed, same calls => same deliveries, on every machine.

Not thread-safe: one thread drives the simulation; the simulated clock is the only concurrency.

Each message carries a short ``label`` ("write x=1", "ack"), or a function making it; an ``observer``, if set, is told
``(event, src, dst, label)`` when a message is delivered or dropped, in simulated-time order: the
book draws its message sequence charts from it.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from patterns._validate import (
    require_callable,
    require_instance,
    require_int,
    require_number,
    require_seconds,
    require_sequence,
    require_text,
)
from patterns.clock import ManualClock

__all__ = ["Network", "NetworkStats", "Observer", "MAX_NODES", "MAX_DELAY"]

MAX_NODES = 1_000  # nodes in one simulated cluster
MAX_DELAY = 3_600.0  # seconds: a one-way delay of an hour is already absurd
#: ``observer(event, src, dst, label)``: event is "delivered" or "dropped"
Observer = Callable[[str, str, str, str], None]


@dataclass
class NetworkStats:
    sent: int = 0
    delivered: int = 0
    dropped: int = 0  # cut by a partition (at send or at delivery)


class Network:
    """``Network(["a", "b", "c"], clock=ManualClock(), rng=random.Random(7), delay=(0.001, 0.02))``.

    ``nodes`` may be an int ``n`` (names ``n1`` ... ``nN``). ``delay`` is the (min, max) one-way
    delay in seconds between two different nodes, drawn uniformly; a node talks to itself at once.
    """

    def __init__(
        self,
        nodes: Sequence[str] | int,
        *,
        clock: ManualClock,
        rng: random.Random | None = None,
        delay: tuple[float, float] = (0.001, 0.020),
    ) -> None:
        if isinstance(nodes, int) and not isinstance(nodes, bool):
            nodes = [f"n{i}" for i in range(1, require_int(nodes, "nodes", minimum=1, maximum=MAX_NODES) + 1)]
        names = tuple(require_sequence(nodes, "nodes", max_length=MAX_NODES))
        for name in names:
            require_text(name, "nodes: each node name", max_length=200)
        if len(set(names)) != len(names):
            raise ValueError(f"nodes must be distinct, got {list(names)}")
        require_instance(clock, "clock", ManualClock, what="a ManualClock (the network moves time)")
        if rng is not None:
            require_instance(rng, "rng", random.Random)
        if isinstance(delay, (str, bytes)) or not isinstance(delay, Sequence) or len(delay) != 2:
            raise TypeError(f"delay must be a (min, max) pair of seconds, got {delay!r}")
        low = require_seconds(delay[0], "delay (min)", positive=False, maximum=MAX_DELAY)
        high = require_seconds(delay[1], "delay (max)", positive=False, maximum=MAX_DELAY)
        if low > high:
            raise ValueError(f"delay must be (min, max) with 0 <= min <= max, got {delay!r}")
        self.nodes = names
        self.clock = clock
        self.rng = rng if rng is not None else random.Random(0)
        self.delay = (float(low), float(high))
        self.stats = NetworkStats()
        self._group: dict[str, int] = {n: 0 for n in names}
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.observer: Observer | None = None  # a tracing hook; see the module docstring

    # --- partitions -------------------------------------------------------------------------
    def partition(self, *groups: Iterable[str]) -> None:
        """Split the cluster: nodes in different groups cannot exchange messages.

        Nodes not listed in any group form one more group together. ``partition(["n1"])`` on a
        three-node cluster isolates n1 from n2 and n3.
        """
        assignment: dict[str, int] = {}
        for index, group in enumerate(groups, start=1):
            if isinstance(group, (str, bytes)) or not isinstance(group, Iterable):
                raise TypeError(f"groups must be collections of node names, got {group!r:.80}")
            for node in group:
                if node not in self._group:
                    raise ValueError(f"groups: unknown node {node!r}; nodes are {list(self.nodes)}")
                if node in assignment:
                    raise ValueError(f"groups: node {node!r} is listed in two groups")
                assignment[node] = index
        self._group = {n: assignment.get(n, 0) for n in self.nodes}

    def heal(self) -> None:
        """End every partition: all nodes can talk again (messages already dropped stay lost)."""
        self._group = {n: 0 for n in self.nodes}

    @property
    def partitioned(self) -> bool:
        return len(set(self._group.values())) > 1

    def can_reach(self, src: str, dst: str) -> bool:
        self._check_node(src, "src")
        self._check_node(dst, "dst")
        return self._group[src] == self._group[dst]

    def reachable_from(self, node: str) -> list[str]:
        """The nodes ``node`` can talk to right now, itself included, in cluster order."""
        return [n for n in self.nodes if self.can_reach(node, n)]

    def groups(self) -> list[list[str]]:
        """The current connected groups (one group when healed)."""
        by_group: dict[int, list[str]] = {}
        for n in self.nodes:
            by_group.setdefault(self._group[n], []).append(n)
        return list(by_group.values())

    # --- messages and time ------------------------------------------------------------------
    def sample_delay(self, src: str, dst: str) -> float:
        return 0.0 if src == dst else self.rng.uniform(*self.delay)

    def send(self, src: str, dst: str, deliver: Callable[[], None],
             label: str | Callable[[], str] = "message") -> bool:
        """Schedule ``deliver()`` at ``dst`` after a random delay; False if a partition cut it.

        ``label`` names the message for the ``observer`` (a function is called only if observed).
        """
        self.stats.sent += 1
        if not self.can_reach(src, dst):
            self.stats.dropped += 1
            self._observe("dropped", src, dst, label)
            return False
        when = self.clock.now() + self.sample_delay(src, dst)

        def arrive() -> None:
            if self.can_reach(src, dst):
                self.stats.delivered += 1
                self._observe("delivered", src, dst, label)
                deliver()
            else:
                self.stats.dropped += 1
                self._observe("dropped", src, dst, label)

        self.schedule(when, arrive)
        return True

    def _observe(self, event: str, src: str, dst: str, label: str | Callable[[], str]) -> None:
        if self.observer is not None:
            self.observer(event, src, dst, label if isinstance(label, str) else label())

    def schedule(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action()`` at simulated time ``when`` (timers, client invocations, deliveries)."""
        when = require_number(when, "when")
        require_callable(action, "action")
        if when < self.clock.now():
            raise ValueError(f"when must be >= now ({self.clock.now()}), got {when}")
        heapq.heappush(self._queue, (when, next(self._seq), action))

    def run_until(self, when: float) -> None:
        """Deliver everything due up to ``when`` in time order, then set the clock to ``when``."""
        when = require_number(when, "when")
        while self._queue and self._queue[0][0] <= when:
            at, _, action = heapq.heappop(self._queue)
            self.clock.set(max(at, self.clock.now()))
            action()
        self.clock.set(max(when, self.clock.now()))

    def step(self) -> bool:
        """Deliver the next due event (moving the clock to it); False when nothing is pending."""
        if not self._queue:
            return False
        at, _, action = heapq.heappop(self._queue)
        self.clock.set(max(at, self.clock.now()))
        action()
        return True

    def run(self, max_events: int = 1_000_000) -> None:
        """Deliver until nothing is pending (``max_events`` guards against a runaway loop)."""
        for _ in range(require_int(max_events, "max_events", minimum=1)):
            if not self.step():
                return
        raise RuntimeError(f"network still busy after max_events={max_events} events")

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _check_node(self, node: str, name: str) -> None:
        if not isinstance(node, str):
            raise TypeError(f"{name} must be a node name (str), got {type(node).__name__}")
        if node not in self._group:
            raise ValueError(f"{name}: unknown node {node!r}; nodes are {list(self.nodes)}")
