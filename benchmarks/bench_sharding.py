"""Sharding: lookups side by side with peer libraries, and what a reshard costs per key.

    .venv/bin/python benchmarks/bench_sharding.py            # everything
    .venv/bin/python benchmarks/bench_sharding.py --lookups  # only the lookup races

* ring lookup: ``ConsistentHashRing.node_for`` vs ``uhashring.HashRing.get_node`` (both 160 vnodes)
  at 10, 100 and 1,000 nodes; target: ours >= 2.5x faster at each size.
* jump hash: ``jump_hash`` (pure Python, the teaching version) vs the ``jump-consistent-hash``
  package's pure-Python ``jump.py_hash`` and its C ``jump.hash`` (what its users call).
* rendezvous with 10 nodes (no peer library): lookups per second, unweighted and weighted.
* reshard: ``ShardedStore.reshard`` on 100,000 rows, in microseconds per row of the store and per
  moved row: a ring growing 3 -> 4 and 30 -> 31 shards (planned from the changed hash ranges), and
  jump hash 30 -> 31 (planned by scanning every row's hash).

Lookups are timed in CPU time of the process (``time.process_time``), the contenders interleaved
over ``ROUNDS`` rounds, best round kept: a burst of load from another process slows one round, not
one contender; ``RUNS`` such runs. Reshards are timed in wall time (they write files), once per run.
Needs: pip install uhashring jump-consistent-hash.
"""

from __future__ import annotations

import platform
import random
import sys
import tempfile
from collections.abc import Callable

from harness import Report, Timing, interleave, once, ratios, reuse, spread

from patterns.sharding import ConsistentHashRing, JumpRouter, Rendezvous, Router, ShardedStore, jump_hash

KEYS = [f"user:{i}" for i in range(10_000)]
RUNS = 5
ROUNDS = 3
RESHARD_ROWS = 100_000


def race(contenders: dict[str, Callable[[], object]], calls: int) -> dict[str, Timing]:
    """Per-run CPU time per lookup of each contender (``calls`` lookups per call of a contender),
    ``RUNS`` runs of ``ROUNDS`` interleaved rounds, best round kept."""
    timings = interleave({name: reuse(fn) for name, fn in contenders.items()},
                         runs=RUNS, number=1, rounds=ROUNDS, cpu="process")
    return {name: Timing([c / calls for c in t.cpu], [w / calls for w in t.wall]) for name, t in timings.items()}


def bench_ring(nodes: int) -> tuple[Timing, Timing]:
    from uhashring import HashRing

    names = [f"node-{i}" for i in range(nodes)]
    ours = ConsistentHashRing(names, vnodes=160)
    peer = HashRing(nodes=names, vnodes=160)
    t = race({"ours": lambda: [ours.node_for(k) for k in KEYS],
              "peer": lambda: [peer.get_node(k) for k in KEYS]}, len(KEYS))
    return t["ours"], t["peer"]


def bench_jump() -> tuple[Timing, Timing, Timing]:
    import jump

    rng = random.Random(1)
    cases = [(rng.getrandbits(64), 1000) for _ in range(10_000)]
    t = race({"ours": lambda: [jump_hash(k, n) for k, n in cases],
              "py": lambda: [jump.py_hash(k, n) for k, n in cases],
              "c": lambda: [jump.hash(k, n) for k, n in cases]}, len(cases))
    return t["ours"], t["py"], t["c"]


def bench_rendezvous() -> tuple[Timing, Timing]:
    names = [f"node-{i}" for i in range(10)]
    plain = Rendezvous(names)
    weighted = Rendezvous(names, {n: 1 + i % 3 for i, n in enumerate(names)})
    t = race({"plain": lambda: [plain.node_for(k) for k in KEYS],
              "weighted": lambda: [weighted.node_for(k) for k in KEYS]}, len(KEYS))
    return t["plain"], t["weighted"]


def bench_reshard(old: Router, new: Router, rows: int = RESHARD_ROWS) -> tuple[Timing, int]:
    """Wall (and process CPU) time of ``reshard(new)`` on a fresh store of ``rows`` rows placed by
    ``old``, one value per run."""
    timing, moved = Timing(), 0
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as folder, ShardedStore(old, folder, {"name": str}) as store:
            store.put_many((f"user:{i}", {"name": f"name {i}"}) for i in range(rows))
            result, cpu, wall = once(lambda: store.reshard(new))
            moved = result.moved
            timing.cpu.append(cpu)
            timing.wall.append(wall)
    return timing, moved


