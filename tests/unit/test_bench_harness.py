"""The benchmark harness and report renderer: order, bookkeeping and verdicts (no timing asserted)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def harness() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("harness")
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def report_module(harness: Any) -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("report")
    finally:
        sys.path.remove(str(BENCH))


def test_interleave_rotates_order_builds_fresh_and_closes_after_the_last_round(harness: Any) -> None:
    events: list[tuple[str, str]] = []

    class Contender:
        def __init__(self, name: str) -> None:
            self.name = name
            events.append(("build", name))

        def __call__(self) -> None:
            events.append(("call", self.name))

        def close(self) -> None:
            events.append(("close", self.name))

    timings = harness.interleave({"a": lambda: Contender("a"), "b": lambda: Contender("b")},
                                 runs=3, number=1, rounds=2)
    assert [len(t.cpu) for t in timings.values()] == [3, 3] and [len(t.wall) for t in timings.values()] == [3, 3]
    runs = [events[i:i + 8] for i in range(0, len(events), 8)]
    assert len(runs) == 3
    assert runs[0] == [("build", "a"), ("call", "a"), ("build", "b"), ("call", "b"),
                       ("call", "a"), ("close", "a"), ("call", "b"), ("close", "b")]
    assert runs[1][0] == ("build", "b")  # the order alternates from run to run
    assert runs[2][0] == ("build", "a")


def test_ratios_are_paired_and_targets_judge_every_run(harness: Any) -> None:
    assert harness.ratios([2.0, 6.0], [1.0, 2.0]) == [2.0, 3.0]
    report = harness.Report("demo", "Demo")
    assert report.target("fast enough", [2.1, 2.6, 1.9], "×", at_least=2) is False
    assert report.target("cheap enough", [0.3, 0.5], "µs", at_most=0.6) is True
    first, second = report.targets
    assert (first["met_runs"], first["worst"], first["bound"]) == (2, 1.9, "≥ 2")
    assert (second["met"], second["worst"], second["median"]) == (True, 0.5, 0.4)
    with pytest.raises(ValueError):
        report.target("both", [1.0], "×", at_least=1, at_most=2)


def test_report_saves_json_only_when_asked(harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = harness.Report("demo", "Demo", runs=5)
    report.figure("x", [1e-6, 2e-6, 3e-6], "µs", "thread", scale=1e6, peer="peer")
    monkeypatch.delenv("BENCH_OUT", raising=False)
    assert report.save() is None
    monkeypatch.setenv("BENCH_OUT", str(tmp_path))
    saved = json.loads(report.save().read_text())
    figure = saved["figures"][0]
    assert saved["settings"] == {"runs": 5}
    assert figure["clock"] == "thread CPU" and figure["peer"] == "peer"
    assert figure["median"] == pytest.approx(2.0) and figure["runs"] == pytest.approx([1.0, 2.0, 3.0])


def test_render_fills_only_the_marked_blocks(report_module: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    area = {"area": "demo", "title": "Demo", "packages": {"peerlib": "1.0"}, "settings": {"runs": 2},
            "seconds": 3.0,
            "figures": [{"group": "", "label": "ours vs peer", "unit": "×", "clock": "thread CPU", "peer": "peerlib",
                         "runs": [2.0, 3.0], "min": 2.0, "median": 2.5, "max": 3.0},
                        {"group": "", "label": "ours", "unit": "µs", "clock": "thread CPU", "peer": None,
                         "runs": [1.0, 1.0], "min": 1.0, "median": 1.0, "max": 1.0}],
            "targets": [{"label": "ours vs peer", "unit": "×", "bound": "≥ 2.5", "runs": [2.0, 3.0], "min": 2.0,
                         "median": 2.5, "max": 3.0, "worst": 2.0, "met_runs": 1, "met": False, "why": ""}]}
    data = {"machine": {"date": "2026-01-01 00:00 UTC", "system": "Linux", "cpu": "cpu", "cores": 2,
                        "python": "CPython", "commit": "abc", "load_before": 1.0, "load_after": 2.0,
                        "seconds": 10.0, "busy_core": ""}, "areas": {"demo": area}}
    latest, readme = tmp_path / "latest.json", tmp_path / "README.md"
    latest.write_text(json.dumps(data))
    blocks = "".join(f"<!-- bench:{name} -->\nstale\n<!-- /bench:{name} -->\n"
                     for name in ("machine", "targets", "demo"))
    readme.write_text("# Prose kept\n" + blocks)
    monkeypatch.setattr(report_module, "LATEST", latest)
    monkeypatch.setattr(report_module, "README", readme)
    monkeypatch.setattr(report_module, "HERE", tmp_path)
    monkeypatch.setattr(report_module, "VERIFICATION", tmp_path / "verification.json")
    report_module.render()
    text = readme.read_text()
    assert text.startswith("# Prose kept\n") and "stale" not in text
    assert "| demo | ours vs peer | ≥ 2.5 × | 2.50 (2.00–3.00) × | 2.00 | 1 of 2 | **not met** |" in text
    assert "| ours vs peer | peerlib | thread CPU | 2.50 (2.00–3.00)× |" in text
    report_module.render()  # idempotent: the blocks are replaced, not appended to
    assert readme.read_text() == text

    readme.write_text(text + "<!-- bench:verification -->\n<!-- /bench:verification -->\n")
    report_module.verify([str(latest), str(latest)])  # two make bench runs: each run's worst figure
    assert "| demo | ours vs peer | ≥ 2.5 × | 2.00 | 2.00 | **0 of 2** |" in readme.read_text()
