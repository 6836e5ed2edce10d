import random

from hypothesis import given
from hypothesis import strategies as st

from patterns.consistency import (
    Op,
    atomic_register_history,
    build_cluster,
    check_convergence,
    check_linearizable,
    check_sequential,
    run_clients,
    stale_reads,
)


@st.composite
def strict_quorums(draw):
    n = draw(st.integers(1, 5))
    r = draw(st.integers(1, n))
    w = draw(st.integers(max(1, n + 1 - r), n))
    return n, r, w


@given(strict_quorums(), st.integers(0, 10_000), st.booleans())
def test_overlapping_quorums_never_return_an_older_value(quorum, seed, repair):
    n, r, w = quorum
    assert r + w > n
    store = build_cluster(n, r, w, seed=seed, read_repair=repair)
    run_clients(store, rng=random.Random(seed), clients=["c1", "c2", "c3"], ops_per_client=15,
                keys=["x", "y"])
    store.network.run()
    history = store.history()
    reads = [op for op in history if op.kind == "read"]
    assert reads and all(op.ok for op in history)
    assert stale_reads(history) == []


@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(1, 4), st.integers(1, 2))
def test_checker_accepts_single_copy_register_histories(seed, clients, per_client, keys):
    history = atomic_register_history(seed, clients=clients, ops_per_client=per_client,
                                      keys=["x", "y"][:keys])
    assert check_linearizable(history)
    assert check_sequential(history)


@given(st.integers(0, 10_000), st.integers(2, 5))
def test_checker_rejects_a_read_of_an_overwritten_value(seed, writes):
    rng = random.Random(seed)
    t, history = 0.0, []
    for value in range(1, writes + 1):
        end = t + rng.uniform(0.1, 1)
        history.append(Op(f"c{rng.randint(1, 3)}", "write", "x", value, t, end))
        t = end + rng.uniform(0.01, 0.5)
    old = rng.choice([None] + list(range(1, writes)))  # anything but the last write
    history.append(Op("reader", "read", "x", old, t, t + 1))
    assert not check_linearizable(history)
    assert len(stale_reads(history)) == 1


@given(st.integers(2, 5), st.integers(0, 10_000), st.sampled_from(["lww", "siblings"]), st.data())
def test_heal_and_anti_entropy_converge(n, seed, policy, data):
    store = build_cluster(n, 1, 1, seed=seed, mode="ap", policy=policy)
    nodes = list(store.network.nodes)
    side = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=n - 1, unique=True))
    store.network.partition(side)
    run_clients(store, rng=random.Random(seed), clients=["c1", "c2"], ops_per_client=10,
                write_ratio=0.8, keys=["x", "y"])
    store.network.run()
    store.network.heal()
    store.anti_entropy()
    assert check_convergence(store.states())
    if policy == "siblings":
        assert not store.lost_writes
