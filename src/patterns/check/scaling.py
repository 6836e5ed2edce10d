"""Checkers for the exercises of lab 08, database scaling (sharding and replication).

Each ``check_*`` function tests the learner's answer against the package's own routers and
replication model and prints a tick, or what is wrong and a hint. They return True/False and never
raise on a wrong answer, so a partly finished lab keeps running.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

import numpy as np

from patterns.check import not_ready, report
from patterns.sharding import ConsistentHashRing, ModuloRouter, hash_keys, load

__all__ = [
    "VNODE_CHOICES",
    "modulo_moved_fraction",
    "smallest_balanced_vnodes",
    "check_modulo_moves",
    "check_shard_for",
    "check_pick_replica",
    "check_vnodes_for_balance",
]

VNODE_CHOICES = (1, 10, 50, 100, 160, 500, 1000)
_KEYS = [f"user:{i}" for i in range(100_000)]




@lru_cache(maxsize=1)
def _key_hashes() -> np.ndarray:
    """The hashes of ``user:0`` ... ``user:99999`` (computed once; the array is never modified)."""
    hashes = hash_keys(_KEYS)
    hashes.flags.writeable = False
    return hashes


def modulo_moved_fraction(before: int, after: int, keys: int = 100_000) -> float:
    """Measured fraction of keys that change shard when ``hash % before`` becomes ``hash % after``."""
    hashes = _key_hashes()[:keys]
    old = ModuloRouter([str(i) for i in range(before)]).indices_of_hashes(hashes)
    new = ModuloRouter([str(i) for i in range(after)]).indices_of_hashes(hashes)
    return float(np.mean(old != new))


def check_modulo_moves(answer: Any, before: int = 4, after: int = 5) -> bool:
    """Exercise 1: the fraction of keys that move when modulo sharding grows ``before -> after``."""
    title = "Exercise 1 (modulo resharding)"
    if not_ready(title, answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not 0 <= answer <= 1:
        return report(title, [f"give a fraction between 0 and 1, got {answer!r}"])
    measured = modulo_moved_fraction(before, after)
    if abs(answer - measured) > 0.03:
        return report(title, [
            f"{answer:.3f} is off: the measured fraction is not within 0.03 of it.",
            f"hint: a key stays only if hash % {before} == hash % {after}; out of every "
            f"{before * after} consecutive hash values, how many satisfy that?",
        ])
    return report(title, [], f"Measured: {measured:.3f}, so almost every key moves.")


def check_shard_for(shard_for: Any) -> bool:
    """Exercise 2: ``shard_for(key, num_shards) -> int`` must be in range, even and minimal-moving."""
    title = "Exercise 2 (a consistent shard_for)"
    if not_ready(title, shard_for):
        return False
    if not callable(shard_for):
        return report(title, [f"shard_for must be a function, got {type(shard_for).__name__}"])
    keys = _KEYS[:10_000]
    problems: list[str] = []
    try:
        layouts = {n: np.array([shard_for(k, n) for k in keys]) for n in (3, 4, 5, 8, 9)}
    except Exception as exc:  # the learner's code: report, never raise
        return report(title, [f"shard_for raised {type(exc).__name__}: {exc}"])
    for n, shards in layouts.items():
        if not np.all((shards >= 0) & (shards < n)):
            problems.append(f"with {n} shards some answers are outside 0..{n - 1}")
            break
        counts = np.bincount(shards.astype(np.intp), minlength=n)  # np.intp: 32-bit wasm needs it
        if counts.max() / counts.mean() > 1.10:
            problems.append(f"with {n} shards the busiest shard holds {counts.max() / counts.mean():.2f}x "
                            "the mean: hash the key before choosing a shard")
            break
    if shard_for(keys[0], 5) != shard_for(keys[0], 5):
        problems.append("shard_for is not deterministic")
    for n in (3, 4, 8):
        if problems:
            break
        old, new = layouts[n], layouts[n + 1]
        moved = old != new
        fraction = float(moved.mean())
        if np.any(new[moved] != n):
            problems.append(f"going from {n} to {n + 1} shards, some keys moved between old shards "
                            f"(only moves to the new shard {n} are necessary)")
        elif abs(fraction - 1 / (n + 1)) > 0.3 / (n + 1):
            problems.append(f"going from {n} to {n + 1} shards {fraction:.1%} of keys moved; "
                            f"about {1 / (n + 1):.1%} is the minimum that keeps shards even")
    if problems:
        problems.append("hint: jump_hash(stable_hash64(key), num_shards) has every property asked for")
    return report(title, problems, "Even shards, and growing moves only the keys the new shard needs.")


def check_pick_replica(pick_replica: Any, trials: int = 500, seed: int = 8) -> bool:
    """Exercise 3: ``pick_replica(applied, min_lsn)`` for read-your-writes routing.

    ``applied`` maps replica name to applied LSN; the answer is a replica with ``applied >= min_lsn``
    (the most up-to-date one on ties is not required), or None to send the read to the primary.
    """
    title = "Exercise 3 (read-your-writes routing)"
    if not_ready(title, pick_replica):
        return False
    if not callable(pick_replica):
        return report(title, [f"pick_replica must be a function, got {type(pick_replica).__name__}"])
    rng = random.Random(seed)
    for _ in range(trials):
        applied = {f"r{i}": rng.randint(0, 20) for i in range(rng.randint(1, 4))}
        min_lsn = rng.randint(0, 22)
        try:
            choice = pick_replica(dict(applied), min_lsn)
        except Exception as exc:
            return report(title, [f"pick_replica({applied}, {min_lsn}) raised {type(exc).__name__}: {exc}"])
        eligible = [name for name, lsn in applied.items() if lsn >= min_lsn]
        if choice is None and eligible:
            return report(title, [f"pick_replica({applied}, {min_lsn}) sent the read to the primary, but "
                                  f"{eligible} could serve it: replicas exist to take reads off the primary"])
        if choice is not None and choice not in eligible:
            why = "is not a replica" if choice not in applied else f"has only applied up to {applied[choice]}"
            return report(title, [f"pick_replica({applied}, {min_lsn}) chose {choice!r}, which {why}: "
                                  "the client would not see its own write",
                                  "hint: a replica may serve the read only if its applied LSN >= min_lsn"])
    return report(title, [], "Reads see your own writes and still mostly avoid the primary.")


@lru_cache(maxsize=8)
def smallest_balanced_vnodes(bound: float = 1.10, nodes: int = 10) -> int:
    """The smallest of ``VNODE_CHOICES`` whose ring has max/mean load <= ``bound`` on 100k keys."""
    hashes = _key_hashes()
    names = [f"node-{i}" for i in range(nodes)]
    for vnodes in VNODE_CHOICES:
        counts = np.array(list(load(ConsistentHashRing(names, vnodes), hashes).values()))
        if counts.max() / counts.mean() <= bound:
            return vnodes
    raise RuntimeError(f"no vnode count in {VNODE_CHOICES} reaches max/mean <= {bound}")


def check_vnodes_for_balance(answer: Any) -> bool:
    """Exercise 4: the smallest vnode count in ``VNODE_CHOICES`` giving max/mean <= 1.10."""
    title = "Exercise 4 (virtual nodes for balance)"
    if not_ready(title, answer):
        return False
    if answer not in VNODE_CHOICES:
        return report(title, [f"choose one of {VNODE_CHOICES}, got {answer!r}"])
    right = smallest_balanced_vnodes()
    if answer != right:
        direction = "too few: the ring is still lumpier" if answer < right else "more than needed"
        return report(title, [f"{answer} is {direction}.",
                              "hint: measure max/mean of the load for each choice, as the lab's "
                              "vnodes experiment does, and take the first one at or under 1.10"])
    return report(title, [], f"{right} virtual nodes per node is the first choice under 1.10.")


