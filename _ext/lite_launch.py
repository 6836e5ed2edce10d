"""The "Run in browser" button on every lab page and on the chapter page of each lab (local Sphinx extension).

The button opens the page's lab (student edition) in the in-browser edition of the labs, JupyterLite
served from this same site (``make lite``, part of ``make book``): Python runs in the reader's browser
through Pyodide, with nothing to install and no server. Its target is the website's setting
``book_site_launch_url`` (``_config.yml``; ``{lab}`` is the lab's file stem, relative to the site root;
empty means no buttons). On lab pages ``_ext/book_site.py`` puts the link in its "Run this lab yourself"
box and this extension styles it as the button; on chapter pages this extension adds the same button
under the title. Links are relative, so the site works from any address (served over HTTP: JupyterLite
does not run from ``file://``).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ["lite-launch", "sd-btn", "sd-btn-primary", "sd-btn-sm"]  # sphinx-design's button look
TEXT = "Run this chapter's lab in your browser"


def lab_of(docname: str) -> str | None:
    """``chapters/10-rate-limiting`` -> ``10-rate-limiting`` when that lab exists (likewise for labs/)."""
    folder, _, stem = docname.rpartition("/")
    if folder not in ("labs", "chapters"):
        return None
    return stem if (ROOT / "labs" / f"{stem}.ipynb").is_file() else None


def launch_button(docname: str, lab: str, url: str) -> nodes.paragraph:
    up = posixpath.relpath(".", posixpath.dirname(docname))
    para = nodes.paragraph(classes=["launch-lab"])
    para += nodes.reference("", TEXT, refuri=f"{up}/{url.format(lab=lab)}", internal=True, classes=CLASSES)
    para += nodes.Text(
        " Python runs in your browser through JupyterLite: nothing to install, no server; the first "
        "start takes a few seconds."
    )
    return para


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    url = app.config.book_site_launch_url
    docname = app.env.docname
    lab = lab_of(docname)
    if not url or lab is None:
        return
    target = url.format(lab=lab)
    if docname.startswith("labs/"):  # book_site's box holds the link: make it the button
        for ref in doctree.findall(nodes.reference):
            if str(ref.get("refuri", "")).endswith(target):
                ref["classes"] = [*ref.get("classes", []), *CLASSES]
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    section.insert(1, launch_button(docname, lab, url))


def setup(app: Sphinx) -> dict[str, Any]:
    # after book_site (priority 500), whose doctree-read handler adds the lab page's link
    app.connect("doctree-read", on_doctree_read, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
