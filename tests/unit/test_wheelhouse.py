"""A room without internet: `make wheelhouse` then `make setup WHEELHOUSE=path` in a fresh venv, no index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import wheelhouse  # noqa: E402


def test_the_pins_are_what_this_environment_resolved():
    from importlib.metadata import version

    pins = dict(line.split("==") for line in wheelhouse.frozen_requirements())
    for name in ("numpy", "redis", "fakeredis", "jupyterlab", "kafka-python", "nbclient"):
        key = next(k for k in pins if wheelhouse._normal(k) == name)
        assert pins[key] == version(name)
    assert not {wheelhouse._normal(k) for k in pins} & {"pip", "setuptools", "wheel", "patterns"}


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_fresh_venv_installs_the_book_from_the_wheelhouse_with_no_index(tmp_path):
    house = tmp_path / "wheelhouse"
    built = subprocess.run([sys.executable, str(ROOT / "scripts" / "wheelhouse.py"), str(house)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    assert (house / "requirements.txt").is_file() and any(house.glob("setuptools-*.whl"))

    # no pip configuration, no extra find-links, and an index that does not exist: only the wheelhouse
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_NO_CACHE_DIR="1")
    venv = tmp_path / "venv"
    setup = subprocess.run(
        ["make", "-C", str(ROOT), "setup", f"VENV={venv}", f"WHEELHOUSE={house}"],
        env=env, capture_output=True, text=True,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    python = venv / "bin" / "python"
    check = subprocess.run([str(python), "-m", "pip", "check"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"], env=env,
                            capture_output=True, text=True).stdout
    pinned = set((house / "requirements.txt").read_text().split())
    installed = {line for line in frozen.split() if "==" in line}
    assert installed <= pinned  # exactly the versions `make setup` resolved here
    run = subprocess.run([str(python), "-c", "import patterns.ratelimit, jupyterlab, nbclient, kafka; print('ok')"],
                         env=env, capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr
