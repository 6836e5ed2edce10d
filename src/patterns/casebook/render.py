"""Render a casebook ``Diagram`` to SVG with Graphviz's ``dot``, offline.

Graphviz is a system program (Debian's ``graphviz`` package), not a Python package: the book
build needs it, the labs do not (they never call this). Without ``dot`` the error says what to
install rather than failing inside ``subprocess``.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess

from patterns._validate import require_instance, require_seconds
from patterns.casebook.model import Diagram

__all__ = ["render_svg", "dot_available", "DiagramFigure"]


def dot_available() -> bool:
    """Whether Graphviz's ``dot`` is on the PATH (never in a browser kernel)."""
    return shutil.which("dot") is not None


def render_svg(diagram: Diagram, *, timeout: float = 30.0) -> str:
    """The diagram as an SVG document (text), drawn by ``dot -Tsvg``."""
    require_instance(diagram, "diagram", Diagram)
    require_seconds(timeout, "timeout", maximum=600.0)
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("Graphviz's `dot` is not installed: `apt-get install graphviz` "
                           "(Debian/Ubuntu) or `brew install graphviz` (macOS)")
    done = subprocess.run([exe, "-Tsvg"], input=diagram.to_dot(), capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed on {diagram.title!r}: {done.stderr.strip()[:300]}")
    svg = done.stdout
    return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG element is enough


class DiagramFigure:
    """A rendered diagram for a notebook or a book page: an ``<img>`` of the SVG with its alt text.

    The SVG is inlined as a data URI, so the page needs no extra file and no network, and the alt
    text comes from ``Diagram.alt_text()``: it cannot drift from the drawing.
    """

    def __init__(self, diagram: Diagram) -> None:
        self.diagram = require_instance(diagram, "diagram", Diagram)
        self.svg = render_svg(diagram)

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.svg.encode()).decode()
        alt = html.escape(self.diagram.alt_text(), quote=True)
        return (f'<img class="casebook-diagram" alt="{alt}" src="data:image/svg+xml;base64,{data}" '
                f'style="max-width: 100%; height: auto">')

    def __repr__(self) -> str:
        return f"DiagramFigure({self.diagram.title!r})"
