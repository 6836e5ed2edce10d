"""Every lab follows the course's conventions (CONTRIBUTING.md), checked on the committed notebooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LABS = sorted((ROOT / "labs").glob("*.ipynb"))
TOC = (ROOT / "_toc.yml").read_text()


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.fixture(params=LABS, ids=[p.stem for p in LABS])
def lab(request):
    return request.param, nbformat.read(request.param, as_version=4)


def test_there_are_labs():
    assert LABS


def test_lab_is_in_the_toc_beside_its_chapter(lab):
    path, _ = lab
    assert f"labs/{path.stem}" in TOC, f"{path.name} is not in _toc.yml"
    assert (ROOT / "chapters" / f"{path.stem}.md").is_file(), f"{path.name} has no chapter"


def test_every_code_cell_was_executed_without_errors(lab):
    path, nb = lab
    for cell in code_cells(nb):
        assert cell.execution_count is not None, f"{path.name}: unexecuted cell {cell.source[:60]!r}"
        tags = cell.metadata.get("tags", [])
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                assert "raises-exception" in tags, f"{path.name}: unexpected error in {cell.source[:60]!r}"


def test_at_least_80_percent_of_cells_with_output_are_compared(lab):
    path, nb = lab
    with_output = [c for c in code_cells(nb) if c.get("outputs")]
    ignored = [c for c in with_output if "nbval-ignore-output" in
               c.metadata.get("tags", [])]
    assert with_output, f"{path.name} shows no output at all"
    compared = 1 - len(ignored) / len(with_output)
    assert compared >= 0.8, f"{path.name}: only {compared:.0%} of cells with output are compared by nbval"


def test_at_least_three_exercises_each_followed_by_a_checker(lab):
    path, nb = lab
    cells = code_cells(nb)
    solutions = [i for i, c in enumerate(cells) if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 3, f"{path.name}: {len(solutions)} exercises (cells tagged 'solution'), need 3"
    for i in solutions:
        following = "\n".join(c.source for c in cells[i + 1 : i + 3])
        assert re.search(r"\bcheck_\w+\(", following), f"{path.name}: exercise {cells[i].source[:50]!r} has no checker"


def test_widget_with_a_static_figure(lab):
    path, nb = lab
    sources = "\n".join(c.source for c in code_cells(nb))
    assert "ipywidgets" in sources or "interact" in sources, f"{path.name} has no widget"
    pngs = sum("image/png" in out.get("data", {}) for c in code_cells(nb) for out in c.get("outputs", []))
    # an explorer saved by scripts/execute_labs.py carries its figures in the widget state
    frames = json.dumps(nb.metadata.get("widgets", {})).count('"ImageModel"')
    assert pngs + frames >= 1, f"{path.name} shows no static figure"


def test_sections_a_learner_expects(lab):
    path, nb = lab
    text = markdown(nb).lower()
    assert "objectives" in text or "you will" in text, f"{path.name} states no learning objectives"
    for heading in ("in production", "summary"):
        assert heading in text, f"{path.name} lacks a '{heading}' section"
    assert "further reading" in text or "sources" in text, f"{path.name} lacks further reading"


def test_labs_are_deterministic_no_sleep_no_unseeded_randomness(lab):
    path, nb = lab
    for cell in code_cells(nb):
        src = cell.source
        assert "time.sleep(" not in src, f"{path.name}: time.sleep in {src[:60]!r}"
        assert not re.search(r"\brandom\.(random|randint|choice|shuffle|uniform)\(", src), (
            f"{path.name}: module-level random without a seed in {src[:60]!r}"
        )


def test_instructor_only_cells_are_also_removed_from_the_website(lab):
    path, nb = lab
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "instructor-only" in tags:
            assert "remove-cell" in tags, f"{path.name}: an instructor-only cell would show on the site"
