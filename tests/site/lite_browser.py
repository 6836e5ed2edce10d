"""Drive the in-browser edition (``_build/html/lite``) in headless Chromium, as a reader would.

The built site is served from 127.0.0.1 by a small HTTP server; Playwright drives Debian's Chromium
(``/usr/bin/chromium``, never a downloaded browser) with the network cut off: every host name but
127.0.0.1 fails to resolve and every other address goes to a proxy on a closed port, so a lab that
needed the network fails here as it would for a reader offline, and the failed request is listed.
(Playwright's own request routing is not used: it breaks JupyterLite's service worker, which serves
the notebook files to the kernel.) Used by
``tests/site/test_lite.py`` (pytest) and ``scripts/lite_bench.py`` (timings for benchmarks/README.md).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
LITE = HTML / "lite"
FAILURES = ROOT / "_build" / "lite-failures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    # offline: no name resolves but the loopback address, and anything else goes to a closed port
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
]
KERNEL_TIMEOUT_S = 180
LAB_TIMEOUT_S = 300


# every path a test server answered 404, by port, whoever asked (page, web worker, service worker)
NOT_FOUND: dict[int, list[str]] = {}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm"}

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == 404 and self.path != "/favicon.ico":  # the browser's own probe at the server root
            NOT_FOUND.setdefault(self.server.server_address[1], []).append(self.path)
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: Path = HTML) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) for the duration; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Offline:
    """What a page asked of anywhere but the local server, what failed, and the console's errors."""

    base: str
    elsewhere: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def watch(self, context: Any) -> None:
        def request(r: Any) -> None:
            if not r.url.startswith((self.base, "data:", "blob:")):
                self.elsewhere.append(r.url)

        context.on("request", request)
        context.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        context.on("response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico")
                   and self.missing.append(f"{r.status} {r.url}"))
        context.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Runs in the page: wait for the notebook, its kernel (Pyodide) to answer, then run every cell.
OPEN_JS = """
async (timeoutMs) => {
  const t0 = performance.now();
  const until = async (test, what) => {
    while (!test()) {
      if (performance.now() - t0 > timeoutMs) throw new Error('timed out waiting for ' + what);
      await new Promise(r => setTimeout(r, 100));
    }
  };
  await until(() => window.jupyterapp && window.jupyterapp.shell.currentWidget
              && window.jupyterapp.shell.currentWidget.sessionContext, 'the notebook');
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await until(() => panel.sessionContext.session && panel.sessionContext.session.kernel, 'a kernel');
  // the kernel's connection can still be opening (a message sent then fails): wait, then ask it
  // for its info, which it answers once Pyodide has started
  const kernel = () => panel.sessionContext.session.kernel;
  for (;;) {
    await until(() => kernel().connectionStatus === 'connected', 'the kernel connection');
    try {
      await kernel().requestKernelInfo();
      break;
    } catch (err) {
      if (!String(err).includes('not connected')) throw err;
    }
  }
  await until(() => kernel().status === 'idle', 'an idle kernel');
  return performance.now() - t0;
}
"""

RUN_ALL_JS = """
async (timeoutMs) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  const t0 = performance.now();
  await app.commands.execute('notebook:run-all-cells');
  const kernel = panel.sessionContext.session.kernel;
  while (kernel.status !== 'idle') {
    if (performance.now() - t0 > timeoutMs) throw new Error('the lab was still running after ' + timeoutMs + ' ms');
    await new Promise(r => setTimeout(r, 100));
  }
  const elapsed = performance.now() - t0;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code').map(c => ({
    source: c.model.sharedModel.getSource(),
    tags: c.model.getMetadata('tags') || [],
    count: c.model.executionCount,
    outputs: c.model.outputs.toJSON(),
  }));
  return {elapsed, cells};
}
"""


