"""Checkers for the chapter 06 lab (resilience).

Each ``check_*`` runs the learner's answer against the package or a simulation, prints a tick or
what is wrong with a hint, and returns True/False. ``...`` (the student edition's placeholder)
means "not answered yet".
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from patterns.check import call_safely, not_ready, report
from patterns.clock import ManualClock
from patterns.resilience import Backoff, CircuitBreaker, Fallback, Retry, WindowSpec
from patterns.resilience.simulation import (
    FlakyPaymentService,
    Outage,
    ServerConfig,
    amplified_calls,
    drive,
    simulate_server,
    timeout_study,
)

__all__ = [
    "check_amplification",
    "check_full_jitter",
    "check_breaker_settings",
    "check_payment_client",
    "payment_policies",
    "check_timeout_budget",
    "check_bulkhead_size",
    "TIMEOUT_ATTEMPTS",
    "TIMEOUT_TOTAL",
    "FALSE_TIMEOUTS",
    "BULKHEAD_THREADS",
]

# Exercise 5: a dependency answering in ~50 ms that hangs 2% of the time; 3 attempts per request.
TIMEOUT_ATTEMPTS = 3
TIMEOUT_TOTAL = 1.0  # seconds a caller may wait in all, even if every attempt times out
FALSE_TIMEOUTS = 0.001  # share of healthy calls the timeout may cut off
# Exercise 6: the story's promise, at most 20 server threads tied up by /pay.
BULKHEAD_THREADS = 20


def check_amplification(calls_at_bottom: Any) -> bool:
    """Exercise 1: ``calls_at_bottom(attempts, layers)`` predicts the simulated count."""
    title = "Exercise 1 (retry amplification)"
    if not_ready(title, calls_at_bottom, expect=callable):
        return False
    problems = []
    for attempts, layers in [(3, 5), (2, 3), (4, 2), (1, 6), (3, 1)]:
        got, error = call_safely(calls_at_bottom, attempts, layers)
        if error:
            return report(title, [error])
        expected = amplified_calls(attempts, layers)
        if got != expected:
            problems.append(f"{attempts} attempts x {layers} layers: you said {got!r}, the simulation made {expected}.")
            if got == attempts * layers:
                problems.append("hint: retries multiply from layer to layer; they do not add up.")
            elif got == (attempts - 1) ** layers or got == (attempts + 1) ** layers:
                problems.append("hint: max_attempts counts the first call: 3 attempts = 3 calls in all.")
            break
    return report(title, problems, "Each layer turns one failure below into `attempts` calls.")


def check_full_jitter(full_jitter_delay: Any) -> bool:
    """Exercise 2: ``full_jitter_delay(n, base, cap, rng)`` draws the n-th full-jitter pause."""
    title = "Exercise 2 (full jitter)"
    if not_ready(title, full_jitter_delay, expect=callable):
        return False
    base, cap = 0.1, 5.0
    rng = random.Random(6)
    problems = []
    for n in range(12):
        ceiling = min(cap, base * 2**n)
        draws = []
        for _ in range(300):
            got, error = call_safely(full_jitter_delay, n, base, cap, rng)
            if error:
                return report(title, [error])
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return report(title, [f"return a number of seconds, got {got!r}."])
            draws.append(float(got))
        if min(draws) < 0 or max(draws) > ceiling + 1e-12:
            problems.append(
                f"retry n={n}: pauses must lie in [0, min(cap, base * 2**n)] = [0, {ceiling:g}], "
                f"got values from {min(draws):g} to {max(draws):g}."
            )
            break
        if max(draws) - min(draws) < 0.5 * ceiling:
            problems.append(
                f"retry n={n}: every pause was about {draws[0]:g} s: that is no jitter; clients that "
                "failed together retry together. Draw uniformly between 0 and the ceiling."
            )
            break
        mean = sum(draws) / len(draws)
        if not 0.35 * ceiling <= mean <= 0.65 * ceiling:
            problems.append(
                f"retry n={n}: the mean pause was {mean:.3g} s; full jitter averages half the ceiling "
                f"({ceiling / 2:g} s). Did you cap after drawing (which piles pauses onto the cap)?"
            )
            break
    if not problems:
        a = [full_jitter_delay(3, base, cap, random.Random(1)) for _ in range(3)]
        b = [full_jitter_delay(3, base, cap, random.Random(1)) for _ in range(3)]
        if a != b:
            problems.append("use the rng you are given (not the random module) so runs are reproducible.")
    return report(title, problems, "Pauses are spread over [0, ceiling], even once the ceiling is the cap.")


def check_breaker_settings(make_breaker: Any) -> bool:
    """Exercise 3: ``make_breaker(clock)`` ignores 10% background noise but trips on an outage."""
    title = "Exercise 3 (tune the breaker)"
    if not_ready(title, make_breaker, expect=callable):
        return False
    outage = Outage(300, 400, 1.0)
    clock = ManualClock()
    breaker, error = call_safely(make_breaker, clock)
    if error:
        return report(title, [error])
    if not isinstance(breaker, CircuitBreaker):
        return report(title, [f"make_breaker must return a CircuitBreaker, got {type(breaker).__name__}."])
    changes: list[Any] = []
    breaker.add_listener(changes.append)
    service = FlakyPaymentService(clock, random.Random(2024), base_failure_rate=0.10, outages=[outage])
    drive(lambda: breaker.call(service.charge), lambda: breaker.state, clock, duration=500, interval=0.25)
    problems = []
    early = [c for c in changes if c.new == "open" and c.at < outage.start]
    if early:
        problems.append(
            f"it opened at t={early[0].at:g} s while the service was healthy (10% errors): "
            f"{early[0].reason}. Judge over more calls (window, minimum_calls) or raise the threshold."
        )
    opened = next((c.at for c in changes if c.new == "open" and c.at >= outage.start), None)
    if opened is None or opened > outage.start + 5:
        when = "never" if opened is None else f"only at t={opened:g} s"
        problems.append(
            f"the outage started at t={outage.start:g} s and the breaker opened {when}; it should open "
            "within 5 s (20 calls). Use a smaller window or a lower threshold."
        )
    closed = next((c.at for c in changes if c.new == "closed" and c.at >= outage.end), None)
    if closed is None or closed > outage.end + 20:
        when = "did not close" if closed is None else f"closed only at t={closed:g} s"
        problems.append(
            f"the service recovered at t={outage.end:g} s and the breaker {when}; it should close within "
            "20 s. Shorten wait_in_open."
        )
    return report(title, problems, "Quiet on noise, quick on an outage, quick to recover.")


def payment_policies(clock: ManualClock) -> tuple[CircuitBreaker, Retry, Fallback]:
    """The three policies of exercise 4, configured as the lab describes them."""
    breaker = CircuitBreaker(
        failure_rate_threshold=0.5, window=WindowSpec.count(10), minimum_calls=10, wait_in_open=60.0,
        clock=clock,
    )
    retry = Retry(max_attempts=3, backoff=Backoff.fixed(0.1), retry_on=ConnectionError, clock=clock,
                  rng=random.Random(4))
    return breaker, retry, Fallback(lambda error, *args: "deferred")


def check_payment_client(build_client: Any) -> bool:
    """Exercise 4: ``build_client(charge, breaker, retry, fallback)`` orders the three policies."""
    title = "Exercise 4 (compose the payment client)"
    if not_ready(title, build_client, expect=callable):
        return False
    problems: list[str] = []
    blips: Iterator[Exception | str] = iter([ConnectionError("reset"), "ok-1"])

    def blip(amount: float) -> str:
        item = next(blips, "ok-2")
        if isinstance(item, Exception):
            raise item
        return item

    client, error = call_safely(build_client, blip, *payment_policies(ManualClock()))
    if error or not callable(client):
        return report(title, [error or f"build_client must return a callable, got {client!r}."])
    got, error = call_safely(client, 10.0)
    if error or got != "ok-1":
        problems.append(
            f"one transient failure should be retried, then succeed with 'ok-1'; got {error or repr(got)}. "
            "Is the retry inside the fallback, so that it sees the error?"
        )
    hits: list[int] = []

    def dead(amount: float) -> str:
        hits.append(1)
        raise ConnectionError("refused")

    client, error = call_safely(build_client, dead, *payment_policies(ManualClock()))
    if error or not callable(client):
        return report(title, problems + [error or f"build_client must return a callable, got {client!r}."])
    for _ in range(20):
        answer, error = call_safely(client, 10.0)
        if error or answer != "deferred":
            problems.append(
                "every request to a dead service should get the fallback's 'deferred', got "
                f"{error or repr(answer)}. Put the fallback outermost."
            )
            break
    if len(hits) > 10:
        problems.append(
            f"the dead service received {len(hits)} calls for 20 requests, the breaker should stop it at 10. "
            "With the breaker outside the retry, each admitted request tries 3 times: put the retry "
            "outside the breaker so the breaker counts every attempt."
        )
    return report(title, problems, "pipeline(fallback, retry, breaker): the usual order, for good reasons.")


def _number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def check_timeout_budget(timeout: Any) -> bool:
    """Exercise 5: a per-attempt timeout above the healthy tail, below the caller's total budget."""
    title = "Exercise 5 (choose a timeout)"
    if not_ready(title, timeout, expect=(int, float)):
        return False
    if not _number(timeout) or not 0 < float(timeout) <= 3600:
        return report(title, [f"answer_timeout must be a number of seconds in (0, 3600], got {timeout!r}."])
    seconds = float(timeout)
    study = timeout_study(seconds, TIMEOUT_ATTEMPTS)
    healthy_p999 = timeout_study(3600.0, 1, hang_probability=0.0).wait_percentile(99.9)
    problems = []
    if study.false_timeout_rate > FALSE_TIMEOUTS:
        problems.append(
            f"{study.false_timeout_rate:.2%} of healthy calls were cut off (at most {FALSE_TIMEOUTS:.1%}): "
            f"a timeout must sit above the healthy tail; here 99.9% of healthy calls finish within "
            f"{healthy_p999:.3f} s."
        )
    worst = TIMEOUT_ATTEMPTS * seconds
    if worst > TIMEOUT_TOTAL:
        problems.append(
            f"if all {TIMEOUT_ATTEMPTS} attempts time out the caller waits {TIMEOUT_ATTEMPTS} x {seconds:g} s = "
            f"{worst:g} s, more than {TIMEOUT_TOTAL:g} s: the budget is per attempt, the caller pays for all of them."
        )
    return report(
        title,
        problems,
        f"{study.false_timeout_rate:.2%} false timeouts, {study.success_rate:.2%} of requests answered, "
        f"at most {worst:g} s of waiting.",
    )


