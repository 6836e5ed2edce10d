"""The CQRS lab's checkers accept right answers and reject wrong or missing ones."""

from __future__ import annotations

from patterns.check.cqrs import (
    BURST,
    EXERCISE_BURST,
    check_burst_backlog,
    check_redelivery,
    check_status_counts,
)
from patterns.cqrs import simulate_lag


def good_counts(events):
    status = {}
    for e in events:
        if e.type == "OrderCreated":
            status[e.data["order_id"]] = "draft"
        elif e.type == "OrderConfirmed":
            status[e.data["order_id"]] = "confirmed"
        elif e.type == "OrderCancelled":
            status[e.data["order_id"]] = "cancelled"
    counts = {}
    for s in status.values():
        counts[s] = counts.get(s, 0) + 1
    return counts


def test_status_counts(capsys) -> None:
    assert check_status_counts(good_counts)
    assert "✓" in capsys.readouterr().out
    assert not check_status_counts(lambda events: {"draft": sum(e.type == "OrderCreated" for e in events)})
    assert "Hint" in capsys.readouterr().out
    assert not check_status_counts(lambda events: 1 / 0)
    assert not check_status_counts(...)


def test_burst_backlog(capsys) -> None:
    trace = simulate_lag(**EXERCISE_BURST)
    end = EXERCISE_BURST["burst"][1]
    catch = next(t for t, b in zip(trace.times, trace.backlog, strict=True) if t > end and b == 0) - end
    assert check_burst_backlog((trace.max_backlog, catch))
    assert check_burst_backlog((180, 9))  # the back-of-envelope answer is close enough
    assert not check_burst_backlog((360, 9))  # forgot that the projector works during the burst
    assert not check_burst_backlog((180, 30))
    assert not check_burst_backlog((240, 12))  # the worked example's numbers, not this burst's
    assert EXERCISE_BURST != BURST
    assert not check_burst_backlog(...)
    assert not check_burst_backlog("lots")


def test_redelivery(capsys) -> None:
    assert check_redelivery([7, 8])
    assert not check_redelivery([5, 6, 7, 8])
    assert not check_redelivery(...)
    assert not check_redelivery(["x"])