def main() -> None:
    report = Report("sharding", "Sharding: lookups next to peer libraries, and the cost of a reshard",
                    ("uhashring", "jump-consistent-hash"), runs=RUNS, rounds=ROUNDS, keys=len(KEYS),
                    reshard_rows=RESHARD_ROWS)
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}; "
          f"{RUNS} runs of {ROUNDS} interleaved rounds, process CPU time; median (min-max)")
    for nodes in (10, 100, 1000):
        ours, peer = bench_ring(nodes)
        report.timing(f"ring lookup, {nodes:,} nodes: ConsistentHashRing.node_for", ours, "process", unit="ns", scale=1e9)
        report.timing(f"ring lookup, {nodes:,} nodes: uhashring get_node", peer, "process", unit="ns", scale=1e9)
        ratio = report.figure(f"ring lookup, {nodes:,} nodes", ratios(peer.cpu, ours.cpu), "×", "process",
                              peer="uhashring", group="ratio")
        report.target(f"ring lookup vs uhashring, {nodes:,} nodes", ratio, "×", at_least=2.5)
        print(f"ring lookup ({nodes:>4} nodes x 160 vnodes): ours {spread(ours.cpu, 1e9, 0)} ns, uhashring "
              f"{spread(peer.cpu, 1e9, 0)} ns -> {spread(ratio)}x faster (target >= 2.5x)")
    ours, peer_py, peer_c = bench_jump()
    report.timing("jump hash, 1,000 buckets: jump_hash", ours, "process", unit="ns", scale=1e9)
    report.timing("jump hash, 1,000 buckets: jump.py_hash (pure Python)", peer_py, "process", unit="ns", scale=1e9)
    report.timing("jump hash, 1,000 buckets: jump.hash (C)", peer_c, "process", unit="ns", scale=1e9)
    to_py = report.figure("jump hash vs jump.py_hash (pure Python)", ratios(peer_py.cpu, ours.cpu), "×", "process",
                          peer="jump-consistent-hash (Python)", group="ratio")
    to_c = report.figure("jump hash vs jump.hash (C extension)", ratios(peer_c.cpu, ours.cpu), "×", "process",
                         peer="jump-consistent-hash (C)", group="ratio")
    print(f"jump hash (1000 buckets): ours {spread(ours.cpu, 1e9, 0)} ns; jump.py_hash {spread(peer_py.cpu, 1e9, 0)} "
          f"ns (ours {spread(to_py)}x its speed); C jump.hash {spread(peer_c.cpu, 1e9, 0)} ns "
          f"(ours {spread(to_c)}x its speed)")
    plain, weighted = bench_rendezvous()
    report.timing("rendezvous, 10 nodes: unweighted", plain, "process", unit="ns", scale=1e9)
    report.timing("rendezvous, 10 nodes: weighted", weighted, "process", unit="ns", scale=1e9)
    print(f"rendezvous (10 nodes): {spread(plain.cpu, 1e9, 0)} ns unweighted, {spread(weighted.cpu, 1e9, 0)} ns "
          "weighted")
    if "--lookups" not in sys.argv:
        cases: list[tuple[str, Router, Router]] = [
            ("ring 3 -> 4", ConsistentHashRing([f"s{i}" for i in range(3)]),
             ConsistentHashRing([f"s{i}" for i in range(4)])),
            ("ring 30 -> 31", ConsistentHashRing([f"s{i}" for i in range(30)]),
             ConsistentHashRing([f"s{i}" for i in range(31)])),
            ("jump 30 -> 31", JumpRouter([f"s{i}" for i in range(30)]), JumpRouter([f"s{i}" for i in range(31)])),
        ]
        for label, old, new in cases:
            timing, moved = bench_reshard(old, new)
            text = label.replace("->", "→")
            report.figure(f"reshard {text}, {RESHARD_ROWS:,} rows: per row in the store", timing.wall, "µs", "wall",
                          scale=1e6 / RESHARD_ROWS, group="reshard")
            report.figure(f"reshard {text}, {RESHARD_ROWS:,} rows: per row in the store", timing.cpu, "µs", "process",
                          scale=1e6 / RESHARD_ROWS, group="reshard")
            report.figure(f"reshard {text}, {RESHARD_ROWS:,} rows: per moved row ({moved:,} moved)", timing.wall,
                          "µs", "wall", scale=1e6 / moved, group="reshard")
            print(f"reshard {label} on {RESHARD_ROWS:,} rows: {spread(timing.wall, 1e3, 0)} ms, moved {moved:,} -> "
                  f"{spread(timing.wall, 1e6 / RESHARD_ROWS)} us per row in the store, "
                  f"{spread(timing.wall, 1e6 / moved, 1)} us per moved row")
    report.save()


if __name__ == "__main__":
    main()
