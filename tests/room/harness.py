"""A workshop room in one machine: N learners run the same lab at once against ONE Redis and ONE broker.

Each learner is a process with its own ``PATTERNS_NAMESPACE`` (and, with ``--acl``, its own Redis ACL
user from ``scripts/workshop_servers.py``, who may touch only ``<namespace>:*`` keys). A process runs the
lab's code cells in order in an IPython shell (what a kernel does, without the kernel), the first cell
(imports) before a barrier and the rest after it, so the N processes hit the servers at the same time.
The learners are forked from one process that has imported what every lab imports (IPython, numpy,
matplotlib, the package), so a room pays for those imports once, not once per learner; each learner
then takes its own environment, connections and IPython shell.
Every printed output (sanitized as nbval sanitizes it, cells tagged ``nbval-ignore-output`` left out) is
compared with a solo run of the same lab in learner 1's namespace, which learner 1 then runs again in
the room (so a lab must also survive being run twice in one namespace).

A lab passes when the solo run raised nothing unexpected and every learner printed exactly what it
printed. A key outside the namespace shows up as a collision (another learner's data changed the
output) or, with ACL users, as NOPERM.

    python -m tests.room.harness [--processes 10] [--acl] [LAB ...]   (default: every lab that uses
    Redis or Kafka, plus tests/room/defaults.py: the package's Redis-backed components with default
    settings). Needs PATTERNS_REDIS_URL and PATTERNS_KAFKA_BOOTSTRAP unless --acl, which starts its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"
HERE = Path(__file__).resolve().parent
DEFAULTS = HERE / "defaults.py"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
#: What marks a lab as using the shared servers (and so worth running as a room).
USES_SERVERS = re.compile(r"redis_client|broker_from_env|KafkaBroker|Redis\w*Store|PATTERNS_REDIS_URL")


@dataclass
class Outcome:
    lab: str
    verdict: str  # "pass", "collide", "error"
    details: list[str] = field(default_factory=list)


def server_labs() -> list[Path]:
    """The labs whose code talks to Redis or Kafka."""
    out = []
    for path in sorted(LABS.glob("[0-9][0-9]-*.ipynb")):
        code = "".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                       for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        if USES_SERVERS.search(code):
            out.append(path)
    return out


def cells_of(path: Path) -> list[dict]:
    """[{source, ignore, raises}] for a notebook's code cells, or for a .py file split at ``# %%``."""
    if path.suffix == ".py":
        chunks = re.split(r"^# %%.*$", path.read_text(), flags=re.MULTILINE)
        code = [c for c in chunks if any(line.strip() and not line.lstrip().startswith("#") for line in c.splitlines())]
        return [{"source": c, "ignore": False, "raises": False} for c in code]
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [
        {"source": c.source, "ignore": "nbval-ignore-output" in c.metadata.get("tags", []),
         "raises": "raises-exception" in c.metadata.get("tags", [])}
        for c in nb.cells if c.cell_type == "code"
    ]


def _sanitizer():
    rules = re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE.read_text(), flags=re.MULTILINE)

    def sanitize(text: str) -> str:
        for regex, replace in rules:
            text = re.sub(regex, replace, text)
        return text

    return sanitize


# ---------------------------------------------------------------- one learner (a child process)


#: What the labs import, imported once by the process the learners are forked from.
PRELOAD = ("IPython.core.interactiveshell", "IPython.utils.capture", "numpy", "matplotlib.pyplot",
           "ipywidgets", "redis", "fakeredis", "sqlite_utils", "patterns", "patterns.messaging",
           "patterns.caching", "patterns.cqrs", "patterns.sagas", "patterns.ratelimit", "patterns.api")


def run_learners(path: Path, jobs: Path) -> int:
    """Import ``PRELOAD``, then fork one learner per job in ``jobs`` (JSON: [{env, out, err}]); each
    runs ``run_child`` with its own environment and stderr file. Returns once every learner ended."""
    import importlib
    import multiprocessing
    import threading
    import warnings

    os.environ.setdefault("MPLBACKEND", "Agg")
    warnings.simplefilter("ignore")
    for module in PRELOAD:
        importlib.import_module(module)
    learners = json.loads(jobs.read_text())
    barrier = multiprocessing.get_context("fork").Barrier(len(learners))

    def meet() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):  # a learner crashed early: go on
            barrier.wait(timeout=600)

    children = []
    for job in learners:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os._exit(_learner(path, job, meet))
        children.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    return 0 if not any(codes) else 1


