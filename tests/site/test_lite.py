"""The in-browser edition (``_build/html/lite``, built by ``make lite`` and ``make book``), in Chromium.

Each chosen lab (``PATTERNS_LITE_LABS``: lab 10 by default, as in ``make test``; ``all`` in
``make lite-test``) opens in JupyterLite from 127.0.0.1 with the network cut off, its Pyodide kernel
starts, and every cell runs: no cell may raise (unless tagged ``raises-exception``) or stay unrun,
every checker of the student edition must answer "not yet" (not a traceback), and no request may
leave the machine or fail. Kernel-start and run times are written to ``_build/lite-times.json``
(``benchmarks/bench_lite.py`` prints them as a table); speed is not asserted here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from lite_browser import HTML, LITE, ROOT, browser, chosen_labs, lab_names, run_labs, serve

from patterns.browser import SETUP_CELL

TIMES = ROOT / "_build" / "lite-times.json"
BUDGET_MB = 150


@pytest.fixture(scope="module")
def site():
    assert (LITE / "index.html").is_file(), f"{LITE} missing: run `make lite` (or `make book`) first"
    with serve() as base, browser() as chromium:
        yield base, chromium


def record(run, workers: int) -> None:
    times = json.loads(TIMES.read_text()) if TIMES.is_file() else {}
    times[run.name] = {"kernel_s": round(run.kernel_s, 1), "run_s": round(run.run_s, 1), "workers": workers}
    TIMES.write_text(json.dumps(times, indent=1, sort_keys=True))


def test_the_lite_site_holds_every_lab_and_fits_its_budget():
    contents = sorted(p.name for p in (LITE / "files").glob("*.ipynb"))
    assert contents == lab_names()
    size_mb = sum(f.stat().st_size for f in LITE.rglob("*") if f.is_file()) / 1e6
    assert size_mb <= BUDGET_MB, f"the lite site is {size_mb:.1f} MB, over {BUDGET_MB} MB"


def _student_edition(out: Path) -> dict[str, Path]:
    spec = importlib.util.spec_from_file_location("student_edition", ROOT / "scripts" / "student_edition.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {path.name: path for path in module.make_student_edition(out)}


def test_the_site_serves_the_student_edition_of_every_lab(tmp_path):
    def sources(path: Path) -> list[str]:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return ["".join(c["source"]) for c in cells]

    expected = _student_edition(tmp_path)
    for name in lab_names():
        served = LITE / "files" / name
        assert sources(served) == sources(expected[name]), f"{name}: not the current student edition"
        code = [c for c in json.loads(served.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
        assert "".join(code[0]["source"]) == SETUP_CELL, f"{name}: the first cell sets the lab up"
        assert not any(c.get("outputs") for c in code), f"{name}: outputs are cleared"


@pytest.fixture(scope="module")
def lab_runs():
    """Every chosen lab, run once; ``PATTERNS_LITE_WORKERS`` at a time (default 2 when several: the
    two cores each drive one browser)."""
    assert (LITE / "index.html").is_file(), f"{LITE} missing: run `make lite` (or `make book`) first"
    names = chosen_labs()
    workers = int(os.environ.get("PATTERNS_LITE_WORKERS") or (2 if len(names) > 1 else 1))
    runs = run_labs(names, workers)
    for run in runs.values():
        if not isinstance(run, str):
            record(run, workers)
    return runs


@pytest.mark.slow
@pytest.mark.timeout(1800)  # the first test also waits for the module's labs to run
@pytest.mark.parametrize("name", chosen_labs())
def test_lab_runs_in_the_browser_offline(lab_runs, name):
    run = lab_runs[name]
    assert not isinstance(run, str), run
    print(f"{name}: kernel ready in {run.kernel_s:.1f} s, all cells in {run.run_s:.1f} s")
    assert run.errors() == [], f"{name} in the browser:\n" + "\n".join(run.errors())
    checks = run.checker_outputs()
    assert len(checks) >= 3, f"{name}: {len(checks)} checkers ran"
    for out in checks:
        assert re.search(r"not yet", out) and "Traceback" not in out, f"{name}: a checker said {out!r}"
    assert run.offline.elsewhere == [], f"{name} asked the network for {run.offline.elsewhere}"
    assert run.offline.failed == [] and run.offline.missing == [], (run.offline.failed, run.offline.missing)


# ---------------------------------------------------------------- the "Run in browser" buttons


def launch_links(page: Path) -> list[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [str(a["href"]) for a in soup.select("a.lite-launch")]


@pytest.mark.parametrize("name", lab_names())
def test_lab_and_chapter_pages_have_a_run_in_browser_button_to_their_lab(name):
    stem = name.removesuffix(".ipynb")
    for page in (HTML / "labs" / f"{stem}.html", HTML / "chapters" / f"{stem}.html"):
        assert page.is_file(), f"{page} missing: run `make book` first"
        links = launch_links(page)
        assert links, f"{page.relative_to(HTML)} has no 'Run in browser' button"
        for link in links:
            assert link.endswith(f"?path={name}"), link
            target = (page.parent / link.split("?")[0]).resolve()
            assert target.is_file() and LITE in target.parents, f"{link} does not lead into the lite site"


@pytest.mark.timeout(300)
def test_clicking_run_in_browser_on_the_lab_10_page_opens_lab_10(site):
    base, chromium = site
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/labs/10-rate-limiting.html")
        page.locator("a.lite-launch").first.click()
        page.wait_for_url("**/lite/**", timeout=60_000)
        opened = page.wait_for_function(
            """() => {
              const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
              if (!w || !w.context || !w.context.isReady || !w.content.widgets.length) return null;
              return {path: w.context.path, title: w.content.widgets[0].model.sharedModel.getSource()};
            }""",
            timeout=120_000,
        ).json_value()
        assert opened["path"] == "10-rate-limiting.ipynb"
        title = opened["title"]
        assert title.startswith("# Lab 10")
    finally:
        context.close()