def check_bulkhead_size(answer: Any) -> bool:
    """Exercise 6: ``(slots, max_wait)`` for the payment bulkhead of the lab's server."""
    title = "Exercise 6 (size the bulkhead)"
    if not_ready(title, answer, expect=tuple):
        return False
    assert isinstance(answer, tuple)
    if len(answer) != 2:
        return report(title, [f"answer_bulkhead must be a pair (slots, max_wait), got {answer!r}."])
    slots, max_wait = answer
    try:
        config = ServerConfig(bulkhead=slots, bulkhead_wait=max_wait)
    except (TypeError, ValueError) as error:
        return report(title, [f"{error} (slots: an integer >= 1, max_wait: seconds >= 0)."])
    run = simulate_server(config)
    healthy = run.outcomes("pay", 0.0, config.slow_from)
    tied = max(a + b for a, b in zip(run.threads_in_payment, run.threads_waiting_bulkhead, strict=True))
    catalog = run.served_share("catalog", config.slow_from + 5, config.duration)
    problems = []
    if healthy["rejected"]:
        problems.append(
            f"{healthy['rejected']} of {sum(healthy.values())} payments were refused while the payment service "
            f"was healthy (t < {config.slow_from:g} s). Little's law: 40/s x 0.05 s = 2 calls in flight on "
            "average, and random bursts need several times that (or a short max_wait to ride them out)."
        )
    if tied > BULKHEAD_THREADS:
        problems.append(
            f"up to {tied} server threads were tied up by /pay (the limit is {BULKHEAD_THREADS}). A caller "
            f"waiting for a slot holds a thread too: about slots + 40/s x max_wait of them once the "
            "dependency hangs."
        )
    if catalog < 0.99:
        problems.append(f"only {catalog:.0%} of /catalog requests were served after the slowdown.")
    return report(
        title,
        problems,
        f"no payment refused while healthy, at most {tied} threads tied up, /catalog served {catalog:.0%}.",
    )
