"""SLO arithmetic, synthetic traffic, alert rules and their scoring."""

from __future__ import annotations

import random

import numpy as np
import pytest

from patterns.slo import (
    SLO,
    WORKBOOK_PAGE,
    WORKBOOK_RULES,
    WORKBOOK_TICKET,
    BurnRateRule,
    Incident,
    MultiBurnRate,
    ThresholdRule,
    detect,
    episodes,
    month,
    score,
    window_ratio,
)

slo = SLO()


def test_budget_and_burn_rate_arithmetic():
    assert slo.budget_ratio == pytest.approx(0.001)
    assert slo.burn_rate(0.0144) == pytest.approx(14.4)
    assert slo.consumed_by(14.4, 60) == pytest.approx(0.02)  # the workbook's 2% in 1 hour
    assert slo.consumed_by(6, 360) == pytest.approx(0.05)
    assert slo.consumed_by(1, 4320) == pytest.approx(0.10)
    assert slo.detection_minutes(14.4, 60, 1.0) == pytest.approx(0.864)
    assert slo.detection_minutes(14.4, 60, 0.01) is None  # below the rule's threshold: never fires
    assert slo.budget_spent(43.2, 43_200_000) == pytest.approx(0.001)


def test_measured_detection_matches_the_workbook_formula():
    for ratio in (1.0, 0.1, 0.02):
        incident = Incident("x", 4320, 4320, ratio)  # after a full 3-day window of clean history
        traffic = month([incident], days=7, background=0.0, rng=random.Random(3))
        for rule in WORKBOOK_RULES:
            expected = slo.detection_minutes(rule.burn_rate, rule.long, ratio)
            got = detect(rule, traffic, slo, incident)
            assert got.detected_after is not None
            assert abs(got.detected_after - expected) <= 0.1 * expected + 1.5  # binomial noise + 1 min steps
            assert got.budget_spent >= slo.consumed_by(rule.burn_rate, rule.long) * 0.9


def test_short_window_resets_the_alert_soon_after_the_incident():
    outage = Incident("outage", 600, 20, 1.0)
    traffic = month([outage], days=2, background=0.0, rng=random.Random(1))
    with_short = detect(WORKBOOK_RULES[0], traffic, slo, outage)
    long_only = detect(BurnRateRule(long=60, burn_rate=14.4), traffic, slo, outage)
    assert with_short.reset_after <= 5 < 40 <= long_only.reset_after


def test_a_quiet_month_raises_no_burn_rate_alert_but_the_naive_threshold_fires_on_blips():
    traffic = month(blips=30, rng=random.Random(5))
    assert score(MultiBurnRate(WORKBOOK_RULES), traffic, slo).alerts == 0
    naive = score(ThresholdRule(0.001, 5), traffic, slo)
    assert naive.alerts >= 30 and naive.false_alarms == naive.alerts


def test_slow_burn_is_missed_by_pages_and_caught_by_the_ticket():
    burn = Incident("slow burn", 5 * 1440, 3 * 1440, 0.003)
    traffic = month([burn], rng=random.Random(2))
    assert score(WORKBOOK_PAGE, traffic, slo).missed == ("slow burn",)
    ticket = score(WORKBOOK_TICKET, traffic, slo)
    assert ticket.missed == () and ticket.detected["slow burn"] < 3 * 1440
    assert score(ThresholdRule(0.02, 10), traffic, slo).missed == ("slow burn",)


def test_window_ratio_and_episodes():
    traffic = month([Incident("x", 10, 5, 1.0)], days=1 / 24, requests_per_minute=10, background=0.0)
    ratio = window_ratio(traffic, 5)
    assert ratio[9] == 0.0 and ratio[14] == 1.0 and ratio[16] == pytest.approx(0.6)
    assert episodes(np.array([0, 1, 1, 0, 1], dtype=bool)) == [(1, 3), (4, 5)]
    assert episodes(np.zeros(3, dtype=bool)) == []


def test_traffic_is_deterministic_for_a_seed():
    one = month([Incident("x", 100, 10, 0.5)], days=1, blips=5, rng=random.Random(9))
    two = month([Incident("x", 100, 10, 0.5)], days=1, blips=5, rng=random.Random(9))
    assert np.array_equal(one.bad, two.bad) and one.blips == two.blips


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: SLO(objective=1.0), ValueError, "objective"),
        (lambda: SLO(objective="0.999"), TypeError, "objective"),
        (lambda: SLO(period_days=0), ValueError, "period_days"),
        (lambda: Incident("x", -1, 5, 0.1), ValueError, "start"),
        (lambda: Incident("x", 0, 5, 1.5), ValueError, "error_ratio"),
        (lambda: BurnRateRule(long=60, short=120, burn_rate=2), ValueError, "short"),
        (lambda: BurnRateRule(long=60, burn_rate=float("nan")), ValueError, "burn_rate"),
        (lambda: ThresholdRule(2.0), ValueError, "threshold"),
        (lambda: month(days=1e9), ValueError, "days"),
        (lambda: month([Incident("late", 10**6, 5, 0.1)], days=1), ValueError, "late"),
        (lambda: month(rng=5), TypeError, "rng"),
        (lambda: slo.burn_rate(2), ValueError, "error_ratio"),
    ],
)
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_spent_counts_the_whole_incident_and_detect_only_until_it_fires():
    from patterns.slo import spent

    outage = Incident("outage", 600, 20, 1.0)
    traffic = month([outage], days=30, background=0.0, rng=random.Random(1))
    assert spent(traffic, slo, outage) == pytest.approx(20 * 1000 / 43_200)  # 20 of 43.2 outage minutes
    assert detect(WORKBOOK_RULES[0], traffic, slo, outage).budget_spent == pytest.approx(1000 / 43_200)
