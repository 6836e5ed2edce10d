"""Session guarantees and failover accounting under random workloads (Hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.replication import ReplicatedStore, Session

KEYS = ["a", "b", "c"]
# Lags and clock steps from small menus of distinct values: replicas that differ in lag, and steps
# that land between their catch-up times, are what expose routing mistakes (uniform floats rarely do).
LAG_CHOICES = [0.0, 0.1, 0.3, 1.0, 2.5]
ADVANCE_TENTHS = st.sampled_from([0, 1, 2, 5, 10, 30])
lags = st.lists(st.sampled_from(LAG_CHOICES), min_size=1, max_size=4)
several_lags = st.lists(st.sampled_from(LAG_CHOICES), min_size=2, max_size=4, unique=True)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.sampled_from(KEYS), st.integers(0, 99)),
        st.tuples(st.just("delete"), st.sampled_from(KEYS), st.just(0)),
        st.tuples(st.just("read"), st.sampled_from(KEYS), st.just(0)),
        st.tuples(st.just("advance"), st.just(""), ADVANCE_TENTHS),
    ),
    max_size=60,
)


def build(lag_list: list[float], policy: str = "round_robin") -> tuple[ReplicatedStore, ManualClock]:
    clock = ManualClock()
    replicas = {f"r{i}": lag for i, lag in enumerate(lag_list)}
    return ReplicatedStore(replicas, clock=clock, read_policy=policy), clock


OTHER_KEYS = ["x", "y"]
two_writers = st.lists(  # reads first: Hypothesis favours early branches of one_of
    st.one_of(
        st.tuples(st.just("read"), st.sampled_from(KEYS + OTHER_KEYS), st.just(0)),
        st.tuples(st.just("other"), st.sampled_from(OTHER_KEYS), st.integers(0, 99)),
        st.tuples(st.just("write"), st.sampled_from(KEYS), st.integers(0, 99)),
        st.tuples(st.just("advance"), st.just(""), ADVANCE_TENTHS),
    ),
    min_size=4,
    max_size=60,
)


@given(lag_list=several_lags, script=two_writers, policy=st.sampled_from(["round_robin", "random"]),
       own_writes=st.booleans())
def test_session_reads_see_own_writes_and_never_go_back(lag_list, script, policy, own_writes):
    """A session client never reads an older state than it has seen, and always sees its own writes.

    Another client writes other keys without a session, so positions move that this client did
    not cause: monotonic reads must hold on its own, with or without read-your-writes.
    """
    store, clock = build(lag_list, policy)
    session = Session(read_your_writes=own_writes)
    mine: dict[str, int] = {}  # key -> value this client last wrote
    seen_lsn = 0
    for op, key, n in script:
        if op == "write":
            store.write(key, n, session=session)
            mine[key] = n
        elif op == "other":
            store.write(key, n)
        elif op == "advance":
            clock.advance(n / 10)
        else:
            result = store.read(key, session=session)
            assert result.node_lsn >= seen_lsn  # monotonic reads
            seen_lsn = result.node_lsn
            if own_writes and key in mine:  # nobody else writes these keys: exactly its last write
                assert result.value == mine[key]
                assert not result.stale


@given(lag_list=lags, script=ops)
def test_stale_flag_matches_a_model_of_the_replica(lag_list, script):
    store, clock = build(lag_list)
    history: list[tuple[float, str, int | None]] = []  # (commit time, key, value); None: a delete
    for op, key, n in script:
        if op == "write":
            history.append((clock.now(), key, n))
            store.write(key, n)
        elif op == "delete":
            history.append((clock.now(), key, None))
            store.delete(key)
        elif op == "advance":
            clock.advance(n / 10)
        else:
            result = store.read(key)
            lag = store.replicas[result.node].lag
            # the node has applied the longest prefix of writes whose commit + lag <= now
            applied = 0
            while applied < len(history) and history[applied][0] + lag <= clock.now():
                applied += 1
            visible = [v for _, k, v in history[:applied] if k == key]
            latest = [v for _, k, v in history if k == key]
            assert result.value == (visible[-1] if visible else None)
            assert result.stale == (len(visible) < len(latest))
            assert result.node_lsn == applied


@given(lag_list=lags, script=ops)
def test_failover_loses_exactly_the_writes_the_promoted_replica_lacked(lag_list, script):
    store, clock = build(lag_list)
    for op, key, n in script:
        if op == "write":
            store.write(key, n)
        elif op == "delete":
            store.delete(key)
        elif op == "advance":
            clock.advance(n / 10)
    full_log = store.log
    store.sync()
    best = max(r.applied_lsn for r in store.replicas.values())
    report = store.failover()
    assert report.lost == full_log[best:]
    assert store.lsn == best
    # the new primary's data is exactly the replay of the surviving prefix
    expected: dict[str, int] = {}
    for entry in full_log[:best]:
        expected[entry.key] = entry.value
    for key in KEYS:
        assert store.read(key, min_lsn=store.lsn).value == expected.get(key)
