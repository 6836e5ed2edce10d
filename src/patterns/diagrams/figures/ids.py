"""Chapter 14 (unique ids and sketches): the Snowflake layout, drawn from the constant the code uses."""

from __future__ import annotations

from patterns.diagrams.dot import Diagram, Graph
from patterns.ids import LAYOUT

__all__ = ["snowflake_layout"]

_MEANING = {"sign": "always 0", "timestamp": "ms since the epoch", "worker": "machine id",
            "sequence": "count within the ms"}


def snowflake_layout() -> Diagram:
    """One record, one field per entry of ``patterns.ids.LAYOUT``, most significant bit first."""
    fields = "|".join(f"{name}\n{bits} bit{'s' if bits > 1 else ''}\n{_MEANING.get(name, '')}"
                      for name, bits in LAYOUT)
    g = Graph(rankdir="TB", label=f"a Snowflake id: {sum(bits for _, bits in LAYOUT)} bits")
    g.node("id", fields, shape="record", style="filled")
    alt = ("A Snowflake id drawn as one row of fields, most significant bit first: "
           + "; ".join(f"{name}, {bits} bit{'s' if bits > 1 else ''} ({_MEANING.get(name, name)})"
                       for name, bits in LAYOUT) + ".")
    return Diagram(g.source(), alt, "patterns.ids.LAYOUT")
