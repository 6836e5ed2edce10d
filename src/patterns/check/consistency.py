"""Checkers for the exercises of lab 11, CAP and consistency models.

Each ``check_*`` function tests the learner's answer against the quorum store and the history
checkers of ``patterns.consistency`` and prints a tick, or what is wrong and a hint. They return
True/False and never raise on a wrong answer, so a partly finished lab keeps running.
"""

from __future__ import annotations

from typing import Any

from patterns.check import call_safely, not_ready, report
from patterns.consistency import (
    Op,
    Unavailable,
    Update,
    build_cluster,
    chat_experiment,
    check_linearizable,
    partition_experiment,
    stale_read_rate,
)

__all__ = [
    "HISTORIES",
    "check_causal_delivery",
    "check_cheapest_strict_quorum",
    "check_linearizable_choice",
    "check_merge_carts",
    "check_tolerated_cut",
]


def _w(client: str, value: Any, start: float, end: float) -> Op:
    return Op(client, "write", "x", value, start, end)


def _r(client: str, value: Any, start: float, end: float) -> Op:
    return Op(client, "read", "x", value, start, end)


HISTORIES: dict[str, list[Op]] = {
    "a": [_w("A", 1, 0, 1), _r("B", 1, 2, 3)],
    "b": [_w("A", 1, 0, 1), _r("B", None, 2, 3)],
    "c": [_w("A", 1, 0, 4), _r("B", None, 1, 2), _r("C", 1, 3, 5)],
    "d": [_w("A", 1, 0, 4), _r("B", 1, 1, 2), _r("C", None, 3, 5)],
    "e": [_w("A", 1, 0, 1), _w("B", 2, 2, 3), _r("C", 2, 4, 5), _r("C", 1, 6, 7)],
}




def check_cheapest_strict_quorum(answer: Any, n: int = 3) -> bool:
    """Exercise 1: (R, W) for N=n with no stale reads and writes waiting for as few acks as possible."""
    title = "Exercise 1 (cheapest write quorum without stale reads)"
    if not_ready(title, answer):
        return False
    if not (isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(x, int) for x in answer)):
        return report(title, [f"give a tuple (R, W) of two integers, got {answer!r}"])
    r, w = answer
    if not (1 <= r <= n and 1 <= w <= n):
        return report(title, [f"R and W must each be between 1 and N={n}, got {answer!r}"])
    rate = stale_read_rate(n, r, w, seed=0)
    problems = []
    if r + w <= n:
        problems.append(f"R + W = {r + w} <= N = {n}: measured stale-read rate {rate:.1%}. "
                        "hint: a read quorum must overlap every write quorum.")
    elif w != 1:
        problems.append(f"no stale reads, but each write waits for {w} acks; a smaller W works if R grows.")
    return report(title, problems, f"W=1 with R={r}: writes are fast, reads pay (measured stale rate {rate:.0%}).")


def check_linearizable_choice(answer: Any) -> bool:
    """Exercise 2: the set of names in ``HISTORIES`` that are linearizable."""
    title = "Exercise 2 (which histories are linearizable?)"
    if not_ready(title, answer):
        return False
    if not isinstance(answer, (set, frozenset)) or not set(answer) <= set(HISTORIES):
        return report(title, [f"give a set of names from {sorted(HISTORIES)}, got {answer!r}"])
    truth = {name for name, history in HISTORIES.items() if check_linearizable(history)}
    problems = [f"history {name!r} is {'not ' if name not in truth else ''}linearizable: "
                f"{check_linearizable(HISTORIES[name]).explanation}"
                for name in sorted(set(answer) ^ truth)]
    if problems:
        problems.append("hint: draw each operation as an interval and try to place one point inside each.")
    return report(title, problems, f"Linearizable: {sorted(truth)}.")


