import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("student_edition", ROOT / "scripts" / "student_edition.py")
student_edition = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student_edition)


def test_blank_keeps_the_task_and_leaves_placeholders():
    source = (
        "# Exercise 2: pick a limit\n# (per second)\nanswer_2 = 40\ndef policy(x):\n    y = 1\n    return x\n"
    )
    out = student_edition.blank(source)
    assert out.startswith("# Exercise 2: pick a limit\n# (per second)\n")
    assert "answer_2 = ...\n" in out and "policy = ...\n" in out
    assert "40" not in out and "return x" not in out and "\ny = ..." not in out


def test_student_edition_blanks_every_solution_cell(tmp_path):
    written = student_edition.make_student_edition(tmp_path)
    labs = sorted((ROOT / "labs").glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in labs]
    for original, student in zip(labs, written, strict=True):
        before = nbformat.read(original, as_version=4)
        after = nbformat.read(student, as_version=4)
        for a, b in zip(before.cells, after.cells, strict=True):
            if b.cell_type != "code":
                continue
            assert b.outputs == [] and b.execution_count is None
            if "solution" in a.metadata.get("tags", []):
                assert student_edition.PLACEHOLDER.strip() in b.source
            else:
                assert a.source == b.source


@pytest.mark.slow
@pytest.mark.parametrize("lab", sorted((ROOT / "labs").glob("*.ipynb")), ids=lambda p: p.stem)
def test_student_edition_runs_to_the_end_and_every_checker_says_not_yet(lab, tmp_path, monkeypatch):
    """What a learner gets: every answer blanked, the lab still runs, and each check explains.

    Runs on the embedded engines: nbval already runs the instructor edition on the real servers.
    """
    from nbclient import NotebookClient

    from patterns import infra

    monkeypatch.delenv(infra.REDIS_URL_ENV, raising=False)
    monkeypatch.delenv(infra.KAFKA_BOOTSTRAP_ENV, raising=False)

    student = next(p for p in student_edition.make_student_edition(tmp_path) if p.name == lab.name)
    nb = nbformat.read(student, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(lab.parent)}}).execute()
    printed = "".join(
        out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert printed.count("✗") >= 3, f"{lab.name}: the blanked exercises did not all report 'not yet'"