@dataclass
class LabRun:
    name: str
    kernel_s: float
    run_s: float
    cells: list[dict[str, Any]]
    offline: Offline

    @staticmethod
    def text(cell: dict[str, Any]) -> str:
        parts = []
        for out in cell["outputs"]:
            if out.get("output_type") == "stream":
                parts.append("".join(out.get("text", "")))
            elif out.get("output_type") == "error":
                parts.append(f"{out.get('ename')}: {out.get('evalue')}")
            elif "text/plain" in out.get("data", {}):
                parts.append("".join(out["data"]["text/plain"]))
        return "".join(parts)

    def errors(self) -> list[str]:
        """Cells that raised (and were not tagged to), never ran, or printed a traceback."""
        found = []
        for cell in self.cells:
            if not cell["source"].strip():
                continue
            head = cell["source"].strip().splitlines()[0][:70]
            if cell["count"] is None:
                found.append(f"never ran: {head!r}")
            for out in cell["outputs"]:
                if out.get("output_type") == "error" and "raises-exception" not in cell["tags"]:
                    found.append(f"{head!r} raised {out.get('ename')}: {out.get('evalue')}")
            if "Traceback (most recent call last)" in self.text(cell):
                found.append(f"{head!r} printed a traceback")
        return found

    def checker_outputs(self) -> list[str]:
        """What each checker printed: the code cell right after each exercise (cell tagged ``solution``)."""
        return [
            self.text(self.cells[i + 1])
            for i, cell in enumerate(self.cells[:-1])
            if "solution" in cell["tags"]
        ]


def run_lab(chromium: Any, base: str, name: str) -> LabRun:
    """Open ``name`` (e.g. ``10-rate-limiting.ipynb``) in JupyterLite, start its kernel, run all cells.

    On a failure the page's screenshot is saved to ``_build/lite-failures/`` and the error says where.
    """
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    offline = Offline(base)
    offline.watch(context)
    not_found = NOT_FOUND.setdefault(int(base.rsplit(":", 1)[1]), [])
    seen_404 = len(not_found)
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(f"{base}/lite/lab/index.html?path={name}", timeout=KERNEL_TIMEOUT_S * 1000)
        page.evaluate(OPEN_JS, KERNEL_TIMEOUT_S * 1000)
        kernel_s = time.perf_counter() - started
        page.set_default_timeout(LAB_TIMEOUT_S * 1000)
        result = page.evaluate(RUN_ALL_JS, LAB_TIMEOUT_S * 1000)
        offline.missing += [f"404 {path}" for path in not_found[seen_404:]]
        return LabRun(name, kernel_s, result["elapsed"] / 1000, result["cells"], offline)
    except Exception as exc:
        shot = FAILURES / f"{name}.png"
        FAILURES.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot))
        raise RuntimeError(f"{name}: {exc} (screenshot: {shot}; console errors: {offline.console_errors})") from exc
    finally:
        context.close()


def run_labs(names: list[str], workers: int = 1) -> dict[str, LabRun | str]:
    """Run labs, ``workers`` at a time (each worker its own server, Playwright and Chromium);
    a lab that could not be run maps to the error's text."""
    results: dict[str, LabRun | str] = {}

    def worker(share: list[str]) -> None:
        with serve() as base, browser() as chromium:
            for name in share:
                try:
                    results[name] = run_lab(chromium, base, name)
                except Exception as exc:  # noqa: BLE001 - reported per lab by the caller
                    results[name] = f"{type(exc).__name__}: {exc}"

    shares = [names[i::workers] for i in range(max(1, workers))]
    threads = [threading.Thread(target=worker, args=(share,)) for share in shares if share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def lab_names() -> list[str]:
    return sorted(p.name for p in (ROOT / "labs").glob("*.ipynb"))


def chosen_labs() -> list[str]:
    """``PATTERNS_LITE_LABS``: ``all`` (``make lite-test``), or comma-separated numbers; default lab 10."""
    wanted = os.environ.get("PATTERNS_LITE_LABS", "10").strip()
    names = lab_names()
    if wanted == "all":
        return names
    numbers = [w.strip().zfill(2) for w in wanted.split(",") if w.strip()]
    return [n for n in names if n[:2] in numbers]
