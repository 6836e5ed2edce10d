"""The public API of patterns.ratelimit: Decision, headers, attributes and argument checking."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patterns.clock import ManualClock, SystemClock, WallClock
from patterns.errors import RateLimited
from patterns.infra import redis_client
from patterns.ratelimit import (
    GCRA,
    LIMITERS,
    Decision,
    FixedWindow,
    LeakyBucket,
    SlidingWindowCounter,
    TokenBucket,
)

ALL = list(LIMITERS)
BUCKETS = (TokenBucket, GCRA, LeakyBucket)


def test_decision_is_an_immutable_record_with_http_headers() -> None:
    allowed = Decision(True, limit=10, remaining=7, retry_after=0.0, reset_after=12.2)
    with pytest.raises(AttributeError):
        allowed.allowed = False  # type: ignore[misc]
    assert (allowed.delay, allowed.fallback) == (0.0, False)
    assert hash(allowed) == hash(Decision(True, 10, 7, 0.0, 12.2))
    assert allowed.headers() == {"RateLimit-Limit": "10", "RateLimit-Remaining": "7", "RateLimit-Reset": "13"}
    denied = Decision(False, limit=10, remaining=0, retry_after=0.2, reset_after=59.5)
    assert denied.headers() == {
        "RateLimit-Limit": "10",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
        "Retry-After": "1",  # rounded up: waiting that long is enough
    }


def test_decision_repr_names_every_field_and_shows_fallback_only_when_set() -> None:
    ordinary = Decision(False, 10, 3, 1.5, 2.5, 0.25)
    assert repr(ordinary) == (
        "Decision(allowed=False, limit=10, remaining=3, retry_after=1.5, reset_after=2.5, delay=0.25)"
    )
    assert repr(ordinary._replace(fallback=True)).endswith("delay=0.25, fallback=True)")


@pytest.mark.parametrize("cls", ALL)
def test_attributes_and_defaults(cls: type) -> None:
    lim = cls(10, 60)
    assert (lim.limit, lim.period, lim.capacity) == (10, 60.0, 10)
    assert isinstance(lim.clock, SystemClock)
    assert lim.prefix == f"ratelimit:{cls.algorithm}" and lim.time_source == "clock" and lim.backend is None
    assert lim.on_backend_error == "raise" and lim.fallbacks == 0
    assert lim.allow("user:42").allowed
    assert repr(lim).startswith(f"{cls.__name__}(limit=10") and repr(lim).endswith(", memory)")


@pytest.mark.parametrize("cls", ALL)
def test_a_shared_limiter_uses_the_servers_clock_unless_a_clock_is_chosen(cls: type) -> None:
    backend = redis_client(url="", fresh=True)
    shared = cls(10, 60, backend=backend)
    assert shared.time_source == "server" and isinstance(shared.clock, WallClock)
    assert shared.allow("k").allowed
    chosen = cls(10, 60, backend=backend, clock=ManualClock())
    assert chosen.time_source == "clock"
    assert cls(10, 60, backend=backend, clock=ManualClock(), time_source="server").time_source == "server"


def test_burst_and_capacity_set_the_bucket_size() -> None:
    assert TokenBucket(10, 60.0, burst=3).capacity == 3
    assert GCRA(10, 60.0, 25).burst == 25
    assert LeakyBucket(10, 60.0, capacity=4).capacity == 4


def make(cls: type, **kwargs: object) -> object:
    params = {"limit": 5, "period": 1.0, **kwargs}
    return cls(**params)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("limit", 0, ValueError),
        ("limit", -3, ValueError),
        ("limit", 2.5, TypeError),
        ("limit", True, TypeError),
        ("limit", "10", TypeError),
        ("period", 0, ValueError),
        ("period", -1.0, ValueError),
        ("period", math.nan, ValueError),
        ("period", math.inf, ValueError),
        ("period", 1e-9, ValueError),
        ("period", "60", TypeError),
        ("period", 1e300, ValueError),  # absurd: more than 100 years
        ("limit", 10**19, ValueError),  # Redis used to report -2**63 remaining
        ("limit", math.inf, TypeError),
        ("backend", object(), TypeError),
        ("backend", "redis://localhost:6379", TypeError),
        ("backend", 6379, TypeError),
        ("time_source", "ntp", ValueError),
        ("time_source", "server", ValueError),  # server time needs Redis
        ("time_source", 1, ValueError),
        ("prefix", 7, TypeError),
        ("prefix", "", ValueError),
        ("prefix", "a{b}", ValueError),  # braces would move the hash tag
        ("namespace", "a:b", ValueError),
        ("namespace", 3, TypeError),
        ("on_backend_error", "ignore", ValueError),
        ("on_backend_error", None, ValueError),
        ("clock", object(), TypeError),
        ("clock", 5, TypeError),
        ("clock", SystemClock, TypeError),  # the class, not an instance
    ],
)
def test_bad_construction_names_the_parameter(cls: type, name: str, value: object, error: type) -> None:
    with pytest.raises(error, match=rf"^{name}\b"):
        make(cls, **{name: value})


class _AnswersThroughGetattr:
    """A stand-in with every command supplied by ``__getattr__``, as lab 10's ``RedisDown`` is."""

    def __getattr__(self, command: str):
        def fail(*args: object, **kwargs: object) -> object:
            raise ConnectionError("Connection refused")

        return fail


