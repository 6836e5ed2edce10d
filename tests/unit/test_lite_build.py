"""The in-browser edition's build (scripts/lite.py) and first cell (patterns.browser), without a browser.

The hash checks are exercised on small files made here, so they need no network; the end-to-end runs
in Chromium are in tests/site/test_lite.py.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import types
import zipfile
from pathlib import Path

import nbformat
import pytest

from patterns import browser

ROOT = Path(__file__).resolve().parents[2]
LABS = sorted((ROOT / "labs").glob("*.ipynb"))


def _load_lite():
    spec = importlib.util.spec_from_file_location("lite_script", ROOT / "scripts" / "lite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lite = _load_lite()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- pins and hash checks


def test_every_pin_names_a_version_a_file_and_a_sha256():
    pins = lite.load_pins()
    entries = [pins["pyodide"], pins["pyodide_packages"], pins["msgpack"], *pins["wheels"].values()]
    for entry in entries:
        assert len(entry["sha256"]) == 64 and int(entry["sha256"], 16) >= 0, entry
        assert entry["file"], entry
    assert "@" in pins["pyodide"]["npm"] and "==" in pins["pyodide_packages"]["pypi"]
    assert all("==" in spec for spec in pins["wheels"]), "every wheel is pinned to one version"
    assert all(w["file"].endswith("-none-any.whl") for w in pins["wheels"].values()), "pure-Python only"


def test_verify_names_the_file_whose_hash_differs(tmp_path):
    path = tmp_path / "numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl"
    path.write_bytes(b"not numpy")
    assert lite.verify(path, sha(b"not numpy")) == path
    with pytest.raises(lite.HashMismatch, match=r"numpy-2\.0\.2-cp312-cp312-pyodide_2024_0_wasm32\.whl"):
        lite.verify(path, sha(b"numpy"))


@pytest.mark.parametrize("npm", [True, False], ids=["npm", "no-npm"])
def test_a_tampered_download_fails_the_build_with_a_message_naming_the_file(tmp_path, npm):
    """`make lite` runs scripts/lite.py: a cached download whose bytes changed stops it (exit 1)."""
    pins = lite.load_pins()
    first = pins["pyodide" if npm else "pyodide_packages"]["file"]  # the first file each path checks
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / first).write_bytes(b"a file someone swapped")
    env = {"PATH": "/usr/bin:/bin", "PATTERNS_LITE_CACHE": str(cache)}
    if not npm:
        env["PATTERNS_LITE_NO_NPM"] = "1"
    elif shutil.which("npm", path=env["PATH"]) is None:
        pytest.skip("npm is not installed")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lite.py"), "fetch"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )
    assert result.returncode == 1
    assert f"{first}: sha256" in result.stderr
    assert "does not match" in result.stderr


def _fake_release(tmp_path: Path, wheels: dict[str, bytes], locked: dict[str, bytes]) -> tuple[Path, Path, dict]:
    """An npm-like tarball with a lock listing ``locked`` hashes, and a PyPI-like carrier of ``wheels``."""
    lock = {
        "info": {"version": "0.0.0"},
        "packages": {
            "numpy": {"file_name": "numpy.whl", "sha256": sha(locked["numpy.whl"]), "depends": []},
            "Pygments": {"file_name": "pygments.whl", "sha256": sha(locked["pygments.whl"]), "depends": []},
            "ipython": {"file_name": "ipython.whl", "sha256": sha(locked["ipython.whl"]),
                        "depends": ["pygments", "prompt_toolkit"]},
            "prompt-toolkit": {"file_name": "pt.whl", "sha256": sha(locked["pt.whl"]), "depends": []},
            "scipy": {"file_name": "scipy.whl", "sha256": sha(b"scipy"), "depends": []},
        },
    }
    tgz = tmp_path / "pyodide.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for name, data in [("pyodide.js", b"js"), ("pyodide-lock.json", json.dumps(lock).encode())]:
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    carrier = tmp_path / "carrier.whl"
    with zipfile.ZipFile(carrier, "w") as zf:
        for name, data in {**wheels, "pyodide.js": wheels.get("pyodide.js", b"js")}.items():
            zf.writestr(f"assets/pyodide/{name}", data)
    pins = {
        "pyodide": {"npm": "pyodide@0.0.0", "core": {"pyodide.js": sha(b"js")}},
        "pyodide_packages": {"folder": "assets/pyodide/", "roots": ["numpy", "ipython"]},
    }
    committed = tmp_path / "pyodide-lock.json"
    committed.write_text(lite.lock_text(lite.pruned_lock(lock, pins["pyodide_packages"]["roots"])))
    return tgz, carrier, pins


GOOD = {"numpy.whl": b"numpy", "pygments.whl": b"pygments", "ipython.whl": b"ipython", "pt.whl": b"pt"}


@pytest.mark.parametrize("npm", [True, False], ids=["npm", "no-npm"])
def test_pyodide_packages_are_checked_against_the_official_lock_and_the_lock_is_pruned(tmp_path, npm):
    tgz, carrier, pins = _fake_release(tmp_path, GOOD, GOOD)
    dest = tmp_path / "pyodide"
    kept = lite.assemble_pyodide(tgz if npm else None, carrier, pins, dest, tmp_path / "pyodide-lock.json")
    assert kept == ["Pygments", "ipython", "numpy", "prompt-toolkit"]  # the closure, names as the lock has them
    lock = json.loads((dest / "pyodide-lock.json").read_text())
    assert sorted(lock["packages"]) == kept, "nothing outside the closure is left for the loader to look up"
    assert (dest / "numpy.whl").read_bytes() == b"numpy" and not (dest / "scipy.whl").exists()
    assert (dest / "pyodide.js").read_bytes() == b"js"


@pytest.mark.parametrize("npm", [True, False], ids=["npm", "no-npm"])
def test_a_package_wheel_that_differs_from_the_lock_stops_the_build_naming_it(tmp_path, npm):
    tampered = dict(GOOD, **{"pt.whl": b"prompt toolkit with a surprise"})
    tgz, carrier, pins = _fake_release(tmp_path, tampered, GOOD)
    with pytest.raises(lite.HashMismatch, match=r"^pt\.whl: sha256 .* official"):
        lite.assemble_pyodide(tgz if npm else None, carrier, pins, tmp_path / "out", tmp_path / "pyodide-lock.json")


def test_without_npm_a_core_file_that_differs_from_the_npm_release_stops_the_build(tmp_path):
    tgz, carrier, pins = _fake_release(tmp_path, dict(GOOD, **{"pyodide.js": b"js with a surprise"}), GOOD)
    with pytest.raises(lite.HashMismatch, match=r"^pyodide\.js: sha256"):
        lite.assemble_pyodide(None, carrier, pins, tmp_path / "out", tmp_path / "pyodide-lock.json")


def test_a_committed_lock_that_is_not_the_official_one_pruned_stops_the_build(tmp_path):
    tgz, carrier, pins = _fake_release(tmp_path, GOOD, GOOD)
    committed = tmp_path / "pyodide-lock.json"
    committed.write_text(committed.read_text().replace(sha(b"numpy"), sha(b"another numpy")))
    with pytest.raises(lite.HashMismatch, match=r"^pyodide-lock\.json: .* scripts/lite\.py lock"):
        lite.assemble_pyodide(tgz, carrier, pins, tmp_path / "out", committed)


def test_the_committed_lock_lists_only_the_closure_of_the_pinned_roots():
    lock = json.loads((ROOT / "lite" / "pyodide-lock.json").read_text())
    roots = lite.load_pins()["pyodide_packages"]["roots"]
    assert sorted(lock["packages"]) == lite.closure(lock["packages"], roots)
    assert lock["info"]["version"] == lite.load_pins()["pyodide"]["npm"].split("@")[1]


def test_a_root_missing_from_the_lock_is_an_error():
    with pytest.raises(KeyError, match="lupa"):
        lite.closure({"numpy": {"depends": []}}, ["numpy", "lupa"])


def test_the_built_index_is_newer_than_the_build_inputs(tmp_path, monkeypatch):
    """`make lite-test` rebuilds only when an input is newer than lite/index.html; jupyter lite build
    leaves that file with its packaged 1985 mtime, so the build must stamp it."""
    out = tmp_path / "out"

    def jupyter_lite_build(argv, cwd):
        out.mkdir()
        (out / "index.html").write_text("<html></html>")
        os.utime(out / "index.html", (499_000_000, 499_000_000))  # 1985, as the app's files come

    monkeypatch.setattr(lite, "load_pins", dict)
    monkeypatch.setattr(lite, "fetch", lambda pins, cache: {"wheels": [], "msgpack": None,
                                                            "pyodide": None, "pyodide_packages": None})
    monkeypatch.setattr(lite, "build_wheels", lambda sdist, dest: [])
    monkeypatch.setattr(lite, "assemble_pyodide", lambda *args: None)
    monkeypatch.setattr(lite, "student_labs", lambda dest: [])
    monkeypatch.setattr(lite, "run", jupyter_lite_build)
    lite.build(out, stage=tmp_path / "stage")
    assert (out / "index.html").stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime


# ---------------------------------------------------------------- the first cell of every lab


def test_requirements_are_the_packages_own_without_extras():
    reqs = browser.requirements()
    names = [r.split(">")[0].split("=")[0].split(";")[0] for r in reqs]
    assert "fakeredis" in names and "numpy" in names
    assert not any("[" in r for r in reqs), "fakeredis[lua] would ask for lupa, which has no browser build"
    assert not any("kafka" in r or "pytest" in r for r in reqs), "optional extras stay out"


def _first_code_cell(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    return next(c for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", LABS, ids=[p.stem for p in LABS])
def test_every_lab_starts_with_the_shared_browser_setup_cell(path):
    cell = _first_code_cell(path)
    assert cell.source == browser.SETUP_CELL, f"{path.name}: the first code cell is not patterns.browser.SETUP_CELL"
    assert cell.outputs == [], "it prints nothing outside the browser"


def _run_cell(source: str) -> None:
    code = compile(source, "<setup cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, {})  # noqa: S307 - our own cell, as IPython would run it
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def test_the_setup_cell_does_nothing_outside_the_browser(monkeypatch):
    monkeypatch.delitem(sys.modules, "piplite", raising=False)  # would fail to import if it were reached
    _run_cell(browser.SETUP_CELL)


def test_the_setup_cell_installs_patterns_then_its_requirements_under_pyodide(monkeypatch):
    calls = []

    async def install(requirements, deps=True):
        calls.append((requirements, deps))

    monkeypatch.setitem(sys.modules, "piplite", types.SimpleNamespace(install=install))
    monkeypatch.setattr(sys, "platform", "emscripten")
    _run_cell(browser.SETUP_CELL)
    assert calls == [("patterns", False), (browser.requirements(), True)]