def _learner(path: Path, job: dict[str, str], meet: Callable[[], object]) -> int:
    """One forked learner: its own environment and stderr file, nothing shared but the imports.
    Returns its exit code; ends as a normal exit would (atexit handlers: clients close)."""
    import atexit
    import traceback

    try:
        os.environ.clear()
        os.environ.update(job["env"])
        with open(job["err"], "w") as errors:
            os.dup2(errors.fileno(), 2)
        return run_child(path, Path(job["out"]), wait=meet)
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        atexit._run_exitfuncs()
        sys.stderr.flush()


def run_child(path: Path, out: Path, wait: Callable[[], object]) -> int:
    """Run ``path``'s cells; after the first, ``wait`` for the others (the barrier)."""
    import warnings

    warnings.simplefilter("ignore")  # warnings go to stderr, which is not compared anyway
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance(colors="NoColor")
    sanitize = _sanitizer()
    results = []
    for index, cell in enumerate(cells_of(path)):
        if index == 1:
            wait()
        with capture_output(stdout=True, stderr=False, display=True) as captured:
            run = shell.run_cell(cell["source"], store_history=True)
        text = captured.stdout + "".join(o.data.get("text/plain", "") + "\n" for o in captured.outputs)
        error = run.error_in_exec or run.error_before_exec
        results.append({
            "cell": index, "ignore": cell["ignore"], "raises": cell["raises"], "text": sanitize(text),
            "error": f"{type(error).__name__}: {sanitize(str(error))}"[:500] if error else "",
        })
    if len(results) <= 1:
        wait()
    out.write_text(json.dumps(results))
    return 0


# ---------------------------------------------------------------- the room (the parent)


def _run_together(path: Path, envs: list[dict[str, str]], scratch: Path, tag: str, timeout: float) -> list[list[dict] | str]:
    """One learner per env, forked from one process (``run_learners``), released together after their
    first cell; return each one's results (or why it has none)."""
    jobs = [{"env": {**env, "PYTHONPATH": str(ROOT)}, "out": str(scratch / f"{tag}-{i}.json"),
             "err": str(scratch / f"{tag}-{i}.err")} for i, env in enumerate(envs)]
    (scratch / f"{tag}.jobs").write_text(json.dumps(jobs))
    base = {k: v for k, v in os.environ.items() if not k.startswith("PATTERNS_")}
    with (scratch / f"{tag}.err").open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.room.harness", "--learners", str(path), str(scratch / f"{tag}.jobs")],
            cwd=ROOT, env={**base, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True,
        )
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # the forked learners too: they share the session
        process.wait()
        return [f"did not finish within {timeout:.0f} s"] * len(envs)
    outcomes: list[list[dict] | str] = []
    for job in jobs:
        out, err = Path(job["out"]), Path(job["err"])
        if out.exists():
            outcomes.append(json.loads(out.read_text()))
        else:
            lines = (err.read_text() if err.exists() else "").strip().splitlines()
            last = lines[-1:] or (scratch / f"{tag}.err").read_text().strip().splitlines()[-1:] or [""]
            outcomes.append(f"crashed: {last[0][:300]}")
    return outcomes


