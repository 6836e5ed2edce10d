"""Sagas start no threads: in the browser (Pyodide, where Thread.start raises) they print the same.

Issue 10 item 2. Nothing in patterns.sagas starts a thread (the in-process broker and SQLite are
used from the calling thread), so there is no separate browser path to take; this test makes that
a guarantee by running the flows with PATTERNS_BROWSER_MODE=1 and Thread.start raising as it
does in Pyodide, and comparing with the normal run.
"""

from __future__ import annotations

import threading

import pytest

from patterns.sagas import FaultPlan, failure_matrix, order_saga, run_choreographed, run_orchestrated


def _everything() -> list[object]:
    plan = FaultPlan(reject="shipping", crash_after="payment", flaky_compensation={"payment": 2})
    orch, chor = run_orchestrated(plan), run_choreographed(plan)
    return [
        (orch.state, orch.effects, orch.restarts, [(e.step, e.kind, e.at) for e in orch.log.events("order-1")]),
        (chor.state, chor.effects, chor.restarts, chor.choreography.history),
        failure_matrix(),
        failure_matrix(["orchestration"], definition=lambda shop: order_saga(shop, payment="authorize")),
    ]


def test_the_flows_need_no_thread_and_print_the_same_in_browser_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _everything()

    def no_threads(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")  # what Pyodide says

    monkeypatch.setenv("PATTERNS_BROWSER_MODE", "1")
    monkeypatch.setattr(threading.Thread, "start", no_threads)
    assert _everything() == expected
