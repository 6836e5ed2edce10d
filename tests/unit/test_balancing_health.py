"""Health checks, outlier ejection, the pool that obeys them, and the service registry."""

from __future__ import annotations

import pytest

from patterns.balancing import (
    EJECTION_TRANSITIONS,
    HEALTH_TRANSITIONS,
    HealthChecker,
    LeastConnections,
    NoBackendAvailable,
    OutlierDetector,
    Pool,
    RoundRobin,
    ServiceRegistry,
    WeightedRoundRobin,
)
from patterns.balancing.health import states
from patterns.clock import ManualClock


class Probe:
    def __init__(self) -> None:
        self.down: set[str] = set()
        self.calls: list[str] = []

    def __call__(self, name: str) -> bool:
        self.calls.append(name)
        if name == "boom":
            raise ConnectionError("refused")
        return name not in self.down


def test_fall_failed_probes_mark_unhealthy_and_rise_good_ones_bring_it_back() -> None:
    clock = ManualClock()
    probe = Probe()
    checker = HealthChecker(probe, interval=5, fall=3, rise=2, clock=clock)
    checker.add("a")
    probe.down.add("a")
    states_seen = []
    for _ in range(6):
        checker.run_due()
        states_seen.append(checker.state("a"))
        clock.advance(5)
    assert states_seen == ["healthy", "healthy", "unhealthy", "unhealthy", "unhealthy", "unhealthy"]
    probe.down.clear()
    seen = []
    for _ in range(3):
        seen.append(checker.run_due())
        clock.advance(5)
    assert seen == [[], ["a"], []] and checker.is_healthy("a")


def test_a_good_probe_resets_the_failure_streak() -> None:
    checker = HealthChecker(Probe(), fall=2, clock=ManualClock())
    checker.add("a")
    for ok in (False, True, False, True, False):
        assert checker.record("a", ok) is False
    assert checker.state("a") == "healthy"


def test_probes_run_only_when_due_and_a_raising_probe_is_a_failure() -> None:
    clock = ManualClock()
    probe = Probe()
    checker = HealthChecker(probe, interval=10, fall=1, clock=clock)
    checker.add("boom")
    assert checker.run_due() == ["boom"] and not checker.is_healthy("boom")
    clock.advance(9.9)
    checker.run_due()
    assert probe.calls == ["boom"]
    clock.advance(0.1)
    checker.run_due()
    assert probe.calls == ["boom", "boom"]


def test_start_unhealthy_needs_rise_good_probes() -> None:
    clock = ManualClock()
    checker = HealthChecker(Probe(), interval=1, rise=2, start_healthy=False, clock=clock)
    checker.add("a")
    checker.run_due()
    assert not checker.is_healthy("a")
    clock.advance(1)
    checker.run_due()
    assert checker.is_healthy("a")


def test_consecutive_errors_eject_for_growing_durations() -> None:
    clock = ManualClock()
    detector = OutlierDetector(consecutive_errors=3, base_ejection=10, max_ejection=25, clock=clock)
    for name in ("a", "b", "c"):
        detector.add(name)
    assert [detector.record("a", False) for _ in range(3)] == [False, False, True]
    assert detector.ejected() == ["a"] and detector.state("a") == "ejected"
    clock.advance(10)
    assert detector.state("a") == "active"
    for _ in range(3):
        detector.record("a", False)
    clock.advance(19.9)
    assert detector.is_ejected("a")  # the second ejection lasts 2 x 10 s
    clock.advance(0.1)
    assert not detector.is_ejected("a")
    for _ in range(3):
        detector.record("a", False)
    clock.advance(25)
    assert not detector.is_ejected("a")  # capped at max_ejection = 25 s, not 30
    assert detector.ejections("a") == 3
    assert [t for t, _ in detector.ejection_log] == [0, 10, 30]


def test_success_resets_the_error_count() -> None:
    detector = OutlierDetector(consecutive_errors=2, clock=ManualClock())
    detector.add("a")
    for ok in (False, True, False, True):
        assert detector.record("a", ok) is False


