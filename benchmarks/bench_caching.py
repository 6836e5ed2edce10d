"""Cache-aside hit overhead over a bare Redis GET (target: <= 1.3x).

Usage: .venv/bin/python benchmarks/bench_caching.py [--n 1000] [--runs 5] [--rounds 5]
Runs on fakeredis; also on the real server when PATTERNS_REDIS_URL is set. For each backend it times,
in one run and on the same client: a bare ``GET`` of a cached entry, the same ``GET`` plus
decoding the msgpack entry (a hand-written cache-aside hit), and ``CacheAside.get`` on a hit (expiry check on the
clock, stats, single-flight and lease machinery present but idle). The harness interleaves the contenders; each of ``--runs`` runs keeps the best of
``--rounds`` rounds of ``n`` calls.
"""

from __future__ import annotations

import argparse
import os
import platform
import uuid
from collections.abc import Callable
from typing import Any

import msgpack
import redis
from harness import Report, Timing, interleave, ratios, reuse, spread

from patterns import infra
from patterns.caching import CacheAside
from patterns.clock import ManualClock

TARGET = 1.3


def race(fns: dict[str, Callable[[], object]], n: int, runs: int, rounds: int) -> dict[str, Timing]:
    """Per-run seconds per call of each function on both clocks (harness: interleaved, best round)."""
    return interleave({name: reuse(fn) for name, fn in fns.items()}, runs=runs, number=n, rounds=rounds)


def bench(report: Report, client: Any, label: str, n: int, runs: int, rounds: int) -> Timing:
    """Record bare GET / GET + decode / CacheAside.get on ``client``; returns the bare GET's timing."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    value = {"id": 42, "name": "espresso machine", "price": 249.0, "tags": ["kitchen", "coffee"]}
    cache = CacheAside(client, lambda key: value, ttl=3600, clock=ManualClock(), prefix=prefix)
    cache.get("item:42")  # fill: every timed call below is a hit
    raw_key = cache.entries.value_key("item:42")
    try:
        t = race({"bare": lambda: client.get(raw_key),
                  "manual": lambda: msgpack.unpackb(client.get(raw_key)),
                  "aside": lambda: cache.get("item:42")}, n, runs, rounds)
    finally:
        cache.clear()  # this run's KeySpace only (namespaced, glob-safe)
    assert cache.stats.misses == 1 and cache.stats.loads == 1
    report.timing(f"{label}: bare GET", t["bare"], group=label)
    report.timing(f"{label}: GET + msgpack decode", t["manual"], group=label)
    report.timing(f"{label}: CacheAside.get hit", t["aside"], group=label)
    # fakeredis runs in this thread (CPU time is the stable figure); a real server is waited for (wall)
    clock = "wall" if label == "redis" else "thread"
    ratio = ratios(getattr(t["aside"], "cpu" if clock == "thread" else "wall"),
                   getattr(t["bare"], "cpu" if clock == "thread" else "wall"))
    report.figure(f"{label}: CacheAside.get hit / bare GET", ratio, "×", clock, group=label)
    # judged here on fakeredis only (thread CPU); a real server's wall ratio moves with the server's other
    # clients by more than the cache costs, so that target is judged on the implied ratio in main()
    met = label != "fakeredis" or report.target(f"cache-aside hit / bare GET, {label}", ratio, "×", at_most=TARGET)
    print(f"{label:<10} bare GET {spread(t['bare'].wall, 1e6, 1)} us | GET+decode {spread(t['manual'].wall, 1e6, 1)} us"
          f" | CacheAside.get hit {spread(t['aside'].wall, 1e6, 1)} us; hit / GET ({clock}) {spread(ratio)}x  "
          f"target <= {TARGET}x: {'met' if met else 'MISSED'}" * (label == "fakeredis"))
    return t["bare"]


class DictClient(redis.Redis):
    """Just enough of a Redis client for a hit: ``get`` from a dict, no I/O. Isolates the Python
    work ``CacheAside.get`` adds around the GET, which background load cannot blur as much.
    (A ``redis.Redis`` subclass, so the cache accepts it; it never opens a connection.)"""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:  # type: ignore[override]
        return self.data.get(key)

    def register_script(self, script: str) -> Callable[..., int]:  # type: ignore[override]
        def run(keys: list[str], args: list[object]) -> int:
            payload = args[0]
            self.data[keys[0]] = payload if isinstance(payload, bytes) else str(payload).encode()
            return 1

        return run


def pure_overhead(report: Report, n: int, runs: int, rounds: int) -> list[float]:
    """Per-run seconds of Python that ``CacheAside.get`` adds around the GET (no I/O, thread CPU)."""
    client = DictClient()
    cache = CacheAside(client, lambda key: {"id": 42}, ttl=3600, clock=ManualClock(), prefix="o:")
    cache.get("item:42")
    raw_key = cache.entries.value_key("item:42")
    t = race({"bare": lambda: client.get(raw_key), "aside": lambda: cache.get("item:42")}, n, runs, rounds)
    overhead = [a - b for a, b in zip(t["aside"].cpu, t["bare"].cpu, strict=True)]
    report.figure("no I/O: what CacheAside.get adds around a dict get", overhead, "µs", "thread", scale=1e6,
                  group="no I/O")
    print(f"{'no I/O':<10} dict get {spread(t['bare'].cpu, 1e6)} us | CacheAside.get hit {spread(t['aside'].cpu, 1e6)}"
          f" us -> the cache adds {spread(overhead, 1e6)} us of Python per hit")
    return overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report = Report("caching", "Caching: cache-aside hit over a bare GET", ("fakeredis", "redis", "msgpack"),
                    runs=args.runs, rounds=args.rounds, calls=args.n)
    print(f"python {platform.python_version()}, nproc {os.cpu_count()}, n={args.n}, runs={args.runs}, "
          f"rounds={args.rounds}; median (min-max)")
    overhead = pure_overhead(report, args.n, args.runs, args.rounds)
    backends = [("fakeredis", infra.redis_client(url="", fresh=True))]
    url = infra.redis_url()
    if url:
        backends.append(("redis", infra.redis_client(url)))
    for label, client in backends:
        bare = bench(report, client, label, args.n, args.runs, args.rounds)
        implied = [(b + o) / b for b, o in zip(bare.wall, overhead, strict=True)]
        report.figure(f"{label}: implied (bare GET + no-I/O overhead) / bare GET", implied, "×", "wall", group=label)
        if label == "redis":
            report.target("cache-aside hit / bare GET, redis (implied)", implied, "×", at_most=TARGET)
        print(f"{label:<10} implied ratio from the no-I/O overhead: {spread(implied)}x")
    report.save()


if __name__ == "__main__":
    main()
