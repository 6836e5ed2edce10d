"""Set a lab up in the browser (JupyterLite on Pyodide); elsewhere there is nothing to do.

The in-browser edition of the labs (``make lite``) serves ``patterns`` and every wheel it needs from the
site itself. Each lab's first code cell is the same few lines (``SETUP_CELL`` below; a test keeps all
labs identical to it): under Pyodide it installs ``patterns`` without its dependencies, then calls
:func:`setup`, which installs what ``patterns`` requires. In JupyterLab, nbval and the book the
``if`` is false and the cell does nothing and prints nothing.

Why two steps: ``patterns`` asks for ``fakeredis[lua]``, and the Lua engine (``lupa``) does not exist
for the browser, so a plain install would fail looking for it. :func:`requirements` reads the
package's own metadata and drops the extras, so this list never drifts from ``pyproject.toml``; the
components that would run Lua take their pure-Python paths there (``patterns.compat``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any

__all__ = ["SETUP_CELL", "requirements", "setup"]

SETUP_CELL = """\
# In the browser (JupyterLite) this installs `patterns`; elsewhere it does nothing.
import sys

if sys.platform == "emscripten":
    import piplite

    await piplite.install("patterns", deps=False)
    from patterns.browser import setup

    await setup()"""

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def requirements(distribution: str = "patterns") -> list[str]:
    """The distribution's required packages (no optional extras), each without extras of its own.

    ``fakeredis[lua]>=2.26`` becomes ``fakeredis>=2.26``; ``kafka-python; extra == "kafka"`` is left
    out. Environment markers other than extras are kept for the installer to evaluate.
    """
    out: list[str] = []
    for line in metadata.requires(distribution) or []:
        spec, _, marker = line.partition(";")
        if "extra" in marker:
            continue
        match = _NAME.match(spec)
        if match is None:  # pragma: no cover - metadata always names a package
            raise ValueError(f"cannot read the requirement {line!r} of {distribution}")
        name, _extras, version = match.groups()
        requirement = name + version.replace(" ", "")
        out.append(f"{requirement}; {marker.strip()}" if marker.strip() else requirement)
    return out


async def setup(installer: Callable[..., Awaitable[Any]] | None = None) -> list[str]:
    """Install what ``patterns`` needs with JupyterLite's ``piplite``; return the requirements installed.

    ``installer`` defaults to ``piplite.install`` (only importable inside JupyterLite); tests pass
    their own. Everything comes from the site's own wheels: the build disables the PyPI fallback.
    """
    if installer is None:
        installer = importlib.import_module("piplite").install
    wanted = requirements()
    await installer(wanted)
    return wanted
