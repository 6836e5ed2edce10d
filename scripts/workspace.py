"""Keep a learner's ``workspace/`` (the student edition that ``make lab`` opens) up to date.

Usage: python scripts/workspace.py [WORKSPACE]   (default: workspace/ at the repository root)

The first run writes the student edition of every lab into WORKSPACE. Later runs (every ``make lab``)
never overwrite a notebook the learner has changed. For each lab:

* missing from the workspace (new lab, or the learner deleted it): written;
* unchanged since it was written, and the book's version has changed: replaced by the new version;
* changed by the learner (edited, or just run and saved) while the book's version has changed: kept
  as it is; the new version is written to ``WORKSPACE/new-versions/<lab>.ipynb`` and a note says so,
  so the learner can copy their answers across when they choose.

What was written is recorded in ``WORKSPACE/.workspace.json`` (a SHA-256 per notebook), which is how
"changed by the learner" is told apart from "unchanged". A notebook found in the workspace without a
record (a workspace made by hand) counts as the learner's own.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import student_edition  # noqa: E402

ROOT = student_edition.ROOT
STATE = ".workspace.json"
NEW_VERSIONS = "new-versions"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sync(workspace: Path, labs: Path = student_edition.LABS) -> list[str]:
    """Bring ``workspace`` up to date with the student edition of ``labs``; return one note per
    notebook that was added, updated or kept (nothing for notebooks already current)."""
    workspace.mkdir(parents=True, exist_ok=True)
    state_path = workspace / STATE
    state: dict[str, dict[str, str]] = json.loads(state_path.read_text()) if state_path.exists() else {}
    notes = []
    for lab in student_edition.lab_paths(labs):
        fresh = nbformat.writes(student_edition.student_notebook(lab)).encode() + b"\n"
        fresh_sha = _sha(fresh)
        target = workspace / lab.name
        record = state.get(lab.name, {})
        if not target.exists():
            target.write_bytes(fresh)
            state[lab.name] = {"written": fresh_sha}
            notes.append(f"{lab.name}: added")
            continue
        current_sha = _sha(target.read_bytes())
        if current_sha == fresh_sha:
            state[lab.name] = {"written": fresh_sha}
            continue
        if record.get("written") == current_sha:  # untouched by the learner: safe to replace
            target.write_bytes(fresh)
            state[lab.name] = {"written": fresh_sha}
            notes.append(f"{lab.name}: updated to the book's new version")
            continue
        # the learner's own copy: keep it; offer the new version beside it, once per version
        if record.get("offered") != fresh_sha:
            offered = workspace / NEW_VERSIONS / lab.name
            offered.parent.mkdir(exist_ok=True)
            offered.write_bytes(fresh)
            record = {**record, "offered": fresh_sha}
            state[lab.name] = record
            notes.append(
                f"{lab.name}: kept your copy (you have changed it); the book's new version is "
                f"{offered.relative_to(workspace.parent)}"
            )
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    return notes


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "workspace"
    for note in sync(target):
        print(f"workspace: {note}")
    print(f"workspace: the student edition is in {target}/ (your answers go there)")
