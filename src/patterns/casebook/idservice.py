"""Case 6: a unique ID service.

Every row, message and event of a large system needs an id that is unique across machines,
ideally roughly time-ordered (so a B-tree index appends instead of scattering writes) and
cheap (no round trip per id). The bottleneck is coordination. ``id_strategies`` issues the same
schedule of ids from several servers, one of whose clocks steps back (an NTP correction) halfway
through, with five generators:

* ``central counter``: one counter (a database sequence, a ticket server): unique and ordered, but
  every id is a round trip to one machine;
* ``block leasing``: each server takes ``block`` ids at a time from the counter: far fewer calls,
  but ids are no longer ordered across servers;
* ``timestamp+seq, no check``: Snowflake's layout with no guard against a clock going back:
  duplicates;
* ``Snowflake (raise)``: ``patterns.ids.Snowflake`` refusing to issue until the clock catches up;
* ``Snowflake (logical)``: the same generator borrowing from its last timestamp instead.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from patterns._validate import require_int, require_number, require_seconds
from patterns.casebook.model import CaseStudy, diagram, parameters, require_scale, rubric, uses
from patterns.estimate import Estimate, WorkedDesign
from patterns.ids import ClockMovedBackwards, Snowflake, SteppableClock, out_of_order

__all__ = ["design", "DEFAULTS", "GENERATORS", "IdRow", "id_strategies", "late_ids"]

GENERATORS = ("central counter", "block leasing", "timestamp+seq, no check", "Snowflake (raise)",
              "Snowflake (logical)")
_EPOCH = 1_700_000_000.0  # the simulated wall clock starts here (seconds since 1970)

#: The design's default assumptions; ``design(**overrides)`` replaces any of them.
DEFAULTS: dict[str, float] = {
    "ids_per_ms_per_worker": 4_096,
    "utilisation": 0.5,
    "timestamp_bits": 41,
    "rtt": 0.0005,
    "block": 1_000,
}


def design(peak_ids: float = 10e6, **overrides: float) -> CaseStudy:
    """An id service for a platform issuing up to ``peak_ids`` ids per second at peak."""
    values = parameters(DEFAULTS, overrides)
    peak_ids = require_scale(peak_ids, "peak_ids")
    est = Estimate("Unique ID service")
    est.assume("peak_ids", peak_ids, "ids/s", "every message, post and event of the platform at peak")
    est.assume("ids_per_ms_per_worker", values["ids_per_ms_per_worker"], "ids",
               "Snowflake's 12-bit sequence per millisecond")
    est.assume("utilisation", values["utilisation"], "", "keep half of each worker's sequence spare")
    est.assume("timestamp_bits", values["timestamp_bits"], "bits", "Snowflake's millisecond timestamp")
    est.assume("rtt", values["rtt"], "s", "a round trip to a central counter in the same zone")
    est.assume("block", values["block"], "ids", "ids per lease when leasing blocks")
    est.derive("worker_capacity", "ids_per_ms_per_worker * 1000", "ids/s", "one Snowflake worker")
    est.derive("workers", "ceil(peak_ids / (worker_capacity * utilisation))", "workers",
               "for throughput; run at least three for availability")
    est.derive("lifetime_years", "2 ** timestamp_bits / 1000 / 86_400 / 365", "years",
               "before the timestamp wraps")
    est.derive("central_calls", "peak_ids", "calls/s", "one round trip per id")
    est.derive("serial_client_rate", "1 / rtt", "ids/s", "one client, one id per round trip")
    est.derive("leasing_calls", "peak_ids / block", "calls/s", "one round trip per block")
    worked = WorkedDesign(
        name="Unique ID service",
        functional=["unique 64-bit ids for rows, messages and events, from any server",
                    "roughly time-ordered (sortable by creation time to the millisecond)"],
        non_functional=["no coordination per id; available when any one machine is down",
                        "millions of ids per second; never a duplicate, even when clocks misbehave"],
        estimate=est,
        api=["in-process library: next_id() -> int64 (no network hop)",
             "optional service: GET /v1/ids?count=100 for clients that cannot embed it"],
        data_model=["id = 41 bits of ms since a custom epoch | 10 bits worker | 12 bits sequence",
                    "worker ids: leased from etcd/ZooKeeper (chapter 15) so two live workers never share one"],
        components=["generator embedded in each service process", "worker-id leases in a coordination store",
                    "NTP with slewing, and a guard for clock steps"],
        deep_dives=["clock moving backwards: refuse (Twitter), wait, or borrow a logical timestamp",
                    "sequence exhaustion: wait for the next millisecond",
                    "alternatives: UUIDv7/ULID (128 bits, no worker ids), database sequences, leased blocks"],
        bottlenecks=["none per id; the risks are duplicate worker ids and clock steps",
                     "64-bit ids leak creation time and volume: do not expose them where that matters"],
    )
    return CaseStudy(
        slug="idservice",
        design=worked,
        diagram=diagram(
            "Unique ID service (Snowflake)",
            [("svc", "service process\\n+ id generator", "service"), ("clock", "NTP-disciplined\\nclock", "external"),
             ("etcd", "worker-id leases\\n(etcd)", "store"), ("db", "tables indexed\\nby id", "store"),
             ("counter", "central counter\\n(alternative)", "store")],
            [("etcd", "svc", "worker id at start"), ("clock", "svc", "ms timestamp"),
             ("svc", "db", "insert (appends)"), ("svc", "counter", "block of ids (alternative)")],
        ),
        uses=uses(
            (14, "Snowflake, UUIDv7, ULID", "the id layouts and their clock failures"),
            (15, "leases", "worker ids that two live processes never share"),
            (11, "clocks and ordering", "wall clocks step; ids are only roughly ordered"),
            (8, "sharding", "time-ordered ids as shard keys concentrate writes: hash them"),
        ),
        bottleneck="coordination: a round trip per id against ordering and clock safety",
        rubric=rubric(
            ("requirements", "uniqueness, size (64 bits), ordering and rate agreed",
             "asks whether ids may leak volume or time and whether clients can embed a library",
             "UUIDv4 everywhere with no thought for index locality"),
            ("design", "a Snowflake-style layout with a worker id, or leased blocks",
             "compares central counters, blocks, Snowflake and UUIDv7 with their costs",
             "a single auto-increment column for the whole platform at millions per second"),
            ("worker ids", "configured or assigned uniquely per live process",
             "leases worker ids from a coordination service and fences a paused process",
             "random worker ids with no collision check"),
            ("clocks", "knows wall clocks can go backwards",
             "chooses a policy for a clock step (refuse, wait, logical) and for sequence exhaustion",
             "trusts the system clock to be monotonic"),
            ("numbers", "sequence capacity per ms and the timestamp's lifetime computed",
             "sizes workers for the peak and explains the epoch choice",
             "no idea how many ids per second one worker can issue"),
        ),
        headline=("worker_capacity", "workers", "lifetime_years", "central_calls", "leasing_calls"),
    )


@dataclass(frozen=True)
class IdRow:
    """One generator over the schedule."""

    generator: str
    issued: int
    refused: int  # requests that got no id (the generator raised)
    duplicates: int
    coordinator_calls: int
    out_of_order: float  # fraction of ids smaller than the id issued just before (patterns.ids)
    late: float  # fraction of ids smaller than an id issued more than ``window`` seconds earlier


def late_ids(times: list[float], ids: list[int], window: float) -> float:
    """The fraction of ids smaller than some id issued more than ``window`` seconds before them:
    0 for ids ordered at that resolution (Snowflake: 1 ms), large for leased blocks."""
    if len(times) != len(ids):
        raise ValueError(f"times and ids must have the same length, got {len(times)} and {len(ids)}")
    window = require_number(window, "window", minimum=0.0, maximum=3_600.0)
    late, j, best = 0, 0, None
    for t, value in zip(times, ids, strict=True):
        while j < len(times) and times[j] < t - window:
            best = ids[j] if best is None else max(best, ids[j])
            j += 1
        if best is not None and value < best:
            late += 1
    return late / len(ids) if ids else 0.0


def _naive(clock: SteppableClock, worker: int) -> Callable[[], int]:
    """Snowflake's layout without its clock guard: a step back reuses (ms, sequence) pairs."""
    state = {"ms": -1, "seq": 0}

    def next_id() -> int:
        ms = math.floor(clock.now() * 1000.0 + 1e-6) - 1_288_834_974_657
        state["seq"] = state["seq"] + 1 if ms == state["ms"] else 0
        state["ms"] = ms
        return (ms << 22) | (worker << 12) | state["seq"]

    return next_id


