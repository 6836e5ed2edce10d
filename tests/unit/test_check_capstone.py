"""The capstone checkers accept right answers, reject wrong ones with a hint, and never raise."""

import pytest

from patterns.capstone import Burst, Scenario
from patterns.check.capstone import (
    PEAK_DAILY,
    PEAK_FACTOR,
    check_duplicate_guards,
    check_peak_rate,
    check_tenant_limit,
)

# A smaller burst than the lab's Scenario.small (same shape: quiet tenants plus one 100 req/s burst).
# tenant_burst=5 so a too-low limit visibly throttles the quiet tenants within 30 s.
TENANTS = Scenario.small(notifications=300, duration=30.0, users=200, outage=None, crash_rate=0.0,
                         burst=Burst("t00", 10.0, 4.0, 400), tenant_burst=5)


def test_peak_rate(capsys):
    assert check_peak_rate(PEAK_DAILY / 86_400 * PEAK_FACTOR)
    assert not check_peak_rate(PEAK_DAILY / 86_400)
    assert "peak factor" in capsys.readouterr().out
    assert not check_peak_rate(...) and not check_peak_rate("fast") and not check_peak_rate(10.0)


def test_duplicate_guards(capsys):
    assert check_duplicate_guards({"idempotency_key", "idempotent_consumer"})
    assert not check_duplicate_guards({"idempotency_key", "breaker"})
    out = capsys.readouterr().out
    assert "idempotent_consumer" in out and "breaker" in out
    assert not check_duplicate_guards(...) and not check_duplicate_guards({"magic"}) and not check_duplicate_guards(3)


def test_tenant_limit(capsys):
    assert check_tenant_limit(5, scenario=TENANTS)
    assert not check_tenant_limit(0.05, scenario=TENANTS)
    assert "too low" in capsys.readouterr().out
    assert not check_tenant_limit(100, scenario=TENANTS)
    assert "burst still fills the queue" in capsys.readouterr().out
    assert not check_tenant_limit(...) and not check_tenant_limit(-1)


def test_tenant_limit_rejects_a_non_scenario():
    with pytest.raises(TypeError, match="scenario"):
        check_tenant_limit(5, scenario={"tenant_rate": 5})
