import random

import pytest

from patterns.clock import ManualClock, SystemClock
from patterns.consistency import Network


def make(n=3, seed=1):
    return Network(n, clock=ManualClock(), rng=random.Random(seed), delay=(0.01, 0.02))


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="nodes"):
        Network(0, clock=ManualClock())
    with pytest.raises(ValueError, match="nodes must be distinct"):
        Network(["a", "a"], clock=ManualClock())
    with pytest.raises(TypeError, match="clock"):
        Network(3, clock=SystemClock())
    with pytest.raises(ValueError, match="delay"):
        Network(3, clock=ManualClock(), delay=(0.2, 0.1))
    net = make()
    with pytest.raises(ValueError, match="groups: unknown node 'zz'"):
        net.partition(["n1", "zz"])
    with pytest.raises(ValueError, match="two groups"):
        net.partition(["n1"], ["n1", "n2"])
    with pytest.raises(TypeError, match="groups"):
        net.partition("n1")


def test_messages_arrive_after_a_delay_in_range_and_in_time_order():
    net = make()
    arrivals = []
    for dst in ("n2", "n3", "n1"):
        assert net.send("n1", dst, lambda dst=dst: arrivals.append((dst, net.clock.now())))
    net.run()
    times = dict(arrivals)
    assert times["n1"] == 0.0
    assert 0.01 <= times["n2"] <= 0.02 and 0.01 <= times["n3"] <= 0.02
    assert [t for _, t in arrivals] == sorted(t for _, t in arrivals)
    assert net.stats.delivered == 3 and net.stats.dropped == 0


def test_partition_drops_at_send_and_in_flight_and_heal_restores():
    net = make()
    got = []
    net.partition(["n1"])
    assert net.groups() == [["n1"], ["n2", "n3"]]
    assert not net.send("n1", "n2", lambda: got.append("cut"))
    assert net.reachable_from("n2") == ["n2", "n3"]
    net.heal()
    assert net.send("n1", "n2", lambda: got.append("in flight"))
    net.partition(["n2"])  # the cut starts while the message travels
    net.run()
    assert got == [] and net.stats.dropped == 2
    net.heal()
    net.send("n1", "n2", lambda: got.append("healed"))
    net.run()
    assert got == ["healed"] and not net.partitioned


def test_same_seed_same_delays():
    a, b = make(seed=5), make(seed=5)
    assert [a.sample_delay("n1", "n2") for _ in range(5)] == [b.sample_delay("n1", "n2") for _ in range(5)]


def test_run_until_moves_the_clock_and_leaves_later_events():
    net = make()
    fired = []
    net.schedule(0.5, lambda: fired.append(0.5))
    net.schedule(2.0, lambda: fired.append(2.0))
    net.run_until(1.0)
    assert fired == [0.5] and net.clock.now() == 1.0 and net.pending == 1
    with pytest.raises(ValueError, match="when"):
        net.schedule(0.1, lambda: None)
