"""How long each lab takes in a room: measured sizes, a measured run, and the minutes they add up to.

Usage: python scripts/lab_times.py [--run]

For each lab it measures what a learner has to get through: the words of prose, the code cells and
their lines, and the exercises; with ``--run`` also the seconds the student edition takes to run top to
bottom here (nbclient, embedded engines). It turns them into minutes at fixed rates (below), which is
the lab time ``book/workshop.md``'s agendas are built from; ``tests/unit/test_workshop_guide.py``
checks that the guide's table still matches. The rates are the assumption, the sizes the measurement:
replace the minutes with your own dry run's where they differ.
"""

from __future__ import annotations

import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import student_edition  # noqa: E402

WORDS_PER_MINUTE = 120  # careful reading of technical prose, with a figure to look at now and then
CODE_LINES_PER_MINUTE = 10  # reading a cell, predicting, running it and reading what it printed
MINUTES_PER_EXERCISE = 8  # a first attempt, the checker's message, one fix
DEBRIEF_MINUTES = 10  # the instructor's wrap-up: the "in production" section, questions


@dataclass(frozen=True)
class LabSize:
    lab: str
    words: int
    code_cells: int
    code_lines: int
    exercises: int

    @property
    def minutes(self) -> int:
        """Minutes in a room, rounded up to 5."""
        raw = (self.words / WORDS_PER_MINUTE + self.code_lines / CODE_LINES_PER_MINUTE
               + self.exercises * MINUTES_PER_EXERCISE + DEBRIEF_MINUTES)
        return 5 * math.ceil(raw / 5)


def measure(path: Path) -> LabSize:
    nb = student_edition.student_notebook(path)
    prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    # plotting plumbing (hide-input) and the browser setup cell (remove-cell): run, not read
    plumbing = {"hide-input", "remove-cell"}
    hidden = [c for c in code if plumbing & set(c.metadata.get("tags", []))]
    lines = sum(len([ln for ln in c.source.splitlines() if ln.strip()]) for c in code if c not in hidden)
    exercises = sum(student_edition.SOLUTION_TAG in c.metadata.get("tags", []) for c in code)
    return LabSize(path.stem, len(re.findall(r"[A-Za-z0-9']+", prose)), len(code), lines, exercises)


def run_seconds(path: Path) -> float:
    from nbclient import NotebookClient

    nb = student_edition.student_notebook(path)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def table(sizes: list[LabSize], seconds: dict[str, float] | None = None) -> str:
    head = "| lab | words | code cells | code lines | exercises | minutes |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if seconds:
        head += " runs in (s) |"
        rule += "---:|"
    rows = []
    for s in sizes:
        row = f"| {s.lab} | {s.words} | {s.code_cells} | {s.code_lines} | {s.exercises} | {s.minutes} |"
        if seconds:
            row += f" {seconds[s.lab]:.0f} |"
        rows.append(row)
    return "\n".join([head, rule, *rows])


def main(argv: list[str]) -> int:
    labs = student_edition.lab_paths()
    sizes = [measure(p) for p in labs]
    seconds = {p.stem: run_seconds(p) for p in labs} if "--run" in argv else None
    print(table(sizes, seconds))
    print(f"\nrates: {WORDS_PER_MINUTE} words/min, {CODE_LINES_PER_MINUTE} code lines/min, "
          f"{MINUTES_PER_EXERCISE} min per exercise, {DEBRIEF_MINUTES} min debrief; total "
          f"{sum(s.minutes for s in sizes)} min")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
