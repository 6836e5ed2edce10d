from typing import Any

import pytest

from patterns.check import consistency as chk
from patterns.check.consistency import (
    check_cheapest_strict_quorum,
    check_linearizable_choice,
    check_merge_carts,
    check_tolerated_cut,
)


def test_exercise_1(capsys):
    assert check_cheapest_strict_quorum((3, 1))
    assert not check_cheapest_strict_quorum((1, 1))
    assert "stale-read rate" in capsys.readouterr().out
    assert not check_cheapest_strict_quorum((2, 2))
    assert not check_cheapest_strict_quorum(...)
    assert not check_cheapest_strict_quorum((0, 9))
    assert not check_cheapest_strict_quorum("3,1")


def test_exercise_2(capsys):
    assert check_linearizable_choice({"a", "c"})
    assert not check_linearizable_choice({"a", "b", "c"})
    assert "'b' is not linearizable" in capsys.readouterr().out
    assert not check_linearizable_choice({"a"})
    assert not check_linearizable_choice(["a"])
    assert not check_linearizable_choice(...)


def test_exercise_3(capsys):
    assert check_merge_carts(lambda siblings: frozenset().union(*siblings))
    assert not check_merge_carts(lambda siblings: siblings[-1])
    assert not check_merge_carts(lambda siblings: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not check_merge_carts(42)
    assert not check_merge_carts(...)


def test_exercise_4():
    assert check_tolerated_cut(2)
    assert not check_tolerated_cut(3)
    assert not check_tolerated_cut(1)
    assert not check_tolerated_cut("2")
    assert not check_tolerated_cut(...)


def test_causal_delivery(capsys: pytest.CaptureFixture[str]) -> None:
    def right(applied: dict[str, int], update: Any) -> bool:
        if update.seq != applied.get(update.origin, 0) + 1:
            return False
        return all(c <= applied.get(o, 0) for o, c in update.deps if o != update.origin)

    assert chk.check_causal_delivery(right) is True
    assert "no reply before its question" in capsys.readouterr().out
    fifo_only = lambda applied, u: u.seq == applied.get(u.origin, 0) + 1  # noqa: E731
    assert chk.check_causal_delivery(fifo_only) is False
    assert "wait for it" in capsys.readouterr().out
    exact = lambda a, u: u.seq == a.get(u.origin, 0) + 1 and all(  # noqa: E731
        c == a.get(o, 0) for o, c in u.deps if o != u.origin)
    assert chk.check_causal_delivery(exact) is False
    assert "<=" in capsys.readouterr().out
    assert chk.check_causal_delivery(...) is False
    assert "not answered" in capsys.readouterr().out

    def broken(applied: dict[str, int], update: Any) -> bool:
        raise KeyError(update.origin)

    assert chk.check_causal_delivery(broken) is False
    assert "KeyError" in capsys.readouterr().out
