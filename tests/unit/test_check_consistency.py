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
