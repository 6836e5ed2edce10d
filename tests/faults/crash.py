"""A SIGKILL harness: run a Python snippet in a subprocess and kill it at the N-th executed line of
the code under test, the way a power cut or ``kill -9`` would (no ``finally``, no ``atexit``, no
flush of Python buffers; only what SQLite or the server already made durable survives).

    points = count_points(SCRIPT, watch="patterns/sharding/")          # a dry run
    for n in spread(points, 60):
        assert kill_at(SCRIPT, watch="patterns/sharding/", point=n).killed
        ...reopen the state and check the invariants...

``watch`` selects the files whose executed lines count as kill points (a path fragment, matched
against each frame's file name), so the kill lands *inside* the component, between any two of
its statements, not only at the boundaries the code's author thought of.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]

_PRELUDE = r'''
import os, signal, sys, threading
_WATCH = {watch!r}
_KILL_AT = {point}
_seen = 0
def _tracer(frame, event, arg):
    if _WATCH not in frame.f_code.co_filename:
        return None  # do not trace lines of other files
    return _local
def _local(frame, event, arg):
    global _seen
    if event == "line":
        _seen += 1
        if _seen == _KILL_AT:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    return _local
sys.settrace(_tracer)
threading.settrace(_tracer)
def _report():
    sys.stdout.write(f"\n@@points={{_seen}}\n")
import atexit
atexit.register(_report)
'''


@dataclass(frozen=True)
class Run:
    """How one subprocess run ended."""

    killed: bool
    returncode: int
    stdout: str
    stderr: str
    points: int | None  # executed watched lines (only known when the run finished)


def _run(script: str, watch: str, point: int, env: dict[str, str] | None, timeout: float) -> Run:
    code = _PRELUDE.format(watch=watch, point=point) + "\n" + textwrap.dedent(script)
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(_ROOT / "src"), str(_ROOT)] + ([full_env["PYTHONPATH"]] if full_env.get("PYTHONPATH") else [])
    )
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=timeout
    )
    killed = proc.returncode == -signal.SIGKILL
    points = None
    for line in proc.stdout.splitlines():
        if line.startswith("@@points="):
            points = int(line.split("=", 1)[1])
    stdout = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith("@@points="))
    return Run(killed, proc.returncode, stdout, proc.stderr, points)


def count_points(script: str, *, watch: str, env: dict[str, str] | None = None, timeout: float = 60) -> int:
    """Run ``script`` to the end (no kill) and return how many watched lines it executed."""
    run = _run(script, watch, 0, env, timeout)
    if run.returncode != 0 or run.points is None:
        raise AssertionError(f"dry run failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    return run.points


def kill_at(script: str, *, watch: str, point: int, env: dict[str, str] | None = None,
            timeout: float = 60) -> Run:
    """Run ``script`` and SIGKILL it at its ``point``-th executed watched line (1-based)."""
    if point < 1:
        raise ValueError(f"point must be >= 1, got {point}")
    return _run(script, watch, point, env, timeout)


def spread(total: int, count: int) -> list[int]:
    """``count`` kill points spread evenly over ``1..total`` (all of them if there are fewer)."""
    if total <= count:
        return list(range(1, total + 1))
    return sorted({1 + (i * (total - 1)) // (count - 1) for i in range(count)})