def run_room(path: Path, envs: list[dict[str, str]], timeout: float = 600.0) -> Outcome:
    """Solo run in ``envs[0]``'s namespace, then every env at once; compare cell by cell.

    Cells where the solo run itself raised (NOPERM: a key outside the namespace) are reported and
    left out of the comparison, so one failing component does not hide the others' results.
    """
    name = path.stem
    with tempfile.TemporaryDirectory(prefix="room-") as scratch:
        (solo,) = _run_together(path, envs[:1], Path(scratch), "solo", timeout)
        if isinstance(solo, str):
            return Outcome(name, "error", [f"solo run {solo}"])
        room = _run_together(path, envs, Path(scratch), "room", timeout)
    broken = {r["cell"] for r in solo if r["error"] and not r["raises"]}
    details = [f"solo run raised at cell {r['cell']}: {r['error']}" for r in solo if r["cell"] in broken]
    for learner, got in enumerate(room, 1):
        if isinstance(got, str):
            details.append(f"learner {learner}: {got}")
            continue
        for expected, actual in zip(solo, got, strict=True):
            if expected["ignore"] or expected["cell"] in broken:
                continue
            if (expected["text"], expected["error"]) != (actual["text"], actual["error"]):
                shown = actual["error"] or actual["text"]
                details.append(
                    f"learner {learner}, cell {actual['cell']}: printed {shown[:160]!r}, solo printed "
                    f"{(expected['error'] or expected['text'])[:160]!r}"
                )
                break
    if not details:
        return Outcome(name, "pass")
    failed = broken or any("crashed" in d or "NOPERM" in d or "no permissions" in d for d in details)
    return Outcome(name, "error" if failed else "collide", details)


def plain_envs(count: int) -> list[dict[str, str]]:
    """Learners on the servers named by PATTERNS_REDIS_URL / PATTERNS_KAFKA_BOOTSTRAP (no ACL)."""
    room = uuid.uuid4().hex[:6]
    base = {k: v for k, v in os.environ.items() if k != "PATTERNS_NAMESPACE"}
    return [{**base, "PATTERNS_NAMESPACE": f"room{room}-{i:02d}"} for i in range(1, count + 1)]


def roster_envs(roster: Path) -> list[dict[str, str]]:
    """Learners from a workshop roster: each with its own ACL user, namespace and broker address."""
    import csv

    with roster.open(newline="") as f:
        rows = list(csv.DictReader(f))
    base = {k: v for k, v in os.environ.items() if not k.startswith("PATTERNS_")}
    keys = ("PATTERNS_REDIS_URL", "PATTERNS_KAFKA_BOOTSTRAP", "PATTERNS_NAMESPACE")
    return [{**base, **{k: row[k] for k in keys}} for row in rows]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--learners"]:
        return run_learners(Path(argv[1]), Path(argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labs", nargs="*", type=Path)
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--acl", action="store_true", help="start workshop servers with an ACL user per learner")
    args = parser.parse_args(argv)
    targets = args.labs or [*server_labs(), DEFAULTS]
    outcomes = []
    if args.acl:
        with workshop_room(args.processes) as roster:
            envs = roster_envs(roster)
            outcomes = [run_room(t, envs) for t in targets]
    else:
        if not os.environ.get("PATTERNS_REDIS_URL"):
            parser.error("set PATTERNS_REDIS_URL (and PATTERNS_KAFKA_BOOTSTRAP), or use --acl")
        outcomes = [run_room(t, plain_envs(args.processes)) for t in targets]
    for o in outcomes:
        print(f"{o.lab}: {o.verdict}")
        for d in o.details[:4]:
            print(f"    {d}")
    return 0 if all(o.verdict == "pass" for o in outcomes) else 1


class workshop_room:
    """``with workshop_room(n) as roster:`` servers from scripts/workshop_servers.py on free ports."""

    def __init__(self, learners: int, kafka: bool = True) -> None:
        self.learners, self.kafka = learners, kafka

    def __enter__(self) -> Path:
        import socket

        def free_port() -> int:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                return int(s.getsockname()[1])

        self.dir = Path(tempfile.mkdtemp(prefix="room-servers-"))
        command = [sys.executable, str(ROOT / "scripts" / "workshop_servers.py"), "start", "--learners",
                   str(self.learners), "--dir", str(self.dir), "--redis-port", str(free_port()),
                   "--kafka-port", str(free_port())] + ([] if self.kafka else ["--no-kafka"])
        started = subprocess.run(command, capture_output=True, text=True)
        if started.returncode != 0:
            raise RuntimeError(f"workshop servers did not start: {started.stdout}{started.stderr}")
        return self.dir / "roster.csv"

    def __exit__(self, *exc: object) -> None:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "workshop_servers.py"), "stop", "--dir", str(self.dir)],
                       capture_output=True)
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)  # the roster holds passwords


if __name__ == "__main__":
    sys.exit(main())
