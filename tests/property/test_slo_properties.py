"""Burn-rate alerts: invariants over random incidents (Hypothesis)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.slo import SLO, WORKBOOK_RULES, BurnRateRule, Incident, detect, month

slo = SLO()


@settings(max_examples=60)
@given(
    ratio=st.floats(min_value=0.0, max_value=1.0),
    rule=st.sampled_from(WORKBOOK_RULES),
    seed=st.integers(0, 1000),
)
def test_a_rule_fires_only_after_spending_its_budget_share(ratio, rule, seed):
    """Starting from a clean window, a burn-rate rule cannot fire before the incident has spent
    burn_rate * long / period of the budget (up to one minute of rounding)."""
    incident = Incident("x", 4320, 4320, ratio)
    traffic = month([incident], days=6, background=0.0, requests_per_minute=1000, rng=random.Random(seed))
    found = detect(rule, traffic, slo, incident)
    if found.detected_after is None:
        return
    share = slo.consumed_by(rule.burn_rate, rule.long)
    assert found.budget_spent > share * (1 - 1e-9)


@settings(max_examples=60)
@given(
    burn=st.floats(min_value=0.5, max_value=50.0),
    long=st.integers(2, 600),
    factor=st.integers(2, 24),
    seed=st.integers(0, 1000),
)
def test_adding_a_short_window_never_makes_a_rule_fire_more(burn, long, factor, seed):
    traffic = month([Incident("x", 700, 200, 0.05)], days=1, blips=3, rng=random.Random(seed))
    alone = BurnRateRule(long=long, burn_rate=burn).firing(traffic, slo)
    paired = BurnRateRule(long=long, short=max(1, long // factor), burn_rate=burn).firing(traffic, slo)
    assert not (paired & ~alone)[long:].any()  # (before that the long-only rule has no verdict yet)
