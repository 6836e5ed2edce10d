import pytest

from patterns.consistency import (
    Op,
    SearchBudgetExceeded,
    check_convergence,
    check_linearizable,
    check_monotonic_reads,
    check_read_your_writes,
    check_sequential,
    stale_reads,
)


def w(client, value, start, end, key="x", ok=True):
    return Op(client, "write", key, value, start, end, ok)


def r(client, value, start, end, key="x"):
    return Op(client, "read", key, value, start, end)


STALE = [w("A", 1, 0, 1), r("B", None, 2, 3)]  # B reads the initial value after A's write finished


def test_op_validation():
    with pytest.raises(ValueError, match="kind"):
        Op("A", "cas", "x", 1, 0, 1)
    with pytest.raises(ValueError, match="completed"):
        Op("A", "read", "x", 1, 2, 1)
    with pytest.raises(TypeError, match="hashable"):
        Op("A", "write", "x", [1], 0, 1)
    with pytest.raises(TypeError, match="Op"):
        check_linearizable([("A", "write")])


def test_stale_read_is_sequential_but_not_linearizable():
    assert not check_linearizable(STALE)
    result = check_sequential(STALE)
    assert result and [op.kind for op in result.order] == ["read", "write"]
    assert stale_reads(STALE) == [STALE[1]]


def test_overlapping_read_may_see_either_value():
    for seen in (None, 1):
        assert check_linearizable([w("A", 1, 0, 2), r("B", seen, 1, 3)])


def test_new_then_old_across_clients_is_not_linearizable():
    history = [w("A", 1, 0, 10), r("B", 1, 1, 2), r("C", None, 3, 4)]
    assert not check_linearizable(history)
    assert check_sequential(history)  # C may be ordered before A's write


def test_program_order_violation_is_not_sequential():
    history = [w("A", 1, 0, 1), w("A", 2, 2, 3), r("B", 2, 4, 5), r("B", 1, 6, 7)]
    assert not check_sequential(history)
    assert not check_monotonic_reads(history)


def test_indeterminate_write_may_or_may_not_have_happened():
    pending = w("A", 1, 0, None, ok=None)
    assert check_linearizable([pending, r("B", 1, 5, 6)])
    assert check_linearizable([pending, r("B", None, 5, 6)])
    failed = w("A", 1, 0, 1, ok=False)
    assert not check_linearizable([failed, r("B", 1, 5, 6)])


def test_read_of_a_value_nobody_wrote_fails_everything():
    history = [r("A", 42, 0, 1)]
    assert not check_linearizable(history) and not check_sequential(history)
    assert not check_read_your_writes(history) and not check_monotonic_reads(history)


def test_read_your_writes():
    assert not check_read_your_writes([w("A", 1, 0, 1), r("A", None, 2, 3)])
    assert not check_read_your_writes([w("B", 1, 0, 1), w("A", 2, 2, 3), r("A", 1, 4, 5)])
    assert check_read_your_writes([w("A", 1, 0, 1), r("B", None, 2, 3)])  # another client's write
    assert check_read_your_writes([w("A", 1, 0, 1), w("B", 2, 0.5, 4), r("A", 2, 2, 3)])


def test_monotonic_reads():
    assert check_monotonic_reads([w("A", 1, 0, 1), r("B", 1, 2, 3), r("B", 1, 4, 5)])
    assert not check_monotonic_reads([w("A", 1, 0, 1), r("B", 1, 2, 3), r("B", None, 4, 5)])


def test_duplicate_written_values_are_refused_by_session_checkers():
    with pytest.raises(ValueError, match="history"):
        check_read_your_writes([w("A", 1, 0, 1), w("B", 1, 2, 3)])


def test_limits_are_explicit():
    long = [w("A", i, i, i + 0.5) for i in range(41)]
    with pytest.raises(ValueError, match="max_ops=40"):
        check_linearizable(long)
    with pytest.raises(ValueError, match="max_ops"):
        check_linearizable(STALE, max_ops=0)
    wide = [w(f"c{i}", i, 0, 100) for i in range(12)] + [r("z", -1, 200, 201)]
    with pytest.raises(SearchBudgetExceeded):
        check_linearizable(wide, max_states=1000)


def test_keys_are_independent_registers():
    history = [w("A", 1, 0, 1, key="x"), w("A", 2, 2, 3, key="y"), r("B", 1, 4, 5, key="x"),
               r("B", None, 6, 7, key="z")]
    assert check_linearizable(history)


def test_convergence():
    assert check_convergence({"a": {"x": 1}, "b": {"x": 1}})
    result = check_convergence({"a": {"x": 1}, "b": {"x": 2}, "c": {"x": 1}})
    assert not result and "a, c; b" in result.explanation
    with pytest.raises(ValueError, match="states"):
        check_convergence({})


# -- issue 18: the two defects, as their smallest histories ----------------------------------------
def test_a_timed_out_write_may_land_after_later_writes_so_no_session_violation():
    """A's write of 1 timed out at 1: it may take effect at any time after 0, even after B's write
    of 2, so B reading 1 is linearizable, and neither a read-your-writes violation nor stale."""
    history = [w("A", 1, 0, 1, ok=None), w("B", 2, 2, 3), r("B", 1, 4, 5)]
    assert check_linearizable(history)
    assert check_read_your_writes(history)
    assert stale_reads(history) == []
    # ... whereas had it completed at 1, B's read of 1 would be stale and break read-your-writes
    completed = [w("A", 1, 0, 1), w("B", 2, 2, 3), r("B", 1, 4, 5)]
    assert not check_linearizable(completed)
    assert not check_read_your_writes(completed) and len(stale_reads(completed)) == 1


def test_a_timed_out_write_seen_then_an_older_value_is_still_fine_for_monotonic_reads():
    history = [w("A", 1, 0, 1, ok=None), w("B", 2, 2, 3), r("C", 2, 4, 5), r("C", 1, 6, 7)]
    assert check_linearizable(history)  # A's write landed between C's two reads
    assert check_monotonic_reads(history)


def test_a_clients_own_order_holds_at_touching_instants():
    """p0 reads 1 during [3, 4], then writes 1 during [4, 7]: the read cannot see its own later write."""
    history = [r("p0", 1, 3, 4), w("p0", 1, 4, 7)]
    assert not check_linearizable(history)
    assert not check_sequential(history)
    # another client touching at the same instant is concurrent, so either order is allowed
    assert check_linearizable([r("p1", 1, 3, 4), w("p0", 1, 4, 7)])


def test_touching_instants_order_a_clients_session_too():
    history = [w("A", 1, 0, 1), r("A", None, 1, 2)]  # the read starts as the write completes
    assert not check_read_your_writes(history)
    assert not check_linearizable(history) and stale_reads(history) == [history[1]]
    # two instantaneous operations of one client at one instant: the order is unknown, both pass
    assert check_linearizable([w("A", 1, 1, 1), r("A", None, 1, 1)])
