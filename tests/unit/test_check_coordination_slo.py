"""The lab-15 and lab-16 checkers: right answers pass, typical wrong ones get a hint, blanks say 'not yet'."""

from __future__ import annotations

import pytest

from patterns.check import coordination as c15
from patterns.check import slo as c16
from patterns.slo import WORKBOOK_PAGE, WORKBOOK_RULES, MultiBurnRate, ThresholdRule


def verdict(capsys: pytest.CaptureFixture[str], ok: bool) -> str:
    out = capsys.readouterr().out
    assert out.startswith("✓" if ok else "✗"), out
    return out


def good_fence(highest, key, token):
    if token is None or token < highest.get(key, 0):
        return False
    highest[key] = token
    return True


@pytest.mark.parametrize(
    ("check", "answer", "ok", "says"),
    [
        (c15.check_safe_pause, ..., False, "not answered"),
        (c15.check_safe_pause, 8.0, True, "10 - 2 = 8"),
        (c15.check_safe_pause, 10, False, "loses the lease"),
        (c15.check_safe_pause, 4, False, "not the longest"),
        (c15.check_safe_pause, True, False, "number"),
        (c15.check_fence, ..., False, "not answered"),
        (c15.check_fence, good_fence, True, "matches"),
        (c15.check_fence, lambda h, k, t: t is not None, False, "lower token is a stale holder"),
        (c15.check_fence, lambda h, k, t: True if t is None else good_fence(h, k, t), False, "without a token"),
        (c15.check_fence, lambda h, k, t: 1 / 0, False, "ZeroDivisionError"),
        (c15.check_no_lost_updates, ..., False, "not answered"),
        (c15.check_no_lost_updates, {"fencing": True, "fence_reads": True}, True, "No increment lost"),
        (c15.check_no_lost_updates, {"fencing": False}, False, "without fencing"),
        (c15.check_no_lost_updates, {"fencing": True, "pause_probability": 0.0}, False, "may only set"),
        (c16.check_page_burn_rate, ..., False, "not answered"),
        (c16.check_page_burn_rate, 13.44, True, "13.44x"),
        (c16.check_page_burn_rate, 14.4, False, "30-day"),
        (c16.check_detection_time, 43.2, True, "43.2 min"),
        (c16.check_detection_time, 0.72, False, "hours"),
        (c16.check_detection_time, 360, False, "does not wait"),
        (c16.check_detection_time, "43", False, "number"),
        (c16.check_alert, ..., False, "not answered"),
        (c16.check_alert, MultiBurnRate(WORKBOOK_RULES), True, "No false alarm"),
        (c16.check_alert, WORKBOOK_PAGE, False, "missed slow burn"),
        (c16.check_alert, ThresholdRule(0.001, 5), False, "false alarms"),
        (c16.check_alert, 42, False, "alert rule"),
    ],
)
def test_checkers(capsys, check, answer, ok, says):
    assert check(answer) is ok
    assert says in verdict(capsys, ok)


def test_survives_pause_boundary():
    assert c15.survives_pause(7.99, phase=1.99)
    assert not c15.survives_pause(8.0, phase=2.0)


def test_figures_draw(clock):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from patterns.coordination import MemoryLeaseService, paused_client
    from patterns.coordination.plots import plot_paused
    from patterns.slo import SLO, Incident, month
    from patterns.slo.plots import plot_budget, plot_burn

    for fencing in (False, True):
        ax = plot_paused(paused_client(MemoryLeaseService(clock), fencing=fencing))
        assert "fencing" in ax.get_title()
    traffic = month([Incident("outage", 300, 20, 1.0)], days=1, blips=2)
    assert plot_burn(traffic, SLO(), WORKBOOK_RULES[0], start=200, end=500).get_yscale() == "symlog"
    assert plot_budget(traffic, SLO(), [WORKBOOK_PAGE]).get_ylabel() == "budget left (%)"
    plt.close("all")
