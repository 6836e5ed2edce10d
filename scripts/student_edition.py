"""Make the student edition of the labs from the committed instructor edition.

Usage: python scripts/student_edition.py [OUT_DIR]   (default: _build/student)

The instructor edition is the committed ``labs/`` (answers filled in, outputs executed). The student
edition of a lab is the same notebook with:

* every cell tagged ``instructor-only`` removed (sentences such as "in this instructor edition the
  answers are filled in" live in such cells);
* every cell tagged ``solution`` blanked: its leading comment lines (the task) stay, a line says what
  to do, imports stay, each top-level assignment becomes ``name = ...`` and each function keeps its
  ``def`` line(s), its docstring and a ``raise NotImplementedError`` body. The exercise's checker
  (``patterns.check``) reports "not yet" for both placeholders;
* every output, execution count and saved widget state cleared, so learners see their own results;
* ``metadata.patterns = {"lab": <stem>, "edition": "student"}``, which the grader reads.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"
SOLUTION_TAG = "solution"
INSTRUCTOR_TAG = "instructor-only"
ASSIGN_HINT = "# Your answer: replace each ... below, then run the check in the next cell."
DEF_HINT = "# Your answer: write each function body below, then run the check in the next cell."
BOTH_HINT = (
    "# Your answer: write each function body and replace each ... below, then run the check in the\n"
    "# next cell."
)
STUB_BODY = "raise NotImplementedError  # replace this line with your code"


def blank(source: str) -> str:
    """The student version of one solution cell's source (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # not Python: keep only the task
        return "\n".join(_leading_comments(source.splitlines()) + [ASSIGN_HINT]) + "\n"
    lines = source.splitlines()
    blocks: list[tuple[str, str]] = []  # (kind, text): kind is "import", "def" or "assign"
    seen: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            blocks.append(("import", _segment(lines, node.lineno, node.end_lineno or node.lineno)))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            blocks.append(("def", _stub(source, lines, node)))
            seen.add(node.name)
        else:
            for name in _assigned_names(node):
                if name not in seen:
                    seen.add(name)
                    blocks.append(("assign", f"{name} = ..."))
    kinds = {kind for kind, _ in blocks}
    hint = BOTH_HINT if {"def", "assign"} <= kinds else DEF_HINT if "def" in kinds else ASSIGN_HINT
    out = _leading_comments(lines) + [hint]
    previous = ""
    for kind, text in blocks:
        if kind == "def" or previous == "def":
            out += ["", ""]  # two blank lines around a function, as ruff format writes them
        elif kind == "assign" and previous == "import":
            out.append("")
        out.append(text)
        previous = kind
    return "\n".join(out) + "\n"


def _leading_comments(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        if not line.startswith("#"):
            break
        out.append(line)
    return out


def _segment(lines: list[str], first: int, last: int) -> str:
    return "\n".join(lines[first - 1 : last])


def _assigned_names(node: ast.stmt) -> list[str]:
    """Names a top-level assignment binds (``a = ...``, ``a, b = ...``, ``a: int = ...``)."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    elif isinstance(node, ast.ClassDef):
        return [node.name]
    else:
        return []
    names: list[str] = []
    pending = list(targets)
    while pending:
        target = pending.pop(0)
        if isinstance(target, (ast.Tuple, ast.List)):
            pending[:0] = target.elts
        elif isinstance(target, ast.Starred):
            pending.insert(0, target.value)
        elif isinstance(target, ast.Name):
            names.append(target.id)
    return names


def _stub(source: str, lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The function's decorators and ``def`` line(s) as written, its docstring, and a
    ``raise NotImplementedError`` body."""
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
    end_line, end_col = _signature_end(source, node)
    header = lines[first - 1 : end_line]
    header[-1] = header[-1][:end_col]
    body = node.body[0]
    indent = " " * body.col_offset if body.lineno > end_line else "    "
    parts = header
    if (
        isinstance(body, ast.Expr)
        and isinstance(body.value, ast.Constant)
        and isinstance(body.value.value, str)
    ):
        if body.lineno > end_line:
            parts = parts + lines[body.lineno - 1 : body.end_lineno]
        else:  # a one-line ``def f(): "doc"``: put the docstring on its own line
            parts = parts + [indent + repr(body.value.value)]
    return "\n".join(parts + [indent + STUB_BODY])


def _signature_end(source: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, int]:
    """(line, column after) of the ``:`` that ends the ``def`` header: the first ``:`` outside
    brackets after the ``def`` keyword (annotations and default lambdas sit inside brackets or
    after ``->``)."""
    depth = 0
    started = False
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.start[0] < node.lineno:
            continue
        if not started:
            started = token.type == tokenize.NAME and token.string == "def"
            continue
        if token.type == tokenize.OP:
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
            elif token.string == ":" and depth == 0:
                return token.end
    raise ValueError(f"no end of the def header of {node.name}")  # pragma: no cover - parsed above


def student_notebook(path: Path) -> nbformat.NotebookNode:
    """The student edition of the lab at ``path`` (the file is not changed)."""
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if INSTRUCTOR_TAG in tags:
            continue
        if cell.cell_type == "code":
            if SOLUTION_TAG in tags:
                cell.source = blank(cell.source)
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    nb.metadata["patterns"] = {"lab": path.stem, "edition": "student"}
    return nb


def lab_paths(labs: Path = LABS) -> list[Path]:
    return sorted(labs.glob("[0-9][0-9]-*.ipynb"))


def make_student_edition(out_dir: Path, labs: Path = LABS) -> list[Path]:
    """Write the student edition of every lab in ``labs`` to ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in lab_paths(labs):
        target = out_dir / path.name
        nbformat.write(student_notebook(path), target)
        written.append(target)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "student"
    for p in make_student_edition(out):
        print(p)
