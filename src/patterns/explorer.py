"""Explorers: a figure with sliders that works with a kernel and without one.

With a kernel (JupyterLab, JupyterLite) an explorer is ``ipywidgets.interactive``: every move of a
slider calls the drawing function again. A static web page has no kernel, so the same cell, run by
``scripts/execute_labs.py`` (which sets ``PATTERNS_STATIC_EXPLORERS=1``), builds a second form
instead: it draws the figure in advance for a small grid of slider values and stacks the pictures
in nested ``ipywidgets.Stack``\\ s whose ``selected_index`` is linked in the browser (``jsdlink``) to
a selection slider's ``index``. Dragging that slider on the website swaps the picture with no
kernel; the notebook saves the pictures in its widget state, so the page stays one file.

A lab writes one cell and gets both forms::

    explorer(
        draw,                                   # draws one figure and calls plt.show()
        limit=IntSlider(value=10, min=1, max=40),
        burst=IntSlider(value=10, min=1, max=40),
        frames={"limit": [5, 10, 20], "burst": [1, 10, 30]},   # the static grid
    )

What it does not do: the static form offers only the grid's values (every other control keeps its
starting value there), and a drawing function that prints instead of plotting shows nothing in it.
matplotlib and Pillow are imported inside the functions that draw.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from patterns._validate import require_callable, require_int, require_mapping, require_sequence

__all__ = ["STATIC_ENV", "MAX_FRAMES", "Explorer", "explorer", "static_mode", "render_png"]

STATIC_ENV = "PATTERNS_STATIC_EXPLORERS"
MAX_FRAMES = 64  # pictures per explorer: a page carries them all (about 10-30 kB each)
_CHOICE_CONTROLS = (widgets.Dropdown, widgets.ToggleButtons, widgets.RadioButtons)
_SWITCH_CONTROLS = (widgets.Checkbox, widgets.ToggleButton)
_NUMBER_CONTROLS = (
    widgets.IntSlider, widgets.FloatSlider, widgets.FloatLogSlider,
    widgets.BoundedIntText, widgets.BoundedFloatText,
)


class Explorer(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """The explorer's box; its text form names the controls (the widget itself is the view)."""

    def __init__(
        self, children: Sequence[Any], names: Sequence[str], static: bool, links: Sequence[Any] = ()
    ) -> None:
        super().__init__(children=list(children))
        self._names = tuple(names)
        self._static = static
        self.links = list(links)  # the browser-side links of the static form

    def __repr__(self) -> str:
        kind = "precomputed" if self._static else "live"
        return f"Explorer({', '.join(self._names)}; {kind})"


def static_mode() -> bool:
    """True when explorers must build their kernel-free form (``PATTERNS_STATIC_EXPLORERS=1``)."""
    return os.environ.get(STATIC_ENV, "") == "1"


def explorer(
    draw: Callable[..., Any],
    /,
    *,
    frames: Mapping[str, Sequence[Any]],
    static: bool | None = None,
    max_frames: int = MAX_FRAMES,
    **controls: Any,
) -> Explorer:
    """An explorer of ``draw(**values)`` over ``controls`` (ipywidgets controls, by parameter name).

    ``frames`` maps some of the controls to the values the static form precomputes; each list must
    contain the control's starting value (the picture the page shows first). ``static`` forces one
    form; by default it follows ``PATTERNS_STATIC_EXPLORERS``.
    """
    draw = require_callable(draw, "draw")
    frames = require_mapping(frames, "frames")
    max_frames = require_int(max_frames, "max_frames", minimum=1, maximum=1_000)
    if not controls:
        raise ValueError("explorer needs at least one control, e.g. limit=IntSlider(...)")
    grid: dict[str, list[Any]] = {}
    for name, values in frames.items():
        if name not in controls:
            raise ValueError(f"frames names {name!r}, which is not a control: {sorted(controls)}")
        values = require_sequence(values, f"frames[{name!r}]", max_length=max_frames)
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"frames[{name!r}] repeats a value: {values}")
        start = controls[name].value
        if start not in values:
            raise ValueError(f"frames[{name!r}] must contain the starting value {start!r}: {values}")
        grid[name] = values
    if not grid:
        raise ValueError("frames must give the precomputed values of at least one control")
    count = 1
    for values in grid.values():
        count *= len(values)
    if count > max_frames:
        raise ValueError(f"frames make {count} pictures; at most max_frames={max_frames}")
    for name in grid:
        _selector(name, controls[name], [controls[name].value])  # refuses what it cannot precompute
    use_static = static_mode() if static is None else static
    if use_static:
        return _static_form(draw, grid, controls)
    return Explorer([widgets.interactive(draw, **controls)], list(controls), static=False)


