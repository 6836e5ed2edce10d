"""A real headless browser opens the built site, as a reader would.

Chromium renders the home page (the toc's root) and every chapter page; the test checks that the page has a title, that
its figures decoded (natural width > 0) and that the screenshot is not blank. In CI (``CI`` set) a missing
browser is a failure; on a laptop without Chromium these tests are skipped with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from PIL import Image, ImageStat
from test_site import HTML, toc_pages  # the same toc and build folder as the HTML checks

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1600", "--virtual-time-budget=4000",
]

if BROWSER is None:
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser checks: install Debian's chromium", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

# After load, write a report of decoded images into the DOM so --dump-dom can return it.
PROBE = """
<script>window.addEventListener('load', () => {
  const imgs = [...document.querySelectorAll('main img')];
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const out = document.createElement('pre'); out.id = 'probe-report';
  out.textContent = JSON.stringify({images: imgs.length, broken: bad});
  document.body.appendChild(out);
});</script>
"""


def pages() -> list[str]:
    names = toc_pages()
    return [names[0]] + [n for n in names if n.startswith("chapters/")]  # the home page and chapters


def run(args: list[str], profile: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BROWSER, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=90, check=False,
    )


@pytest.mark.parametrize("page", pages())
def test_page_renders_with_its_figures(page, tmp_path):
    source = HTML / f"{page}.html"
    assert source.is_file(), f"{source} missing: run `make book` first"
    probed = source.with_name(f".probe-{source.name}")
    probed.write_text(source.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    try:
        with tempfile.TemporaryDirectory() as profile:
            dom = run(["--dump-dom", probed.as_uri()], profile).stdout
            shot = tmp_path / "page.png"
            run([f"--screenshot={shot}", source.as_uri()], profile)
    finally:
        probed.unlink()
    match = re.search(r'<pre id="probe-report"[^>]*>(.*?)</pre>', dom)
    assert match, f"{page}: the browser did not finish loading the page"
    report = match.group(1).replace("&quot;", '"')
    assert '"broken":[]' in report, f"{page}: images failed to load: {report}"
    if page.startswith("chapters/"):
        assert '"images":0' not in report, f"{page}: no figure rendered"
    assert shot.is_file(), f"{page}: no screenshot"
    stats = ImageStat.Stat(Image.open(shot).convert("L"))
    assert stats.stddev[0] > 5, f"{page}: the screenshot is blank"


# Dark mode: the theme sets data-theme on <html>; the diagram stylesheet inverts diagrams then.
THEME_PROBE = """
<script>window.addEventListener('load', () => setTimeout(() => {
  const report = {};
  for (const mode of ['light', 'dark']) {
    document.documentElement.dataset.theme = mode;
    const imgs = [...document.querySelectorAll('figure.diagram img')];
    report[mode] = imgs.map(i => getComputedStyle(i).filter);
    report[mode + '-background'] = getComputedStyle(document.body).backgroundColor;
  }
  const out = document.createElement('pre'); out.id = 'theme-report';
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
}, 200));</script>
"""


@pytest.mark.parametrize("page", [n for n in toc_pages() if n.startswith("chapters/")][:3])
def test_diagrams_are_inverted_in_dark_mode_only(page):
    source = HTML / f"{page}.html"
    probed = source.with_name(f".theme-{source.name}")
    probed.write_text(source.read_text(encoding="utf-8").replace("</body>", THEME_PROBE + "</body>"))
    try:
        with tempfile.TemporaryDirectory() as profile:
            dom = run(["--dump-dom", probed.as_uri()], profile).stdout
    finally:
        probed.unlink()
    match = re.search(r'<pre id="theme-report"[^>]*>(.*?)</pre>', dom)
    assert match, f"{page}: the browser did not finish loading the page"
    report = json.loads(match.group(1).replace("&quot;", '"'))
    assert report["light"] and all(f == "none" for f in report["light"]), report
    assert all("invert" in f for f in report["dark"]), report
    assert report["light-background"] != report["dark-background"], report
