"""A "Run in browser" button on every lab page and on the chapter page of each lab (local Sphinx extension).

The button opens the page's lab (student edition) in the in-browser edition of the labs, JupyterLite
served from this same site (``make lite``, included in ``make book``): Python runs in the reader's browser
through Pyodide, with nothing to install and no server. The link is relative, so the site works from any
address and from a folder on disk served by any static server.

``lite_launch_url`` (``_config.yml``) is the link's target relative to the site root, with ``{lab}`` for
the lab's file stem; empty means no buttons.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent


def lab_of(docname: str) -> str | None:
    """``labs/10-rate-limiting`` and ``chapters/10-rate-limiting`` -> ``10-rate-limiting`` (if the lab exists)."""
    folder, _, stem = docname.rpartition("/")
    if folder not in ("labs", "chapters"):
        return None
    return stem if (ROOT / "labs" / f"{stem}.ipynb").is_file() else None


def launch_button(docname: str, lab: str, url: str) -> nodes.paragraph:
    up = posixpath.relpath(".", posixpath.dirname(docname))
    link = nodes.reference(
        "", "▶ Run in browser", refuri=f"{up}/{url.format(lab=lab)}", internal=True,
        classes=["lite-launch", "sd-btn", "sd-btn-primary", "sd-btn-sm"],  # sphinx-design's button look
    )
    para = nodes.paragraph(classes=["lite-launch-line"])
    para += link
    what = "this lab" if docname.startswith("labs/") else "this chapter's lab"
    para += nodes.Text(
        f" opens {what} in JupyterLite: Python runs in your browser, nothing to install, offline once "
        "loaded (the first start takes a few seconds)."
    )
    return para


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    url = app.config.lite_launch_url
    docname = app.env.docname
    lab = lab_of(docname)
    if not url or lab is None:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    section.insert(1, launch_button(docname, lab, url))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("lite_launch_url", "", "env", [str])
    app.connect("doctree-read", on_doctree_read)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
