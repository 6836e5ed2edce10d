"""The built site in a real browser, as a reader with no network would see it.

Headless Chromium (Debian's, driven by Playwright; never ``playwright install``) opens every page of
the toc at a desktop width (1280 px) and a phone width (390 px). Every request that does not go to
the local server is blocked and counted as failed, so anything the site would fetch from a CDN
shows up here. One browser serves the whole module; each width has one browser context.

In CI (``CI`` set) a missing Chromium is a failure; on a laptop without it these tests are skipped.
Screenshots of the home page, chapter 10 and lab 10 at both widths go to ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import io
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from test_site import HTML, ROOT, soup, toc_pages  # the same toc and build folder as the HTML checks

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser checks: install Debian's chromium", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402

DESKTOP, PHONE = 1280, 390
WIDTHS = (DESKTOP, PHONE)
SCREENSHOTS = ROOT / "_build" / "screenshots"
SCREENSHOT_PAGES = (toc_pages()[0], "chapters/10-rate-limiting", "labs/10-rate-limiting")
DRAG_LABS = ("labs/10-rate-limiting", "labs/06-resilience", "labs/04-cqrs", "labs/08-database-scaling",
             "labs/15-coordination", "labs/16-observability-slos")
# Code blocks allowed to be wider than their column at 1280 px, by page, with the reason. Printed
# tables are allowed everywhere: site.js marks them (class output-table) and they scroll inside
# their box, because wrapping would break their columns.
WIDE_BLOCKS: dict[str, str] = {}
TIMEOUT_MS = 20_000


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The built site on a free loopback port, for the duration of the module."""
    assert (HTML / "index.html").is_file(), "run `make book` first"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def contexts(browser: Browser, site: str) -> Iterator[dict[int, BrowserContext]]:
    """One context per width, with every request to another host blocked (the network is off)."""
    made = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site) else route.abort())
        context.set_default_timeout(TIMEOUT_MS)
        made[width] = context
    try:
        yield made
    finally:
        for context in made.values():
            context.close()


