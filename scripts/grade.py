"""Where is the room stuck? Run every submitted lab notebook and report each exercise's checker verdict.

Usage: python scripts/grade.py SUBMISSIONS [--out grades] [--jobs N] [--timeout S] [--cell-timeout S]
                               [--cpu S] [--memory MB] [--max-output KB]
(``make grade SUBMISSIONS=dir``.)

SUBMISSIONS holds one folder per learner with the notebooks they worked in (a copy of their
``workspace/``), or notebooks directly (the learner is then the file name). Each notebook is matched to
its lab (the student edition records ``metadata.patterns.lab``; else the ``NN-`` file prefix) and run
top to bottom in its own kernel, in a separate process with limits: wall-clock per notebook and per
cell, CPU seconds and address space (memory) for the kernel, and a cap on the output kept per cell. The
exercise checkers (the cell after each ``solution`` cell) are run as the lab wrote them, whatever the
learner did to that cell, and each exercise gets one verdict:

* ``pass``: the checker printed ✓;
* ``not yet``: the checker printed ✗ (a blank answer, a wrong one, an unwritten function);
* ``error``: the answer cell or the checker raised, the kernel died or a limit stopped the notebook, or
  the file is not a notebook; the detail says which.

A notebook that raises, loops forever, prints megabytes or is not JSON gets its verdicts and never
stops the run. Output in ``--out``: ``grades.csv`` (one row per learner, one column per exercise),
``details.csv`` (one row per learner and exercise, with the detail) and ``report.html`` (pass rates per
exercise and per learner, bar charts, the grid). Learners' code runs on the embedded engines (every
PATTERNS_* variable is removed), in a fresh temporary folder per notebook. The limits are not a
sandbox: run it on a machine you are happy to lend to the learners' code.

nbgrader was evaluated first and not used: see CONTRIBUTING.md ("Grading a room").
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"
PASS, NOT_YET, ERROR, MISSING = "pass", "not yet", "error", "not submitted"
SOLUTION_TAG = "solution"
GRADER_KEY = "patterns_grader"


@dataclass(frozen=True)
class Exercise:
    lab: str
    number: int
    title: str
    check_source: str

    @property
    def key(self) -> str:
        """The column name: the lab's number and the exercise's, e.g. ``10 ex2``."""
        return f"{self.lab[:2]} ex{self.number}"


@dataclass
class Limits:
    timeout: float = 300.0  # wall-clock seconds for one notebook
    cell_timeout: float = 60.0  # wall-clock seconds for one cell (then the kernel is interrupted)
    cpu: int = 240  # CPU seconds for the kernel
    memory_mb: int = 3072  # address space of the kernel, MB
    max_output_kb: int = 256  # output kept per cell


@dataclass
class Result:
    learner: str
    lab: str
    path: str
    verdicts: dict[int, tuple[str, str]] = field(default_factory=dict)  # exercise -> (verdict, detail)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def exercises_of(lab: Path) -> list[Exercise]:
    """The exercises of an instructor-edition lab: each ``solution`` cell and the checker after it."""
    import nbformat

    nb = nbformat.read(lab, as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        checker = next(c for c in nb.cells[i + 1 :] if c.cell_type == "code")
        first = cell.source.splitlines()[0].lstrip("# ").strip() if cell.source else ""
        title = first or f"exercise {len(out) + 1}"
        out.append(Exercise(lab.stem, len(out) + 1, title, checker.source))
    return out


def find_submissions(folder: Path) -> Iterator[tuple[str, Path]]:
    """(learner, notebook) for every ``*.ipynb`` under ``folder`` (hidden folders and checkpoints skipped)."""
    for path in sorted(folder.rglob("*.ipynb")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") for p in parts) or "new-versions" in parts[:-1]:
            continue
        yield (parts[0] if len(parts) > 1 else path.stem), path


def lab_of(path: Path, nb: dict | None, labs: dict[str, Path]) -> str | None:
    """Which lab a submission is: the student edition's metadata, else the file's ``NN-`` prefix."""
    if nb is not None:
        recorded = nb.get("metadata", {}).get("patterns", {}).get("lab")
        if recorded in labs:
            return str(recorded)
    match = re.match(r"(\d\d)-", path.name)
    if match:
        for stem in labs:
            if stem.startswith(match.group(1) + "-"):
                return stem
    return None


def prepare(nb, exercises: list[Exercise]) -> tuple[object, list[str]]:
    """The notebook to run: the learner's cells, with each exercise's checker cell restored to what the
    lab wrote and marked; returns it and notes on checker cells that could not be found."""
    import nbformat

    notes = []
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    solutions = [i for i in code if SOLUTION_TAG in nb.cells[i].metadata.get("tags", [])]
    used: set[int] = set()
    for exercise in exercises:
        # the checker cell as the lab wrote it; else the code cell after the n-th solution cell
        index = next((i for i in code if i not in used and nb.cells[i].source.strip() == exercise.check_source.strip()), None)
        if index is None and len(solutions) >= exercise.number:
            after = [i for i in code if i > solutions[exercise.number - 1]]
            index = after[0] if after and after[0] not in solutions else None
        if index is None:
            nb.cells.append(nbformat.v4.new_code_cell(exercise.check_source))
            index = len(nb.cells) - 1
            notes.append(f"{exercise.key}: its check cell was missing; the lab's check was run at the end")
        used.add(index)
        cell = nb.cells[index]
        cell.source = exercise.check_source
        cell.metadata[GRADER_KEY] = {"exercise": exercise.number, "role": "check"}
        if len(solutions) >= exercise.number and solutions[exercise.number - 1] < index:
            nb.cells[solutions[exercise.number - 1]].metadata[GRADER_KEY] = {"exercise": exercise.number, "role": "answer"}
    return nb, notes


# ---------------------------------------------------------------- the worker (one notebook, one kernel)


def _limit_resources(limits: Limits) -> None:
    """In the worker before exec: limits the kernel it starts inherits (POSIX only)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu, limits.cpu + 5))
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def run_worker(notebook: Path, events: Path, cell_timeout: float, max_output: int) -> int:
    """Execute ``notebook`` cell by cell in a fresh kernel, appending one JSON line per graded cell,
    per failing cell and per stop to ``events`` (so a killed worker still leaves what it saw). The
    kernel works in ``work/`` beside ``notebook`` (in the parent's scratch folder, which the parent
    removes even when it had to kill this worker)."""
    import nbformat
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """Keeps at most ``max_output`` bytes of output per cell; notes the cells it cut."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.kept: dict[int, int] = {}
            self.cut: set[int] = set()

        def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]
            size = len(json.dumps(msg.get("content", {})))
            if msg["msg_type"] != "error" and self.kept.get(cell_index, 0) + size > max_output:
                self.cut.add(cell_index)
                return None
            self.kept[cell_index] = self.kept.get(cell_index, 0) + size
            return super().output(outs, msg, display_id, cell_index)

    nb = nbformat.read(notebook, as_version=4)
    workdir = notebook.parent / "work"
    workdir.mkdir(exist_ok=True)
    return _execute(nb, Client, str(workdir), events, cell_timeout, max_output)


def _execute(nb: Any, client_class: Any, workdir: str, events: Path, cell_timeout: float, max_output: int) -> int:
    from nbclient.exceptions import DeadKernelError

    client = client_class(
        nb, timeout=cell_timeout, interrupt_on_timeout=True, allow_errors=True, kernel_name="python3",
        resources={"metadata": {"path": workdir}}, iopub_timeout=5,
        error_on_timeout={"ename": "CellTimeout", "evalue": f"the cell ran longer than {cell_timeout:.0f} s",
                          "traceback": []},
    )
    with events.open("a") as log:

        def emit(**event: object) -> None:
            log.write(json.dumps(event) + "\n")
            log.flush()

        try:
            with client.setup_kernel():
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    started = time.monotonic()
                    try:
                        client.execute_cell(cell, index)
                    except DeadKernelError:
                        emit(kind="died", cell=index, detail="the kernel died (a CPU or memory limit, or a crash)")
                        return 0
                    timed_out = time.monotonic() - started >= cell_timeout
                    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
                    text += "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs
                                    if o.output_type == "execute_result")
                    errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
                    error = f"timed out after {cell_timeout:.0f} s" if timed_out else (errors[0] if errors else "")
                    if index in client.cut:
                        emit(kind="note", cell=index, detail=f"cell {index} printed more than {max_output // 1024} kB: the rest was dropped")
                    role = cell.metadata.get(GRADER_KEY)
                    if role:
                        emit(kind=role["role"], exercise=role["exercise"], text=text[-2000:], error=error)
                    elif error:
                        emit(kind="note", cell=index, detail=f"cell {index} raised {error}"[:300])
        except Exception as exc:  # the kernel could not start, a broken notebook...: report, do not crash
            emit(kind="died", cell=-1, detail=f"{type(exc).__name__}: {exc}"[:300])
    return 0


# ---------------------------------------------------------------- the parent: one worker per notebook


def grade_one(learner: str, path: Path, labs: dict[str, Path], exercises: dict[str, list[Exercise]],
              limits: Limits) -> Result:
    import nbformat

    started = time.monotonic()
    raw: dict | None = None
    problem = ""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"not a valid notebook (the file is not JSON: {exc})"
    except Exception as exc:  # nbformat's own complaints about the structure
        problem = f"not a valid notebook ({type(exc).__name__}: {str(exc)[:200]})"
    lab = lab_of(path, raw, labs)
    result = Result(learner, lab or "?", str(path))
    if lab is None:
        result.notes.append(problem or "not one of the labs (no metadata.patterns.lab, no NN- file prefix)")
        result.verdicts[0] = (ERROR, result.notes[-1])
        return result
    if problem:
        result.verdicts = {e.number: (ERROR, problem) for e in exercises[lab]}
        result.notes.append(problem)
        return result
    prepared, notes = prepare(nb, exercises[lab])
    result.notes += notes
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:
        notebook, events = Path(scratch) / "submission.ipynb", Path(scratch) / "events.jsonl"
        nbformat.write(prepared, notebook)
        events.touch()
        stopped = _run_limited(notebook, events, limits)
        lines = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
    answers = {e["exercise"]: e for e in lines if e["kind"] == "answer"}
    checks = {e["exercise"]: e for e in lines if e["kind"] == "check"}
    ended = next((e["detail"] for e in lines if e["kind"] == "died"), stopped)
    result.notes += [e["detail"] for e in lines if e["kind"] == "note"]
    if ended:
        result.notes.append(ended)
    for exercise in exercises[lab]:
        answer, check = answers.get(exercise.number), checks.get(exercise.number)
        if check is None:
            result.verdicts[exercise.number] = (ERROR, f"not reached: {ended or 'the notebook stopped before it'}")
        elif answer and answer["error"]:
            result.verdicts[exercise.number] = (ERROR, f"the answer cell: {answer['error']}")
        elif check["error"]:
            result.verdicts[exercise.number] = (ERROR, f"the check: {check['error']}")
        elif "✗" in check["text"]:
            result.verdicts[exercise.number] = (NOT_YET, _first_problem(check["text"]))
        elif "✓" in check["text"]:
            result.verdicts[exercise.number] = (PASS, "")
        else:
            result.verdicts[exercise.number] = (ERROR, "the check printed no verdict")
    result.seconds = time.monotonic() - started
    return result


def _first_problem(text: str) -> str:
    lines = [line.strip(" -") for line in text.splitlines() if line.strip()]
    after = [line for line in lines if not line.startswith("✗")]
    return (after[0] if after else lines[0] if lines else "")[:200]


def _run_limited(notebook: Path, events: Path, limits: Limits) -> str:
    """Run the worker with the limits; return why it was stopped ('' if it finished)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATTERNS_")}
    # fewer threads and malloc arenas: the address-space limit then measures data, not reservations
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    command = [sys.executable, __file__, "--worker", str(notebook), str(events),
               "--cell-timeout", str(limits.cell_timeout), "--max-output-kb", str(limits.max_output_kb)]
    preexec = None
    try:
        import resource  # noqa: F401 - POSIX only

        def preexec() -> None:
            _limit_resources(limits)
    except ImportError:  # Windows: no rlimits; the wall-clock limit still holds
        pass
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, preexec_fn=preexec, start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=limits.timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(process.pid)
        process.communicate()
        return f"stopped after {limits.timeout:.0f} s (the wall-clock limit per notebook)"
    _kill_tree(process.pid)  # a kernel left behind by a worker that died
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return f"the grader's worker failed (exit {process.returncode}): {tail[0][:200]}"
    return ""


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
        children = parent.children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for proc in [*children, parent]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs([*children, parent], timeout=5)


