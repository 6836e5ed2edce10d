"""Checkers for the chapter 06 lab (resilience).

Each ``check_*`` runs the learner's answer against the package or a simulation, prints a tick or
what is wrong with a hint, and returns True/False. ``...`` (the student edition's placeholder)
means "not answered yet".
"""

from __future__ import annotations

import random
from typing import Any

from patterns.check import call_safely, not_ready, report
from patterns.clock import ManualClock
from patterns.resilience import Backoff, CircuitBreaker, Fallback, Retry, WindowSpec
from patterns.resilience.simulation import FlakyPaymentService, Outage, amplified_calls, drive

__all__ = [
    "check_amplification",
    "check_full_jitter",
    "check_breaker_settings",
    "check_payment_client",
    "payment_policies",
]






def check_amplification(calls_at_bottom: object) -> bool:
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


def check_full_jitter(full_jitter_delay: object) -> bool:
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


def check_breaker_settings(make_breaker: object) -> bool:
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


def check_payment_client(build_client: object) -> bool:
    """Exercise 4: ``build_client(charge, breaker, retry, fallback)`` orders the three policies."""
    title = "Exercise 4 (compose the payment client)"
    if not_ready(title, build_client, expect=callable):
        return False
    problems: list[str] = []
    blips = iter([ConnectionError("reset"), "ok-1"])

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