@dataclass
class Visit:
    page: Page
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_page(context: BrowserContext, site: str, name: str) -> Visit:
    """Load a page and wait until its formulas are typeset and its widgets drawn."""
    page = context.new_page()
    visit = Visit(page)
    page.on("requestfailed", lambda request: visit.failed.append(f"{request.url} ({request.failure})"))
    page.on("response", lambda r: visit.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
    page.on("console", lambda message: visit.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.goto(f"{site}{name}.html", wait_until="load")
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " await MathJax.startup.promise; }"
    )
    page.wait_for_function(
        """() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
             .every(s => s.parentElement.querySelector('.jupyter-widgets'))"""
    )
    return visit


PAGE_FACTS = """() => {
  const main = document.querySelector('main');
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, .cell_input, mjx-container').forEach(e => e.remove());
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
    .map(s => s.parentElement.querySelector('.jupyter-widgets'))
    .map(w => ({height: w.getBoundingClientRect().height, children: w.children.length,
                text: w.textContent.trim().length, imgs: w.querySelectorAll('img').length}));
  const wide = [...main.querySelectorAll('pre')]
    .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
    .map(p => ({table: p.classList.contains('output-table'), excess: p.scrollWidth - p.clientWidth,
                line: p.textContent.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '').slice(0, 60)}));
  const images = [...main.querySelectorAll('img')].filter(i => i.offsetParent !== null);
  return {
    rawTex: (prose.innerText.match(/\\\\\\[|\\\\\\(|\\$\\$/g) || []).length,
    mathjax: document.querySelectorAll('mjx-container').length,
    views, wide,
    brokenImages: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    pageScroll: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""


def slug(name: str) -> str:
    return name.replace("/", "-")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", toc_pages())
def test_page_works_offline(name: str, width: int, contexts: dict[int, BrowserContext], site: str) -> None:
    visit = open_page(contexts[width], site, name)
    try:
        facts = visit.page.evaluate(PAGE_FACTS)
        if name in SCREENSHOT_PAGES:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shot = SCREENSHOTS / f"{slug(name)}-{width}.png"
            visit.page.screenshot(path=str(shot))
            assert ImageStat.Stat(Image.open(shot).convert("L")).stddev[0] > 5, f"{shot.name} is blank"
    finally:
        visit.page.close()
    where = f"{name} at {width} px"
    assert not visit.failed, f"{where}: failed requests {visit.failed}"
    assert not visit.errors, f"{where}: console errors {visit.errors}"
    assert facts["rawTex"] == 0, f"{where}: {facts['rawTex']} formulas shown as raw TeX"
    expected_math = len(soup(HTML / f"{name}.html").select(".math"))
    assert facts["mathjax"] == expected_math, f"{where}: {facts['mathjax']} of {expected_math} formulas rendered"
    for view in facts["views"]:
        assert view["height"] > 0 and (view["children"] or view["text"]), f"{where}: an empty widget {view}"
    assert not facts["brokenImages"], f"{where}: images that did not load {facts['brokenImages']}"
    assert facts["pageScroll"] <= 0, f"{where}: the page scrolls sideways by {facts['pageScroll']} px"
    if width == DESKTOP:
        too_wide = [block for block in facts["wide"] if not block["table"]]
        if name in WIDE_BLOCKS:
            too_wide = []
        assert not too_wide, f"{where}: code wider than its column: {too_wide}"


def figure_of(explorer: Any) -> bytes:
    """A screenshot of the picture the explorer shows now (the visible one of its stacked figures)."""
    images = explorer.locator("img")
    visible = [images.nth(i) for i in range(images.count()) if images.nth(i).is_visible()]
    assert len(visible) == 1, f"the explorer shows {len(visible)} figures at once"
    return visible[0].screenshot()


@pytest.mark.parametrize("name", DRAG_LABS)
def test_dragging_a_slider_changes_the_figure_without_a_kernel(
    name: str, contexts: dict[int, BrowserContext], site: str
) -> None:
    visit = open_page(contexts[DESKTOP], site, name)
    page = visit.page
    try:
        explorer = page.locator(".widget-vbox").filter(has=page.locator(".widget-hslider")).filter(
            has=page.locator("img")
        ).first
        explorer.scroll_into_view_if_needed()
        before = figure_of(explorer)
        track = explorer.locator(".widget-hslider .noUi-base").first.bounding_box()
        handle = explorer.locator(".widget-hslider .noUi-handle").first.bounding_box()
        assert track and handle, f"{name}: no slider in the explorer"
        x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        target = track["x"] if x > track["x"] + track["width"] / 2 else track["x"] + track["width"]
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(target, y, steps=12)
        page.mouse.up()
        page.wait_for_timeout(300)
        after = figure_of(explorer)
    finally:
        page.close()
    assert not visit.failed and not visit.errors, f"{name}: {visit.failed} {visit.errors}"
    first, second = (Image.open(io.BytesIO(png)).convert("RGB") for png in (before, after))
    changed = first.size != second.size or ImageChops.difference(first, second).getbbox() is not None
    assert changed, f"{name}: dragging the slider left the figure unchanged"


def test_phone_menu_opens_and_reaches_chapter_7(contexts: dict[int, BrowserContext], site: str) -> None:
    visit = open_page(contexts[PHONE], site, toc_pages()[0])
    page = visit.page
    try:
        toggle = page.locator(".primary-toggle:visible").first
        toggle.click()
        menu = page.locator("dialog#pst-primary-sidebar-modal[open]")
        menu.wait_for(state="visible")
        menu.locator("a[href$='chapters/07-caching.html']").first.click()
        page.wait_for_url(re.compile(r"chapters/07-caching\.html$"))
        title = page.locator("h1").first.inner_text()
    finally:
        page.close()
    assert "Caching" in title
    assert not visit.failed and not visit.errors, f"{visit.failed} {visit.errors}"


def test_desktop_sidebar_hides_and_comes_back(contexts: dict[int, BrowserContext], site: str) -> None:
    visit = open_page(contexts[DESKTOP], site, "chapters/07-caching")
    page = visit.page
    sidebar = page.locator("#pst-primary-sidebar")
    try:
        assert sidebar.is_visible()
        page.locator(".primary-toggle:visible").first.click()
        page.wait_for_function("() => document.querySelector('#pst-primary-sidebar').getBoundingClientRect().right <= 0")
        page.locator(".primary-toggle:visible").first.click()
        page.wait_for_function("() => document.querySelector('#pst-primary-sidebar').getBoundingClientRect().left >= 0")
        shown_again = sidebar.is_visible()
    finally:
        page.close()
    assert shown_again
    assert not visit.failed and not visit.errors, f"{visit.failed} {visit.errors}"


@pytest.mark.parametrize("name", [page for page in toc_pages() if page.startswith("labs/")])
def test_answers_are_collapsed_and_open_on_click(name: str, contexts: dict[int, BrowserContext], site: str) -> None:
    visit = open_page(contexts[DESKTOP], site, name)
    page = visit.page
    try:
        answers = page.locator(".tag_solution details")
        count = answers.count()
        assert count >= 3, f"{name}: {count} folded answers"
        for i in range(count):
            answer = answers.nth(i)
            code = answer.locator(".cell_input pre")
            assert not code.is_visible(), f"{name}: answer {i + 1} is shown before a click"
            answer.locator("summary").click()
            code.wait_for(state="visible")
            # the task and the checker around it were visible all along
            cell = answer.locator("xpath=ancestor::div[contains(@class, 'tag_solution')]")
            assert cell.locator("xpath=preceding-sibling::div[1]").locator("pre").is_visible()
            assert cell.locator("xpath=following-sibling::div[1]").locator("pre").first.is_visible()
    finally:
        page.close()
    assert not visit.failed and not visit.errors, f"{name}: {visit.failed} {visit.errors}"


DIAGRAM_FILTERS = "() => [...document.querySelectorAll('figure.diagram img')].map(i => getComputedStyle(i).filter)"


def test_diagrams_read_in_light_and_dark_mode(contexts: dict[int, BrowserContext], site: str) -> None:
    """The theme's dark mode inverts diagrams (light ink on the dark page); light mode leaves them as drawn.

    Both screenshots of a diagram must show a drawing (contrast), on a light page in light mode and a
    dark one in dark mode; they go to ``_build/screenshots/`` for a human look.
    """
    visit = open_page(contexts[DESKTOP], site, "chapters/06-resilience")
    page = visit.page
    stats = {}
    filters = {}
    try:
        figure = page.locator("figure.diagram img").first
        figure.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for mode in ("light", "dark"):
            page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{mode}'; }}")
            page.wait_for_timeout(100)
            filters[mode] = page.evaluate(DIAGRAM_FILTERS)
            shot = SCREENSHOTS / f"diagram-{mode}.png"
            figure.screenshot(path=str(shot))
            stats[mode] = ImageStat.Stat(Image.open(shot).convert("L"))
    finally:
        page.close()
    assert not visit.failed and not visit.errors, f"{visit.failed} {visit.errors}"
    assert filters["light"] and all(f == "none" for f in filters["light"]), filters
    assert all("invert" in f for f in filters["dark"]), filters
    assert stats["light"].mean[0] > 180 > 90 > stats["dark"].mean[0], (stats["light"].mean, stats["dark"].mean)
    assert stats["light"].stddev[0] > 15 and stats["dark"].stddev[0] > 15, "a diagram is blank in one mode"
