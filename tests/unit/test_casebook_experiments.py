"""The casebook's experiments: deterministic, and each shows the effect its case is about."""

from __future__ import annotations

import random

import pytest

from patterns.casebook import (
    chat,
    crawler,
    idservice,
    newsfeed,
    notifications,
    payments,
    ratelimiter,
    shortener,
)


def test_redirect_cache_hit_ratio_grows_with_the_cache_and_cuts_store_reads() -> None:
    rows = shortener.redirect_cache(30_000, links=2_000, redirects=20_000, shares=(0.0, 0.01, 0.05, 0.2))
    assert rows[0].hit_ratio == 0.0 and rows[0].store_reads_per_s == 30_000
    hits = [r.hit_ratio for r in rows]
    assert hits == sorted(hits) and hits[-1] > 0.5  # LRU is a stack algorithm: more room, more hits
    assert all(r.ideal_hit_ratio >= r.hit_ratio - 0.05 for r in rows)
    assert [r.store_reads_per_s for r in rows] == sorted((r.store_reads_per_s for r in rows), reverse=True)
    assert rows == shortener.redirect_cache(30_000, links=2_000, redirects=20_000, shares=(0.0, 0.01, 0.05, 0.2))
    with pytest.raises(ValueError):
        shortener.redirect_cache(-1.0)
    with pytest.raises(ValueError):
        shortener.redirect_cache(1.0, shares=(1.5,))


def _limit_rows(rate: float) -> dict[str, ratelimiter.LimitRow]:
    trace = ratelimiter.client_trace(rate, 10.0, 20, random.Random(3))
    return {r.strategy: r for r in ratelimiter.shared_limit(trace, limit=1_000, duration=10.0)}


def test_shared_limit_strategies_trade_accuracy_for_store_calls() -> None:
    steady, abuser = _limit_rows(900), _limit_rows(3_000)
    central = steady["central"]
    assert central.admitted == central.exact and central.over_admitted == central.wrongly_refused == 0
    assert central.store_calls_per_s == pytest.approx(central.offered / 10.0)
    assert steady["split"].wrongly_refused > 0 and steady["split"].store_calls_per_s == 0
    assert steady["leased"].store_calls_per_s < central.store_calls_per_s / 5
    for rows in (steady, abuser):
        for name in ("central", "split", "leased"):
            assert rows[name].over_admitted == 0, name
    assert abuser["synced"].over_admitted > 0  # deciding on a stale total lets an abuser through
    assert abuser["central"].admitted == abuser["central"].exact == 10 * 1_000


def test_shared_limit_validation() -> None:
    with pytest.raises(ValueError, match="limit must be >= servers"):
        ratelimiter.shared_limit([(0.1, 0)], limit=5, servers=20)
    with pytest.raises(ValueError):
        ratelimiter.shared_limit([(0.1, 0)], batch=0)
    with pytest.raises(TypeError):
        ratelimiter.client_trace("fast", 1.0, 2, random.Random(1))  # type: ignore[arg-type]


def test_campaign_isolation_shows_what_the_tenant_limit_buys() -> None:
    limited, unlimited = notifications.campaign_isolation(900)
    assert limited.rate_limit and not unlimited.rate_limit
    assert limited.rate_limited > 0 and unlimited.rate_limited == 0
    assert unlimited.p99_delay_others > 3 * limited.p99_delay_others
    assert limited.audit_ok and unlimited.audit_ok


def test_follower_graph_is_seeded_heavy_tailed_and_simple() -> None:
    g = newsfeed.follower_graph(users=2_000, average_follows=20, seed=4)
    again = newsfeed.follower_graph(users=2_000, average_follows=20, seed=4)
    assert (g.follower == again.follower).all() and (g.followee == again.followee).all()
    assert not (g.follower == g.followee).any()
    pairs = set(zip(g.follower.tolist(), g.followee.tolist(), strict=True))
    assert len(pairs) == g.edges  # no duplicate follows
    assert g.followers.sum() == g.follows.sum() == g.edges
    assert g.followers.max() > 20 * g.followers.mean()  # a few accounts are followed by many