def test_max_ejected_caps_the_share_of_the_fleet_ejected() -> None:
    detector = OutlierDetector(consecutive_errors=1, max_ejected=0.5, clock=ManualClock())
    for name in "abcd":
        detector.add(name)
    for name in "abcd":
        detector.record(name, False)
    assert detector.ejected() == ["a", "b"]


def test_at_least_one_backend_may_always_be_ejected() -> None:
    detector = OutlierDetector(consecutive_errors=1, max_ejected=0.0, clock=ManualClock())
    detector.add("a")
    detector.add("b")
    detector.record("a", False)
    detector.record("b", False)
    assert detector.ejected() == ["a"]


def test_transition_tables_name_every_state() -> None:
    assert states(HEALTH_TRANSITIONS) == ["healthy", "unhealthy"]
    assert states(EJECTION_TRANSITIONS) == ["active", "ejected"]


def test_pool_skips_unhealthy_and_ejected_backends() -> None:
    clock = ManualClock()
    probe = Probe()
    checker = HealthChecker(probe, fall=1, clock=clock)
    detector = OutlierDetector(consecutive_errors=1, clock=clock)
    pool = Pool(["a", "b", "c"], RoundRobin(), health=checker, outlier=detector, clock=clock)
    probe.down.add("a")
    checker.run_due()
    pool.start("b")
    pool.finish("b", ok=False)
    assert pool.eligible() == ["c"]
    assert {pool.pick() for _ in range(5)} == {"c"}


def test_pool_with_nothing_eligible_raises_instead_of_guessing() -> None:
    clock = ManualClock()
    detector = OutlierDetector(consecutive_errors=1, max_ejected=1.0, clock=clock)
    pool = Pool(["a"], RoundRobin(), outlier=detector, clock=clock)
    with pytest.raises(ValueError), pool.request():
        raise ValueError("the call failed")
    with pytest.raises(NoBackendAvailable):
        pool.pick()


def test_request_counts_in_flight_and_reports_the_outcome() -> None:
    pool = Pool(["a", "b"], LeastConnections(), clock=ManualClock())
    with pool.request() as first:
        assert pool.in_flight()[first] == 1
        with pool.request() as second:
            assert second != first
    assert pool.in_flight() == {"a": 0, "b": 0}


def test_update_adds_and_removes_backends_and_keeps_in_flight_counts() -> None:
    pool = Pool({"a": 3, "b": 1}, WeightedRoundRobin(), clock=ManualClock())
    pool.start("a")
    pool.update({"a": 1, "c": 1})
    assert pool.names == ("a", "c") and pool.in_flight() == {"a": 1, "c": 0}
    pool.finish("b")  # a request to a removed backend finishing: ignored
    with pytest.raises(KeyError):
        pool.start("b")


def test_stale_load_reports_make_least_connections_herd() -> None:
    clock = ManualClock()
    live = Pool(["a", "b", "c"], LeastConnections(), clock=clock)
    stale = Pool(["a", "b", "c"], LeastConnections(), report_every=1.0, clock=clock)
    for pool in (live, stale):
        pool.start("b")
        pool.start("c")
        for _ in range(6):
            pool.send()
    assert sorted(live.in_flight().values()) == [2, 3, 3]
    # every pick read the same report, taken when "a" was idle: all six went to "a"
    assert stale.in_flight() == {"a": 6, "b": 1, "c": 1}
    clock.advance(1.0)
    assert stale.pick() in ("b", "c")  # a fresh report


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: HealthChecker(lambda n: True, interval=0), ValueError),
        (lambda: HealthChecker(lambda n: True, fall=0), ValueError),
        (lambda: HealthChecker("probe"), TypeError),  # type: ignore[arg-type]
        (lambda: OutlierDetector(consecutive_errors=0), ValueError),
        (lambda: OutlierDetector(base_ejection=10, max_ejection=5), ValueError),
        (lambda: OutlierDetector(max_ejected=1.5), ValueError),
        (lambda: Pool("abc", RoundRobin()), TypeError),
        (lambda: Pool(["a"], "round robin"), TypeError),  # type: ignore[arg-type]
        (lambda: Pool({"a": 0}, RoundRobin()), ValueError),
        (lambda: Pool(["a"], RoundRobin(), report_every=-1), ValueError),
        (lambda: ServiceRegistry(ttl=0), ValueError),
    ],
)
def test_bad_arguments(make, error) -> None:
    with pytest.raises(error):
        make()


