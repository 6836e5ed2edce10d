"""Timeout (thread, not cancelled) and AsyncTimeout (cancels). Real waits of tens of milliseconds;
assertions are on outcomes only, never on durations."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from patterns.errors import CallTimeout
from patterns.resilience import AsyncTimeout, Timeout

SHORT = 0.02  # seconds a caller is willing to wait in these tests
LONG = 5.0  # a bound for waits that must not expire (reached only if something is broken)


def test_returns_the_value_and_raises_the_error() -> None:
    t = Timeout(LONG)
    assert t.call(lambda a, b=0: a + b, 2, b=3) == 5

    def boom() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        t.call(boom)
    assert t.timed_out == 0


def test_work_is_not_cancelled_and_finishes_after_the_caller_gave_up() -> None:
    t = Timeout(SHORT)
    release, finished = threading.Event(), threading.Event()
    side_effects: list[str] = []

    def charge() -> str:
        release.wait(LONG)
        side_effects.append("charged")  # the work completes although nobody waits for it
        finished.set()
        return "receipt"

    with pytest.raises(CallTimeout, match="may still be running"):
        t.call(charge)
    assert t.timed_out == 1
    assert t.running == 1  # the abandoned worker is still there
    release.set()
    assert finished.wait(LONG)
    assert side_effects == ["charged"]
    for _ in range(500):  # the worker decrements after setting `finished`
        if t.running == 0:
            break
        threading.Event().wait(0.001)
    assert t.running == 0


def test_call_timeout_is_a_timeout_error() -> None:
    release = threading.Event()
    with pytest.raises(TimeoutError):
        Timeout(SHORT).call(release.wait, LONG)
    release.set()


def test_context_variables_reach_the_worker() -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    request_id.set("r-42")
    assert Timeout(LONG).call(request_id.get) == "r-42"


def test_decorator_form() -> None:
    @Timeout(LONG)
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    assert add(1, 2) == 3 and add.__name__ == "add"
    with pytest.raises(TypeError, match="AsyncTimeout"):

        @Timeout(1.0)
        async def co() -> None:
            return None


def test_async_timeout_cancels_the_coroutine() -> None:
    cancelled = []

    async def slow() -> None:
        try:
            await asyncio.sleep(LONG)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        with pytest.raises(CallTimeout, match="cancelled"):
            await AsyncTimeout(SHORT).call(slow)

    asyncio.run(main())
    assert cancelled == [True]


def test_async_timeout_passes_results_and_own_timeout_errors() -> None:
    @AsyncTimeout(LONG)
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    @AsyncTimeout(LONG)
    async def own_timeout() -> None:
        raise TimeoutError("the client library's own timeout")

    assert asyncio.run(double(21)) == 42
    with pytest.raises(TimeoutError, match="client library") as info:
        asyncio.run(own_timeout())
    assert not isinstance(info.value, CallTimeout)
    with pytest.raises(TypeError, match="coroutine functions"):
        AsyncTimeout(1.0)(lambda: None)


@pytest.mark.parametrize("cls", [Timeout, AsyncTimeout])
@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)]
)
def test_bad_seconds(cls, value, error) -> None:
    with pytest.raises(error, match=r"seconds must be a finite number of seconds in \(0, "):
        cls(value)


def test_repr() -> None:
    assert repr(Timeout(0.5)) == "Timeout(seconds=0.5)"
    assert repr(AsyncTimeout(2)) == "AsyncTimeout(seconds=2.0)"
