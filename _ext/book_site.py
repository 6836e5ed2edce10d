"""What the website adds to jupyter-book: a local Sphinx extension (loaded from ``_config.yml``).

- Lab pages: the answers of the exercises (cells tagged ``solution``) fold behind "Show answer",
  while the task (the cell's leading comments) and the checker stay visible; a "Run this lab" box
  under the title links the notebook, the ``patterns`` wheel, a zip of every lab and the page that
  explains how to run them.
- Downloads: at the end of an HTML build, ``downloads/`` in the site holds the ``patterns`` wheel
  and ``patterns-labs.zip`` (the wheel, the labs with answers blanked, the labs as the book shows
  them, and a README with the commands).
- A repository button appears when ``repository.url`` is configured in ``_config.yml``.
- Each script and style sheet is included once per page, and sphinx-thebe's two scripts not at all:
  jupyter-book always loads that extension, whose inline configuration names the thebe library on
  unpkg.com (added twice, its second ``const`` declaration was a JavaScript error on every page); the
  book never starts thebe (its labs run in JupyterLite), so no page names a CDN.

The launch link for running a lab in the browser is the ``book_site_launch_url`` option (a URL
template with ``{lab}``, the lab's file stem, relative to the site root); empty means no link.
"""

from __future__ import annotations

import importlib.util
import json
import posixpath
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

ROOT = Path(__file__).resolve().parent.parent
LOGGER = logging.getLogger(__name__)
# jupyter-book fills in its own repository when _config.yml names none: that is not "configured"
JUPYTER_BOOK_DEFAULT_REPOSITORY = "https://github.com/executablebooks/jupyter-book"
DOWNLOADS = "downloads"
LABS_ZIP = "patterns-labs.zip"
ANSWER_PROMPTS = {"code_prompt_show": "Show answer", "code_prompt_hide": "Hide answer"}


def package_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def wheel_name() -> str:
    return f"patterns-{package_version()}-py3-none-any.whl"


def repository_url(app: Sphinx) -> str:
    url = str(app.config.html_theme_options.get("repository_url") or "").rstrip("/")
    return "" if url in ("", JUPYTER_BOOK_DEFAULT_REPOSITORY) else url


def is_lab(docname: str) -> bool:
    return docname.startswith("labs/")


# ---------------------------------------------------------------- answers behind "Show answer"


def leading_comments(source: str) -> tuple[str, str]:
    """Split a cell into its leading ``#`` lines (the task) and the rest (the answer)."""
    lines = source.splitlines(keepends=True)
    n = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return "".join(lines[:n]).rstrip("\n"), "".join(lines[n:]).strip("\n")


def fold_answers(notebook: dict[str, Any]) -> int:
    """Show each solution cell's task as its own cell and fold the answer; return how many."""
    cells: list[dict[str, Any]] = []
    folded = 0
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or "solution" not in tags:
            cells.append(cell)
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        task, answer = leading_comments(source)
        if task:
            cells.append({
                "cell_type": "code", "execution_count": None, "outputs": [], "source": task,
                "metadata": {"tags": ["exercise-task"]}, "id": f"{cell.get('id', len(cells))}-task",
            })
        answer_cell = dict(cell, source=answer or source)
        answer_cell["metadata"] = dict(
            cell.get("metadata", {}),
            tags=[*tags, "hide-cell" if cell.get("outputs") else "hide-input"],
            mystnb=dict(cell.get("metadata", {}).get("mystnb", {}), **ANSWER_PROMPTS),
        )
        cells.append(answer_cell)
        folded += 1
    notebook["cells"] = cells
    return folded


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if not is_lab(docname) or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    notebook = json.loads(source[0])
    if fold_answers(notebook):
        source[0] = json.dumps(notebook)


# ---------------------------------------------------------------- "Run this lab" box


def _link(text: str, uri: str) -> nodes.reference:
    return nodes.reference("", text, refuri=uri, internal=True)


def download_uri(docname: str, name: str) -> str:
    """The link from a page to a file in the site's downloads/ folder."""
    up = posixpath.relpath(".", posixpath.dirname(docname))
    return f"{up}/{DOWNLOADS}/{name}"


