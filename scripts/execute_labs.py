"""Execute labs in place, so they are committed with fresh outputs and widget state.

Usage: python scripts/execute_labs.py [labs/NN-topic.ipynb ...]   (default: every lab)
Each lab must run top to bottom in under 20 seconds; the time taken is printed.
Explorers are saved in their static-site form (``PATTERNS_STATIC_EXPLORERS=1``, see
``patterns.explorer``): figures drawn in advance for a grid of slider values, switched in the browser.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from patterns.explorer import STATIC_ENV

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 20.0


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


def main(argv: list[str]) -> int:
    os.environ[STATIC_ENV] = "1"  # inherited by the kernels nbclient starts
    paths = [Path(a) for a in argv] or sorted((ROOT / "labs").glob("*.ipynb"))
    slow = []
    for path in paths:
        elapsed = execute(path)
        flag = "" if elapsed < BUDGET_SECONDS else f"  (over the {BUDGET_SECONDS:.0f} s budget)"
        print(f"{path.name}: {elapsed:.1f} s{flag}")
        if elapsed >= BUDGET_SECONDS:
            slow.append(path.name)
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
