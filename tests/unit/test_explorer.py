"""patterns.explorer: one cell, a live explorer with a kernel and a precomputed one without."""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib
import pytest
from PIL import Image

from patterns import explorer as explorer_module
from patterns.explorer import STATIC_ENV, Explorer, explorer, render_png, static_mode

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def Recorder():  # noqa: N802  (used like a class)
    """A drawing function that records its calls (``.calls``) and draws a figure that depends on them."""
    calls: list[dict[str, object]] = []

    def draw(limit=10, period=10.0, shape="flat", on=True):
        calls.append({"limit": limit, "period": period, "shape": shape, "on": on})
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1], [0, limit * period * (2 if on else 1)])
        ax.set_title(f"{limit} {period} {shape} {on}")
        plt.show()

    draw.calls = calls
    return draw


def controls() -> dict[str, object]:
    return {
        "limit": widgets.IntSlider(value=10, min=1, max=40),
        "period": widgets.FloatSlider(value=10.0, min=1.0, max=60.0),
        "shape": widgets.Dropdown(options=["flat", "steep"], value="flat"),
        "on": widgets.Checkbox(value=True),
    }


def stacks_of(box: Explorer) -> list[list[widgets.Stack]]:
    """The Stacks of each level, outermost first."""
    levels, current = [], [box.children[-2]]
    while current and isinstance(current[0], widgets.Stack):
        levels.append(current)
        current = [child for stack in current for child in stack.children]
    return levels


def test_static_form_precomputes_every_grid_point_and_starts_at_the_starting_values():
    draw = Recorder()
    box = explorer(draw, **controls(), frames={"limit": [5, 10, 20], "on": [False, True]}, static=True)
    assert isinstance(box, Explorer)
    limit_slider, on_buttons, root, caption = box.children
    assert isinstance(limit_slider, widgets.SelectionSlider) and limit_slider.options == (
        ("5", 5), ("10", 10), ("20", 20),
    )
    assert isinstance(on_buttons, widgets.ToggleButtons) and on_buttons.value is True
    assert "6 figures" in caption.value
    # every combination drawn once; the controls outside the grid keep their starting value
    assert sorted((c["limit"], c["on"]) for c in draw.calls) == [
        (5, False), (5, True), (10, False), (10, True), (20, False), (20, True),
    ]
    assert {(c["period"], c["shape"]) for c in draw.calls} == {(10.0, "flat")}
    levels = stacks_of(box)
    assert [len(level) for level in levels] == [1, 3]
    assert root.selected_index == 1 and all(s.selected_index == 1 for s in levels[1])
    images = [child for s in levels[1] for child in s.children]
    assert len(images) == 6 and all(isinstance(i, widgets.Image) for i in images)
    assert len({i.value for i in images}) == 6, "each setting has its own picture"


def test_static_form_links_each_selector_to_every_stack_of_its_level_in_the_browser():
    box = explorer(Recorder(), **controls(), frames={"limit": [5, 10], "period": [10.0, 30.0]}, static=True)
    links = box.links
    pairs = {(link.source[0].model_id, link.target[0].model_id) for link in links}
    assert all(isinstance(link, widgets.widget_link.DirectionalLink) for link in links)
    assert all(link.source[1] == "index" and link.target[1] == "selected_index" for link in links)
    limit_slider, period_slider = box.children[:2]
    levels = stacks_of(box)
    expected = {(limit_slider.model_id, s.model_id) for s in levels[0]}
    expected |= {(period_slider.model_id, s.model_id) for s in levels[1]}
    assert pairs == expected


def test_live_form_is_interactive_and_draws_once():
    draw = Recorder()
    box = explorer(draw, **controls(), frames={"limit": [5, 10]}, static=False)
    (live,) = box.children
    assert isinstance(live, widgets.interactive)
    assert len(draw.calls) == 1 and draw.calls[0]["limit"] == 10
    assert "live" in repr(box) and "limit, period, shape, on" in repr(box)


def test_the_form_follows_the_environment(monkeypatch):
    monkeypatch.delenv(STATIC_ENV, raising=False)
    assert not static_mode()
    assert isinstance(explorer(Recorder(), **controls(), frames={"limit": [10]}).children[0], widgets.interactive)
    monkeypatch.setenv(STATIC_ENV, "1")
    assert static_mode()
    assert isinstance(explorer(Recorder(), **controls(), frames={"limit": [10]}).children[-2], widgets.Stack)


def test_render_png_returns_the_drawn_figure_restores_show_and_closes_its_figures():
    open_before = set(plt.get_fignums())
    show = plt.show
    png = render_png(Recorder(), {"limit": 3})
    assert plt.show is show
    assert set(plt.get_fignums()) == open_before
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.mode == "P" and picture.width > 50


def test_render_png_refuses_a_function_that_draws_nothing_and_still_restores_show():
    show = plt.show
    with pytest.raises(ValueError, match="drew no figure"):
        render_png(lambda **_: print("no plot"), {})
    assert plt.show is show


def test_render_png_closes_figures_when_drawing_fails():
    open_before = set(plt.get_fignums())

    def broken(**_):
        plt.subplots()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        render_png(broken, {})
    assert set(plt.get_fignums()) == open_before


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"frames": {"limit": [5, 20]}}, ValueError, "starting value 10"),
        ({"frames": {"nope": [1]}}, ValueError, "not a control"),
        ({"frames": {}}, ValueError, "at least one control"),
        ({"frames": {"limit": [5, 5, 10]}}, ValueError, "repeats"),
        ({"frames": {"limit": [10, 11, 12], "period": [10.0, 11.0]}, "max_frames": 5}, ValueError, "6 pictures"),
        ({"frames": {"limit": 10}}, TypeError, "list or tuple"),
        ({"frames": [("limit", [10])]}, TypeError, "mapping"),
        ({"frames": {"limit": [10]}, "max_frames": 0}, ValueError, "max_frames"),
    ],
)
def test_bad_arguments_are_refused_with_the_parameter_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        explorer(Recorder(), **controls(), **kwargs)


def test_a_control_it_cannot_precompute_is_refused_when_it_is_in_the_grid():
    text = widgets.Text(value="a")
    with pytest.raises(TypeError, match="'label' is a Text"):
        explorer(lambda label="a": None, label=text, frames={"label": ["a"]})


def test_no_controls_or_no_function_is_refused():
    with pytest.raises(ValueError, match="at least one control"):
        explorer(Recorder(), frames={})
    with pytest.raises(TypeError, match="draw must be callable"):
        explorer(42, limit=widgets.IntSlider(value=1), frames={"limit": [1]})


def test_float_labels_are_short():
    box = explorer(Recorder(), **controls(), frames={"period": [10.0, 30.0, 60.0]}, static=True)
    assert [label for label, _ in box.children[0].options] == ["10", "30", "60"]


def test_module_keeps_matplotlib_out_of_import_time():
    # the package's modules import matplotlib only when they draw (DESIGN: plotting imports)
    assert "matplotlib" not in explorer_module.__dict__