def test_registry_forgets_instances_that_stop_heartbeating() -> None:
    clock = ManualClock()
    registry = ServiceRegistry(ttl=10, clock=clock)
    registry.register("orders", "o1", "10.0.0.1:8080")
    registry.register("orders", "o2")
    registry.register("users", "u1")
    clock.advance(6)
    assert registry.heartbeat("orders", "o1")
    clock.advance(6)
    assert registry.instances("orders") == ["o1"]
    assert not registry.heartbeat("orders", "o2")  # expired: it must register again
    assert registry.address("orders", "o1") == "10.0.0.1:8080"
    assert registry.deregister("orders", "o1") and not registry.deregister("orders", "o1")
    assert registry.instances("orders") == [] and registry.instances("users") == []


def test_registry_feeds_a_pool() -> None:
    clock = ManualClock()
    registry = ServiceRegistry(ttl=5, clock=clock)
    for name in ("o1", "o2", "o3"):
        registry.register("orders", name)
    pool = Pool(registry.instances("orders"), RoundRobin(), clock=clock)
    clock.advance(3)
    registry.heartbeat("orders", "o1")
    registry.heartbeat("orders", "o3")
    clock.advance(3)
    pool.update(registry.instances("orders"))
    assert pool.names == ("o1", "o3")


@pytest.mark.parametrize(
    "call",
    [
        lambda r, p, h, o: r.heartbeat("orders", 7),
        lambda r, p, h, o: r.instances(None),
        lambda r, p, h, o: r.deregister(1, "x"),
        lambda r, p, h, o: p.finish("a", ok="yes"),
        lambda r, p, h, o: h.record("a", 1),
        lambda r, p, h, o: o.record("a", None),
    ],
)
def test_bad_arguments_to_main_methods_are_type_errors(call) -> None:
    clock = ManualClock()
    checker = HealthChecker(Probe(), clock=clock)
    checker.add("a")
    detector = OutlierDetector(clock=clock)
    detector.add("a")
    pool = Pool(["a"], RoundRobin(), clock=clock)
    with pytest.raises(TypeError):
        call(ServiceRegistry(clock=clock), pool, checker, detector)


def test_the_checkers_make_exactly_the_moves_of_their_tables() -> None:
    clock = ManualClock()
    probe = Probe()
    checker = HealthChecker(probe, interval=1, fall=2, rise=2, clock=clock)
    checker.add("a")
    for ok in (True, False, True, False, False, False, True, True):  # every row, in some order
        checker.record("a", ok)
    assert set(checker.moves) == set(HEALTH_TRANSITIONS)

    detector = OutlierDetector(consecutive_errors=2, base_ejection=10, max_ejected=0.5, clock=clock)
    for name in ("a", "b"):
        detector.add(name)
    detector.record("a", True)
    detector.record("a", False)
    detector.record("a", False)  # ejected
    detector.record("a", False)  # a late response, ignored
    detector.record("b", False)
    detector.record("b", False)  # at the cap (1 of 2): stays active
    clock.advance(10)
    detector.ejected()  # time passes: "a" is back
    assert set(detector.moves) == set(EJECTION_TRANSITIONS)


def test_a_move_missing_from_the_table_raises() -> None:
    checker = HealthChecker(Probe(), fall=1, clock=ManualClock())
    checker.add("a")
    checker.transitions = tuple(t for t in HEALTH_TRANSITIONS if t.target != "unhealthy")
    with pytest.raises(RuntimeError, match="no transition"):
        checker.record("a", False)
    detector = OutlierDetector(consecutive_errors=1, clock=ManualClock())
    detector.add("a")
    detector.transitions = tuple(t for t in EJECTION_TRANSITIONS if t.target != "ejected")
    with pytest.raises(RuntimeError, match="no transition"):
        detector.record("a", False)
