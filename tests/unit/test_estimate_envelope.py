"""Estimate: assumptions, derivations, the printed chain, what-ifs and sensitivity; the formula evaluator."""

from __future__ import annotations

import math

import pytest

from patterns.estimate import Estimate, Formula, capacity_model


def small() -> Estimate:
    est = Estimate("toy")
    est.assume("dau", 1_000_000, "users", "product plan")
    est.assume("per_user", 10, "req/user/day", "analytics")
    est.assume("peak", 3, "x", "traffic graphs")
    est.derive("avg", "dau * per_user / 86_400", "req/s", "a day is 86,400 s")
    est.derive("peak_rps", "avg * peak", "req/s")
    return est


def test_derive_computes_from_earlier_quantities() -> None:
    est = small()
    assert est["avg"] == pytest.approx(1e7 / 86_400)
    assert est["peak_rps"] == pytest.approx(3e7 / 86_400)
    assert [q.name for q in est.assumptions] == ["dau", "per_user", "peak"]
    assert [q.name for q in est.derived] == ["avg", "peak_rps"]
    assert est.quantity("avg").formula == "dau * per_user / 86_400"


def test_explain_prints_every_assumption_source_and_formula() -> None:
    text = small().explain()
    for fragment in ["toy", "product plan", "analytics", "dau * per_user / 86_400", "avg * peak",
                     "a day is 86,400 s", "347 req/s", "1M users"]:
        assert fragment in text
    assert text.index("Assumptions:") < text.index("Derived:")


def test_rows_hold_every_quantity() -> None:
    rows = small().rows()
    assert [r["name"] for r in rows] == ["dau", "per_user", "peak", "avg", "peak_rps"]
    assert rows[3]["formula"] == "dau * per_user / 86_400"


def test_assume_requires_a_source_and_a_fresh_identifier() -> None:
    est = small()
    with pytest.raises(ValueError, match="source"):
        est.assume("x", 1, "", " ")
    with pytest.raises(ValueError, match="already defined"):
        est.assume("dau", 2, "users", "again")
    with pytest.raises(ValueError, match="identifier"):
        est.assume("daily users", 2, "users", "plan")
    with pytest.raises(ValueError, match="finite"):
        est.assume("y", math.nan, "", "plan")
    with pytest.raises(TypeError, match="z must be a finite number, got str"):
        est.assume("z", "3", "", "plan")  # type: ignore[arg-type]


def test_derive_refuses_unknown_names_and_bad_arithmetic() -> None:
    est = small()
    with pytest.raises(ValueError, match="undefined names: nope"):
        est.derive("x", "dau * nope", "")
    est.assume("zero", 0, "", "test")
    with pytest.raises(ValueError, match="cannot compute 'y'"):
        est.derive("y", "dau / zero", "")
    assert "y" not in est


def test_with_assumptions_recomputes_and_leaves_the_original() -> None:
    est = small()
    other = est.with_assumptions(peak=6)
    assert other["peak_rps"] == pytest.approx(2 * est["peak_rps"])
    assert est["peak"] == 3
    assert "what-if" in other.quantity("peak").note
    with pytest.raises(ValueError, match="not assumptions"):
        est.with_assumptions(avg=1)


def test_sensitivity_ranks_by_swing_and_reports_ratios() -> None:
    est = Estimate("powers")
    est.assume("unused", 1, "", "t")  # defined in an order the ranking must change
    est.assume("c", 7, "", "t")
    est.assume("b", 5, "", "t")
    est.assume("a", 3, "", "t")
    est.derive("y", "a**2 * b / sqrt(c)", "")
    result = est.sensitivity("y")
    assert [s.assumption for s in result] == ["a", "b", "c", "unused"]
    a, b, c, unused = result
    assert (a.up, a.down) == (pytest.approx(4), pytest.approx(0.25))
    assert b.swing == pytest.approx(2)
    assert c.up == pytest.approx(2**-0.5)
    assert unused.up == unused.down == pytest.approx(1)
    assert est.depends_on("y") == {"a", "b", "c"}