def id_strategies(
    *,
    servers: int = 4,
    ids: int = 20_000,
    span: float = 1.0,
    step_back: float = 0.005,
    block: int = 1_000,
    seed: int = 3,
) -> list[IdRow]:
    """Issue ``ids`` ids at random times over ``span`` seconds from ``servers`` servers with every
    generator of ``GENERATORS``; server 0's clock steps back by ``step_back`` s halfway through."""
    n_servers = require_int(servers, "servers", minimum=1, maximum=1_024)
    n = require_int(ids, "ids", minimum=2, maximum=1_000_000)
    span = require_seconds(span, "span", maximum=3_600.0)
    back = require_number(step_back, "step_back", minimum=0.0, maximum=60.0)
    block = require_int(block, "block", minimum=1, maximum=10_000_000)
    rng = random.Random(require_int(seed, "seed", maximum=2**63 - 1))
    schedule = sorted((rng.uniform(0.0, span), rng.randrange(n_servers)) for _ in range(n))

    def wall(server: int, t: float) -> float:
        return _EPOCH + t - (back if server == 0 and t >= span / 2 else 0.0)

    rows = []
    for name in GENERATORS:
        issued: list[int] = []
        when: list[float] = []
        refused = calls = 0
        if name == "central counter":
            issued = list(range(1, n + 1))
            when = [t for t, _ in schedule]
            calls = n
        elif name == "block leasing":
            next_block, blocks = 0, [[0, 0] for _ in range(n_servers)]  # per server: [next, end)
            for t, server in schedule:
                if blocks[server][0] == blocks[server][1]:
                    calls += 1
                    blocks[server] = [next_block, next_block + block]
                    next_block += block
                issued.append(blocks[server][0])
                when.append(t)
                blocks[server][0] += 1
        else:
            clocks = [SteppableClock(wall(s, 0.0)) for s in range(n_servers)]
            makers: list[Callable[[], int]]
            if name == "timestamp+seq, no check":
                makers = [_naive(c, s) for s, c in enumerate(clocks)]
            else:
                policy = "raise" if name == "Snowflake (raise)" else "logical"
                makers = [Snowflake(s, clock=c, on_backwards=policy).next_id for s, c in enumerate(clocks)]
            for t, server in schedule:
                clock = clocks[server]
                clock.step(wall(server, t) - clock.now())
                try:
                    issued.append(makers[server]())
                    when.append(t)
                except ClockMovedBackwards:
                    refused += 1
        dupes = sum(c - 1 for c in Counter(issued).values() if c > 1)
        rows.append(IdRow(name, len(issued), refused, dupes, calls,
                          out_of_order(issued) if len(issued) >= 2 else 0.0, late_ids(when, issued, 0.001)))
    return rows
