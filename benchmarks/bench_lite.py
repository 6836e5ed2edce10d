"""The labs in the browser: kernel start and run time of every lab in JupyterLite (Pyodide), offline.

Run: .venv/bin/python benchmarks/bench_lite.py [NN ...]   (builds _build/html/lite first if missing)

Each lab opens in a fresh browser context (as a reader's first visit to it, with the browser's HTTP cache
warm from the previous labs, as it would be on a second lab), in headless Debian Chromium with the
network cut off, served from 127.0.0.1 (tests/site/lite_browser.py). "kernel" is from navigation to the
Pyodide kernel answering; "run" is Run All until the kernel is idle, including the first cell's install of
`patterns` and its wheels. Goals (issue 10): kernel ready <= 40 s, each lab <= 60 s, on this 2-core machine.
Writes benchmarks/results/lite.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "site"))

from lite_browser import LITE, browser, lab_names, run_lab, serve  # noqa: E402

KERNEL_GOAL_S = 40.0
LAB_GOAL_S = 60.0


def main(argv: list[str]) -> int:
    if not (LITE / "index.html").is_file():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "lite.py"), "build"], check=True)
    names = [n for n in lab_names() if not argv or n[:2] in {a.zfill(2) for a in argv}]
    rows = []
    with serve() as base, browser() as chromium:
        version = chromium.version
        for name in names:
            run = run_lab(chromium, base, name)
            errors = run.errors()
            rows.append((name, run.kernel_s, run.run_s, len(errors)))
            print(f"{name}: kernel {run.kernel_s:.1f} s, run {run.run_s:.1f} s, errors {len(errors)}", flush=True)
    load = os.getloadavg()
    lines = [
        f"Run: `.venv/bin/python benchmarks/bench_lite.py` on {datetime.date.today()}, {platform.machine()}, "
        f"`nproc` = {os.cpu_count()}, Chromium {version}, Pyodide 0.27.7, jupyterlite-core 0.5.1; "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}.",
        "",
        "| lab | kernel ready (s) | all cells (s) | cells with errors | goals (40 s / 60 s) |",
        "|---|---:|---:|---:|---|",
    ]
    for name, kernel_s, run_s, errors in rows:
        met = "met" if kernel_s <= KERNEL_GOAL_S and run_s <= LAB_GOAL_S else "**missed**"
        met = met if errors == 0 else "(stopped at an error)"
        lines.append(f"| {name.removesuffix('.ipynb')} | {kernel_s:.1f} | {run_s:.1f} | {errors} | {met} |")
    if rows:
        kernels = sorted(r[1] for r in rows)
        runs = sorted(r[2] for r in rows)
        lines += ["", f"Kernel ready: median {kernels[len(kernels) // 2]:.1f} s, worst {kernels[-1]:.1f} s. "
                  f"All cells: median {runs[len(runs) // 2]:.1f} s, worst {runs[-1]:.1f} s."]
    report = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "results" / "lite.md").write_text(report)
    print(report)
    return 1 if any(r[3] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
