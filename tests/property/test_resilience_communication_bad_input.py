"""Bad input at every public door of the resilience and communication families (issue 12, item 10).

Every public constructor and main method is fed non-finite, negative, huge, wrong-typed and empty
values, one parameter at a time, all others valid. Each must raise ``TypeError`` or ``ValueError``
(or a ``patterns.errors`` error) at once, never ``OverflowError``, ``AttributeError``,
``RecursionError``, ``MemoryError`` or a hang (pytest-timeout bounds the test). A value that is valid
but absurd (a timeout of 1e10 seconds, a wait of 1e300) is refused where it is given, not later
inside ``threading`` as an ``OverflowError``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patterns.clock import ManualClock
from patterns.communication import (
    JSON,
    Codec,
    LatencyModel,
    compare,
    mm1,
    p_any_slow,
    payload_sizes,
    roundtrips,
    simulate_chain,
    simulate_fanout,
    simulate_queue,
)
from patterns.communication.concurrency import compare_waiting
from patterns.communication.rpc import OrderService, compare_rpc, make_order
from patterns.communication.wire import ORDER, Field, varint
from patterns.errors import PatternError
from patterns.faults import Outage
from patterns.resilience import (
    AsyncTimeout,
    Backoff,
    Bulkhead,
    CircuitBreaker,
    Fallback,
    Retry,
    ThreadPoolBulkhead,
    Timeout,
    WindowSpec,
    pipeline,
)
from patterns.resilience.simulation import (
    FlakyPaymentService,
    ServerConfig,
    amplified_calls,
    backoff_study,
    call_chain,
    drive,
    occ_contention,
    outcome_counts,
    payment_scenario,
    simulate_server,
)
from patterns.stats import percentile

NAN, INF = math.nan, math.inf
# bad values by the kind of parameter they are aimed at
NON_FINITE = [NAN, INF, -INF]
WRONG_TYPE = ["1", b"1", [1], {"a": 1}, object(), True]
COUNT = [0, -1, 1.5, 10**19, 2**63, *NON_FINITE, *WRONG_TYPE]  # an integer >= 1
COUNT0 = [-1, 2.5, 10**19, *NON_FINITE, *WRONG_TYPE]  # an integer >= 0
SECONDS = [0, 0.0, -1, -1e-9, 1e10, 1e300, *NON_FINITE, *WRONG_TYPE]  # a duration > 0
SECONDS0 = [-1, -1e-9, 1e10, 1e300, *NON_FINITE, *WRONG_TYPE]  # a duration >= 0
PROBABILITY = [-0.1, 1.5, 1e300, *NON_FINITE, *WRONG_TYPE]  # in [0, 1]
RATE = [0, -0.5, 1.5, *NON_FINITE, *WRONG_TYPE]  # in (0, 1]
TEXT = ["", "x" * 5_000, 5, None, b"name", ["n"]]
CALLABLE = [42, "fn", None, [print]]
FILTER = ["Boom", (), (ValueError, "x"), 42, [ValueError], None]
INSTANCE = [42, "x", [], object()]  # where a specific type is needed (None may be the default)
SEED = [1.5, "seed", NAN, None, [1]]


def clock() -> ManualClock:
    return ManualClock()


def ok() -> str:
    return "ok"


# name -> (build(**overrides), {parameter: bad values}); build(**{}) must succeed
Case = tuple[Callable[..., Any], dict[str, list[Any]]]
CASES: dict[str, Case] = {
    "CircuitBreaker": (
        lambda **kw: CircuitBreaker(**{"clock": clock(), **kw}),
        {
            "failure_rate_threshold": RATE,
            "window": INSTANCE,
            "minimum_calls": COUNT,
            "wait_in_open": SECONDS0,
            "half_open_calls": COUNT,
            "slow_call_threshold": [x for x in SECONDS0 if x is not None],
            "slow_call_rate_threshold": RATE,
            "failure_on": [f for f in FILTER if f is not None],
            "ignore_on": [f for f in FILTER if f is not None],
            "clock": INSTANCE,
            "name": TEXT,
        },
    ),
    "CircuitBreaker.call": (lambda fn=ok: CircuitBreaker(clock=clock()).call(fn), {"fn": CALLABLE}),
    "CircuitBreaker.add_listener": (
        lambda listener=print: CircuitBreaker(clock=clock()).add_listener(listener),
        {"listener": CALLABLE},
    ),
    "CircuitBreaker(time window).call": (
        lambda fn=ok: CircuitBreaker(window=WindowSpec.time(5), clock=clock()).call(fn),
        {"fn": CALLABLE},
    ),
    "WindowSpec.count": (lambda n=3: WindowSpec.count(n), {"n": COUNT}),
    "WindowSpec.time": (lambda seconds=3.0: WindowSpec.time(seconds), {"seconds": SECONDS}),
    "Retry": (
        lambda **kw: Retry(**{"clock": clock(), "rng": random.Random(1), **kw}),
        {
            "max_attempts": COUNT,
            "backoff": INSTANCE,
            "retry_on": [f for f in FILTER if f is not None],
            "deadline": [x for x in SECONDS0 if x is not None],
            "clock": INSTANCE,
            "rng": INSTANCE,
            "on_retry": [42, "f", [print]],
        },
    ),
    "Retry.call": (lambda fn=ok: Retry(clock=clock()).call(fn), {"fn": CALLABLE}),
    "Backoff.exponential": (
        lambda **kw: Backoff.exponential(**kw),
        {
            "base": SECONDS,
            "cap": [c for c in SECONDS0 if not (isinstance(c, float) and 1 <= c < 1e10)],
            "jitter": ["fulll", "", None, 1, "FULL"],
            "multiplier": [0.5, -2, 1e300, *NON_FINITE, *WRONG_TYPE],
        },
    ),
    "Backoff.fixed": (lambda **kw: Backoff.fixed(**{"delay": 1.0, **kw}), {
        "delay": SECONDS0, "jitter": ["decorrelated", "x", None]}),
    "Backoff.ceiling": (lambda n=1: Backoff.fixed(1.0).ceiling(n), {"n": COUNT0}),
    "Backoff.delay": (
        lambda n=1, previous=0.1, rng=None: Backoff.exponential().delay(
            n, previous, random.Random(1) if rng is None else rng
        ),
        {"n": COUNT0, "previous": SECONDS0, "rng": INSTANCE},
    ),
    "Backoff.delays": (
        lambda attempts=3, rng=None: Backoff.exponential().delays(
            attempts, random.Random(1) if rng is None else rng
        ),
        {"attempts": COUNT, "rng": INSTANCE},
    ),
    "Timeout": (lambda **kw: Timeout(**{"seconds": 1.0, **kw}), {"seconds": SECONDS, "clock": INSTANCE}),
    "Timeout.call": (lambda fn=ok: Timeout(1.0, clock=clock()).call(fn), {"fn": CALLABLE}),
    "AsyncTimeout": (lambda seconds=1.0: AsyncTimeout(seconds), {"seconds": SECONDS}),
    "Bulkhead": (
        lambda **kw: Bulkhead(**kw),
        {"max_concurrent": COUNT, "max_wait": SECONDS0, "name": TEXT},
    ),
    "Bulkhead.call": (lambda fn=ok: Bulkhead().call(fn), {"fn": CALLABLE}),
    "ThreadPoolBulkhead": (
        lambda **kw: ThreadPoolBulkhead(**kw).shutdown(),
        {"workers": [*COUNT, 10**6], "queue": COUNT0, "name": TEXT},
    ),
    "ThreadPoolBulkhead.submit": (lambda fn=ok: _submit(fn), {"fn": CALLABLE}),
    "Fallback": (lambda **kw: Fallback(**{"fn": print, **kw}), {"fn": CALLABLE, "on": FILTER}),
    "Fallback.call": (lambda primary=ok: Fallback(print).call(primary), {"primary": CALLABLE}),
    "pipeline": (lambda policy=None: pipeline(Bulkhead() if policy is None else policy), {"policy": CALLABLE[:2]}),
    # communication
    "LatencyModel": (
        lambda **kw: LatencyModel(**kw),
        {
            "median": SECONDS,
            "sigma": [-1, 11.0, 1e300, *NON_FINITE, *WRONG_TYPE],
            "slow_probability": PROBABILITY,
            "slow_latency": SECONDS0,
        },
    ),
    "LatencyModel.sample": (lambda rng=None: LatencyModel().sample(random.Random(1) if rng is None else rng),
                            {"rng": INSTANCE}),
    "simulate_chain": (
        lambda **kw: simulate_chain(**{"depth": 2, "requests": 3, **kw}),
        {
            "depth": [*COUNT, 10_000],
            "requests": [-1, 10**19, 10**7, 2.5, *NON_FINITE, *WRONG_TYPE],
            "model": INSTANCE,
            "seed": SEED,
            "timeout": [*SECONDS, [0.1], (0.1, -1.0)],
            "retries": [*COUNT0, 1_000, (1,), (1, 2, 3)],
        },
    ),
    "simulate_chain(deep retries)": (
        lambda retries=0: simulate_chain(10, 1_000, timeout=0.001, retries=retries), {"retries": [20, 100]}
    ),
    "simulate_fanout": (
        lambda **kw: simulate_fanout(**{"width": 2, "requests": 3, **kw}),
        {
            "width": [*COUNT, 10**6],
            "requests": [-1, 10**19, 10**7, *NON_FINITE, *WRONG_TYPE],
            "model": INSTANCE,
            "seed": SEED,
            "timeout": SECONDS,
        },
    ),
    "p_any_slow": (lambda **kw: p_any_slow(**{"p": 0.1, "n": 3, **kw}), {"p": PROBABILITY, "n": COUNT0}),
    "mm1": (
        lambda **kw: mm1(**{"arrival_rate": 1.0, "service_rate": 2.0, **kw}),
        {"arrival_rate": [0, -1, 5.0, 1e300, *NON_FINITE, *WRONG_TYPE],
         "service_rate": [0, -1, 0.5, 1e300, *NON_FINITE, *WRONG_TYPE]},
    ),
    "simulate_queue": (
        lambda **kw: simulate_queue(**{"arrivals": 1.0, "service_rate": 2.0, "duration": 10.0, **kw}),
        {
            "arrivals": [0, -1, 1e300, *NON_FINITE, "1", b"1", [], [(1.0, 2.0)], [(0.0, -1.0)], [(0.0,)],
                         [(0.0, 1.0), (0.0, 1.0)], [(0.0, 1e7)], [(0.0, "x")], {"a": 1}],
            "service_rate": [0, -1, 1e300, *NON_FINITE, *WRONG_TYPE],
            "duration": [*SECONDS, 1e7],
            "workers": [*COUNT, 10**6],
            "capacity": COUNT0,
            "warmup": [*SECONDS0, 10.0, 20.0],
            "seed": SEED,
        },
    ),
    "ChainStats.percentile": (lambda q=50: simulate_chain(1, 5).percentile(q), {"q": [-1, 101, *NON_FINITE, *WRONG_TYPE]}),
    "Codec": (
        lambda **kw: Codec(**{"name": "x", "encode": JSON.encode, "decode": JSON.decode, **kw}),
        {"name": TEXT, "encode": CALLABLE, "decode": CALLABLE},
    ),
    "payload_sizes": (lambda codecs=None: payload_sizes({"a": 1}, codecs), {"codecs": [[], [JSON, 1], 5, ["json"]]}),
    "roundtrips": (lambda codec=JSON: roundtrips({"a": 1}, codec), {"codec": INSTANCE}),
    "compare": (
        lambda **kw: compare({"a": 1}, **{"number": 1, **kw}),
        {"number": [*COUNT, 10**9], "codecs": [[], [JSON, "x"], 5], "timer": [42, "t"]},
    ),
    "percentile": (
        lambda **kw: percentile(**{"values": [1.0, 2.0], "q": 50, **kw}),
        {"values": [[], 5, None, "abc", b"ab", [1, "x"]], "q": [0, -1, 101, *NON_FINITE, *WRONG_TYPE]},
    ),
    "make_order": (lambda number=1: make_order(number), {"number": [-1, 10**10, 1.5, *WRONG_TYPE]}),
    "OrderService": (lambda work_seconds=0.0: OrderService(work_seconds), {"work_seconds": [*SECONDS0, 61.0]}),
    "OrderService.get": (lambda order_id="o-1": OrderService().get(order_id), {"order_id": [5, None, "", "x" * 500]}),
    "OrderService.many": (lambda count=2: OrderService().many(count), {"count": [-1, 10**9, 2.5, "3", None]}),
    "compare_rpc": (
        lambda **kw: compare_rpc(**{"calls": 1, **kw}) if kw else None,
        {"calls": COUNT, "bulk": [*COUNT, 10**9], "rounds": [*COUNT, 10**6], "work_seconds": [-1, NAN, 1e300]},
    ),
    "compare_waiting": (
        lambda **kw: compare_waiting(**kw) if kw else None,
        {"calls": [0, -1, 10**6, 2.5], "delay": [0, -1, NAN, 1e300, "1"]},
    ),
    "ORDER.encode": (lambda value=None: ORDER.encode({} if value is None else value),
                     {"value": [5, [("order_id", "x")], {"orderid": "x"}, {"order_id": 5}, {"total_cents": 2**64}]}),
    "ORDER.decode": (lambda data=b"": ORDER.decode(data), {"data": ["0a", 5, None, b"\x0a\x05ab", b"\xff" * 12]}),
    "Field": (lambda **kw: Field(**{"number": 1, "name": "x", "kind": "int", **kw}),
              {"number": [0, -1, 2**30, 1.5], "name": TEXT, "kind": ["float", 5, None]}),
    "varint": (lambda value=1: varint(value), {"value": [2**64, -(2**63) - 1, 1.5, "1", None]}),
    # chapter 06's simulations
    "Outage": (
        lambda **kw: Outage(**{"start": 1.0, "end": 2.0, **kw}),
        {"start": [*SECONDS0, 2.0, 3.0], "end": [*SECONDS0, 1.0, 0.5], "failure_rate": PROBABILITY},
    ),
    "FlakyPaymentService": (
        lambda **kw: FlakyPaymentService(**{"clock": clock(), "rng": random.Random(1), **kw}),
        {"clock": INSTANCE, "rng": INSTANCE, "base_failure_rate": PROBABILITY,
         "outages": [5, "x", [1], [Outage(1, 2), "o"], None]},
    ),
    "drive": (
        lambda **kw: drive(**{"call": ok, "state_of": lambda: "closed", "clock": clock(), "duration": 1.0,
                              "interval": 0.5, **kw}),
        {"call": CALLABLE, "state_of": CALLABLE, "clock": INSTANCE, "duration": SECONDS,
         "interval": [*SECONDS, 1e-9]},
    ),
    "outcome_counts": (lambda **kw: outcome_counts(**{"samples": [], **kw}), {"start": [NAN, "0", None],
                                                                             "end": [NAN, "9", None]}),
    "payment_scenario": (
        lambda **kw: payment_scenario(**{"make_breaker": None, "duration": 1.0, **kw}),
        {"make_breaker": [42, "b"], "outage": INSTANCE, "base_failure_rate": PROBABILITY,
         "duration": SECONDS, "interval": [*SECONDS, 1e-9], "seed": SEED},
    ),
    "call_chain": (
        lambda **kw: call_chain(**{"bottom": ok, "layers": 2, "protect": lambda i, below: below, **kw}),
        {"bottom": CALLABLE, "layers": [*COUNT, 10_000], "protect": CALLABLE},
    ),
    "amplified_calls": (
        lambda **kw: amplified_calls(**{"attempts": 2, "layers": 2, **kw}),
        {"attempts": COUNT, "layers": [*COUNT, 10_000, 40]},
    ),
    "occ_contention": (
        lambda **kw: occ_contention(**{"clients": 3, "backoff": Backoff.exponential(10, 2000),
                                       "rng": random.Random(1), **kw}),
        {"clients": [*COUNT, 10**6], "backoff": INSTANCE, "rng": INSTANCE,
         "net_mean": [-1, 1e300, *NON_FINITE, *WRONG_TYPE], "net_sd": [-1, 1e300, *NON_FINITE, *WRONG_TYPE]},
    ),
    "backoff_study": (
        lambda **kw: backoff_study(**{"client_counts": [2], "trials": 1, **kw}),
        {"client_counts": [[], [0], [10**6], 5, "x", [1.5]], "kinds": [[], ["fulll"], "full", [None]],
         "trials": [*COUNT, 10**6], "seed": SEED, "base": [0, -1, *NON_FINITE, *WRONG_TYPE],
         "cap": [1.0, -1, *NON_FINITE, *WRONG_TYPE]},
    ),
    "ServerConfig": (
        lambda **kw: ServerConfig(**kw),
        {"threads": COUNT, "pay_rate": [-1, 1e300, *NON_FINITE, *WRONG_TYPE], "pay_latency": SECONDS,
         "slow_from": SECONDS0, "slow_latency": SECONDS, "bulkhead": [0, -1, 2.5, "20", *NON_FINITE],
         "bulkhead_wait": SECONDS0, "patience": SECONDS, "duration": [*SECONDS, 1e6],
         "sample_every": [*SECONDS, 1e-9]},
    ),
    "simulate_server": (
        lambda **kw: simulate_server(**{"config": ServerConfig(duration=1.0), **kw}),
        {"config": INSTANCE, "seed": SEED},
    ),
}

ALLOWED = (TypeError, ValueError, PatternError)
PARAMETERS = [(case, param) for case, (_, params) in CASES.items() for param in params]


def _submit(fn: object) -> object:
    with ThreadPoolBulkhead(workers=1, queue=1) as pool:
        return pool.submit(fn).result()  # type: ignore[arg-type]


@pytest.mark.parametrize("case", sorted(CASES))
def test_valid_arguments_are_accepted(case: str) -> None:
    """The baseline: with every argument valid, the door opens (so a refusal below is the bad value's)."""
    build, _ = CASES[case]
    build()


@pytest.mark.parametrize(("case", "param"), PARAMETERS, ids=[f"{c}:{p}" for c, p in PARAMETERS])
def test_every_bad_value_is_refused_with_a_named_error(case: str, param: str) -> None:
    build, params = CASES[case]
    for bad in params[param]:
        with pytest.raises(ALLOWED) as info:
            build(**{param: bad})
        assert not isinstance(info.value, (OverflowError, AttributeError, RecursionError, MemoryError)), (
            f"{case}({param}={bad!r}) raised {info.type.__name__}: {info.value}"
        )


@settings(max_examples=200, deadline=None)
@given(
    seconds=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=3), st.none()
    )
)
def test_any_timeout_is_accepted_and_usable_or_refused_at_construction(seconds: object) -> None:
    """A Timeout either refuses its budget at once, or can wait for it (no OverflowError later)."""
    try:
        timeout = Timeout(seconds)  # type: ignore[arg-type]
    except ALLOWED:
        return
    assert timeout.call(ok) == "ok"


def test_issue_examples_are_refused_at_construction_not_at_call_time() -> None:
    with pytest.raises(ValueError, match=r"seconds must be a finite number of seconds in \(0, 3.15576e\+09\]"):
        Timeout(1e10)
    with pytest.raises(ValueError, match="max_wait"):
        Bulkhead(max_wait=1e300)
