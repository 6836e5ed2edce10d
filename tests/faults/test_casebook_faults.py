"""The casebook's guarantees under injected faults (Hypothesis picks loss rates, timeouts, clock steps).

Each experiment injects faults itself (lost packets and acks, PSP and client timeouts, a clock
stepping back, Bloom-filter false positives); these tests hold the fixed designs to their promise
whatever the fault rates and seeds, and show the unfixed ones break.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.casebook import chat, crawler, idservice, payments

seeds = st.integers(min_value=0, max_value=2**31)


@settings(max_examples=30)
@given(st.floats(0.0, 0.5), st.floats(0.0, 0.3), st.floats(0.05, 1.0), seeds)
def test_ordered_protocol_shows_every_message_once_in_order(loss: float, jitter: float, rto: float, seed: int) -> None:
    r = chat.delivery("retry+dedup+order", messages=150, loss=loss, jitter=jitter, resend_after=rto, seed=seed)
    assert (r.lost, r.duplicates, r.out_of_order, r.shown) == (0, 0, 0, 150)
    assert [e[1] for e in r.trace if e[0] == "show"] == list(range(150))


@settings(max_examples=30)
@given(st.floats(0.0, 0.5), seeds)
def test_retries_never_lose_and_dedup_never_shows_twice(loss: float, seed: int) -> None:
    retry = chat.delivery("retry", messages=150, loss=loss, seed=seed)
    dedup = chat.delivery("retry+dedup", messages=150, loss=loss, seed=seed)
    assert retry.lost == 0 and retry.shown == 150 + retry.duplicates
    assert dedup.lost == dedup.duplicates == 0
    assert retry.transmissions == dedup.transmissions  # same link, same seed: dedup only changes the screen


@settings(max_examples=30)
@given(st.floats(0.0, 0.5), st.floats(0.0, 0.5), seeds)
def test_end_to_end_keys_never_charge_twice(psp_timeout: float, client_timeout: float, seed: int) -> None:
    r = payments.payment_retries("end-to-end", orders=150, psp_timeout=psp_timeout,
                                 client_timeout=client_timeout, seed=seed)
    assert r.charged_twice == 0 and r.overcharged == 0
    assert r.ledger_balanced and r.after_reconcile_overcharged == 0
    assert r.psp_charges <= r.orders


@settings(max_examples=30)
@given(st.sampled_from(payments.DESIGNS), st.floats(0.0, 0.5), st.floats(0.0, 0.5), seeds)
def test_reconciliation_repairs_every_design(design: str, psp_timeout: float, client_timeout: float,
                                             seed: int) -> None:
    r = payments.payment_retries(design, orders=100, psp_timeout=psp_timeout, client_timeout=client_timeout,
                                 seed=seed)
    assert r.ledger_balanced and r.after_reconcile_overcharged == 0
    assert r.overcharged == 0 or r.charged_twice > 0


@settings(max_examples=20)
@given(st.floats(0.0, 0.02), st.integers(1, 8), seeds)
def test_snowflake_never_repeats_an_id_whatever_the_clock_step(step: float, servers: int, seed: int) -> None:
    rows = {r.generator: r for r in idservice.id_strategies(servers=servers, ids=3_000, span=0.2,
                                                             step_back=step, seed=seed)}
    for name in ("central counter", "block leasing", "Snowflake (raise)", "Snowflake (logical)"):
        assert rows[name].duplicates == 0, name
    assert rows["Snowflake (logical)"].refused == 0
    assert rows["Snowflake (raise)"].issued + rows["Snowflake (raise)"].refused == 3_000


@settings(max_examples=10)
@given(st.floats(0.001, 0.3), seeds)
def test_a_crawl_never_fetches_a_page_twice_and_exact_never_misses(fp: float, seed: int) -> None:
    web = crawler.synthetic_web(pages=800, hosts=20, seed=seed % 1000)
    exact = crawler.crawl(web, fetchers=8)
    bloom = crawler.crawl(web, seen_set="bloom", fp_rate=fp, fetchers=8)
    assert exact.missed == 0 and exact.fetched == exact.reachable
    assert bloom.fetched <= bloom.reachable and bloom.fetched + bloom.missed == bloom.reachable
    assert bloom.duration <= exact.duration + 1e-9 or bloom.fetched < exact.fetched
