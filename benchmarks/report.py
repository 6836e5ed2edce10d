"""Run every benchmark, write ``benchmarks/results/latest.json``, regenerate the README's tables.

    .venv/bin/python benchmarks/report.py run      # make bench: every bench_*.py, then render
    .venv/bin/python benchmarks/report.py render   # only regenerate README tables from latest.json
    .venv/bin/python benchmarks/report.py verify A.json B.json ...   # several make bench runs' latest.json:
        # writes results/verification.json (each target's worst figure in each run) and renders

Each ``bench_*.py`` runs in its own process with ``BENCH_OUT`` set to a scratch folder, where its
:class:`harness.Report` leaves ``<area>.json``; this script adds the machine (CPU model, cores,
Python build, load average before and after, date, commit) and writes one ``latest.json``. The
README's generated blocks lie between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` markers
(``machine``, ``targets``, and one per area): nothing between them is typed by hand.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LATEST = HERE / "results" / "latest.json"
VERIFICATION = HERE / "results" / "verification.json"
README = HERE / "README.md"
ORDER = ("ratelimit", "resilience", "sharding", "caching", "messaging")
SCRIPT_TIMEOUT = 900  # seconds per script


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                             timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict[str, Any]:
    build = platform.python_build()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({build[0]}, {build[1]})",
        "commit": git_commit(),
        "load_before": round(os.getloadavg()[0], 1),
        "busy_core": os.environ.get("BENCH_NOTE", ""),
    }


def run() -> int:
    info = machine()
    areas: dict[str, Any] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, BENCH_OUT=folder)
        # bench_lite.py (the labs in JupyterLite) is not one of them: it drives a browser for minutes (make lite-test)
        scripts = [HERE / f"bench_{area}.py" for area in ORDER]
        for script in scripts:
            print(f"== {script.relative_to(HERE.parent)}", flush=True)
            began = time.perf_counter()
            result = subprocess.run([sys.executable, str(script)], env=env, timeout=SCRIPT_TIMEOUT)
            if result.returncode:
                print(f"{script.name} failed (exit {result.returncode})", file=sys.stderr)
                return result.returncode
            part = Path(folder) / f"{script.stem[6:]}.json"
            if part.exists():
                area = json.loads(part.read_text())
                area["seconds"] = round(time.perf_counter() - began, 1)
                areas[area["area"]] = area
    info["load_after"] = round(os.getloadavg()[0], 1)
    info["seconds"] = round(time.perf_counter() - started, 1)
    LATEST.write_text(json.dumps({"machine": info, "areas": areas}, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {LATEST.relative_to(HERE.parent)} ({info['seconds']:.0f} s)")
    return render()


# -- rendering ---------------------------------------------------------------------------------
def num(x: float) -> str:
    if x == float("inf"):
        return "∞"
    size = abs(x)
    if size >= 1000:
        return f"{x:,.0f}"
    if size >= 100:
        return f"{x:.0f}"
    if size >= 10:
        return f"{x:.1f}"
    if size >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def spread(item: dict[str, Any]) -> str:
    return f"{num(item['median'])} ({num(item['min'])}–{num(item['max'])})"


def machine_block(data: dict[str, Any]) -> str:
    m = data["machine"]
    packages = sorted({f"{k} {v}" for area in data["areas"].values() for k, v in area["packages"].items()})
    runs = sorted({str(area["settings"].get("runs")) for area in data["areas"].values()})
    lines = [
        f"Measured {m['date']} on {m['system']}, {m['cpu']}, {m['cores']} cores; {m['python']}; commit "
        f"`{m['commit']}`; load average {m['load_before']} before, {m['load_after']} after; "
        f"{m['seconds']:.0f} s in all.",
    ]
    if m.get("busy_core"):
        lines.append(f"Conditions: {m['busy_core']}.")
    lines.append(f"Peers: {', '.join(packages)}. Runs per figure: {', '.join(runs)}.")
    return "\n".join(lines)


def targets_block(data: dict[str, Any]) -> str:
    rows = ["| area | target | bound | median (min–max) over runs | worst | runs met | verdict |",
            "|---|---|---|---:|---:|---:|---|"]
    for name, area in data["areas"].items():
        for t in area["targets"]:
            verdict = "met" if t["met"] else "**not met**"
            rows.append(f"| {name} | {t['label']} | {t['bound']} {t['unit']} | {spread(t)} {t['unit']} | "
                        f"{num(t['worst'])} | {t['met_runs']} of {len(t['runs'])} | {verdict} |")
    return "\n".join(rows)


def area_block(area: dict[str, Any]) -> str:
    """Ratios first (one row each), then the timings: CPU (or server) and wall side by side."""
    ratios = [f for f in area["figures"] if f["peer"]]
    out = []
    if ratios:
        out += ["| comparison (theirs / ours: above 1, ours is faster) | peer | clock | median (min–max) |",
                "|---|---|---|---:|"]
        out += [f"| {f['label']} | {f['peer']} | {f['clock']} | {spread(f)}× |" for f in ratios]
        out.append("")
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for f in area["figures"]:
        if f["peer"]:
            continue
        column = "wall" if f["clock"] == "wall" else "cpu"
        cell = rows.setdefault((f["label"], f["unit"]), {})
        cell[column] = spread(f)
        if column == "cpu":
            cell["clock"] = f["clock"]
    out += ["| figure | unit | CPU / server clock: median (min–max) | wall: median (min–max) |",
            "|---|---|---:|---:|"]
    for (label, unit), cell in rows.items():
        cpu = f"{cell['cpu']} ({cell['clock']})" if "cpu" in cell else ""
        out.append(f"| {label} | {unit} | {cpu} | {cell.get('wall', '')} |")
    settings = ", ".join(f"{k} {v}" for k, v in area["settings"].items())
    out += ["", f"Settings: {settings}; {area.get('seconds', '?')} s."]
    return "\n".join(out)


def verify(paths: list[str]) -> int:
    """Each target's worst figure in each of several ``make bench`` runs (their latest.json files)."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    targets: dict[tuple[str, str], dict[str, Any]] = {}
    for data in runs:
        for name, area in data["areas"].items():
            for t in area["targets"]:
                row = targets.setdefault((name, t["label"]), {"area": name, "label": t["label"], "bound": t["bound"],
                                                              "unit": t["unit"], "worst": [], "met": []})
                row["worst"].append(t["worst"])
                row["met"].append(t["met"])
    VERIFICATION.write_text(json.dumps({
        "runs": [{"date": d["machine"]["date"], "load_before": d["machine"]["load_before"],
                  "load_after": d["machine"]["load_after"], "seconds": d["machine"]["seconds"],
                  "conditions": d["machine"].get("busy_core", "")} for d in runs],
        "targets": list(targets.values())}, indent=1, ensure_ascii=False) + "\n")
    return render()


