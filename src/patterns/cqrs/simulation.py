"""Projection lag under load, on a ``ManualClock``: commands arrive at one rate, the projector
applies events at another, and the read model falls behind whenever the first beats the second.

``simulate_lag`` drives the real pieces (``WriteModel`` -> outbox relay -> broker -> ``Projector``
-> ``SQLiteReadStore``) in ticks of ``tick`` seconds. Everything is deterministic: the workload
comes from a seeded ``random.Random`` and time only moves when the simulation advances it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from patterns._validate import (
    require_instance,
    require_int,
    require_number,
    require_seconds,
    require_sequence,
)
from patterns.clock import ManualClock
from patterns.cqrs.commands import (
    AddItem,
    CancelOrder,
    Command,
    ConfirmOrder,
    CreateOrder,
    DomainError,
    RegisterCustomer,
)
from patterns.cqrs.projector import LagSample, Projector
from patterns.cqrs.stores import SQLiteReadStore
from patterns.cqrs.write_model import WriteModel
from patterns.messaging import Broker, InMemoryBroker

__all__ = ["random_commands", "simulate_lag", "LagTrace"]

SKUS = ("book", "pen", "lamp", "mug", "desk")
MAX_RATE = 10_000.0  # commands or events per second: a simulation, not a benchmark


def random_commands(rng: random.Random, customers: int = 5, invalid: float = 0.03) -> Iterator[Command]:
    """An endless, plausible order workload: register customers, then create/add/confirm/cancel.

    The generator tracks what the write model will accept, so about ``invalid`` of the commands
    are refused (cancelling twice, adding to a confirmed order), as in real traffic. The same seed
    gives the same stream.
    """
    for i in range(customers):
        yield RegisterCustomer(f"c{i}", f"Customer {i}")
    drafts: dict[str, int] = {}  # draft order -> lines
    confirmed: list[str] = []
    closed: list[str] = []  # cancelled orders, for the occasional invalid command
    orders = 0
    while True:
        roll = rng.random()
        if roll < invalid and (confirmed or closed):
            victim = rng.choice(confirmed + closed)
            yield AddItem(victim, rng.choice(SKUS), 1, 250) if victim in confirmed else CancelOrder(victim)
        elif not drafts or roll < 0.25:
            orders += 1
            drafts[f"o{orders}"] = 0
            yield CreateOrder(f"o{orders}", f"c{rng.randrange(customers)}")
        elif roll < 0.75:
            order_id = rng.choice(sorted(drafts)[-5:])  # recent orders get the traffic
            drafts[order_id] += 1
            yield AddItem(order_id, rng.choice(SKUS), rng.randint(1, 3), rng.choice((250, 999, 1500)))
        elif roll < 0.93 and any(drafts.values()):
            order_id = rng.choice([o for o, n in sorted(drafts.items()) if n])
            del drafts[order_id]
            confirmed.append(order_id)
            yield ConfirmOrder(order_id)
        else:
            order_id = rng.choice(sorted(drafts) + confirmed)
            drafts.pop(order_id, None)
            if order_id in confirmed:
                confirmed.remove(order_id)
            closed.append(order_id)
            yield CancelOrder(order_id)


@dataclass
class LagTrace:
    """What a lag simulation observed, tick by tick and event by event."""

    times: list[float] = field(default_factory=list)
    backlog: list[int] = field(default_factory=list)  # events written but not yet projected
    samples: list[LagSample] = field(default_factory=list)
    commands: int = 0
    rejected: int = 0

    @property
    def max_lag(self) -> float:
        return max((s.lag for s in self.samples), default=0.0)

    @property
    def mean_lag(self) -> float:
        return sum(s.lag for s in self.samples) / len(self.samples) if self.samples else 0.0

    @property
    def max_backlog(self) -> int:
        return max(self.backlog, default=0)

    @property
    def final_backlog(self) -> int:
        return self.backlog[-1] if self.backlog else 0


def simulate_lag(
    command_rate: float,
    projector_rate: float,
    seconds: float = 30.0,
    *,
    burst: tuple[float, float, float] | None = None,
    tick: float = 0.1,
    seed: int = 4,
    broker: Broker | None = None,
) -> LagTrace:
    """Run ``seconds`` of traffic at ``command_rate`` commands/s against a projector that applies at
    most ``projector_rate`` events/s. ``burst=(start, end, rate)`` overrides the command rate
    between ``start`` and ``end``. Every accepted command writes exactly one event.
    """
    command_rate = require_number(command_rate, "command_rate", minimum=0.0, maximum=MAX_RATE)
    projector_rate = require_number(projector_rate, "projector_rate", minimum=0.0, maximum=MAX_RATE)
    seconds = require_number(seconds, "seconds", minimum=0.0, maximum=3600.0)
    tick = require_seconds(tick, "tick", maximum=10.0)
    if seconds / tick > 1_000_000:
        raise ValueError(f"seconds / tick must be at most 1,000,000 steps, got {seconds / tick:.0f}")
    require_int(seed, "seed", minimum=0, maximum=2**63 - 1)
    if broker is not None:
        require_instance(broker, "broker", Broker)
    if burst is not None:
        start, end, rate = require_sequence(burst, "burst", min_length=3, max_length=3)
        start = require_number(start, "burst start", minimum=0.0, maximum=seconds)
        end = require_number(end, "burst end", minimum=start, maximum=seconds)
        require_number(rate, "burst rate", minimum=0.0, maximum=MAX_RATE)
    clock = ManualClock()
    rng = random.Random(seed)
    write = WriteModel(clock=clock, rng=rng)
    broker = broker if broker is not None else InMemoryBroker(clock=clock)
    relay = write.relay(broker)
    projector = Projector(SQLiteReadStore(), clock=clock)
    consumer = broker.subscribe(write.topic, group=f"lag-sim-{seed}-{rng.getrandbits(32):08x}")
    workload = random_commands(rng)
    trace = LagTrace()
    due_commands = due_events = 0.0
    for step in range(round(seconds / tick)):
        now = step * tick
        rate = burst[2] if burst is not None and burst[0] <= now < burst[1] else command_rate
        due_commands += rate * tick
        while due_commands >= 1:
            due_commands -= 1
            trace.commands += 1
            try:
                write.handle(next(workload))
            except DomainError:
                trace.rejected += 1
        relay.run_until_empty()
        due_events += projector_rate * tick
        budget = int(due_events)
        if budget:
            projector.run_once(consumer, max_records=budget)
            due_events -= budget  # capacity unused in this tick is lost, not saved up
        clock.set(round((step + 1) * tick, 9))  # no float drift from repeated advance()
        trace.times.append(clock.now())
        trace.backlog.append(projector.lag_behind(write.position))
    trace.samples = list(projector.samples)
    consumer.close()
    return trace
