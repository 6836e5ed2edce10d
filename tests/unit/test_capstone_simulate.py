"""simulate(): the tenant burst, the rate limiter, the cache, and the metrics' internal consistency."""

import functools

import pytest

from patterns.capstone import Burst, Patterns, Scenario, comparison_table, simulate


@functools.cache
def burst_run(*off):
    """Quiet tenants (300 requests over 30 s) plus t00 sending 400 in 4 s; runs are pure, so cached."""
    sc = Scenario.small(seed=11, notifications=300, duration=30.0, users=200, outage=None,
                        burst=Burst("t00", 10.0, 4.0, 400), crash_rate=0.0, patterns=Patterns().without(*off))
    return simulate(sc)


def test_rate_limit_protects_the_other_tenants_from_a_burst():
    on, off = burst_run(), burst_run("rate_limit")
    assert set(on.rate_limited_by_tenant) == {"t00"} and on.rate_limited > 300
    assert off.rate_limited == 0
    assert on.p99_delay_others < 2.0 < off.p99_delay_others


def test_cache_cuts_preference_reads():
    on, off = burst_run(), burst_run("cache")
    assert on.preference_db_reads < off.preference_db_reads / 2
    assert off.cache_hit_rate == 0.0 < on.cache_hit_rate


def test_metrics_add_up():
    r = burst_run()
    assert r.accepted + r.rate_limited + r.replayed == r.submitted
    assert r.delivered == r.audit.delivered_once  # no duplicates: one ledger entry per delivered target
    assert len(r.delays) == r.delivered and all(d >= 0 for _, d, _, _ in r.delays)
    assert r.p50_delay <= r.p99_delay
    assert r.finished_at >= 30.0


def test_comparison_table_is_markdown_with_one_row_per_run():
    table = comparison_table({"on": burst_run(), "no limit": burst_run("rate_limit")}, ["rate-limited", "lost"])
    lines = table.splitlines()
    assert lines[:2] == ["| run | rate-limited | lost |", "|---|---:|---:|"]
    assert lines[2:] == [f"| on | {burst_run().rate_limited} | 0 |", "| no limit | 0 | 0 |"]
    assert "| audit ok |" in comparison_table({"on": burst_run()}).splitlines()[0]
    with pytest.raises(ValueError, match="columns must be among"):
        comparison_table({"on": burst_run()}, ["magic"])
    with pytest.raises(ValueError, match="results"):
        comparison_table({})


def test_default_scenario_is_the_book_scale():
    sc = Scenario()
    assert (sc.notifications, sc.duration) == (10_000, 600.0) and sc.outage is not None and sc.burst is not None


def test_delay_timeline_plots_one_series_per_run_and_shades_the_windows():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from patterns.capstone import Outage, plot_delay_timeline

    runs = {"on": burst_run(), "no limit": burst_run("rate_limit")}
    ax = plot_delay_timeline(runs, channel=None, outage=Outage(5.0, 9.0), burst=(10.0, 14.0))
    assert [line.get_label() for line in ax.get_lines()] == ["on", "no limit"]
    assert len(ax.get_lines()[1].get_xdata()) == len(runs["no limit"].delays)
    assert len(ax.patches) == 2
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="results"):
        plot_delay_timeline({})
