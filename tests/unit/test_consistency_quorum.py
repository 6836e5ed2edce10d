import pytest

from patterns.consistency import (
    QuorumStore,
    Unavailable,
    Version,
    build_cluster,
    check_convergence,
    partition_experiment,
    resolve,
    stale_read_rate,
)


def test_bad_arguments_name_the_parameter():
    net = build_cluster(3, 1, 1).network
    with pytest.raises(ValueError, match=r"r must be an integer in \[1, 3\]"):
        QuorumStore(net, r=0, w=1)
    with pytest.raises(ValueError, match=r"w must be an integer in \[1, 3\]"):
        QuorumStore(net, r=1, w=4)
    with pytest.raises(ValueError, match="mode"):
        QuorumStore(net, r=1, w=1, mode="ca")
    with pytest.raises(ValueError, match="policy"):
        QuorumStore(net, r=1, w=1, policy="newest")
    with pytest.raises(ValueError, match="skew: unknown node"):
        QuorumStore(net, r=1, w=1, skew={"x9": 1.0})
    store = QuorumStore(net, r=1, w=1)
    with pytest.raises(ValueError, match="coordinator: unknown node"):
        store.write("k", 1, coordinator="nope")


def test_write_then_read_with_overlapping_quorums():
    store = build_cluster(3, 2, 2, seed=3)
    store.write("k", "v1", coordinator="n1")
    assert store.read("k", coordinator="n3").value == "v1"
    assert store.read("missing", coordinator="n2").value is None


def test_cp_refuses_on_the_minority_side_and_serves_the_majority():
    store = build_cluster(3, 2, 2, seed=3, mode="cp")
    store.network.partition(["n1"])
    with pytest.raises(Unavailable, match="unavailable"):
        store.write("k", 1, coordinator="n1")
    with pytest.raises(Unavailable):
        store.read("k", coordinator="n1")
    store.write("k", 2, coordinator="n2")
    assert store.read("k", coordinator="n3").value == 2
    assert store.stats.writes_failed == 1 and store.stats.reads_failed == 1


def test_ap_accepts_on_both_sides_then_lww_keeps_one_and_siblings_keep_both():
    for policy, expected in (("lww", (2,)), ("siblings", (1, 2))):
        store = build_cluster(3, 2, 2, seed=3, mode="ap", policy=policy)
        store.network.partition(["n1"])
        store.write("k", 1, coordinator="n1")
        store.network.clock.advance(0.5)
        store.write("k", 2, coordinator="n2")
        assert store.read("k", coordinator="n1").value == 1  # the minority reads its own side
        store.network.run()
        store.network.heal()
        assert not check_convergence(store.states())
        store.anti_entropy()
        assert check_convergence(store.states())
        assert store.values("k")["n3"] == expected
        assert len(store.lost_writes) == (1 if policy == "lww" else 0)


def test_clock_skew_makes_lww_drop_the_later_write():
    store = build_cluster(3, 1, 1, seed=3, skew={"n1": 10.0}, mode="ap")
    store.network.partition(["n1"])
    store.write("k", "early-but-fast-clock", coordinator="n1")
    store.network.clock.advance(1.0)
    store.write("k", "later", coordinator="n2")
    store.network.heal()
    store.anti_entropy()
    assert store.values("k")["n2"] == ("early-but-fast-clock",)


def test_read_repair_fixes_stale_replicas_and_can_be_disabled():
    for repair in (True, False):
        store = build_cluster(3, 3, 1, seed=3, read_repair=repair, mode="ap")
        store.network.partition(["n3"])
        store.write("k", "v", coordinator="n1")
        store.network.run()
        store.network.heal()
        assert store.values("k")["n3"] == ()
        store.read("k", coordinator="n1")
        store.network.run()
        assert store.values("k")["n3"] == (("v",) if repair else ())


def test_timeout_when_partition_starts_in_flight_is_indeterminate():
    store = build_cluster(3, 2, 3, seed=3, mode="cp", timeout=0.1)
    op = store.submit_write("k", 7, coordinator="n1")
    store.network.partition(["n1"])
    store.network.run()
    assert op.ok is False and op.error == "timeout"
    assert store.history()[0].ok is None  # may have taken effect on n1


def test_resolve_drops_dominated_and_reports_lww_losses():
    a = Version("a", (("n1", 1),), 1.0, "n1", 1)
    b = Version("b", (("n1", 1), ("n2", 1)), 2.0, "n2", 1)  # saw a
    c = Version("c", (("n3", 1),), 3.0, "n3", 1)  # concurrent with both
    kept, lost = resolve([a, b], "lww")
    assert kept == (b,) and lost == set()
    kept, lost = resolve([a, b, c], "lww")
    assert kept == (c,) and lost == {("n2", 1)}
    kept, lost = resolve([a, b, c], "siblings")
    assert kept == (b, c) and lost == set()


def test_weak_quorums_read_stale_data_and_strict_quorums_do_not():
    assert stale_read_rate(3, 1, 1, seed=0) > 0.3
    assert stale_read_rate(3, 2, 2, seed=0) == 0.0


def test_partition_experiment_shows_the_trade_off():
    cp = partition_experiment("cp", "lww", seed=0)
    ap = partition_experiment("ap", "lww", seed=0)
    ap_siblings = partition_experiment("ap", "siblings", seed=0)
    assert cp.minority_availability == 0.0 and cp.majority_availability == 1.0
    assert ap.minority_availability == 1.0
    assert ap.lost_adds > cp.lost_adds > 0  # read-modify-write races lose items even without a cut
    assert ap_siblings.lost_adds == 0 and ap_siblings.sibling_reads > 0
    assert all(rep.converged for rep in (cp, ap, ap_siblings))
