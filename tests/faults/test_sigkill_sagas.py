"""SIGKILL the saga orchestrator and the choreographed services at >= 50 points each, then recover.

Each run (``tests/faults/crash_workloads.py``) plays five orders: one completes, one is declined by
the card limit, one finds no stock, one has its shipment refused, one loses a reply. A subprocess
is killed with SIGKILL at the N-th executed line of ``patterns/sagas/`` (orchestrator, log,
services, choreography: everything the saga code runs), so only what SQLite committed survives.
Then the same workload runs again, as a restarted process would (``Orchestrator.resume_all`` and a
re-submission of every order; a new ``ChoreographedShop`` that re-places every order and runs until
quiet), and the invariants must hold:

* no saga lost: every order exists and is COMPLETED or CANCELLED (never RUNNING or PENDING), with
  the outcome its business rules dictate;
* no duplicate effect: at most one charge, one reservation, one shipment per order;
* fully compensated: a CANCELLED order is net zero (refunded, stock back, no active shipment);
* no stale overwrite: the stock equals the initial stock plus every recorded movement.

Where the durable state lives. The orchestrator's state is its SQLite log plus the services'
SQLite files. The choreography's state also includes the broker: its records and each group's
committed offsets must outlive the process, which the in-process broker cannot. Embedded, the test
uses ``SqliteBroker`` (tests/faults/sqlite_broker.py), a file that keeps exactly what Kafka keeps
across a client's death. With ``PATTERNS_KAFKA_BOOTSTRAP`` set, the ``kafka`` case runs the same
choreography against the real Kafka-protocol broker, at three kill points only: each run joins
four consumer groups (about 2 s each after a kill), so 50 points would take many minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from patterns.sagas import COMPLETED, check_order
from tests.faults import crash_workloads as w

WATCH = "patterns/sagas/"
KILL_POINTS = 50


def _check(directory: Path, states: dict[str, str | None]) -> None:
    shop = w.shop_in(directory)
    orders = w.orders()
    for order in orders:
        assert check_order(shop, order, states[order.order_id]) == [], (order, states)
    assert states == w.EXPECTED
    moved = shop.inventory.conn.execute("SELECT COALESCE(SUM(delta), 0) FROM movements").fetchone()[0]
    completed_qty = sum(o.qty for o in orders if states[o.order_id] == COMPLETED)
    assert shop.inventory.available("book") == w.STOCK + moved == w.STOCK - completed_qty


def test_the_workloads_finish_and_a_rerun_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATTERNS_KAFKA_BOOTSTRAP", raising=False)
    for workload in (w.orchestrated, w.choreographed):
        directory = tmp_path / workload.__name__
        directory.mkdir()
        _check(directory, workload(str(directory)))
        _check(directory, workload(str(directory)))  # a restart after a clean finish is a no-op


def test_sigkill_the_orchestrator_anywhere_then_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATTERNS_KAFKA_BOOTSTRAP", raising=False)
    used = w.kill_everywhere(tmp_path, "orchestrated", watch=WATCH, points=KILL_POINTS,
                             recover_and_check=lambda d: _check(d, w.orchestrated(str(d))))
    assert len(used) >= KILL_POINTS


@pytest.mark.timeout(400)  # the kafka case: a dry run and three kills, each with four group joins
def test_sigkill_the_choreographed_services_anywhere_then_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_kind: str
) -> None:
    if broker_kind == "memory":
        monkeypatch.delenv("PATTERNS_KAFKA_BOOTSTRAP", raising=False)
        used = w.kill_everywhere(tmp_path, "choreographed", watch=WATCH, points=KILL_POINTS,
                                 recover_and_check=lambda d: _check(d, w.choreographed(str(d))))
        assert len(used) >= KILL_POINTS
        return
    import uuid

    from patterns.messaging import unique_name

    # a restarted service must find its topic and group offsets: on a shared broker they live in the
    # process's namespace, which is derived per process unless PATTERNS_NAMESPACE fixes it
    monkeypatch.setenv("PATTERNS_NAMESPACE", f"sagacrash-{uuid.uuid4().hex[:8]}")
    prefix = unique_name("saga-crash")
    used = w.kill_everywhere(tmp_path, "choreographed", watch=WATCH, points=5, pick=slice(1, -1), args=(prefix,),
                             timeout=180, recover_and_check=lambda d: _check(d, w.choreographed(str(d), prefix)))
    assert len(used) == 3
