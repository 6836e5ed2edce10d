"""What the running Python can do: threads, Lua scripting on the embedded Redis, sockets.

The labs also run in the browser (JupyterLite on Pyodide), where ``threading.Thread.start`` raises,
``lupa`` (the Lua engine fakeredis uses for ``EVAL``) is missing and there are no sockets. Components
that need one of these ask here and take a single-threaded or pure-Python path instead, printing the
same results. ``PATTERNS_BROWSER_MODE=1`` forces the browser paths on CPython, so tests keep them
honest.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

__all__ = [
    "BROWSER_MODE_ENV",
    "in_browser",
    "threads_available",
    "sockets_available",
    "lua_available",
]

BROWSER_MODE_ENV = "PATTERNS_BROWSER_MODE"


def in_browser() -> bool:
    """True under Pyodide/Emscripten, or when ``PATTERNS_BROWSER_MODE=1`` forces the browser paths."""
    return sys.platform == "emscripten" or os.environ.get(BROWSER_MODE_ENV, "") == "1"


def threads_available() -> bool:
    """Whether ``threading.Thread.start`` works here (not in Pyodide)."""
    return not in_browser()


def sockets_available() -> bool:
    """Whether TCP sockets to localhost work here (not in Pyodide)."""
    return not in_browser()


def lua_available(client: Any) -> bool:
    """Whether ``client`` can run Lua scripts: always on a real Redis; on fakeredis only with lupa."""
    module = type(client).__module__
    if not module.startswith("fakeredis"):
        return True
    return not in_browser() and importlib.util.find_spec("lupa") is not None