def test_fanout_costs_push_pull_and_hybrid() -> None:
    g = newsfeed.follower_graph(users=2_000, average_follows=20)
    rows = {(r.strategy, r.threshold): r for r in newsfeed.fanout_costs(g, posts_per_user=1, reads_per_user=10,
                                                                        thresholds=(50, 200))}
    push, pull = rows[("push", float("inf"))], rows[("pull", 0.0)]
    assert push.write_ops == g.edges and push.read_ops == 10 * g.users and push.worst_post == g.followers.max()
    assert pull.write_ops == 0 and pull.read_ops == 10 * g.edges
    for threshold in (50, 200):
        hybrid = rows[("hybrid", float(threshold))]
        assert hybrid.worst_post < threshold
        assert push.write_ops > hybrid.write_ops and hybrid.read_ops < pull.read_ops


@pytest.mark.parametrize("protocol", chat.PROTOCOLS)
def test_delivery_is_deterministic(protocol: str) -> None:
    assert chat.delivery(protocol, messages=300) == chat.delivery(protocol, messages=300)


def test_delivery_each_mechanism_fixes_one_thing() -> None:
    r = {p: chat.delivery(p, messages=1_000) for p in chat.PROTOCOLS}
    ff, retry, dedup, ordered = (r[p] for p in chat.PROTOCOLS)
    assert ff.lost > 0 and ff.duplicates == 0 and ff.out_of_order > 0 and ff.transmissions == 1_000
    assert retry.lost == 0 and retry.duplicates > 0 and retry.transmissions > 1_000
    assert dedup.lost == dedup.duplicates == 0 and dedup.out_of_order > 0
    assert ordered.lost == ordered.duplicates == ordered.out_of_order == 0 and ordered.shown == 1_000
    assert ordered.p99_latency > dedup.p99_latency  # head-of-line blocking is the price of order
    shows = [e[1] for e in ordered.trace if e[0] == "show"]
    assert shows == list(range(1_000))


def test_delivery_without_loss_or_jitter_is_perfect_and_fast() -> None:
    r = chat.delivery("fire-and-forget", messages=100, loss=0.0, jitter=0.0)
    assert (r.lost, r.duplicates, r.out_of_order) == (0, 0, 0) and r.p99_latency == pytest.approx(0.05)
    with pytest.raises(ValueError):
        chat.delivery("carrier pigeon")
    with pytest.raises(ValueError):
        chat.delivery("retry", loss=0.95)


def test_id_strategies() -> None:
    rows = {r.generator: r for r in idservice.id_strategies(ids=10_000, span=0.5)}
    assert rows["central counter"].coordinator_calls == 10_000 and rows["central counter"].late == 0
    assert rows["block leasing"].coordinator_calls <= 10_000 // 1_000 + 4 and rows["block leasing"].late > 0.3
    assert rows["timestamp+seq, no check"].duplicates > 0
    assert rows["Snowflake (raise)"].refused > 0 and rows["Snowflake (raise)"].duplicates == 0
    logical = rows["Snowflake (logical)"]
    assert logical.refused == logical.duplicates == logical.coordinator_calls == 0 and logical.issued == 10_000
    calm = {r.generator: r for r in idservice.id_strategies(ids=4_000, step_back=0.0)}
    for name in ("timestamp+seq, no check", "Snowflake (raise)", "Snowflake (logical)"):
        assert calm[name].duplicates == calm[name].refused == 0 and calm[name].late == 0, name


def test_late_ids() -> None:
    assert idservice.late_ids([0.0, 0.5, 1.0], [1, 2, 3], 0.1) == 0.0
    assert idservice.late_ids([0.0, 0.5, 1.0], [5, 1, 2], 0.1) == pytest.approx(2 / 3)
    assert idservice.late_ids([0.0, 0.05], [5, 1], 0.1) == 0.0  # within the window: not late
    with pytest.raises(ValueError):
        idservice.late_ids([0.0], [1, 2], 0.1)


def test_crawl_is_bounded_by_politeness_and_the_bloom_filter_costs_pages() -> None:
    web = crawler.synthetic_web(pages=3_000, hosts=40)
    exact = crawler.crawl(web, fetchers=20)
    assert exact.missed == 0 and exact.fetched == exact.reachable
    sizes = web.host_sizes()
    assert exact.duration >= (sizes.max() - 1) * 1.0 + 0.5
    assert exact.duration >= exact.fetcher_bound
    bloom = crawler.crawl(web, seen_set="bloom", fp_rate=0.1, fetchers=20)
    assert 0 < bloom.missed < 0.1 * bloom.reachable
    assert bloom.seen_bytes < exact.seen_bytes / 10
    assert bloom.fetched + bloom.missed == bloom.reachable
    assert crawler.crawl(web, seen_set="bloom", fp_rate=0.1, fetchers=20) == bloom
    with pytest.raises(ValueError):
        crawler.crawl(web, seen_set="trie")