def test_sensitivity_rejects_bad_factor_and_zero_target() -> None:
    est = small()
    with pytest.raises(ValueError, match=r"factor must be a finite number in \(1, "):
        est.sensitivity("avg", factor=1)
    est.assume("nothing", 0, "", "t")
    est.derive("zero", "nothing * 2", "")
    with pytest.raises(ValueError, match="is 0"):
        est.sensitivity("zero")
    with pytest.raises(ValueError, match="missing"):
        est.sensitivity("missing")


def test_sensitivity_reports_infinity_when_a_what_if_breaks_a_formula() -> None:
    est = Estimate("domain")
    est.assume("u", 0.75, "", "t")
    est.derive("spare", "1 / (1 - u) ", "")
    u = est.sensitivity("spare", factor=4 / 3)[0]
    assert u.up == math.inf and u.swing == math.inf


@pytest.mark.parametrize("bad", ["__import__('os')", "a.b", "a[0]", "a < b", "print(a)", "lambda: 1", "'x'",
                                 "ceil", "ceil()", "max(a, key=b)", "a if b else c", ""])
def test_formula_accepts_only_arithmetic(bad: str) -> None:
    with pytest.raises(ValueError, match="formula"):
        Formula(bad)


def test_formula_evaluates_and_lists_names() -> None:
    f = Formula("ceil(log(n * h) / log(62)) + max(a, 1) - -b // 2 + 2**3")
    assert f.names == {"n", "h", "a", "b"}
    # Python's own precedence: -b // 2 is (-3) // 2 == -2
    assert f.evaluate({"n": 36.5e9, "h": 10, "a": 0, "b": 3}) == 7 + 1 + 2 + 8
    with pytest.raises(KeyError, match="needs a"):
        Formula("a + b").evaluate({"b": 1})


def test_capacity_model_chain() -> None:
    est = capacity_model("svc", daily_active_users=1e6, reads_per_user=9, writes_per_user=1, object_size=1_000,
                         response_size=2_000, peak_factor=4, replication=3, hot_fraction=0.2, server_rps=100,
                         utilisation=0.5, years=2)
    assert est["requests_per_day"] == 1e7
    assert est["average_rps"] == pytest.approx(1e7 / 86_400)
    assert est["peak_rps"] == pytest.approx(4e7 / 86_400)
    assert est["peak_write_rps"] + est["peak_read_rps"] == pytest.approx(est["peak_rps"])
    assert est["storage_per_day"] == 1e6 * 1 * 1_000 * 3
    assert est["storage_per_year"] == 365 * 3e9
    assert est["storage_total"] == 2 * 365 * 3e9
    assert est["bandwidth_in"] == pytest.approx(est["peak_write_rps"] * 1_000)
    assert est["bandwidth_out"] == pytest.approx(est["peak_read_rps"] * 2_000)
    assert est["cache_size"] == pytest.approx(1e6 * 9 * 2_000 * 0.2)
    assert est["servers"] == math.ceil(4e7 / 86_400 / 50)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("utilisation", 0, r"utilisation must be a finite number in \(0, 1\]"),
     ("utilisation", 1.5, r"utilisation must be a finite number in \(0, 1\]"),
     ("peak_factor", 0.5, r"peak_factor must be a finite number in \[1, 1000\]"),
     ("replication", 0, r"replication must be a finite number in \[1, 100\]"),
     ("hot_fraction", 2, "hot_fraction"), ("server_rps", 0, r"server_rps must be a finite number in \(0, "),
     ("reads_per_user", -1, r"reads_per_user must be a finite number in \[0, "),
     ("daily_active_users", 1e19, "daily_active_users")],
)
def test_capacity_model_validates(field: str, value: float, match: str) -> None:
    args = dict(daily_active_users=1e6, reads_per_user=1, writes_per_user=1, object_size=1, response_size=1)
    args[field] = value
    with pytest.raises(ValueError, match=match):
        capacity_model("bad", **args)


def test_capacity_model_sources_override_notes() -> None:
    est = capacity_model("s", daily_active_users=1, reads_per_user=1, writes_per_user=1, object_size=1,
                         response_size=1, sources={"peak_factor": "measured last Black Friday"})
    assert est.quantity("peak_factor").note == "measured last Black Friday"
