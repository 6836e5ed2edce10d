"""The chapter 06 checkers accept right answers and explain typical wrong ones."""

from __future__ import annotations

import random

import pytest

from patterns.check.resilience import (
    check_amplification,
    check_breaker_settings,
    check_full_jitter,
    check_payment_client,
)
from patterns.resilience import CircuitBreaker, WindowSpec, pipeline


def verdict(capsys: pytest.CaptureFixture[str], ok: bool) -> str:
    out = capsys.readouterr().out
    assert out.startswith("✓" if ok else "✗"), out
    return out


ALL_CHECKERS = [check_amplification, check_full_jitter, check_breaker_settings, check_payment_client]


@pytest.mark.parametrize("checker", ALL_CHECKERS)
def test_placeholders_are_not_answers(checker, capsys: pytest.CaptureFixture[str]) -> None:
    assert checker(...) is False
    assert "not answered yet" in verdict(capsys, False)
    assert checker(42) is False
    assert "expected a function" in verdict(capsys, False)


# ---------------------------------------------------------------- exercise 1


def test_amplification_accepts_the_power_law(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_amplification(lambda attempts, layers: attempts**layers) is True
    verdict(capsys, True)


def test_amplification_explains_adding_instead_of_multiplying(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_amplification(lambda attempts, layers: attempts * layers) is False
    assert "multiply" in verdict(capsys, False)


def test_amplification_explains_off_by_one_attempts(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_amplification(lambda attempts, layers: (attempts + 1) ** layers) is False
    assert "counts the first call" in verdict(capsys, False)


def test_amplification_reports_a_crashing_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_amplification(lambda attempts, layers: 1 / 0) is False
    assert "ZeroDivisionError" in verdict(capsys, False)


# ---------------------------------------------------------------- exercise 2


def test_full_jitter_accepts_uniform_below_the_capped_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_full_jitter(lambda n, base, cap, rng: rng.uniform(0, min(cap, base * 2**n))) is True
    verdict(capsys, True)


def test_full_jitter_rejects_no_jitter(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_full_jitter(lambda n, base, cap, rng: min(cap, base * 2**n)) is False
    assert "no jitter" in verdict(capsys, False)


def test_full_jitter_rejects_capping_after_the_draw(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_full_jitter(lambda n, base, cap, rng: min(cap, rng.uniform(0, base * 2**n))) is False
    assert "cap after drawing" in verdict(capsys, False)


def test_full_jitter_rejects_pauses_above_the_ceiling(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_full_jitter(lambda n, base, cap, rng: rng.uniform(0, 2 * min(cap, base * 2**n))) is False
    assert "must lie in" in verdict(capsys, False)


def test_full_jitter_requires_the_given_rng(capsys: pytest.CaptureFixture[str]) -> None:
    shared = random.Random()
    assert check_full_jitter(lambda n, base, cap, rng: shared.uniform(0, min(cap, base * 2**n))) is False
    assert "use the rng" in verdict(capsys, False)


def test_full_jitter_rejects_non_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_full_jitter(lambda n, base, cap, rng: "soon") is False
    assert "number of seconds" in verdict(capsys, False)


# ---------------------------------------------------------------- exercise 3


def breaker(window: int, minimum: int, threshold: float, wait: float):
    def make(clock):
        return CircuitBreaker(
            failure_rate_threshold=threshold,
            window=WindowSpec.count(window),
            minimum_calls=minimum,
            wait_in_open=wait,
            clock=clock,
        )

    return make


def test_breaker_settings_accept_a_balanced_breaker(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_breaker_settings(breaker(20, 10, 0.5, 10.0)) is True
    verdict(capsys, True)


def test_breaker_settings_reject_a_jumpy_breaker(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_breaker_settings(breaker(4, 2, 0.5, 10.0)) is False
    assert "while the service was healthy" in verdict(capsys, False)


def test_breaker_settings_reject_a_slow_breaker(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_breaker_settings(breaker(100, 100, 0.9, 10.0)) is False
    assert "should open within 5 s" in verdict(capsys, False)


def test_breaker_settings_reject_a_long_wait(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_breaker_settings(breaker(20, 10, 0.5, 60.0)) is False
    assert "Shorten wait_in_open" in verdict(capsys, False)


def test_breaker_settings_need_a_circuit_breaker(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_breaker_settings(lambda clock: "breaker") is False
    assert "must return a CircuitBreaker" in verdict(capsys, False)


# ---------------------------------------------------------------- exercise 4


def test_payment_client_accepts_the_usual_order(capsys: pytest.CaptureFixture[str]) -> None:
    def build(charge, breaker, retry, fallback):
        return pipeline(fallback, retry, breaker)(charge)

    assert check_payment_client(build) is True
    verdict(capsys, True)


def test_payment_client_rejects_the_breaker_outside_the_retry(capsys: pytest.CaptureFixture[str]) -> None:
    def build(charge, breaker, retry, fallback):
        return pipeline(fallback, breaker, retry)(charge)

    assert check_payment_client(build) is False
    assert "retry outside the breaker" in verdict(capsys, False)


def test_payment_client_rejects_a_missing_fallback(capsys: pytest.CaptureFixture[str]) -> None:
    def build(charge, breaker, retry, fallback):
        return pipeline(retry, breaker)(charge)

    assert check_payment_client(build) is False
    assert "Put the fallback outermost" in verdict(capsys, False)


def test_payment_client_rejects_a_fallback_inside_the_retry(capsys: pytest.CaptureFixture[str]) -> None:
    def build(charge, breaker, retry, fallback):
        return pipeline(retry, fallback, breaker)(charge)

    assert check_payment_client(build) is False
    assert "retried, then succeed" in verdict(capsys, False)


def test_payment_client_rejects_no_retry(capsys: pytest.CaptureFixture[str]) -> None:
    def build(charge, breaker, retry, fallback):
        return pipeline(fallback, breaker)(charge)

    assert check_payment_client(build) is False
    assert "transient failure should be retried" in verdict(capsys, False)


# ---------------------------------------------------------------- exercise 5 (timeouts)


def test_timeout_budget_accepts_a_value_above_the_healthy_tail(capsys: pytest.CaptureFixture[str]) -> None:
    from patterns.check.resilience import check_timeout_budget

    for good in (0.2, 0.3, 1 / 3):
        assert check_timeout_budget(good) is True
        verdict(capsys, True)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (0.05, "above the healthy tail"),
        (0.13, "above the healthy tail"),
        (0.5, "the caller pays for all of them"),
        (15, "the caller pays for all of them"),
        (-1, "number of seconds"),
        (True, "number of seconds"),
        ("0.2", "expected a int or float"),
        (..., "not answered yet"),
    ],
)
def test_timeout_budget_explains_wrong_answers(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    from patterns.check.resilience import check_timeout_budget

    assert check_timeout_budget(answer) is False
    assert hint in verdict(capsys, False)


# ---------------------------------------------------------------- exercise 6 (bulkheads)


@pytest.mark.parametrize("answer", [(10, 0.1), (20, 0.0), (8, 0.1)])
def test_bulkhead_size_accepts_a_small_bulkhead_with_a_short_wait(answer, capsys) -> None:
    from patterns.check.resilience import check_bulkhead_size

    assert check_bulkhead_size(answer) is True
    verdict(capsys, True)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ((20, 0.5), "waiting for a slot holds a thread"),  # the lab's own configuration: 48 threads
        ((2, 0.0), "refused while the payment service was healthy"),
        ((50, 0.0), "tied up by /pay"),
        ((0, 0.1), "bulkhead must be an integer"),
        ((10, -1.0), "bulkhead_wait"),
        ((10,), "a pair"),
        ([10, 0.1], "expected a tuple"),
        (..., "not answered yet"),
    ],
)
def test_bulkhead_size_explains_wrong_answers(answer, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    from patterns.check.resilience import check_bulkhead_size

    assert check_bulkhead_size(answer) is False
    assert hint in verdict(capsys, False)
