"""Checks on the built website (run by `make site` after `jupyter-book build`).

They fail, rather than skip, when the site has not been built: a missing build is a broken pipeline.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import zipfile
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


def toc_pages() -> list[str]:
    return re.findall(r"(?:file|root):\s*([^\s#]+)", (ROOT / "_toc.yml").read_text())


def html_pages() -> list[Path]:
    # lite/ is the in-browser edition (JupyterLite's own app pages), checked by test_lite.py
    pages = sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts and p.relative_to(HTML).parts[0] != "lite")
    assert pages, f"no HTML under {HTML}: run `make book` first"
    return pages


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def ids(path: Path) -> set[str]:
    return {tag["id"] for tag in soup(path).find_all(attrs={"id": True})}


def test_site_was_built():
    assert (HTML / "index.html").is_file(), "run `make book` first"


@pytest.mark.parametrize("page", toc_pages())
def test_every_toc_page_exists_in_source_and_html(page):
    assert any((ROOT / f"{page}{ext}").is_file() for ext in (".md", ".ipynb")), f"{page} has no source"
    built = HTML / f"{page}.html"
    assert built.is_file(), f"{page} was not rendered to {built}"
    title = soup(built).find("h1")
    assert title is not None and title.get_text(strip=True), f"{page} has no title"


def _internal_targets(page: Path):
    for tag, attr in (("a", "href"), ("img", "src")):
        for element in soup(page).find_all(tag):
            link = element.get(attr)
            if not link or link.startswith(("http:", "https:", "mailto:", "data:", "javascript:")):
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            yield tag, link, parts


def test_no_broken_internal_links_or_missing_figures():
    broken = []
    for page in html_pages():
        for tag, link, parts in _internal_targets(page):
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists():
                broken.append(f"{page.relative_to(HTML)}: {tag} -> {link} (missing file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in ids(target):
                broken.append(f"{page.relative_to(HTML)}: {tag} -> {link} (missing anchor)")
    assert not broken, "\n".join(broken)


def test_executed_pages_have_no_error_output():
    bad = []
    for page in html_pages():
        text = soup(page).get_text(" ")
        if "Traceback (most recent call last)" in text and "raises-exception" not in str(soup(page)):
            bad.append(str(page.relative_to(HTML)))
    assert not bad, f"pages show a traceback: {bad}"


def test_every_chapter_shows_at_least_one_figure():
    missing = []
    for page in toc_pages():
        if page.startswith("chapters/"):
            images = soup(HTML / f"{page}.html").find_all("img")
            if not any(img.get("src", "").endswith((".png", ".svg", ".jpg")) for img in images):
                missing.append(page)
    assert not missing, f"chapters without a figure: {missing}"


def chapter_pages() -> list[str]:
    return [page for page in toc_pages() if page.startswith("chapters/")]


@pytest.mark.parametrize("page", chapter_pages())
def test_every_chapter_has_two_described_diagrams_one_generated(page):
    """CONTRIBUTING "Diagrams": >= 2 per chapter, each with alt text, >= 1 drawn from the package."""
    figures = soup(HTML / f"{page}.html").select("figure.diagram")
    assert len(figures) >= 2, f"{page}: {len(figures)} diagram(s), a chapter needs at least 2"
    for figure in figures:
        img = figure.find("img")
        assert img is not None and img.get("src", "").endswith(".svg"), f"{page}: a diagram without its SVG"
        alt = " ".join(img.get("alt", "").split())
        assert len(alt) >= 20, f"{page}: diagram {img.get('src')} has no real alt text: {alt!r}"
    generated = [f for f in figures if "diagram-generated" in f.get("class", [])]
    assert generated, f"{page}: no diagram is generated from the package (patterns.diagrams.gallery)"
    for figure in generated:
        assert figure.find("img").get("data-generated-from", "").startswith("patterns."), \
            f"{page}: a generated diagram does not say what it was drawn from"


def test_diagram_images_are_svg_files_drawn_by_graphviz():
    for page in chapter_pages():
        for img in soup(HTML / f"{page}.html").select("figure.diagram img"):
            svg = (HTML / page).parent.joinpath(img["src"]).resolve().read_text(encoding="utf-8")
            assert "<svg" in svg and "Generated by graphviz" in svg, f"{page}: {img['src']} is not a Graphviz SVG"


# ------------------------------------------------------------------ offline, plumbing, weight

MAX_PAGE_BYTES = 3 * 1024 * 1024  # a page, its saved widgets and their precomputed figures


def lab_pages() -> list[str]:
    return [page for page in toc_pages() if page.startswith("labs/")]


def visible_text(path: Path) -> str:
    page = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for hidden in page(["script", "style", "noscript", "template"]):
        hidden.decompose()
    return page.get_text(" ")


def test_no_page_loads_anything_from_another_host():
    """Scripts, styles, fonts, icons and images all come from the site: it works with no network."""
    remote = []
    for page in html_pages():
        tree = soup(page)
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for element in tree.find_all(tag):
                target = element.get(attr) or ""
                if tag == "link" and not {"stylesheet", "icon", "preload", "modulepreload"} & set(
                    element.get("rel") or []
                ):
                    continue
                if target.startswith(("http:", "https:", "//")):
                    remote.append(f"{page.relative_to(HTML)}: <{tag} {attr}={target}>")
        for script in tree.find_all("script", src=False):  # an inline loader naming a CDN, as thebe's
            for url in re.findall(r"https?://[^\s\"']+\.js\b", script.get_text()):
                remote.append(f"{page.relative_to(HTML)}: an inline script names {url}")
        for script in tree.find_all("script", src=True):
            cdn = script.get("data-jupyter-widgets-cdn", "")
            if cdn.startswith(("http:", "https:", "//")):
                remote.append(f"{page.relative_to(HTML)}: widgets load modules from {cdn}")
    assert not remote, "\n".join(remote)


def test_offline_assets_are_served_by_the_site():
    static = HTML / "_static"
    for needed in ("npm/mathjax/tex-chtml.js", "npm/requirejs/require.js", "npm/html-manager/embed-amd.js",
                   "widgets-config.js", "site.js", "site.css"):
        assert (static / needed).is_file(), f"_static/{needed} missing from the site"
    fonts = list((static / "npm/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert fonts, "MathJax's fonts are missing"


def test_vendored_assets_match_their_manifest():
    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "scripts" / "vendor_assets.py")
    assert spec is not None and spec.loader is not None
    vendor = importlib.util.module_from_spec(spec)
    sys.modules["vendor_assets"] = vendor  # dataclasses look their module up
    spec.loader.exec_module(vendor)
    assert vendor.check() == []


def test_no_page_text_shows_test_plumbing():
    shown = [
        str(page.relative_to(HTML)) for page in html_pages() if re.search(r"nbval", visible_text(page), re.I)
    ]
    assert not shown, f"pages whose text mentions nbval: {shown}"


def test_no_check_cell_prints_a_bare_true():
    stray = []
    for page in lab_pages():
        for block in soup(HTML / f"{page}.html").select(".cell_output pre"):
            if block.get_text().strip() in ("True", "False"):
                stray.append(page)
    assert not stray, f"a check cell shows a bare True/False on {stray}"


def test_every_page_weighs_at_most_3_mb():
    heavy = {str(p.relative_to(HTML)): p.stat().st_size for p in html_pages() if p.stat().st_size > MAX_PAGE_BYTES}
    assert not heavy, f"pages over {MAX_PAGE_BYTES} bytes: {heavy}"


def test_every_page_has_a_favicon():
    missing = []
    for page in html_pages():
        if soup(page).find("meta", attrs={"http-equiv": "Refresh"}):
            continue  # the root index.html only redirects to the first page
        icons = soup(page).find_all("link", rel="icon")
        if not icons or not all((page.parent / icon["href"]).resolve().is_file() for icon in icons):
            missing.append(str(page.relative_to(HTML)))
    assert not missing, f"pages without a working favicon: {missing}"


# ------------------------------------------------------------------ the way to run the labs


def test_downloads_hold_the_wheel_and_every_lab():
    wheels = sorted((HTML / "downloads").glob("patterns-*-py3-none-any.whl"))
    assert len(wheels) == 1, f"expected one patterns wheel in downloads/, got {wheels}"
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert "patterns/explorer.py" in names and "patterns/__init__.py" in names
    labs = sorted(p.name for p in (ROOT / "labs").glob("*.ipynb"))
    with zipfile.ZipFile(HTML / "downloads" / "patterns-labs.zip") as bundle:
        names = set(bundle.namelist())
        readme = bundle.read("patterns-labs/README.txt").decode()
    assert f"patterns-labs/{wheels[0].name}" in names
    assert {f"patterns-labs/labs/{lab}" for lab in labs} <= names
    assert {f"patterns-labs/worked/{lab}" for lab in labs} <= names
    assert "pip install" in readme and "jupyter lab labs" in readme


@pytest.mark.parametrize("page", lab_pages())
def test_every_lab_page_says_how_to_run_it(page):
    box = soup(HTML / f"{page}.html").select_one(".run-this-lab")
    assert box is not None, f"{page} has no 'Run this lab' box"
    links = {a.get("href", "").split("#")[0] for a in box.find_all("a")}
    lab = page.split("/")[-1]
    assert f"../_sources/labs/{lab}.ipynb" in links, "no link to the notebook"
    assert any(link.endswith(".whl") for link in links), "no link to the patterns wheel"
    assert "../downloads/patterns-labs.zip" in links, "no link to the zip of labs"
    assert "../book/run-labs.html" in links, "no link to the Run the labs page"
    assert (HTML / "_sources" / "labs" / f"{lab}.ipynb").is_file(), "the notebook is not downloadable"


def test_run_the_labs_page_is_in_the_navigation():
    assert "book/run-labs" in toc_pages()
    nav = soup(HTML / f"{toc_pages()[0]}.html").select_one("nav.bd-docs-nav")
    assert nav is not None and nav.find("a", href=re.compile(r"run-labs\.html")), "not in the sidebar"


@pytest.mark.parametrize("page", lab_pages())
def test_answers_are_folded_and_tasks_and_checkers_stay_visible(page):
    import nbformat

    notebook = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    solutions = sum("solution" in c.metadata.get("tags", []) for c in notebook.cells)
    tree = soup(HTML / f"{page}.html")
    folded = tree.select(".tag_solution details.hide")
    assert len(folded) == solutions, f"{page}: {len(folded)} folded answers for {solutions} exercises"
    for details in folded:
        assert details.select_one("summary").get_text(" ", strip=True).startswith("Show answer")
        assert not details.has_attr("open")
        cell = details.find_parent(class_="tag_solution")
        task = cell.find_previous_sibling(class_="cell")
        assert task is not None and "tag_exercise-task" in task["class"], "the task is not shown"
        assert task.get_text().strip().startswith("#"), "the task comment is missing"
        checker = cell.find_next_sibling(class_="cell")
        assert checker is not None and "check_" in checker.get_text(), "the checker is not visible"
