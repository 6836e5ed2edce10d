"""What every worked design in the casebook has: a design, a diagram, the patterns it uses, a rubric.

A ``CaseStudy`` bundles

* ``design``: a ``patterns.estimate.WorkedDesign`` (requirements, an ``Estimate`` computed by
  ``capacity_model`` and friends, API, data model, components, deep dives, bottlenecks);
* ``diagram``: a ``Diagram`` (boxes and arrows, as data; the book draws it with ``patterns.diagrams``);
* ``uses``: the chapters whose patterns the design leans on, and for what;
* ``bottleneck``: the one question its experiment answers (the experiment itself is a function
  of the case's module, so the chapter and the lab call the same code);
* ``rubric``: what an interviewer could score, area by area.

The rubric scores each criterion 0-3 (``LEVELS``) and turns the mean into a verdict. It is a
conversation aid for interviewers, not a hiring algorithm: what it does not capture (how the
candidate responded to hints, how clearly they spoke) is often what decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from patterns._validate import require_int, require_mapping, require_number, require_sequence, require_text
from patterns.estimate import WorkedDesign, format_value

__all__ = [
    "LEVELS",
    "VERDICTS",
    "KINDS",
    "Criterion",
    "Rubric",
    "Score",
    "PatternUse",
    "Diagram",
    "CaseStudy",
]

#: The four marks a criterion can get.
LEVELS: dict[int, str] = {0: "missing or a red flag", 1: "partial", 2: "meets the bar", 3: "strong"}

#: Mean mark (0-3) at or above which each verdict applies, best first.
VERDICTS: tuple[tuple[float, str], ...] = (
    (2.5, "strong hire"),
    (2.0, "hire"),
    (1.5, "lean no hire"),
    (0.0, "no hire"),
)


@dataclass(frozen=True)
class Criterion:
    """One thing an interviewer looks for: what meeting the bar, a strong answer and a red flag are."""

    area: str
    meets: str
    strong: str
    red_flag: str

    def __post_init__(self) -> None:
        for name in ("area", "meets", "strong", "red_flag"):
            require_text(getattr(self, name), name, max_length=400)


@dataclass(frozen=True)
class Score:
    """A scored interview: marks per area, their sum, and the verdict their mean implies."""

    marks: dict[str, int]
    total: int
    maximum: int
    verdict: str
    red_flags: tuple[str, ...]  # areas marked 0

    @property
    def mean(self) -> float:
        return self.total / len(self.marks)


@dataclass(frozen=True)
class Rubric:
    """Criteria scored 0-3 each; any 0 (a red flag) caps the verdict at "lean no hire"."""

    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        items = require_sequence(self.criteria, "criteria", min_length=3, max_length=12)
        areas = [c.area for c in items]
        if len(set(areas)) != len(areas):
            raise ValueError(f"criteria must have distinct areas, got {areas}")

    @property
    def areas(self) -> list[str]:
        return [c.area for c in self.criteria]

    def score(self, marks: Mapping[str, int]) -> Score:
        """Score an interview: ``marks`` maps every area to 0, 1, 2 or 3."""
        given = require_mapping(marks, "marks")
        unknown = sorted(set(given) - set(self.areas))
        missing = [a for a in self.areas if a not in given]
        if unknown or missing:
            raise ValueError(f"marks must give every area of {self.areas} a mark, "
                             f"missing {missing}, unknown {unknown}")
        clean = {a: require_int(given[a], f"marks[{a!r}]", minimum=0, maximum=3) for a in self.areas}
        total = sum(clean.values())
        mean = total / len(clean)
        verdict = next(name for threshold, name in VERDICTS if mean >= threshold)
        flags = tuple(a for a, m in clean.items() if m == 0)
        if flags and verdict in ("strong hire", "hire"):
            verdict = "lean no hire"  # a red flag is not averaged away
        return Score(clean, total, 3 * len(clean), verdict, flags)

    def to_markdown(self) -> str:
        """The rubric as a Markdown table (area, meets the bar, strong, red flag)."""
        lines = ["| area | meets the bar (2) | strong (3) | red flag (0) |", "|---|---|---|---|"]
        for c in self.criteria:
            cells = (c.area, c.meets, c.strong, c.red_flag)
            lines.append("| " + " | ".join(x.replace("|", "/") for x in cells) + " |")
        return "\n".join(lines)


@dataclass(frozen=True)
class PatternUse:
    """A chapter whose pattern the design uses (``chapter`` is its number), and what for."""

    chapter: int
    pattern: str
    why: str

    def __post_init__(self) -> None:
        require_int(self.chapter, "chapter", minimum=1, maximum=99)
        require_text(self.pattern, "pattern", max_length=80)
        require_text(self.why, "why", max_length=300)


#: The largest value a design parameter accepts: beyond any real system, low enough to stop a typo.
MAX_PARAMETER = 1e15

#: The kinds of box a casebook diagram uses (drawn by ``patterns.diagrams`` in the book's theme).
KINDS: tuple[str, ...] = ("client", "service", "store", "cache", "queue", "external")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Diagram:
    """Boxes and arrows: ``nodes`` are ``(id, label, kind)``, ``edges`` are ``(from, to, label)``.

    Data only: ``patterns.diagrams.figures.casebook`` draws it (Graphviz, the book's theme), and
    ``alt_text`` says in words what the picture shows. A ``\\n`` in a label is a line break.
    """

    title: str
    nodes: tuple[tuple[str, str, str], ...]
    edges: tuple[tuple[str, str, str], ...]

    def __post_init__(self) -> None:
        require_text(self.title, "title", max_length=120)
        ids: set[str] = set()
        for node in require_sequence(self.nodes, "nodes", max_length=40):
            node_id, label, kind = node
            if not isinstance(node_id, str) or not _ID.match(node_id):
                raise ValueError(f"node ids must be lower-case identifiers, got {node_id!r}")
            require_text(label, f"label of {node_id}", max_length=80)
            if kind not in KINDS:
                raise ValueError(f"kind of {node_id} must be one of {', '.join(KINDS)}, got {kind!r}")
            if node_id in ids:
                raise ValueError(f"node {node_id!r} is defined twice")
            ids.add(node_id)
        for src, dst, label in require_sequence(self.edges, "edges", min_length=0, max_length=80):
            for end in (src, dst):
                if end not in ids:
                    raise ValueError(f"edge {src!r} -> {dst!r} uses an undefined node {end!r}")
            require_text(label, f"label of {src}->{dst}", min_length=0, max_length=60)

    def alt_text(self) -> str:
        """A sentence for screen readers: the title, then every arrow in words."""
        labels = {node_id: label.replace("\\n", " ") for node_id, label, _ in self.nodes}
        arrows = [
            f"{labels[s]} to {labels[d]}" + (f" ({lbl.replace(chr(92) + 'n', ' ')})" if lbl else "")
            for s, d, lbl in self.edges
        ]
        return f"{self.title}: " + "; ".join(arrows) + "."


@dataclass(frozen=True)
class CaseStudy:
    """One worked design of the casebook (see the module docstring)."""

    slug: str
    design: WorkedDesign
    diagram: Diagram
    uses: tuple[PatternUse, ...]
    bottleneck: str
    rubric: Rubric
    headline: tuple[str, ...]  # the estimate quantities worth saying out loud

    def __post_init__(self) -> None:
        require_text(self.slug, "slug", max_length=40)
        require_text(self.bottleneck, "bottleneck", max_length=300)
        require_sequence(self.uses, "uses", max_length=20)
        for name in require_sequence(self.headline, "headline", max_length=12):
            self.design.estimate.quantity(name)  # KeyError names a headline the estimate lacks

    @property
    def name(self) -> str:
        return self.design.name

    @property
    def chapters(self) -> list[int]:
        """The chapter numbers the design uses, in order, without repeats."""
        return sorted({u.chapter for u in self.uses})

    def headline_numbers(self) -> list[tuple[str, str]]:
        """``(name, formatted value)`` for each headline quantity of the estimate."""
        est = self.design.estimate
        return [(n, format_value(est[n], est.quantity(n).unit)) for n in self.headline]

    def summary(self) -> str:
        """A compact text card: requirements, headline numbers, chapters used, bottleneck."""
        lines = [self.name, "=" * len(self.name)]
        lines += ["Requirements:"] + [f"  - {r}" for r in self.design.functional + self.design.non_functional]
        lines += ["Numbers (computed):"] + [f"  {n:<22} {v}" for n, v in self.headline_numbers()]
        lines += ["Patterns used:"] + [f"  ch. {u.chapter:02d} {u.pattern}: {u.why}" for u in self.uses]
        lines.append(f"Bottleneck probed: {self.bottleneck}")
        return "\n".join(lines)


def uses(*items: tuple[int, str, str]) -> tuple[PatternUse, ...]:
    """``uses((7, "cache-aside", "why"), ...)``: a shorter way to list pattern uses."""
    return tuple(PatternUse(*item) for item in items)


def rubric(*items: tuple[str, str, str, str]) -> Rubric:
    """``rubric((area, meets, strong, red_flag), ...)``."""
    return Rubric(tuple(Criterion(*item) for item in items))


def parameters(defaults: Mapping[str, float], overrides: Mapping[str, float]) -> dict[str, float]:
    """``defaults`` updated with ``overrides``: an unknown name is a ``ValueError`` naming the known
    ones, and every value must be a positive finite number (no design has a negative size or rate)."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(f"overrides must be among {sorted(defaults)}, got {unknown}")
    for name, value in overrides.items():
        require_number(value, name, minimum=0.0, strict_min=True, maximum=MAX_PARAMETER)
    return {**defaults, **overrides}


def require_scale(value: object, name: str) -> float:
    """A design's main parameter (users, payments a day, ids a second): > 0 and below absurd."""
    return require_number(value, name, minimum=0.0, strict_min=True, maximum=MAX_PARAMETER)


def diagram(title: str, nodes: Sequence[tuple[str, str, str]], edges: Sequence[tuple[str, str, str]]) -> Diagram:
    return Diagram(title, tuple(nodes), tuple(edges))
