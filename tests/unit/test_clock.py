import threading

import pytest

from patterns.clock import Clock, ManualClock, SystemClock


def test_manual_clock_starts_where_told_and_only_moves_when_advanced():
    clock = ManualClock(start=5.0)
    assert clock.now() == 5.0
    assert clock.now() == 5.0
    assert clock.advance(2.5) == 7.5
    clock.sleep(0.5)
    assert clock.now() == 8.0


def test_manual_clock_set_never_goes_backwards():
    clock = ManualClock(10.0)
    clock.set(12.0)
    assert clock.now() == 12.0
    with pytest.raises(ValueError, match="when"):
        clock.set(11.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_manual_clock_rejects_bad_durations(bad):
    with pytest.raises(ValueError, match="seconds"):
        ManualClock().advance(bad)


@pytest.mark.parametrize("bad", ["1", None, True])
def test_manual_clock_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="start"):
        ManualClock(bad)
    with pytest.raises(TypeError, match="seconds"):
        ManualClock().advance(bad)


def test_manual_clock_is_safe_under_threads():
    clock = ManualClock()

    def work():
        for _ in range(1000):
            clock.advance(0.5)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == 8 * 1000 * 0.5


def test_both_clocks_satisfy_the_protocol():
    assert isinstance(ManualClock(), Clock)
    assert isinstance(SystemClock(), Clock)
    a = SystemClock().now()
    assert SystemClock().now() >= a


def test_wall_clock_reads_epoch_seconds():
    import time

    from patterns.clock import WallClock

    before = time.time()
    assert before <= WallClock().now() <= time.time()
    with pytest.raises(ValueError, match="seconds"):
        WallClock().sleep(-1)


def test_shared_state_defaults_to_a_clock_every_process_agrees_on():
    from patterns.clock import WallClock
    from patterns.infra import redis_client
    from patterns.ratelimit import TokenBucket

    assert isinstance(TokenBucket(limit=5, period=1.0).clock, SystemClock)
    shared = TokenBucket(limit=5, period=1.0, backend=redis_client(url="", fresh=True))
    assert isinstance(shared.clock, WallClock)