@pytest.mark.parametrize("cls", ALL)
def test_a_stand_in_answering_through_getattr_is_a_backend_on_every_python(cls: type) -> None:
    """isinstance() on a Protocol ignores __getattr__ since Python 3.12 (Pyodide's): the check must not."""
    limiter = make(cls, backend=_AnswersThroughGetattr(), on_backend_error="allow")
    assert limiter.allow("k").fallback
    with pytest.raises(TypeError, match=r"^backend must be .*, got _HalfAClient$"):
        make(cls, backend=type("_HalfAClient", (), {"evalsha": 1, "time": lambda self: 0})())


@pytest.mark.parametrize("cls", BUCKETS)
@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_burst_or_capacity_names_the_parameter(cls: type, bad: object) -> None:
    name = "capacity" if cls is LeakyBucket else "burst"
    with pytest.raises((ValueError, TypeError), match=rf"^{name}\b"):
        cls(5, 1.0, bad)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize(
    ("key", "cost", "error", "name"),
    [
        (42, 1, TypeError, "key"),
        (b"user", 1, TypeError, "key"),
        (None, 1, TypeError, "key"),
        ("", 1, ValueError, "key"),
        ("k", 0, ValueError, "cost"),
        ("k", -2, ValueError, "cost"),
        ("k", 6, ValueError, "cost"),  # more than the capacity (5) could never be admitted
        ("k", 1.0, TypeError, "cost"),
        ("k", math.inf, TypeError, "cost"),
        ("k", math.nan, TypeError, "cost"),
        ("k", 10**19, ValueError, "cost"),
        ("k", True, TypeError, "cost"),
    ],
)
def test_bad_calls_name_the_parameter(cls: type, key: object, cost: object, error: type, name: str) -> None:
    lim = make(cls, clock=ManualClock())
    with pytest.raises(error, match=rf"^{name}\b"):
        lim.allow(key, cost)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", ALL)
def test_cost_up_to_the_capacity_is_accepted(cls: type) -> None:
    lim = make(cls, clock=ManualClock())
    assert lim.allow("k", 5).allowed
    assert not lim.allow("k", 1).allowed


@pytest.mark.parametrize("cls", ALL)
def test_require_raises_rate_limited_with_retry_after(cls: type) -> None:
    lim = make(cls, clock=ManualClock(), limit=1)
    assert lim.require("k").allowed
    with pytest.raises(RateLimited) as info:
        lim.require("k")
    assert info.value.key == "k" and info.value.retry_after > 0


@pytest.mark.parametrize("cls", ALL)
def test_reset_restores_a_full_quota(cls: type) -> None:
    lim = make(cls, clock=ManualClock(), limit=2)
    assert lim.allow("k", 2).allowed and not lim.allow("k").allowed
    lim.reset("k")
    assert lim.allow("k", 2).allowed


@pytest.mark.parametrize("cls", ALL)
def test_keys_are_independent(cls: type) -> None:
    lim = make(cls, clock=ManualClock(), limit=1)
    assert lim.allow("alice").allowed and not lim.allow("alice").allowed
    assert lim.allow("bob").allowed


