"""The chapter 06 simulations: the flaky service, the AWS backoff study and the bulkhead server."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.errors import CircuitOpen
from patterns.resilience import Backoff, CircuitBreaker, WindowSpec
from patterns.resilience.simulation import (
    JITTER_KINDS,
    FlakyPaymentService,
    Outage,
    PaymentUnavailable,
    ServerConfig,
    ServiceUnavailable,
    amplified_calls,
    backoff_study,
    call_chain,
    drive,
    occ_contention,
    outcome_counts,
    payment_scenario,
    simulate_server,
)

# ---------------------------------------------------------------- flaky service and drive


def test_service_follows_its_outage_schedule(clock: ManualClock) -> None:
    service = FlakyPaymentService(
        clock, random.Random(1), base_failure_rate=0.0, outages=[Outage(10, 20, 1.0)]
    )
    assert service.charge(5) == "charged 5.00"
    clock.set(10)
    with pytest.raises(PaymentUnavailable, match="t=10.0s"):
        service.charge()
    clock.set(20)
    assert service.charge().startswith("charged")
    assert service.calls == [(0.0, True), (10.0, False), (20.0, True)]
    assert service.failure_rate_at(15) == 1.0 and service.failure_rate_at(25) == 0.0


def test_service_failure_rate_is_respected_statistically(clock: ManualClock) -> None:
    service = FlakyPaymentService(clock, random.Random(7), base_failure_rate=0.3)
    failures = 0
    for _ in range(4000):
        try:
            service.charge()
        except PaymentUnavailable:
            failures += 1
    assert 0.27 < failures / 4000 < 0.33


@pytest.mark.parametrize("rate", [1.5, -0.1, float("nan")])
def test_service_rejects_bad_rates(clock: ManualClock, rate: float) -> None:
    with pytest.raises(ValueError, match=r"base_failure_rate must be a number in \[0, 1\]"):
        FlakyPaymentService(clock, random.Random(0), base_failure_rate=rate)


def test_outage_validates_its_interval() -> None:
    with pytest.raises(ValueError, match="start < end"):
        Outage(10, 5)
    with pytest.raises(ValueError, match="failure_rate"):
        Outage(0, 5, 2.0)


def test_drive_classifies_outcomes_on_a_fixed_grid(clock: ManualClock) -> None:
    script = iter([None, ValueError("boom"), CircuitOpen("open"), None])

    def call() -> None:
        item = next(script)
        if isinstance(item, Exception):
            raise item

    samples = drive(call, lambda: "closed", clock, duration=2.0, interval=0.5)
    assert [s.t for s in samples] == [0.0, 0.5, 1.0, 1.5]
    assert [s.outcome for s in samples] == ["ok", "failed", "rejected", "ok"]
    assert outcome_counts(samples) == {"ok": 2, "failed": 1, "rejected": 1}
    assert outcome_counts(samples, 0.5, 1.5) == {"failed": 1, "rejected": 1}


def test_drive_does_not_go_back_in_time_when_a_call_sleeps(clock: ManualClock) -> None:
    samples = drive(lambda: clock.sleep(0.8), lambda: "closed", clock, duration=2.0, interval=0.5)
    times = [s.t for s in samples]
    assert times == sorted(times) and len(times) == 4


def test_drive_rejects_bad_arguments(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="interval"):
        drive(lambda: None, lambda: "closed", clock, duration=1.0, interval=0.0)


# ---------------------------------------------------------------- OCC contention


def test_a_lonely_client_writes_once() -> None:
    writes, finished = occ_contention(1, Backoff.exponential(10, 2000), random.Random(0), net_sd=0.0)
    assert writes == 1
    assert finished == pytest.approx(40.0)  # read there and back, write there and back


@given(clients=st.integers(1, 30), kind=st.sampled_from(JITTER_KINDS), seed=st.integers(0, 10**6))
def test_every_client_eventually_wins_exactly_once(clients: int, kind: str, seed: int) -> None:
    backoff = Backoff.exponential(10, 2000, jitter=kind)
    writes, finished = occ_contention(clients, backoff, random.Random(seed))
    assert writes >= clients  # one winning write per client, plus the conflicts
    assert finished > 0


def test_contention_is_deterministic_for_a_seed() -> None:
    backoff = Backoff.exponential(10, 2000, jitter="decorrelated")
    run = [occ_contention(20, backoff, random.Random(9)) for _ in range(2)]
    assert run[0] == run[1]


def test_the_study_reproduces_the_published_ordering() -> None:
    results = {r.kind: r for r in backoff_study([50], trials=12, seed=2015)}
    calls = {k: r.calls for k, r in results.items()}
    time = {k: r.completion_ms for k, r in results.items()}
    assert max(calls, key=calls.get) == "none" and max(time, key=time.get) == "none"
    assert min(calls, key=calls.get) == "full"
    assert min(time, key=time.get) == "decorrelated"


# ---------------------------------------------------------------- the bulkhead server


@pytest.fixture(scope="module")
def runs() -> dict:
    short = {"duration": 30.0, "slow_from": 10.0}
    return {
        "none": simulate_server(ServerConfig(**short), seed=1),
        "bulkhead": simulate_server(ServerConfig(bulkhead=20, **short), seed=1),
    }


def test_without_a_bulkhead_the_slow_dependency_takes_every_thread(runs: dict) -> None:
    run = runs["none"]
    assert max(run.threads_in_payment) == 200
    assert run.served_share("catalog", 0, 10) == 1.0
    assert run.served_share("catalog", 15, 30) < 0.7
    assert run.outcomes("catalog", 15, 30)["abandoned"] > 0


def test_with_a_bulkhead_payment_holds_at_most_its_slots(runs: dict) -> None:
    run = runs["bulkhead"]
    assert max(run.threads_in_payment) == 20
    assert max(run.threads_busy) < 200
    assert run.served_share("catalog", 15, 30) == 1.0
    assert run.outcomes("pay", 15, 30)["rejected"] > 0


def test_the_server_simulation_is_deterministic() -> None:
    config = ServerConfig(duration=5.0, slow_from=2.0, bulkhead=5)
    first, second = simulate_server(config, seed=3), simulate_server(config, seed=3)
    assert first.requests == second.requests and first.threads_busy == second.threads_busy


def test_the_server_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="bulkhead"):
        simulate_server(ServerConfig(bulkhead=0))


def test_a_loser_waits_for_its_backoff_before_trying_again() -> None:
    # Two clients read version 0 at t=10 and write at t=30: one wins, the other pays a 1 s pause,
    # then a round trip to read (t=1050), a write (t=1070) and the reply (t=1080).
    writes, finished = occ_contention(2, Backoff.fixed(1000.0), random.Random(0), net_sd=0.0)
    assert (writes, finished) == (3, pytest.approx(1080.0))


# ---------------------------------------------------------------- call chains and scenarios


@given(attempts=st.integers(1, 4), layers=st.integers(1, 4))
def test_retries_multiply_across_layers(attempts: int, layers: int) -> None:
    assert amplified_calls(attempts, layers) == attempts**layers


def test_each_layer_of_a_chain_answers_503(clock: ManualClock) -> None:
    seen: list[str] = []

    def protect(i, below):
        def call():
            seen.append(f"layer {i}")
            return below()

        return call

    def bottom():
        raise PaymentUnavailable("down")

    top = call_chain(bottom, 3, protect)
    with pytest.raises(ServiceUnavailable, match="service 3: 503"):
        top()
    assert seen == ["layer 3", "layer 2", "layer 1"]
    with pytest.raises(ValueError, match=r"layers must be an integer in \[1, 50\]"):
        call_chain(bottom, 0, protect)


def test_a_breaker_shields_the_service_during_the_outage() -> None:
    def make(clock):
        return CircuitBreaker(
            failure_rate_threshold=0.5,
            window=WindowSpec.count(20),
            minimum_calls=10,
            wait_in_open=15.0,
            clock=clock,
        )

    plain, plain_samples, no_changes = payment_scenario(None)
    service, samples, changes = payment_scenario(make)
    assert no_changes == [] and len(plain.calls) == len(plain_samples) == 960
    in_outage = [t for t, _ in service.calls if 60 <= t < 150]
    assert len(in_outage) < 0.2 * sum(60 <= t < 150 for t, _ in plain.calls)
    assert changes[0].new == "open" and 60 <= changes[0].at < 65
    assert outcome_counts(samples, 60, 150)["rejected"] > 250


def test_timeout_study_bounds_every_wait_and_counts_false_timeouts() -> None:
    from patterns.resilience.simulation import timeout_study

    tight = timeout_study(0.05, attempts=3, requests=2_000)
    assert all(w <= 3 * 0.05 + 1e-12 for w in tight.waits)
    assert 0.4 < tight.false_timeout_rate < 0.6  # the median healthy call is 50 ms
    assert tight.calls <= 3 * tight.requests and tight.succeeded <= tight.requests
    patient = timeout_study(60.0, attempts=1, requests=2_000)
    assert patient.false_timeout_rate == 0 and patient.success_rate == 1 and patient.worst_wait == 10.0
    assert timeout_study(0.2, requests=500) == timeout_study(0.2, requests=500)  # seeded