def download_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Any,
    options: dict[str, Any] | None = None, content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``{site-download}`zip``` or ``{site-download}`wheel```: a link to a file ``make book`` builds."""
    files = {"zip": LABS_ZIP, "wheel": wheel_name()}
    if text not in files:
        msg = inliner.reporter.error(f"site-download: expected one of {sorted(files)}, got {text!r}")
        return [inliner.problematic(rawtext, rawtext, msg)], [msg]
    docname = inliner.document.settings.env.docname
    return [_link(files[text], download_uri(docname, files[text]))], []


def run_this_lab_box(app: Sphinx, docname: str) -> nodes.container:
    up = posixpath.relpath(".", posixpath.dirname(docname))
    lab = posixpath.basename(docname)
    wheel = wheel_name()
    para = nodes.paragraph()
    para += nodes.strong(text="Run this lab yourself. ")
    para += nodes.Text("Download ")
    para += _link(f"the notebook ({lab}.ipynb)", f"{up}/_sources/{docname}.ipynb")
    para += nodes.Text(" and the ")
    para += nodes.literal(text="patterns")
    para += nodes.Text(" package it imports (")
    para += _link(wheel, download_uri(docname, wheel))
    para += nodes.Text(", then ")
    para += nodes.literal(text=f"pip install {wheel} jupyterlab")
    para += nodes.Text("), or every lab and the package in one file: ")
    para += _link(LABS_ZIP, download_uri(docname, LABS_ZIP))
    para += nodes.Text(". ")
    url = repository_url(app)
    if url:
        para += nodes.Text("From the repository: ")
        para += nodes.literal(text=f'pip install "patterns @ git+{url}"')
        para += nodes.Text(". ")
    para += nodes.Text("How to run the labs: ")
    xref = addnodes.pending_xref(
        "", refdomain="std", reftype="doc", reftarget="/book/run-labs", refexplicit=True,
        refdoc=docname,
    )
    xref += nodes.inline(text="Run the labs")
    para += xref
    para += nodes.Text(".")
    box = nodes.container(classes=["run-this-lab"])
    box += para
    launch = app.config.book_site_launch_url
    if launch:  # the place for an in-browser launch (JupyterLite), when the site has one
        line = nodes.paragraph(classes=["launch-lab"])
        line += _link("Run this lab in your browser", f"{up}/{launch.format(lab=lab)}")
        box += line
    return box


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not is_lab(docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    section.insert(1, run_this_lab_box(app, docname))


# ---------------------------------------------------------------- repository button, assets


def on_config_inited(app: Sphinx, config: Any) -> None:
    if repository_url(app):
        config.html_theme_options["use_repository_button"] = True


def _is_thebe_loader(asset: Any) -> bool:
    """sphinx-thebe's inline configuration (it names the thebe library on unpkg.com) or its loader."""
    if str(getattr(asset, "filename", asset) or "").endswith("sphinx-thebe.js"):
        return True
    return "THEBE_JS_URL" in str(getattr(asset, "attributes", {}).get("body", ""))


def on_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for key in ("script_files", "css_files"):
        assets = context.get(key)
        if assets:
            seen: set[tuple[str, str]] = set()
            unique = []
            for asset in assets:
                if _is_thebe_loader(asset):  # jupyter-book always loads sphinx-thebe; this book never
                    continue  # starts thebe (no thebe launch button), so its CDN address need not ship
                # the same file or inline body, whatever its priority
                ident = (str(getattr(asset, "filename", asset) or ""), repr(sorted(getattr(asset, "attributes", {}).items())))
                if ident not in seen:
                    seen.add(ident)
                    unique.append(asset)
            assets[:] = unique


# ---------------------------------------------------------------- downloads


def _student_edition() -> Any:
    spec = importlib.util.spec_from_file_location("student_edition", ROOT / "scripts" / "student_edition.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


README = """\
The labs of "System Design & Architecture", with the `patterns` package they import.

  labs/     the labs with the exercise answers blanked and no outputs: start here
  worked/   the same labs as the book shows them, answers filled in and executed
  {wheel}

Set up once (Python 3.11 or newer), in this folder:

  python3 -m venv .venv
  .venv/bin/pip install {wheel} jupyterlab        (Windows: .venv\\Scripts\\pip ...)
  .venv/bin/jupyter lab labs

Each lab runs top to bottom in a few seconds with no servers: Redis is an embedded fakeredis,
Kafka an in-process broker, time a simulated clock. To use real servers, set PATTERNS_REDIS_URL
and PATTERNS_KAFKA_BOOTSTRAP before starting JupyterLab (see the book's "Setting up" page).
"""


def build_downloads(outdir: Path) -> list[Path]:
    """Write the wheel and the labs zip into ``outdir/downloads``; return what was written."""
    target = outdir / DOWNLOADS
    target.mkdir(parents=True, exist_ok=True)
    wheel = wheel_name()
    with tempfile.TemporaryDirectory() as tmp:
        # build from a copy: setuptools writes build/ and *.egg-info next to the sources
        project = Path(tmp) / "project"
        shutil.copytree(
            ROOT / "src", project / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
        )
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, project / name)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--wheel-dir", tmp, str(project)],
            check=True, capture_output=True, text=True,
        )
        built = Path(tmp) / wheel
        if not built.is_file():
            raise RuntimeError(f"pip wheel did not produce {wheel}: {sorted(Path(tmp).iterdir())}")
        shutil.copy2(built, target / wheel)
        student = _student_edition().make_student_edition(Path(tmp) / "student")
        with zipfile.ZipFile(target / LABS_ZIP, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("patterns-labs/README.txt", README.format(wheel=wheel))
            zf.write(built, f"patterns-labs/{wheel}")
            for path in student:
                zf.write(path, f"patterns-labs/labs/{path.name}")
            for path in sorted((ROOT / "labs").glob("*.ipynb")):
                zf.write(path, f"patterns-labs/worked/{path.name}")
    return [target / wheel, target / LABS_ZIP]


def on_build_finished(app: Sphinx, exception: BaseException | None) -> None:
    if exception is None and app.builder.format == "html":
        for path in build_downloads(Path(app.outdir)):
            LOGGER.info(f"[book_site] wrote {path.relative_to(app.outdir)}")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("book_site_launch_url", "", "env", [str])
    app.add_role("site-download", download_role)
    app.connect("config-inited", on_config_inited)
    app.connect("source-read", on_source_read)
    app.connect("doctree-read", on_doctree_read)
    app.connect("html-page-context", on_page_context)
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