# ---------------------------------------------------------------- reports


def write_reports(out: Path, results: list[Result], exercises: dict[str, list[Exercise]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    graded_labs = sorted({r.lab for r in results if r.lab in exercises})
    columns = [e for lab in graded_labs for e in exercises[lab]]
    learners = sorted({r.learner for r in results})
    grid: dict[tuple[str, str], tuple[str, str]] = {}
    for r in results:
        for number, verdict in r.verdicts.items():
            if r.lab in exercises and number:
                grid[(r.learner, f"{r.lab[:2]} ex{number}")] = verdict
    with (out / "grades.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["learner"] + [e.key for e in columns])
        for learner in learners:
            writer.writerow([learner] + [grid.get((learner, e.key), (MISSING, ""))[0] for e in columns])
    with (out / "details.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["learner", "lab", "exercise", "verdict", "detail", "notebook", "seconds"])
        for r in sorted(results, key=lambda r: (r.learner, r.lab)):
            for number, (verdict, detail) in sorted(r.verdicts.items()):
                writer.writerow([r.learner, r.lab, number, verdict, detail, r.path, f"{r.seconds:.1f}"])
    (out / "report.html").write_text(_html(results, columns, learners, grid))


def _rate(verdicts: list[str]) -> float:
    return sum(v == PASS for v in verdicts) / len(verdicts) if verdicts else 0.0


def _bar_chart(labels: list[str], rates: list[float], title: str) -> str:
    """An inline SVG horizontal bar chart (matplotlib, no files, no network)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.3 * len(labels) + 1))
    ax.barh(range(len(labels)), [100 * r for r in rates], color="#3a7d44")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass rate (%)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _html(results: list[Result], columns: list[Exercise], learners: list[str],
          grid: dict[tuple[str, str], tuple[str, str]]) -> str:
    colours = {PASS: "#c8e6c9", NOT_YET: "#fff3c4", ERROR: "#ffcdd2", MISSING: "#eeeeee"}
    per_exercise = [[grid[(lr, e.key)][0] for lr in learners if (lr, e.key) in grid] for e in columns]
    per_learner = [[grid[(lr, e.key)][0] for e in columns if (lr, e.key) in grid] for lr in learners]
    rows = []
    for e, verdicts in zip(columns, per_exercise, strict=True):
        counts = {v: verdicts.count(v) for v in (PASS, NOT_YET, ERROR)}
        rows.append(f"<tr><td>{html.escape(e.key)}</td><td>{html.escape(e.title)}</td><td>{_rate(verdicts):.0%}</td>"
                    + "".join(f"<td>{counts[v]}</td>" for v in (PASS, NOT_YET, ERROR)) + "</tr>")
    learner_rows = [f"<tr><td>{html.escape(lr)}</td><td>{_rate(v):.0%}</td><td>{v.count(PASS)} / {len(v)}</td></tr>"
                    for lr, v in zip(learners, per_learner, strict=True)]
    head = "".join(f"<th title='{html.escape(e.title)}'>{html.escape(e.key)}</th>" for e in columns)
    grid_rows = []
    for lr in learners:
        cells = []
        for e in columns:
            verdict, detail = grid.get((lr, e.key), (MISSING, ""))
            cells.append(f"<td style='background:{colours[verdict]}' title='{html.escape(detail)}'>{verdict}</td>")
        grid_rows.append(f"<tr><th>{html.escape(lr)}</th>{''.join(cells)}</tr>")
    notes = [f"<li><b>{html.escape(r.learner)}</b> {html.escape(r.lab)}: {html.escape(n)}</li>"
             for r in results for n in r.notes]
    charts = ""
    if columns:
        charts += _bar_chart([e.key for e in columns], [_rate(v) for v in per_exercise], "pass rate per exercise")
        charts += _bar_chart(learners, [_rate(v) for v in per_learner], "pass rate per learner")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Where is the room stuck?</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 6px;font-size:10pt}}</style></head><body>
<h1>Where is the room stuck?</h1>
<p>{len(results)} notebooks, {len(learners)} learners, {len(columns)} exercises. Generated {time.strftime('%Y-%m-%d %H:%M')}.
Hover a cell of the grid for the checker's first complaint or the error.</p>
<h2>Per exercise</h2>
<table><tr><th>exercise</th><th>task</th><th>pass rate</th><th>pass</th><th>not yet</th><th>error</th></tr>{''.join(rows)}</table>
<h2>Per learner</h2>
<table><tr><th>learner</th><th>pass rate</th><th>passed</th></tr>{''.join(learner_rows)}</table>
<h2>Charts</h2>{charts}
<h2>The grid</h2>
<table><tr><th>learner</th>{head}</tr>{''.join(grid_rows)}</table>
<h2>Notes</h2><ul>{''.join(notes) or '<li>none</li>'}</ul>
</body></html>
"""


def grade(submissions: Path, out: Path, limits: Limits, jobs: int, labs_dir: Path = LABS) -> list[Result]:
    labs = {p.stem: p for p in sorted(labs_dir.glob("[0-9][0-9]-*.ipynb"))}
    exercises = {stem: exercises_of(path) for stem, path in labs.items()}
    found = list(find_submissions(submissions))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda item: grade_one(item[0], item[1], labs, exercises, limits), found))
    write_reports(out, results, exercises)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        worker = argparse.ArgumentParser()
        worker.add_argument("--worker", nargs=2)
        worker.add_argument("--cell-timeout", type=float)
        worker.add_argument("--max-output-kb", type=int)
        args = worker.parse_args(argv)
        return run_worker(Path(args.worker[0]), Path(args.worker[1]), args.cell_timeout, args.max_output_kb * 1024)
    defaults = Limits()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "grades")
    parser.add_argument("--labs", type=Path, default=LABS, help="the instructor edition (default: labs/)")
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--timeout", type=float, default=defaults.timeout, help="seconds per notebook")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout, help="seconds per cell")
    parser.add_argument("--cpu", type=int, default=defaults.cpu, help="CPU seconds per notebook's kernel")
    parser.add_argument("--memory", type=int, default=defaults.memory_mb, help="MB of address space per kernel")
    parser.add_argument("--max-output-kb", type=int, default=defaults.max_output_kb, help="output kept per cell")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    limits = Limits(args.timeout, args.cell_timeout, args.cpu, args.memory, args.max_output_kb)
    results = grade(args.submissions, args.out, limits, args.jobs, args.labs)
    counts = {v: sum(v == verdict for r in results for verdict, _ in r.verdicts.values()) for v in (PASS, NOT_YET, ERROR)}
    print(f"{len(results)} notebooks graded: {counts[PASS]} pass, {counts[NOT_YET]} not yet, {counts[ERROR]} error")
    print(f"{args.out / 'grades.csv'}, {args.out / 'details.csv'}, {args.out / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