@pytest.mark.parametrize("cls", ALL)
def test_idle_keys_are_dropped_so_memory_stays_bounded(cls: type) -> None:
    clock = ManualClock()
    lim = make(cls, clock=clock, limit=3, period=1.0)
    for round_ in range(6):  # 6 waves of 3,000 one-off clients, 10 s apart
        for i in range(3_000):
            lim.allow(f"client:{round_}:{i}")
        assert lim.tracked_keys <= 2 * 3_000 + 1024
        clock.advance(10.0)
    # the expired state was equivalent to no state: a returning client starts afresh
    assert lim.allow("client:0:0", 3).allowed


@pytest.mark.parametrize("cls", BUCKETS)
def test_huge_quotas_coarsen_the_tick_and_stay_exact(cls: type) -> None:
    clock = ManualClock()
    lim = cls(10**6, 86_400.0, clock=clock)  # a million a day: too many us-units for 2**53
    assert lim.allow("k", 10**6).allowed and not lim.allow("k").allowed
    d = lim.allow("k")
    assert d.retry_after == pytest.approx(0.0864, abs=1e-3)  # one emission interval, 86.4 ms
    clock.advance(d.retry_after)
    assert lim.allow("k").allowed


def test_quotas_beyond_exact_counting_are_refused() -> None:
    with pytest.raises(ValueError, match="^limit must be an integer in"):
        TokenBucket(2**60, 60.0)
    with pytest.raises(ValueError, match="too large"):  # the quota fits, times the period it does not
        SlidingWindowCounter(2**48, 3600.0)


class BrokenClock:
    """Has now() and sleep(), but does not tell the time as a number."""

    def __init__(self, value: object) -> None:
        self.value = value

    def now(self) -> object:
        return self.value

    def sleep(self, seconds: float) -> None:
        pass


@pytest.mark.parametrize(("value", "error"), [("noon", TypeError), (math.nan, ValueError), (None, TypeError)])
def test_a_clock_that_does_not_tell_time_is_refused_at_construction(value: object, error: type) -> None:
    with pytest.raises(error, match=r"^clock\.now\(\)"):
        FixedWindow(5, 1.0, clock=BrokenClock(value))  # type: ignore[arg-type]


def test_redis_backend_is_accepted_and_named_in_repr() -> None:
    lim = FixedWindow(3, 1.0, clock=ManualClock(), backend=redis_client(fresh=True), prefix="app:")
    assert lim.allow("k").allowed and lim.prefix == "app:"
    assert "redis('app:', time=clock)" in repr(lim)
    assert lim.keys.key("k").endswith(":app:{k}")


def test_limiters_names_every_exported_algorithm_once():
    import patterns.ratelimit as rl

    exported = {obj for obj in vars(rl).values()
                if isinstance(obj, type) and issubclass(obj, rl.RateLimiter) and obj is not rl.RateLimiter}
    assert len(rl.LIMITERS) == len(set(rl.LIMITERS)) == 6
    assert set(rl.LIMITERS) == exported


BAD_VALUES = st.sampled_from(
    [math.nan, math.inf, -math.inf, -1, 0, -(10**19), 10**19, 1e300, -1e-300, "", "x", b"1", None, True,
     [], {}, object(), 2.5, float("-0.0")]
)


@pytest.mark.parametrize("cls", ALL)
@given(name=st.sampled_from(["limit", "period", "clock", "backend", "prefix", "namespace", "time_source",
                             "on_backend_error"]), value=BAD_VALUES)
def test_any_bad_argument_is_refused_with_a_type_or_value_error(cls: type, name: str, value: object) -> None:
    params: dict[str, object] = {"limit": 5, "period": 1.0, name: value}
    if value is None and name in ("backend", "clock", "prefix", "namespace", "time_source"):
        return  # None means "the default" (for backend: in memory)
    if name == "period" and isinstance(value, (int, float)) and not isinstance(value, bool) and 1e-6 <= value <= 3e9:
        return  # a fine period
    if name == "limit" and isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**50:
        return
    if name in ("prefix", "namespace") and value == "x":
        return  # fine names
    with pytest.raises((TypeError, ValueError)):
        cls(**params)


@pytest.mark.parametrize("cls", ALL)
@given(key=BAD_VALUES, cost=BAD_VALUES)
def test_any_bad_call_is_refused_with_a_type_or_value_error(cls: type, key: object, cost: object) -> None:
    lim = cls(5, 1.0, clock=ManualClock())
    if isinstance(key, str) and key and isinstance(cost, int) and not isinstance(cost, bool) and 1 <= cost <= 5:
        return
    with pytest.raises((TypeError, ValueError)):
        lim.allow(key, cost)  # type: ignore[arg-type]
