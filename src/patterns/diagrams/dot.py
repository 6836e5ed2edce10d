"""Graphviz DOT text, written by code: one theme, safe quoting, and the ``Diagram`` a chapter shows.

Every diagram of the book is DOT rendered by Graphviz's ``dot`` at build time (``render``). This
module only writes text, so it needs neither Graphviz nor a browser, and a test can read what a
diagram says (its states, its messages) without drawing it.

The theme is light ink on a transparent background with pale fills, one fill per *kind* of box
(a service, a data store, a queue, ...). Dark mode inverts the picture in CSS (see
``patterns.diagrams.sphinx``), so the palette is chosen to read well both ways.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from patterns._validate import require_one_of, require_text

__all__ = ["KINDS", "Graph", "Diagram", "quote", "apply_theme", "THEME_DEFAULTS"]

# what a box of each kind looks like: shape, fill, and any extra style
KINDS: dict[str, dict[str, str]] = {
    "service": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe8fb"},
    "store": {"shape": "cylinder", "style": "filled", "fillcolor": "#fde9c9"},
    "queue": {"shape": "box", "style": "filled", "fillcolor": "#d7f0df", "peripheries": "2"},
    "cache": {"shape": "box3d", "style": "filled", "fillcolor": "#f8dcea"},
    "client": {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#eeeeee"},
    "external": {"shape": "box", "style": "filled,dashed", "fillcolor": "#f2f2f2"},
    "state": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe8fb"},
    "final": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#d7f0df", "peripheries": "2"},
    "start": {"shape": "circle", "style": "filled", "fillcolor": "#444444", "label": "", "width": "0.16",
              "height": "0.16", "fixedsize": "true"},
    "note": {"shape": "note", "style": "filled", "fillcolor": "#fff6c8"},
    "point": {"shape": "point", "width": "0.01", "height": "0.01", "label": ""},
}
INK = "#333333"
FONT = "Helvetica"
THEME_DEFAULTS = (
    f'graph [bgcolor="transparent", fontname="{FONT}", fontsize=11, fontcolor="{INK}", '
    'nodesep=0.35, ranksep=0.45, pad=0.15, color="#777777", style="rounded,dashed"]',  # clusters inherit
    f'node [fontname="{FONT}", fontsize=11, fontcolor="#1f1f1f", color="{INK}", penwidth=1.1, '
    'shape=box, style="rounded,filled", fillcolor="#dbe8fb", margin="0.14,0.06", height=0.36]',
    f'edge [fontname="{FONT}", fontsize=10, fontcolor="{INK}", color="{INK}", arrowsize=0.7, penwidth=1.0]',
)

_KIND_ATTR = re.compile(r'\bkind\s*=\s*"?([A-Za-z_]+)"?')


def quote(text: object) -> str:
    """``text`` as a DOT double-quoted string (backslashes, quotes and newlines escaped)."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + s.replace("\r\n", "\n").replace("\n", "\\n") + '"'


def _attrs(attrs: Mapping[str, object]) -> str:
    if not attrs:
        return ""
    return " [" + ", ".join(f"{k}={quote(v)}" for k, v in attrs.items() if v is not None) + "]"


def _kind_attrs(kind: str) -> str:
    return ", ".join(f"{k}={quote(v)}" for k, v in KINDS[kind].items())


def apply_theme(source: str) -> str:
    """Hand-written DOT in the book's theme: defaults after the first ``{``, ``kind=x`` expanded.

    Authors write ``db [kind=store, label="orders DB"]`` and get the store's shape and fill. An
    unknown kind raises ``ValueError`` naming the kinds there are.
    """
    source = require_text(source, "source", max_length=200_000)
    brace = source.find("{")
    if brace < 0:
        raise ValueError("source must be a DOT graph: `digraph { ... }`, found no '{'")

    def expand(match: re.Match[str]) -> str:
        kind = match.group(1)
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        return _kind_attrs(kind)

    head, body = source[: brace + 1], _KIND_ATTR.sub(expand, source[brace + 1:])
    return head + "\n  " + "\n  ".join(THEME_DEFAULTS) + "\n" + body


@dataclass
class _Edge:
    tail: str
    head: str
    attrs: dict[str, object]


