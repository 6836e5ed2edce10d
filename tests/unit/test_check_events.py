"""The lab-02 checkers accept right answers, reject wrong ones with a hint, and never raise."""

from __future__ import annotations

import pytest

from patterns.check import events as chk


def test_idle_members_is_measured_on_the_broker() -> None:
    assert chk.idle_members(3, 5) == 2
    assert chk.idle_members(3, 3) == 0
    assert chk.idle_members(6, 2) == 0


def test_idle_members_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_idle_members(2)
    assert not chk.check_idle_members(0)
    assert "one owner" in capsys.readouterr().out
    assert not chk.check_idle_members("2")
    assert not chk.check_idle_members(...)


def good_order(records) -> bool:
    last: dict[str, int] = {}
    for r in records:
        if r["seq"] <= last.get(r["key"], -1):
            return False
        last[r["key"]] = r["seq"]
    return True


def test_order_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_in_order_per_key(good_order)
    globally = lambda rs: [r["seq"] for r in rs] == sorted(r["seq"] for r in rs)  # noqa: E731
    assert not chk.check_in_order_per_key(globally)
    assert "DIFFERENT keys" in capsys.readouterr().out
    assert not chk.check_in_order_per_key(lambda rs: True)
    assert "last seq" in capsys.readouterr().out
    assert not chk.check_in_order_per_key(lambda rs: rs[0]["missing"])
    assert not chk.check_in_order_per_key(None)


def test_order_cases_contain_both_verdicts() -> None:
    import random

    verdicts = {want for _, want in chk._order_cases(random.Random(2))}
    assert verdicts == {True, False}


def revenue(events):
    seen, out = set(), {}
    for e in events:
        if e["event_id"] in seen or e["type"] != "OrderPlaced":
            continue
        seen.add(e["event_id"])
        c = e["data"]["customer"]
        out[c] = out.get(c, 0.0) + e["data"]["total"]
    return out


def test_revenue_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_revenue_projection(revenue)

    def no_dedup(events):
        out = {}
        for e in events:
            if e["type"] == "OrderPlaced":
                out[e["data"]["customer"]] = out.get(e["data"]["customer"], 0.0) + e["data"]["total"]
        return out

    assert not chk.check_revenue_projection(no_dedup)
    assert "already applied" in capsys.readouterr().out
    assert not chk.check_revenue_projection(lambda events: [])
    assert not chk.check_revenue_projection(...)


def test_revenue_cases_contain_duplicates() -> None:
    import random

    events, _ = chk._revenue_case(random.Random(0))
    ids = [e["event_id"] for e in events]
    assert len(ids) > len(set(ids))


def test_dead_letter_outcome_is_measured_on_the_broker() -> None:
    assert chk.dead_letter_outcome() == {"calls": 11, "dead_lettered": 2, "replayed": 2}
    assert chk.dead_letter_outcome(records=3, poison=(), flaky=()) == {"calls": 3, "dead_lettered": 0, "replayed": 0}
    assert chk.dead_letter_outcome(max_attempts=1, flaky=(4,))["dead_lettered"] == 3, "no retry: flaky dies too"


def test_dead_letter_checker(capsys: pytest.CaptureFixture[str]) -> None:
    assert chk.check_dead_letters({"calls": 11, "dead_lettered": 2, "replayed": 2})
    assert not chk.check_dead_letters({"calls": 11, "dead_lettered": 3, "replayed": 2})
    assert "succeeds on a retry" in capsys.readouterr().out
    assert not chk.check_dead_letters({"calls": 11, "dead_lettered": 2, "replayed": 4})
    assert "replay group commits" in capsys.readouterr().out
    for wrong in (..., None, (11, 2, 2), {"calls": 11}, {"calls": "11", "dead_lettered": 2, "replayed": 2}):
        assert not chk.check_dead_letters(wrong)
    assert "not answered yet" in capsys.readouterr().out
