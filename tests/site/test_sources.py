"""What the website shows, checked on the sources: code that fits the column, no test plumbing,
explorers saved in the form that moves without a kernel. (Labs' line length is ruff's E501, see
labs/ruff.toml; chapters are MyST markdown, which ruff does not read, so they are checked here.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
BOOK_PAGES = sorted((ROOT / "book").glob("*.md"))
LABS = sorted((ROOT / "labs").glob("*.ipynb"))
COLUMNS = 88  # what fits the text column at 1280 px (site.css)
FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
CODE = re.compile(r"^\s*(\{code-cell\}.*|python.*|ipython3?|bash|sh|console|text|)\s*$")


def code_blocks(path: Path) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of every code cell and code block of a MyST page."""
    blocks, lines = [], path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, start = match.group(1), i + 1
        end = next(j for j in range(start, len(lines)) if lines[j].strip() == fence)
        if CODE.match(match.group(2)):  # not a directive such as {glossary} or {note}
            blocks.append((start + 1, lines[start:end]))
        i = end + 1
    return blocks


@pytest.mark.parametrize("page", CHAPTERS + BOOK_PAGES, ids=lambda p: p.stem)
def test_code_in_chapters_fits_88_columns(page):
    long = [
        f"{page.name}:{first + k}: {len(line)} columns"
        for first, block in code_blocks(page)
        for k, line in enumerate(block)
        if len(line) > COLUMNS
    ]
    assert not long, "wrap these lines to 88 columns:\n" + "\n".join(long)


def test_the_code_block_finder_sees_code_cells():
    blocks = code_blocks(CHAPTERS[0])
    assert blocks and any("import" in "\n".join(lines) for _, lines in blocks)


@pytest.mark.parametrize("source", CHAPTERS + LABS, ids=lambda p: p.name)
def test_no_test_markers_in_what_a_reader_sees(source):
    if source.suffix == ".ipynb":
        notebook = nbformat.read(source, as_version=4)
        text = "\n".join(cell.source for cell in notebook.cells)
    else:
        text = source.read_text(encoding="utf-8")
    assert not re.search(r"nbval", text, re.I), f"{source.name} mentions nbval: use cell tags"


def explorer_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if c.cell_type == "code" and re.search(r"\bexplorer\(", c.source)]


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_every_explorer_is_saved_in_its_kernel_free_form(lab):
    """Run through scripts/execute_labs.py: pictures in Stacks, switched by links in the browser."""
    notebook = nbformat.read(lab, as_version=4)
    cells = explorer_cells(notebook)
    assert cells, f"{lab.name} has no explorer (patterns.explorer.explorer)"
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    for cell in cells:
        views = [
            out["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
            for out in cell.outputs
            if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
        ]
        assert views, f"{lab.name}: an explorer cell has no saved widget (run scripts/execute_labs.py)"
        box = models[views[-1]]
        children = [ref.removeprefix("IPY_MODEL_") for ref in box["state"]["children"]]
        kinds = [models[child]["model_name"] for child in children]
        assert "StackModel" in kinds, f"{lab.name}: the explorer was saved live, not precomputed"
        selectors = [c for c, k in zip(children, kinds, strict=True) if k != "StackModel" and k != "HTMLModel"]
        linked = {
            m["state"]["source"][0].removeprefix("IPY_MODEL_")
            for m in models.values()
            if m["model_name"] == "DirectionalLinkModel"
        }
        assert set(selectors) <= linked, f"{lab.name}: a control of the explorer drives no figure"
    images = json.dumps(models).count('"ImageModel"')
    assert images >= 2, f"{lab.name}: fewer than two precomputed figures"
