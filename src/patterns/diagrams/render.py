"""Render DOT to SVG with Graphviz's ``dot``, offline, and say clearly what to do when it is missing.

The book is built without network access, so diagrams are drawn by the Graphviz program installed
on the machine (Debian: ``apt-get install graphviz``), never by a web service. ``to_svg`` runs
``dot -Tsvg`` on the text and returns the SVG; identical text gives identical SVG.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from patterns._validate import require_text
from patterns.errors import PatternError

__all__ = ["GraphvizMissing", "GraphvizError", "dot_program", "to_svg", "INSTALL_HINT"]

INSTALL_HINT = (
    "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
    "or `conda install graphviz`; or set PATTERNS_DOT to the path of the `dot` program"
)


class GraphvizMissing(PatternError):
    """Graphviz's ``dot`` program is not installed (or not on PATH)."""


class GraphvizError(PatternError):
    """``dot`` refused the diagram (a syntax error in the DOT text); the message quotes its error."""


def dot_program() -> str:
    """The path of ``dot`` (``PATTERNS_DOT`` if set, else PATH); ``GraphvizMissing`` if there is none."""
    configured = os.environ.get("PATTERNS_DOT")
    found = shutil.which(configured or "dot")
    if found is None:
        where = f"PATTERNS_DOT={configured!r} is not an executable" if configured else "`dot` is not on PATH"
        raise GraphvizMissing(f"the book's diagrams are drawn by Graphviz at build time, but {where}: "
                              + INSTALL_HINT)
    return found


def to_svg(dot: str, *, timeout: float = 60.0, strict: bool = True) -> str:
    """Run ``dot -Tsvg`` on ``dot`` and return the SVG text.

    ``strict``: any message ``dot`` prints (a warning as well as an error) raises ``GraphvizError``,
    as the book build treats warnings as errors.
    """
    dot = require_text(dot, "dot", max_length=500_000)
    try:
        done = subprocess.run([dot_program(), "-Tsvg"], input=dot.encode(), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise GraphvizError(f"dot took more than {timeout:g} s to lay out the diagram") from exc
    errors = done.stderr.decode(errors="replace").strip()
    if done.returncode != 0:
        first = dot.strip().splitlines()[0] if dot.strip() else ""
        raise GraphvizError(f"dot failed (exit {done.returncode}) on the diagram starting {first!r}: {errors}")
    if errors and strict:  # a warning (an unknown attribute, a bad port) means the picture is not as written
        raise GraphvizError(f"dot warned about the diagram (strict): {errors}")
    return done.stdout.decode()
