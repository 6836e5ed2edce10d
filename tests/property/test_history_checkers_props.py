"""The history checkers against a brute-force reference, on random small histories (issue 18).

The reference below is written from the definitions, independently of the package's search:
enumerate every subset of the writes that may have happened and every order of the operations,
keep the orders that respect the required precedences, and replay them on a register.

* precedence for linearizability: ``a`` completed (``ok=True``) before ``b`` was invoked; or ``a``
  and ``b`` are the same client's and ``a`` completed no later than ``b`` began (program order),
  unless both are instantaneous at the same instant (then nobody can tell their order);
* for sequential consistency: only the program-order part, between operations that completed.

Histories have up to 7 operations from 3 clients on one or two keys, with pending, failed and
timed-out operations; times sit on a coarse grid so that touching instants are frequent.
"""

from __future__ import annotations

from itertools import combinations, permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.consistency import (
    Op,
    check_linearizable,
    check_monotonic_reads,
    check_read_your_writes,
    check_sequential,
    stale_reads,
)


def program_order(a: Op, b: Op) -> bool:
    instantaneous_together = a.invoked == a.completed == b.invoked == b.completed
    return (a.client == b.client and a.completed is not None and a.completed <= b.invoked
            and not instantaneous_together)


def must_precede(a: Op, b: Op, real_time: bool) -> bool:
    if a.ok is not True:
        return False
    if real_time:
        return (a.completed is not None and a.completed < b.invoked) or program_order(a, b)
    return b.ok is True and program_order(a, b)


def brute_force(history: list[Op], real_time: bool) -> bool:
    ops = [op for op in history if op.ok is True or (op.ok is None and op.kind == "write")]
    required = [op for op in ops if op.ok is True]
    maybe = [op for op in ops if op.ok is not True]
    for size in range(len(maybe) + 1):
        for chosen in combinations(maybe, size):
            for order in permutations(required + list(chosen)):
                if any(must_precede(order[j], order[i], real_time)
                       for i in range(len(order)) for j in range(i + 1, len(order))):
                    continue
                if legal(order):
                    return True
    return False


def legal(order: tuple[Op, ...]) -> bool:
    """Every read returns the value of the latest write before it (registers start at None)."""
    state: dict[str, object] = {}
    for op in order:
        if op.kind == "write":
            state[op.key] = op.value
        elif state.get(op.key) != op.value:
            return False
    return True


@st.composite
def histories(draw: st.DrawFn, max_ops: int = 7) -> list[Op]:
    """Each client does one operation after another (the next may start as the last completes)."""
    count = draw(st.integers(1, max_ops))
    keys = ["x", "y"][: draw(st.integers(1, 2))]
    clock = {c: draw(st.integers(0, 2)) for c in ("p0", "p1", "p2")}
    written: dict[str, list[int]] = {k: [] for k in keys}
    history: list[Op] = []
    for n in range(count):
        client = draw(st.sampled_from(sorted(clock)))
        key = draw(st.sampled_from(keys))
        start = clock[client] + draw(st.integers(0, 2))
        end = start + draw(st.integers(0, 3))
        ok = draw(st.sampled_from([True, True, True, False, None]))
        pending = ok is None and draw(st.booleans())
        if draw(st.booleans()):
            value: object = n + 1  # unique written values, as the session checkers require
            written[key].append(n + 1)
            kind = "write"
        else:
            value = draw(st.sampled_from([None, *written[key], 99]))  # 99: nobody wrote it
            kind = "read"
        history.append(Op(client, kind, key, value, start, None if pending else end, ok))
        clock[client] = end if not pending else end + 100  # a pending op's client stops there
    return history


@settings(max_examples=1000, deadline=None)
@given(histories(max_ops=6))
def test_the_checkers_agree_with_a_brute_force_reference(history):
    assert bool(check_linearizable(history)) == brute_force(history, real_time=True)
    assert bool(check_sequential(history)) == brute_force(history, real_time=False)


@settings(max_examples=1000, deadline=None)
@given(histories(max_ops=7))
def test_a_linearizable_history_passes_every_weaker_check(history):
    if not check_linearizable(history):
        return
    assert check_sequential(history)
    assert check_read_your_writes(history)
    assert check_monotonic_reads(history)
    assert stale_reads(history) == []


def test_the_reference_itself_on_the_issue_cases():
    timed_out = [Op("A", "write", "x", 1, 0, 1, None), Op("B", "write", "x", 2, 2, 3),
                 Op("B", "read", "x", 1, 4, 5)]
    assert brute_force(timed_out, real_time=True)
    touching = [Op("p0", "read", "x", 1, 3, 4), Op("p0", "write", "x", 1, 4, 7)]
    assert not brute_force(touching, real_time=True) and not brute_force(touching, real_time=False)
