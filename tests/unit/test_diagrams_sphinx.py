"""The ``diagram`` directive in a real (small) Sphinx build: HTML, alt text, errors, dark mode CSS."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sphinx.cmd.build import build_main

pytestmark = pytest.mark.timeout(300)

CONF = 'extensions = ["myst_parser", "patterns.diagrams.sphinx"]\nmyst_enable_extensions = ["colon_fence"]\n'


def build(tmp_path: Path, page: str) -> tuple[int, str, Path]:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(CONF)
    (src / "index.md").write_text(page)
    out = tmp_path / "html"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = build_main(["-W", "-q", "-b", "html", str(src), str(out), "-d", str(tmp_path / "doctrees")])
    return code, err.getvalue(), out


GOOD = """# Page

```{diagram} patterns.diagrams.gallery.breaker_states
:caption: The breaker.
```

```{diagram}
:alt: The app reads the cache, then the database.
:name: fig-app

digraph { app; cache [kind=cache]; db [kind=store]; app -> cache; app -> db }
```
"""


def test_both_forms_render_to_figures_with_alt_text(tmp_path: Path) -> None:
    code, err, out = build(tmp_path, GOOD)
    assert code == 0, err
    soup = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    figures = soup.select("figure.diagram")
    assert [f["class"] for f in figures] == [["diagram", "diagram-generated"], ["diagram", "diagram-drawn"]]
    generated, drawn = (f.find("img") for f in figures)
    assert generated["data-generated-from"] == "patterns.resilience.breaker.TRANSITIONS"
    assert "closed to open when" in generated["alt"]
    assert drawn["alt"] == "The app reads the cache, then the database." and not drawn.get("data-generated-from")
    assert figures[1]["id"] == "fig-app"
    assert "The breaker." in figures[0].figcaption.get_text() and "Drawn by" in figures[0].figcaption.get_text()
    for img in (generated, drawn):
        svg = (out / img["src"]).read_text()
        assert "<svg" in svg and "dark-light" in img["class"]
        assert img.parent.name == "a" and img.parent["href"] == img["src"]  # opens at full size
    drawn_svg = (out / drawn["src"]).read_text()
    assert "cylinder" not in drawn_svg and 'fill="#fde9c9"' in drawn_svg  # kind=store got the store's fill
    css = (out / "_static" / "diagrams.css").read_text()
    assert 'html[data-theme="dark"] figure.diagram img' in css and "invert(" in css
    assert "diagrams.css" in (out / "index.html").read_text()


@pytest.mark.parametrize(("page", "message"), [
    ("```{diagram}\ndigraph { a -> b }\n```\n", "needs :alt: text"),
    ("```{diagram} patterns.diagrams.gallery.no_such_diagram\n```\n", "has no function 'no_such_diagram'"),
    ("```{diagram} patterns.no_such_module.f\n```\n", "No module named"),
    ("```{diagram}\n:alt: broken\ndigraph { a -> }\n```\n", "syntax error"),
    ("```{diagram}\n:alt: odd\ndigraph { a [kind=blob] }\n```\n", "kind must be one of"),
    ("```{diagram} patterns.diagrams.gallery.breaker_states\n:alt: x\ndigraph { a }\n```\n", "not both"),
])
def test_a_bad_diagram_fails_the_build_at_its_line(tmp_path: Path, page: str, message: str) -> None:
    code, err, _ = build(tmp_path, "# Page\n\n" + page)
    assert code != 0
    assert message in err and "index.md:3" in err


def test_a_build_without_graphviz_fails_saying_how_to_install_it(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATTERNS_DOT", str(tmp_path / "no-dot-here"))
    code, err, _ = build(tmp_path, GOOD)
    assert code != 0 and "apt-get install graphviz" in err