def verification_block(data: dict[str, Any]) -> str:
    runs = data["runs"]
    out = [f"{len(runs)} runs of `make bench`, {runs[0]['date']} to {runs[-1]['date']}, "
           f"{min(r['seconds'] for r in runs):.0f}–{max(r['seconds'] for r in runs):.0f} s each, load average "
           f"{min(r['load_before'] for r in runs)}–{max(r['load_before'] for r in runs)} at the start."]
    if runs[0]["conditions"]:
        out.append(f"Conditions: {runs[0]['conditions']}.")
    head = " | ".join(f"run {i + 1}" for i in range(len(runs)))
    out += ["", f"| area | target | bound | worst figure of each run: {head} | runs met |",
            "|---|---|---|" + "---:|" * len(runs) + "---:|"]
    for t in data["targets"]:
        cells = " | ".join(num(w) for w in t["worst"])
        met = sum(t["met"])
        verdict = f"{met} of {len(t['met'])}" if met == len(t["met"]) else f"**{met} of {len(t['met'])}**"
        out.append(f"| {t['area']} | {t['label']} | {t['bound']} {t['unit']} | {cells} | {verdict} |")
    return "\n".join(out)


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- bench:{re.escape(name)} -->\n).*?(<!-- /bench:{re.escape(name)} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- bench:{name} --> block")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def render() -> int:
    data = json.loads(LATEST.read_text())
    text = README.read_text()
    text = replace_block(text, "machine", machine_block(data))
    text = replace_block(text, "targets", targets_block(data))
    for name, area in data["areas"].items():
        text = replace_block(text, name, area_block(area))
    if VERIFICATION.exists():
        text = replace_block(text, "verification", verification_block(json.loads(VERIFICATION.read_text())))
    README.write_text(text)
    missed = [t["label"] for area in data["areas"].values() for t in area["targets"] if not t["met"]]
    print(f"regenerated {README.relative_to(HERE.parent)}: {len(missed)} target(s) not met in every run")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    if command == "verify":
        sys.exit(verify(sys.argv[2:]))
    sys.exit(run() if command == "run" else render())
