"""Make the student edition of the labs: every cell tagged ``solution`` is blanked.

Usage: python scripts/student_edition.py [OUT_DIR]   (default: _build/student)
The instructor edition is the committed ``labs/`` (solutions filled in, outputs executed). In the
student edition each solution cell keeps its first comment line (the task) and gets a placeholder,
and every output is cleared so learners see their own results.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "# Your answer here. Replace the ... and run the check in the next cell.\n"


def blank(source: str) -> str:
    """Keep leading comment lines (the task), replace the code with a placeholder."""
    lines = source.splitlines()
    task = _leading_comments(lines)
    assigned = [line.split("=")[0].strip() for line in lines if _is_top_level_assignment(line)]
    assigned += [m.group(1) for line in lines if (m := re.match(r"(?:async )?def (\w+)\(", line))]
    body = [f"{name} = ..." for name in dict.fromkeys(assigned)]
    return "\n".join(task + [PLACEHOLDER.rstrip()] + body) + "\n"


def _leading_comments(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if not line.startswith("#"):
            break
        out.append(line)
    return out


def _is_top_level_assignment(line: str) -> bool:
    head = line.split("=")[0]
    return (
        "=" in line and not line.startswith((" ", "#", "\t")) and "==" not in line.split("#")[0]
        and head.strip().isidentifier()
    )


def make_student_edition(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((ROOT / "labs").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if "solution" in cell.metadata.get("tags", []):
                cell.source = blank(cell.source)
            cell.outputs = []
            cell.execution_count = None
        nb.metadata.pop("widgets", None)
        target = out_dir / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "student"
    for p in make_student_edition(out):
        print(p)
