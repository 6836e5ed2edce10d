"""The chapter 01 checkers accept right answers, reject wrong ones with a hint, and never raise."""

from __future__ import annotations

import pytest

from patterns.check.architecture import (
    check_chain_availability,
    check_coupling_degree,
    check_deployment,
    check_fanout,
)

GOOD_UNITS = {"gateway": "edge", "orders": "core", "customers": "core", "catalog": "core", "inventory": "core",
              "payments": "pay", "shipping": "core", "notifications": "notify"}


def coupling(commits, a, b):
    both = sum(1 for c in commits if a in c and b in c)
    either = sum(1 for c in commits if a in c or b in c)
    return both / either if either else 0.0


@pytest.mark.parametrize(("checker", "answer"), [
    (check_chain_availability, lambda a, n: a ** n),
    (check_fanout, lambda n: 1 - 0.99 ** n),
    (check_deployment, GOOD_UNITS),
    (check_coupling_degree, coupling),
])
def test_right_answers_pass(checker, answer, capsys) -> None:
    assert checker(answer) is True
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(("checker", "answer", "hint"), [
    (check_chain_availability, lambda a, n: a * n, "multiply"),
    (check_chain_availability, lambda a, n: 1 / 0, "ZeroDivisionError"),
    (check_fanout, lambda n: 0.01 * n, "overcounts"),
    (check_deployment, dict.fromkeys(GOOD_UNITS, "m"), "at least 3"),
    (check_deployment, {c: c for c in GOOD_UNITS}, "availability"),
    (check_deployment, {"gateway": "x"}, "missing"),
    (check_coupling_degree, lambda commits, a, b: 0.5, "commits touching both"),
    (check_coupling_degree, ..., "not answered yet"),
    (check_fanout, 3, "expected a function"),
])
def test_wrong_answers_fail_with_a_hint(checker, answer, hint, capsys) -> None:
    assert checker(answer) is False
    out = capsys.readouterr().out
    assert "✗" in out and hint in out
