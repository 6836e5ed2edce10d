"""End to end: every accepted notification is delivered exactly once per channel or dead-lettered
with a reason, under a provider outage, consumer crashes, duplicate requests and poison messages.
Each guard is also switched off to prove the audit sees the damage it prevents."""

import pytest

from patterns.capstone import Outage, Patterns, Scenario, simulate


def hostile(seed, patterns=None, **changes):
    patterns = Patterns() if patterns is None else patterns
    base = dict(seed=seed, notifications=250, duration=40.0, users=200, outage=Outage(8.0, 28.0), burst=None,
                duplicate_rate=0.15, crash_rate=0.15, poison_rate=0.02, patterns=patterns)
    return Scenario.small(**{**base, **changes})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_never_lost_never_doubled_under_faults(seed):
    result = simulate(hostile(seed))
    assert result.crashes > 0 and result.replayed > 0 and result.dead_lettered > 0  # the faults happened
    assert result.audit.ok, result.audit.examples
    assert result.audit.lost == 0 and result.duplicates_delivered == 0
    assert result.audit.delivered_once + result.audit.dead_lettered == result.audit.expected
    assert all(reason for reason in result.dead_letter_reasons)


def test_without_the_idempotency_key_client_retries_are_delivered_twice():
    result = simulate(hostile(1, Patterns().without("idempotency_key"), crash_rate=0.0))
    assert result.audit.doubled > 0 and not result.audit.ok


def test_without_the_idempotent_consumer_crashes_cause_double_sends():
    result = simulate(hostile(1, Patterns().without("idempotent_consumer"), duplicate_rate=0.0))
    assert result.audit.doubled > 0 and not result.audit.ok


def test_the_breaker_keeps_delivery_fast_during_an_outage():
    # a long outage of the primary email provider; capacity is tight enough that 2 s timeouts hurt
    tight = dict(crash_rate=0.0, duplicate_rate=0.0, outage=Outage(4.0, 36.0), concurrency=6.0)
    on = simulate(hostile(4, **tight))
    off = simulate(hostile(4, Patterns().without("breaker"), **tight))
    assert on.audit.ok and off.audit.ok
    assert on.breaker_opens > 0
    assert on.provider_calls["mailer-a"] < off.provider_calls["mailer-a"] / 2
    assert on.p99_delay < 2.0 < off.p99_delay


def test_without_fallback_an_outage_longer_than_the_retry_budget_dead_letters_with_reasons():
    result = simulate(hostile(5, Patterns().without("fallback"), crash_rate=0.0, outage=Outage(4.0, 36.0)))
    assert result.audit.ok  # nothing lost: every give-up is recorded with its reason
    assert result.dead_letter_reasons.get("gave up after 6 attempt(s)", 0) > 0


def test_same_scenario_same_result():
    a, b = simulate(hostile(6)), simulate(hostile(6))
    assert a.summary() == b.summary() and a.delays == b.delays and a.provider_calls == b.provider_calls
