"""Checks on the built website (run by `make site` after `jupyter-book build`).

They fail, rather than skip, when the site has not been built: a missing build is a broken pipeline.
"""

from __future__ import annotations

import re
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
    pages = sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)
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
