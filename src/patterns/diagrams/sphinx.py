"""The book's ``diagram`` directive (a Sphinx extension; jupyter-book loads it from ``_config.yml``).

Two forms, one renderer (Graphviz ``dot``, at build time, offline)::

    ```{diagram} patterns.diagrams.gallery.breaker_states
    ```

draws the ``Diagram`` a function of the package returns (generated: drawn from a transition table,
a recorded run, a topology), with the alt text and "drawn from" note the function computed; and::

    ```{diagram}
    :alt: The client calls the API, which writes the orders database.
    digraph { client [kind=client]; api; db [kind=store]; client -> api -> db }
    ```

draws DOT written in the chapter, in the book's theme (``kind=`` picks a box, see
``patterns.diagrams.dot.KINDS``); ``:alt:`` is required. Both take ``:caption:`` and ``:name:``
(a label for cross-references); ``:alt:`` overrides a generator's text.

The HTML is ``<figure class="diagram diagram-generated|diagram-drawn">`` around an ``<img>`` of the
SVG with its ``alt`` (and ``data-generated-from`` for generated ones): the site tests count them.
In dark mode a CSS filter inverts the picture (light ink on the dark page, hues kept). A build
without ``dot`` fails at once, saying how to install it.
"""

from __future__ import annotations

import hashlib
import html
import importlib
import posixpath
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective, SphinxTranslator

from patterns.diagrams.dot import Diagram, apply_theme
from patterns.diagrams.render import GraphvizError, GraphvizMissing, dot_program, to_svg

__all__ = ["setup", "DiagramDirective", "diagram_node", "CSS", "load_generator"]

CSS = """\
/* patterns.diagrams: Graphviz diagrams, dark ink on a transparent background */
figure.diagram { margin: 1.4em auto; text-align: center; }
figure.diagram img { max-width: 100%; height: auto; }
figure.diagram a.diagram-full-size { cursor: zoom-in; }
figure.diagram figcaption { font-size: 0.9em; margin-top: 0.4em; }
figure.diagram figcaption .diagram-source { color: var(--pst-color-text-muted, #666); }
/* dark mode: invert lightness, rotate hues back, so light ink sits on the dark page */
html[data-theme="dark"] figure.diagram img { filter: invert(0.88) hue-rotate(180deg); }
"""


class diagram_node(nodes.General, nodes.Element):  # type: ignore[misc]  # noqa: N801 - docutils style
    """A rendered diagram: attributes ``dot``, ``alt``, ``caption``, ``generated_from``, ``digest``."""


def load_generator(path: str) -> Diagram:
    """Call the function named ``package.module.function`` (or ``package.module:function``)."""
    module_name, _, attribute = path.replace(":", ".").rpartition(".")
    if not module_name:
        raise ValueError(f"name the function as package.module.function, got {path!r}")
    module = importlib.import_module(module_name)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"{module_name} has no function {attribute!r}")
    result = function()
    if not isinstance(result, Diagram):
        raise TypeError(f"{path}() must return a patterns.diagrams.Diagram, got {type(result).__name__}")
    return result


def _cache_dir(app: Sphinx) -> Path:
    return Path(app.doctreedir) / "diagrams"


def _svg_for(app: Sphinx, dot: str, digest: str) -> str:
    cached = _cache_dir(app) / f"{digest}.svg"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    svg = to_svg(dot)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(svg, encoding="utf-8")
    return svg


class DiagramDirective(SphinxDirective):
    """``{diagram} package.module.function`` or ``{diagram}`` with DOT as its content."""

    optional_arguments = 1
    has_content = True
    option_spec = {  # noqa: RUF012 - the docutils API is a class attribute
        "alt": directives.unchanged,
        "caption": directives.unchanged,
        "name": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        try:
            if self.arguments and self.content:
                raise ValueError("give a generator function or DOT text in the body, not both")
            if self.arguments:
                made = load_generator(self.arguments[0])
                dot, alt = made.dot, self.options.get("alt") or made.alt
                caption = self.options.get("caption") or made.caption
                generated_from = made.generated_from or self.arguments[0]
            else:
                if not self.content:
                    raise ValueError("give a generator function (package.module.function) or DOT text")
                alt = (self.options.get("alt") or "").strip()
                if not alt:
                    raise ValueError("a hand-written diagram needs :alt: text (what a reader who cannot "
                                     "see it should know)")
                dot, caption, generated_from = apply_theme("\n".join(self.content)), \
                    self.options.get("caption"), None
            digest = hashlib.sha256(dot.encode()).hexdigest()[:20]
            _svg_for(self.env.app, dot, digest)  # render now: a broken diagram fails at its line
        except (ValueError, TypeError, ImportError, GraphvizError) as exc:
            return [self.state_machine.reporter.error(
                f"diagram: {exc}", nodes.literal_block(self.block_text, self.block_text), line=self.lineno)]
        node = diagram_node(dot=dot, alt=" ".join(alt.split()), caption=caption or "",
                            generated_from=generated_from or "", digest=digest)
        self.set_source_info(node)
        if "name" in self.options:
            self.add_name(node)
        return [node]


def visit_diagram_html(self: SphinxTranslator, node: diagram_node) -> None:
    builder: Any = self.builder
    name = f"diagram-{node['digest']}.svg"
    target = Path(builder.outdir) / builder.imagedir / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_svg_for(builder.app, node["dot"], node["digest"]), encoding="utf-8")
    source = posixpath.join(builder.imgpath, name)
    generated = node["generated_from"]
    classes = "diagram " + ("diagram-generated" if generated else "diagram-drawn")
    ids = "".join(f' id="{html.escape(i)}"' for i in node.get("ids", [])[:1])
    body: list[str] = self.body
    body.append(f'<figure class="{classes}"{ids}>')
    data = f' data-generated-from="{html.escape(generated)}"' if generated else ""
    # the picture links to itself: a wide sequence chart can be opened at full size on a phone
    body.append(f'<a class="diagram-full-size" href="{html.escape(source)}" title="open at full size">'
                f'<img src="{html.escape(source)}" alt="{html.escape(node["alt"])}" '
                f'class="dark-light diagram-image"{data}></a>')
    parts = []
    if node["caption"]:
        parts.append(html.escape(node["caption"]))
    if generated:
        parts.append(f'<span class="diagram-source">Drawn by <code>{html.escape(generated)}</code>.</span>')
    if parts:
        body.append("<figcaption>" + " ".join(parts) + "</figcaption>")
    body.append("</figure>\n")
    raise nodes.SkipNode


def visit_diagram_other(self: SphinxTranslator, node: diagram_node) -> None:
    raise nodes.SkipNode  # LaTeX, text, man: the HTML book is what is published


def _check_dot(app: Sphinx) -> None:
    try:
        dot_program()
    except GraphvizMissing as exc:
        raise ExtensionError(str(exc)) from exc
    static = _cache_dir(app) / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "diagrams.css").write_text(CSS, encoding="utf-8")
    paths = list(getattr(app.config, "html_static_path", []) or [])
    if str(static) not in paths:
        app.config.html_static_path = [*paths, str(static)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(diagram_node, html=(visit_diagram_html, None), latex=(visit_diagram_other, None),
                 text=(visit_diagram_other, None), man=(visit_diagram_other, None),
                 texinfo=(visit_diagram_other, None))
    app.add_directive("diagram", DiagramDirective)
    app.add_css_file("diagrams.css")
    app.connect("builder-inited", _check_dot)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