def check_merge_carts(merge: Any) -> bool:
    """Exercise 3: ``merge(siblings: list[frozenset]) -> frozenset`` loses no confirmed item."""
    title = "Exercise 3 (merge siblings of a cart)"
    if not_ready(title, merge):
        return False
    if not callable(merge):
        return report(title, [f"merge must be a function, got {type(merge).__name__}"])
    samples = [[frozenset({"a"}), frozenset({"b"})], [frozenset({"a", "b"}), frozenset({"b", "c"})],
               [frozenset({"x"})], [frozenset(), frozenset({"y"})]]
    problems = []
    for siblings in samples:
        try:
            got = merge(list(siblings))
        except Exception as exc:  # the learner's code: report, do not raise
            return report(title, [f"merge({siblings}) raised {type(exc).__name__}: {exc}"])
        want = frozenset().union(*siblings)
        if set(got) != want:
            problems.append(f"merge({[sorted(s) for s in siblings]}) gave {sorted(got)}, expected every "
                            f"item: {sorted(want)}")
    if not problems:
        ap = partition_experiment("ap", "siblings", seed=0)
        return report(title, [], f"Union keeps all {ap.acknowledged_adds} confirmed adds of the AP run "
                      "(a removed item would come back, though: that is why carts use CRDTs with tombstones).")
    problems.append("hint: a sibling is a version nobody has seen together with the others; keep what each adds.")
    return report(title, problems)


def check_tolerated_cut(answer: Any, n: int = 5, quorum: int = 3) -> bool:
    """Exercise 4: how many nodes can be cut off while the rest still serve R=W=quorum writes (CP)."""
    title = "Exercise 4 (how many nodes may be cut off?)"
    if not_ready(title, answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, int):
        return report(title, [f"give an integer, got {answer!r}"])
    served = {}
    for cut in range(n):
        store = build_cluster(n, quorum, quorum, seed=0, mode="cp")
        if cut:
            store.network.partition(list(store.network.nodes[:cut]))
        try:
            store.write("k", cut, coordinator=store.network.nodes[-1])
            served[cut] = True
        except Unavailable:
            served[cut] = False
    truth = max(c for c, ok in served.items() if ok)
    if answer != truth:
        return report(title, [f"{answer} is not it: with {answer} node(s) cut off the other side "
                              f"{'still serves' if served.get(answer, False) else 'refuses'} writes. "
                              f"hint: the larger side needs W={quorum} of N={n} nodes."])
    return report(title, [], f"Up to {truth} of {n}: a majority quorum survives any minority partition.")


# Exercise 5: the causal delivery rule.
def _u(origin: str, seq: int, **deps: int) -> Update:
    return Update(origin, seq, tuple(sorted({**deps, origin: seq}.items())), f"{origin}{seq}")


_RULE_CASES: tuple[tuple[dict[str, int], Update, bool, str], ...] = (
    ({}, _u("alice", 1), True, "alice's first update depends on nothing: apply it."),
    ({}, _u("alice", 2), False, "alice's first update has not arrived yet: her second must wait (a gap)."),
    ({"alice": 1}, _u("alice", 1), False, "this update is already applied: do not apply it twice."),
    ({}, _u("bob", 1, alice=1), False, "bob had applied alice's first update before writing this one; "
     "this replica has not: wait for it."),
    ({"alice": 1}, _u("bob", 1, alice=1), True, "bob's update and everything bob had seen are here: apply it."),
    ({"alice": 3, "bob": 1}, _u("bob", 2, alice=1), True, "having seen more than the sender is fine: "
     "compare with <=, not ==."),
)


def check_causal_delivery(rule: object) -> bool:
    """Exercise 5: ``rule(applied, update)`` is True when ``update`` may be applied now."""
    title = "Exercise 5 (causal delivery)"
    if not_ready(title, rule, expect=callable):
        return False
    assert callable(rule)
    problems: list[str] = []
    for applied, update, expected, hint in _RULE_CASES:
        got, error = call_safely(rule, dict(applied), update)
        if error:
            return report(title, [error])
        if bool(got) != expected:
            problems.append(f"applied={applied}, update from {update.origin} #{update.seq} with clock "
                            f"{dict(update.deps)}: you said {bool(got)}. {hint}")
    if problems:
        return report(title, problems)
    try:
        run = chat_experiment(rule, conversations=200, seed=0)
    except Exception as exc:  # noqa: BLE001 - the learner's rule may fail in any way; report it
        return report(title, [f"the chat experiment raised {type(exc).__name__}: {exc}"])
    if run.anomalies:
        problems.append(f"{run.anomalies} replies were shown before their question.")
    if not run.converged:
        problems.append("some updates were never applied: the rule waits for something that has already "
                        "happened (compare the origin's count with applied + 1, the others with <=).")
    return report(title, problems, f"200 conversations, no reply before its question; "
                  f"{run.held} updates waited, {run.max_wait * 1e3:.0f} ms at most.")