# ------------------------------------------------------------------------------ static form


def _static_form(
    draw: Callable[..., Any], grid: dict[str, list[Any]], controls: Mapping[str, Any]
) -> Explorer:
    names = list(grid)
    fixed = {name: c.value for name, c in controls.items() if name not in grid}
    selectors = [_selector(name, controls[name], grid[name]) for name in names]
    stacks: list[list[Any]] = [[] for _ in names]

    def build(level: int, chosen: tuple[Any, ...]) -> Any:
        if level == len(names):
            png = render_png(draw, {**fixed, **dict(zip(names, chosen, strict=True))})
            layout = widgets.Layout(max_width="100%", height="auto")
            return widgets.Image(value=png, format="png", layout=layout)
        values = grid[names[level]]
        children = [build(level + 1, (*chosen, value)) for value in values]
        start = values.index(controls[names[level]].value)
        stack = widgets.Stack(children, selected_index=start)
        stacks[level].append(stack)
        return stack

    root = build(0, ())
    links = [
        widgets.jsdlink((selector, "index"), (stack, "selected_index"))
        for selector, level_stacks in zip(selectors, stacks, strict=True)
        for stack in level_stacks
    ]
    count = sum(1 for _ in itertools.product(*grid.values()))
    note = f"{count} figures drawn in advance; run the lab to try any setting."
    caption = widgets.HTML(f"<small>{note}</small>")
    return Explorer([*selectors, root, caption], names, static=True, links=links)


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _selector(name: str, control: Any, values: list[Any]) -> Any:
    """A selection widget over ``values`` whose ``index`` trait can drive a Stack in the browser."""
    description = getattr(control, "description", "") or name
    style = {"description_width": "initial"}
    if isinstance(control, _NUMBER_CONTROLS):
        options = [(_label(v), v) for v in values]
        return widgets.SelectionSlider(
            options=options, value=control.value, description=description, style=style
        )
    if isinstance(control, _CHOICE_CONTROLS):
        labels = {value: label for label, value in _choice_pairs(control)}
        options = [(labels.get(v, str(v)), v) for v in values]
        return widgets.Dropdown(
            options=options, value=control.value, description=description, style=style
        )
    if isinstance(control, _SWITCH_CONTROLS):
        options = [(_label(v), v) for v in values]
        return widgets.ToggleButtons(
            options=options, value=control.value, description=description, style=style
        )
    raise TypeError(
        f"control {name!r} is a {type(control).__name__}: an explorer precomputes sliders, "
        "dropdowns, toggle buttons and checkboxes"
    )


def _choice_pairs(control: Any) -> list[tuple[str, Any]]:
    labels, values = control._options_labels, control._options_values
    return [(str(label), value) for label, value in zip(labels, values, strict=True)]


# ------------------------------------------------------------------------------ drawing


@contextmanager
def _show_suppressed() -> Iterator[None]:
    """Within the block ``plt.show()`` does nothing, so the figure stays ours to save."""
    import matplotlib.pyplot as plt

    show = plt.show
    plt.show = lambda *args, **kwargs: None
    try:
        yield
    finally:
        plt.show = show


def render_png(draw: Callable[..., Any], values: Mapping[str, Any]) -> bytes:
    """Call ``draw(**values)`` and return the figure it drew as a compact PNG (256 colours)."""
    import matplotlib.pyplot as plt
    from PIL import Image

    before = set(plt.get_fignums())
    try:
        with _show_suppressed():
            draw(**values)
        drawn = [n for n in plt.get_fignums() if n not in before]
        if not drawn:
            raise ValueError(f"draw({values}) drew no figure: it must plot with matplotlib")
        buffer = io.BytesIO()
        # as Jupyter's inline backend draws it: cropped to what the figure shows
        plt.figure(drawn[-1]).savefig(buffer, format="png", bbox_inches="tight")
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    buffer.seek(0)
    # a palette of 256 colours: a third of the size, no visible change on a line chart
    picture = Image.open(buffer).convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    picture.save(out, format="png")
    return out.getvalue()