def test_payment_retries_keys_end_to_end_never_charge_twice() -> None:
    rows = {d: payments.payment_retries(d, orders=400) for d in payments.DESIGNS}
    assert rows["no keys"].charged_twice > rows["API keys"].charged_twice > rows["end-to-end"].charged_twice == 0
    assert rows["end-to-end"].overcharged == 0
    for r in rows.values():
        assert r.ledger_balanced and r.after_reconcile_overcharged == 0
    assert rows["end-to-end"].told_failed_but_charged > 0  # an unknown outcome is still possible
    assert 0 < rows["end-to-end"].mismatches <= rows["end-to-end"].told_failed_but_charged


def test_ledger_refuses_unbalanced_entries_and_posts_once() -> None:
    ledger = payments.Ledger()
    assert ledger.post("t1", [("a", 5), ("b", -5)]) and not ledger.post("t1", [("a", 5), ("b", -5)])
    assert ledger.balance("a") == 5 and ledger.balanced
    with pytest.raises(payments.UnbalancedEntry):
        ledger.post("t2", [("a", 5), ("b", -4)])
    with pytest.raises(payments.UnbalancedEntry):
        ledger.post("t3", [("a", 0)])


def test_experiments_print_the_same_in_browser_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab's experiments take no thread, socket or Lua path: the browser (Pyodide) gets the
    same numbers as CPython."""

    def run() -> tuple[object, ...]:
        trace = ratelimiter.client_trace(900, 3.0, 20, random.Random(1))
        return (chat.delivery("retry+dedup+order", messages=200),
                payments.payment_retries("API keys", orders=100),
                ratelimiter.shared_limit(trace, limit=1_000, duration=3.0),
                idservice.id_strategies(ids=2_000),
                newsfeed.fanout_costs(newsfeed.follower_graph(users=500, average_follows=10)))

    plain = run()
    monkeypatch.setenv("PATTERNS_BROWSER_MODE", "1")
    assert run() == plain


def test_a_recorded_checkout_shows_the_timeout_and_the_keyed_retry() -> None:
    story = payments.checkout_trace("end-to-end", 3, orders=40)
    labels = [label for _, _, label, _ in story]
    assert labels[0] == "POST order_3 (key)" and story[-1] == ("payment API", "client", "201", True)
    assert "charged ch_4, reply lost" in labels and "key seen: same charge ch_4" in labels
    assert labels.count("charge order_3 (key pay_4)") == 2
    unkeyed = [label for _, _, label, _ in payments.checkout_trace("no keys", 3, orders=40)]
    assert all("key" not in label for label in unkeyed)
    recorded: list[tuple[str, str, str, bool]] = []
    assert payments.payment_retries("API keys", orders=50, trace=recorded) == payments.payment_retries(
        "API keys", orders=50)  # recording changes nothing
    assert {s for s, _, _, _ in recorded} <= {"client", "payment API", "PSP", "ledger"}
    with pytest.raises(ValueError, match="order must be below"):
        payments.checkout_trace("end-to-end", 99, orders=10)


def test_the_fanout_chart_puts_no_label_at_zero_on_its_log_axis() -> None:
    """Pull writes nothing; a "worst post" label at y = 0 on the log axis made Pyodide's matplotlib
    lay out a 107,744-pixel-high figure (lab 17 failed in the browser)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from patterns.casebook.plots import plot_fanout

    rows = newsfeed.fanout_costs(newsfeed.follower_graph(users=2_000), thresholds=(100,))
    assert [r.write_ops for r in rows if r.strategy == "pull"] == [0.0]
    fig, ax = plt.subplots()
    try:
        plot_fanout(rows, ax=ax)
        labels = [t for t in ax.texts if t.get_text().startswith("worst post")]
        assert len(labels) == len(rows) - 1 and all(t.get_position()[1] > 0 for t in labels)
    finally:
        plt.close(fig)