@dataclass
class Graph:
    """A directed graph written as DOT: nodes with a kind, edges, clusters and rank constraints.

    Node ids are kept as given (quoted), so ``"order-saga.DLT"`` is a fine id. ``rankdir`` is
    ``LR`` (left to right) or ``TB`` (top to bottom).
    """

    rankdir: str = "LR"
    attrs: dict[str, object] = field(default_factory=dict)
    label: str | None = None
    _nodes: dict[str, dict[str, object]] = field(default_factory=dict)
    _edges: list[_Edge] = field(default_factory=list)
    _clusters: list[tuple[str, Graph]] = field(default_factory=list)
    _ranks: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        require_one_of(self.rankdir, "rankdir", ("LR", "TB", "RL", "BT"))

    def node(self, node_id: str, label: str | None = None, *, kind: str = "service", **attrs: object) -> str:
        """Add (or update) a node; returns its id so calls can be chained into edges."""
        node_id = require_text(node_id, "node_id", max_length=500)
        require_one_of(kind, "kind", KINDS)
        merged: dict[str, object] = dict(KINDS[kind])
        if label is not None:
            merged["label"] = label
        merged.update(attrs)
        self._nodes.setdefault(node_id, {}).update(merged)
        return node_id

    def edge(self, tail: str, head: str, label: str | None = None, **attrs: object) -> None:
        """Add an edge; ``style="dashed"`` for asynchronous or replies, ``constraint=False`` etc."""
        merged = dict(attrs)
        if label is not None:
            merged["label"] = label
        self._edges.append(_Edge(tail, head, merged))

    def cluster(self, name: str, label: str, **attrs: object) -> Graph:
        """A box drawn around the nodes added to the returned subgraph (a process, a host...)."""
        sub = Graph(self.rankdir, attrs={"label": label, "style": "rounded,dashed", "color": "#777777",
                                         "fontcolor": "#555555", "labeljust": "l", **attrs})
        self._clusters.append((name, sub))
        return sub

    def same_rank(self, *node_ids: str, kind: str = "same") -> None:
        """Keep these nodes in one row (LR: one column)."""
        self._ranks.append((kind, tuple(node_ids)))

    @property
    def nodes(self) -> dict[str, dict[str, object]]:
        """Every node id (clusters included) with its attributes."""
        out = dict(self._nodes)
        for _, sub in self._clusters:
            out.update(sub.nodes)
        return out

    @property
    def edges(self) -> list[tuple[str, str, str | None]]:
        """Every edge as (tail, head, label), clusters included, in the order they were added."""
        out = [(e.tail, e.head, None if e.attrs.get("label") is None else str(e.attrs["label"]))
               for e in self._edges]
        for _, sub in self._clusters:
            out.extend(sub.edges)
        return out

    def _body(self, indent: str) -> Iterable[str]:
        for key, value in self.attrs.items():
            yield f"{indent}{key}={quote(value)};"
        for node_id, attrs in self._nodes.items():
            yield f"{indent}{quote(node_id)}{_attrs(attrs)};"
        for i, (name, sub) in enumerate(self._clusters):
            yield f"{indent}subgraph {quote('cluster_' + (name or str(i)))} {{"
            yield from sub._body(indent + "  ")
            yield f"{indent}}}"
        for kind, ids in self._ranks:
            yield f"{indent}{{ rank={kind}; " + " ".join(quote(i) for i in ids) + " }"
        for e in self._edges:
            yield f"{indent}{quote(e.tail)} -> {quote(e.head)}{_attrs(e.attrs)};"

    def source(self) -> str:
        """The whole graph as DOT text, in the book's theme."""
        lines = ["digraph G {", *(f"  {line};" for line in THEME_DEFAULTS), f"  rankdir={self.rankdir};"]
        if self.label:
            lines.append(f'  label={quote(self.label)}; labelloc="t";')
        lines.extend(self._body("  "))
        lines.append("}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Diagram:
    """What a chapter shows: DOT text, the alt text a screen reader reads, and where it came from.

    ``generated_from`` names the package object the picture was drawn from (a transition table, a
    recorded run); None for a diagram written by hand. ``caption`` is optional.
    """

    dot: str
    alt: str
    generated_from: str | None = None
    caption: str | None = None

    def __post_init__(self) -> None:
        require_text(self.dot, "dot", max_length=500_000)
        require_text(self.alt, "alt", max_length=5_000)
        if not self.alt.strip():
            raise ValueError("alt must describe the diagram for a reader who cannot see it, got blank text")

    @property
    def generated(self) -> bool:
        return self.generated_from is not None

    def svg(self) -> str:
        """The diagram rendered by Graphviz (needs ``dot`` on PATH; see ``patterns.diagrams.render``)."""
        from patterns.diagrams.render import to_svg

        return to_svg(self.dot)

    def _repr_svg_(self) -> str:  # JupyterLab shows the picture
        return self.svg()
