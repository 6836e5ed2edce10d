"""scripts/grade.py: every submitted notebook in its own limited kernel, a verdict per exercise."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import grade  # noqa: E402
import student_edition  # noqa: E402

LAB = ROOT / "labs" / "12-interview-framework.ipynb"  # four exercises, a few seconds to run


def answer_cells(nb):
    return [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]


def submit(folder: Path, learner: str, nb) -> None:
    (folder / learner).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / learner / LAB.name)


def student(**answers: str):
    """The student edition with some answer cells (1-based) replaced."""
    nb = student_edition.student_notebook(LAB)
    cells = answer_cells(nb)
    for number, source in answers.items():
        cells[int(number.removeprefix("ex")) - 1].source = source
    return nb


def read_grid(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(newline="") as f:
        return {row.pop("learner"): row for row in csv.DictReader(f)}


def test_exercises_are_the_solution_cells_and_their_checkers():
    exercises = grade.exercises_of(LAB)
    assert [e.key for e in exercises] == ["12 ex1", "12 ex2", "12 ex3", "12 ex4"]
    assert exercises[0].title.startswith("Exercise 1:") and "check_chat_rps" in exercises[0].check_source


def test_submissions_are_found_per_learner_folder_or_per_file(tmp_path):
    for path in ("ada/12-x.ipynb", "ada/.ipynb_checkpoints/12-x-checkpoint.ipynb", "bob.ipynb",
                 "cy/new-versions/12-x.ipynb", "cy/work/10-y.ipynb"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("{}")
    found = [(learner, str(path.relative_to(tmp_path))) for learner, path in grade.find_submissions(tmp_path)]
    assert found == [("ada", "ada/12-x.ipynb"), ("bob", "bob.ipynb"), ("cy", "cy/work/10-y.ipynb")]
    labs = {"10-rate-limiting": Path(), "12-interview-framework": Path()}
    assert grade.lab_of(Path("12-copy.ipynb"), None, labs) == "12-interview-framework"
    assert grade.lab_of(Path("mine.ipynb"), {"metadata": {"patterns": {"lab": "10-rate-limiting"}}}, labs) == (
        "10-rate-limiting")
    assert grade.lab_of(Path("mine.ipynb"), {"metadata": {}}, labs) is None


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_room_of_notebooks_gets_one_clear_verdict_per_exercise(tmp_path):
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    instructor = nbformat.read(LAB, as_version=4)
    right = [c.source for c in answer_cells(instructor)]
    submit(subs, "ada-correct", instructor)
    submit(subs, "bob-blank", student_edition.student_notebook(LAB))
    submit(subs, "cy-raises", student(ex1=right[0], ex2='raise ValueError("boom")'))
    submit(subs, "dee-loops", student(ex3="while True:\n    pass"))
    (subs / "eve-not-json").mkdir()
    (subs / "eve-not-json" / LAB.name).write_text('{"cells": [ oops')
    submit(subs, "fay-prints", student(ex1=right[0] + '\nprint("x" * 5_000_000)'))
    submit(subs, "gus-memory", student(ex4="hog = bytearray(64 * 2**30)"))
    cheat = student()
    for i, cell in enumerate(cheat.cells):  # a learner who rewrote the checks to print ticks gets the real checks
        if "solution" in cell.metadata.get("tags", []):
            next(c for c in cheat.cells[i + 1 :] if c.cell_type == "code").source = 'print("✓ correct")'
    submit(subs, "ian-edits-checks", cheat)

    limits = grade.Limits(timeout=150, cell_timeout=5, cpu=100, memory_mb=3072, max_output_kb=64)
    results = grade.grade(subs, out, limits, jobs=2)
    grid = read_grid(out)
    columns = ["12 ex1", "12 ex2", "12 ex3", "12 ex4"]
    verdicts = {learner: [row[c] for c in columns] for learner, row in grid.items()}
    assert verdicts == {
        "ada-correct": ["pass"] * 4,
        "bob-blank": ["not yet"] * 4,
        "cy-raises": ["pass", "error", "not yet", "not yet"],
        "dee-loops": ["not yet", "not yet", "error", "not yet"],
        "eve-not-json": ["error"] * 4,
        "fay-prints": ["pass", "not yet", "not yet", "not yet"],
        "gus-memory": ["not yet", "not yet", "not yet", "error"],
        "ian-edits-checks": ["not yet"] * 4,
    }
    details = {(r.learner, n): detail for r in results for n, (_, detail) in r.verdicts.items()}
    assert details[("cy-raises", 2)] == "the answer cell: ValueError: boom"
    assert details[("dee-loops", 3)] == "the answer cell: timed out after 5 s"
    assert "not a valid notebook" in details[("eve-not-json", 1)]
    assert "MemoryError" in details[("gus-memory", 4)]
    assert "not answered yet" in details[("bob-blank", 1)]
    notes = {r.learner: " ".join(r.notes) for r in results}
    assert "printed more than 64 kB" in notes["fay-prints"]
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 2 and "pass rate per exercise" in html and "pass rate per learner" in html
    assert "boom" in html and (out / "details.csv").is_file()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_notebook_that_ignores_interrupts_is_stopped_by_the_wall_clock_limit(tmp_path):
    subs, out = tmp_path / "submissions", tmp_path / "grades"
    stubborn = "import time\nwhile True:\n    try:\n        time.sleep(0.01)\n    except KeyboardInterrupt:\n        pass"
    submit(subs, "hal-stubborn", student(ex1=stubborn))
    limits = grade.Limits(timeout=20, cell_timeout=3, cpu=100, memory_mb=3072, max_output_kb=64)
    import psutil

    # servers other tests' fixtures started in this process are not the grader's
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    (result,) = grade.grade(subs, out, limits, jobs=1)
    assert [v for v, _ in result.verdicts.values()] == ["error"] * 4
    assert "stopped after 20 s" in " ".join(result.notes)
    assert result.seconds < limits.timeout + 30  # the limit holds (with room for a slow machine)
    left = [c for c in psutil.Process().children(recursive=True) if c.pid not in before]
    assert left == []  # no worker or kernel left running
