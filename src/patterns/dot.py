"""Render Graphviz DOT text offline (Debian's ``graphviz`` package provides the ``dot`` program).

Chapters draw their architecture and state diagrams from the package's own names (a function returns
DOT text) and render them here at build time; no web service is involved.
"""

from __future__ import annotations

__all__ = ["svg_of"]


def svg_of(dot_source: str) -> str:
    """Render Graphviz ``dot_source`` to SVG text with the ``dot`` program (Debian's graphviz)."""
    import shutil
    import subprocess

    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("the Graphviz 'dot' program is not installed (apt-get install graphviz)")
    done = subprocess.run([dot, "-Tsvg"], input=dot_source.encode(), capture_output=True, check=False,
                          timeout=30)
    if done.returncode != 0:
        raise ValueError(f"dot failed: {done.stderr.decode(errors='replace')[:500]}")
    return done.stdout.decode()
