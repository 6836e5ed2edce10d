"""Capstone building blocks: simulated providers, preference cache, percentiles, audit, scenario."""

import random

import pytest

from patterns.capstone import (
    Ledger,
    Outage,
    Patterns,
    PreferenceCache,
    PreferenceStore,
    ProviderError,
    ProviderSpec,
    Scenario,
    SimulatedProvider,
    audit,
    is_poison,
    percentile,
)
from patterns.clock import ManualClock


def provider(**kw):
    clock, ledger = ManualClock(), Ledger()
    spec = ProviderSpec("p", "email", **kw)
    return SimulatedProvider(spec, clock=clock, rng=random.Random(1), ledger=ledger), clock, ledger


def test_provider_outage_times_out_and_recovers():
    p, clock, ledger = provider(error_rate=0.0, timeout=2.0, outages=(Outage(10, 20),))
    assert p.send("r1", "email") > 0
    clock.set(10.0)
    with pytest.raises(ProviderError) as err:
        p.send("r2", "email")
    assert err.value.elapsed == 2.0
    clock.set(20.0)
    p.send("r3", "email")
    assert [d.request_id for d in ledger.deliveries] == ["r1", "r3"]


def test_provider_error_rate_is_seeded_and_close_to_spec():
    outcomes = []
    for _ in range(2):
        p, _, _ = provider(error_rate=0.2)
        run = []
        for i in range(2000):
            try:
                p.send(f"r{i}", "email")
                run.append(True)
            except ProviderError:
                run.append(False)
        outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert 0.17 < outcomes[0].count(False) / 2000 < 0.23


@pytest.mark.parametrize("kw", [{"latency": 0}, {"error_rate": 1.0}, {"timeout": -1}])
def test_provider_spec_validates(kw):
    with pytest.raises(ValueError):
        ProviderSpec("p", "email", **kw)


def test_outage_validates():
    with pytest.raises(ValueError, match="start < end"):
        Outage(5, 5)


def test_preference_cache_hits_within_ttl_and_invalidate_refreshes():
    store, clock = PreferenceStore({"u1": ["sms"]}), ManualClock()
    cache = PreferenceCache(store, clock=clock, ttl=60)
    assert not cache.allows("u1", "sms") and cache.allows("u1", "email")
    assert store.reads == 1 and cache.hits == 1
    store.set_opted_out("u1", [])
    assert not cache.allows("u1", "sms")  # stale, within the TTL: the documented bound
    cache.invalidate("u1")
    assert cache.allows("u1", "sms") and store.reads == 2
    clock.advance(61)
    cache.allows("u1", "sms")
    assert store.reads == 3


def test_preference_cache_ttl_zero_never_caches():
    store = PreferenceStore()
    cache = PreferenceCache(store, clock=ManualClock(), ttl=0)
    for _ in range(3):
        cache.allows("u", "email")
    assert store.reads == 3 and cache.hit_rate == 0.0
    with pytest.raises(ValueError, match="ttl"):
        PreferenceCache(store, clock=ManualClock(), ttl=-1)


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99 and percentile(values, 100) == 100
    assert percentile([], 50, empty=0.0) == 0.0
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)
    with pytest.raises(ValueError, match="q must"):
        percentile(values, 0)


def test_audit_classifies_every_fate():
    targets = [("a", "email"), ("b", "email"), ("c", "email"), ("d", "email"), ("e", "email"), ("f", "email")]
    received = {("a", "email"): 1, ("b", "email"): 2, ("e", "email"): 1}
    dead = {("c", "email"): "gave up", ("e", "email"): "gave up", ("f", "email"): ""}
    result = audit(targets, received, dead)
    assert (result.delivered_once, result.doubled, result.dead_lettered, result.lost, result.contradictory) == (
        1, 1, 1, 2, 1)
    assert not result.ok and len(result.examples) == 4
    assert audit([("a", "email")], {("a", "email"): 1}, {}).ok


def test_poison_detection():
    assert is_poison("Hi {{name}") and not is_poison("Hi {{name}}") and not is_poison("plain")


def test_patterns_without_and_scenario_validation():
    assert Patterns().without("breaker", "cache").off() == ["breaker", "cache"]
    with pytest.raises(ValueError, match="names must be among"):
        Patterns().without("magic")
    with pytest.raises(ValueError, match="notifications"):
        Scenario(notifications=0)
    with pytest.raises(ValueError, match="crash_rate"):
        Scenario(crash_rate=1.5)
    with pytest.raises(TypeError, match="patterns"):
        Scenario(patterns={"breaker": False})
