"""The exhaustive failure matrix, for both styles, and proof that it catches broken sagas.

For every step, every failure kind (refusal, lost reply, timeout, crash after the step, flaky
compensation, crash while compensating): the order ends COMPLETED with every effect exactly once,
or CANCELLED with net zero effect; never a double charge, never a stuck saga.
"""

from __future__ import annotations

import pytest

from patterns.sagas import (
    FAILURE_KINDS,
    STEP_NAMES,
    FaultPlan,
    failure_matrix,
    order_saga,
    plan_for,
    run_choreographed,
    run_orchestrated,
)

CELLS = [(step, kind) for step in STEP_NAMES for kind in FAILURE_KINDS]
RUNNERS = {"orchestration": run_orchestrated, "choreography": run_choreographed}


@pytest.mark.parametrize("style", sorted(RUNNERS))
@pytest.mark.parametrize(("step", "kind"), CELLS)
def test_every_cell_ends_completed_once_or_cancelled_with_net_zero(style, step, kind):
    run = RUNNERS[style](plan_for(kind, step, STEP_NAMES))
    assert run.violations == []
    assert run.state in ("COMPLETED", "CANCELLED")
    assert run.effects["charges"] <= 1
    if kind in ("crash", "crash_compensating") and not (kind == "crash_compensating" and step == STEP_NAMES[-1]):
        assert run.restarts == 1  # the crash really happened, and recovery really ran


@pytest.mark.parametrize("style", sorted(RUNNERS))
def test_no_failure_completes(style):
    run = RUNNERS[style](FaultPlan())
    assert (run.state, run.ok, run.effects["charges"], run.effects["shipments"]) == ("COMPLETED", True, 1, 1)


def test_expected_outcomes_per_kind():
    rows = {(r["style"], r["step"], r["kind"]): r["state"] for r in failure_matrix()}
    for style in RUNNERS:
        for step in STEP_NAMES:
            assert rows[(style, step, "reject")] == "CANCELLED"
            assert rows[(style, step, "lost_reply")] == "COMPLETED"
            assert rows[(style, step, "crash")] == "COMPLETED"
            assert rows[(style, step, "flaky_compensation")] == "CANCELLED"
            assert rows[(style, step, "timeout")] == ("CANCELLED" if style == "orchestration" else "COMPLETED")


def _broken_orchestration(**broken):
    return lambda plan: run_orchestrated(plan, definition=lambda shop: order_saga(shop, **broken))


@pytest.mark.parametrize("step", STEP_NAMES)
def test_the_matrix_fails_when_a_compensation_is_removed(step):
    rows = failure_matrix(["orchestration"], orchestrated=_broken_orchestration(without_compensation=step))
    bad = [r for r in rows if not r["ok"]]
    assert bad, f"removing the compensation of {step} went unnoticed"
    assert all("cancelled but" in r["violations"] for r in bad)


def test_the_matrix_fails_when_a_compensation_runs_twice_with_effect():
    rows = failure_matrix(["orchestration"], orchestrated=_broken_orchestration(naive_refund=True))
    bad = {(r["step"], r["kind"]): r["violations"] for r in rows if not r["ok"]}
    # the resumed orchestrator re-runs the refund it had not logged: a non-idempotent refund pays twice
    assert ("payment", "crash_compensating") in bad
    assert "refunded more than charged" in bad[("payment", "crash_compensating")]


def test_choreography_without_refund_reactions_leaves_stuck_sagas():
    runs = [run_choreographed(plan_for(k, s, STEP_NAMES), broken="no_refund") for s, k in CELLS]
    stuck = [r for r in runs if any("stuck" in v for v in r.violations)]
    assert stuck and all(r.effects["net_charged"] > 0 for r in stuck)


def test_choreography_with_a_non_idempotent_refund_refunds_twice_after_a_crash():
    run = run_choreographed(plan_for("crash_compensating", "inventory", STEP_NAMES), broken="double_refund")
    assert run.restarts == 1
    assert any("refunded more than charged" in v for v in run.violations)


def test_failure_matrix_refuses_unknown_styles():
    with pytest.raises(ValueError, match="styles item must be one of"):
        failure_matrix(["telepathy"])
