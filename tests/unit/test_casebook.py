"""The casebook's model and designs: every case is complete, its numbers come from its estimate."""

from __future__ import annotations

import html
import math
import shutil

import pytest

from patterns.casebook import CASES, Criterion, Diagram, Rubric, case, cases
from patterns.casebook.model import diagram, rubric
from patterns.diagrams import gallery
from patterns.diagrams.dot import KINDS as DOT_KINDS
from patterns.diagrams.figures.casebook import draw
from patterns.diagrams.render import to_svg
from patterns.estimate import Estimate, WorkedDesign, url_shortener

SLUGS = list(CASES)


def test_eight_cases_in_the_chapter_order() -> None:
    assert SLUGS == ["shortener", "ratelimiter", "notifications", "newsfeed", "chat", "idservice",
                     "crawler", "payments"]
    assert [c.slug for c in cases()] == SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_every_case_has_every_part(slug: str) -> None:
    c = case(slug)
    d = c.design
    assert isinstance(d, WorkedDesign) and isinstance(d.estimate, Estimate)
    for part in (d.functional, d.non_functional, d.api, d.data_model, d.components, d.deep_dives, d.bottlenecks):
        assert part and all(isinstance(x, str) and x for x in part)
    assert len(d.estimate.assumptions) >= 3 and len(d.estimate.derived) >= 3
    assert all(q.note for q in d.estimate.assumptions), "every assumption says where it comes from"
    assert len(c.rubric.criteria) >= 5 and len(c.uses) >= 4 and c.bottleneck
    assert c.chapters == sorted(set(c.chapters)) and all(1 <= n <= 18 for n in c.chapters)
    assert len(c.headline_numbers()) == len(c.headline) >= 4
    text = c.summary()
    assert c.name in text and "Bottleneck probed" in text
    drawn = getattr(gallery, f"casebook_{slug}")()
    assert drawn.generated and drawn.generated_from == f"patterns.casebook.{slug}.design"
    for node_id, _, _ in c.diagram.nodes:
        assert f'"{node_id}" [' in drawn.dot
    for src, dst, _ in c.diagram.edges:
        assert f'"{src}" -> "{dst}"' in drawn.dot
    assert drawn.alt == "Architecture view. " + c.diagram.alt_text()


def test_the_shortener_extends_chapter_12s_numbers() -> None:
    ours, theirs = case("shortener").design.estimate, url_shortener().estimate
    for q in theirs:
        assert ours[q.name] == q.value
    assert ours["click_events_per_day"] == ours["daily_active_users"] * ours["reads_per_user"]


def test_estimates_are_computed_from_their_assumptions() -> None:
    feed = case("newsfeed").design.estimate
    assert feed["push_inserts"] == pytest.approx(100e6 * 0.2 / 86_400 * 3 * 200)
    assert feed["pull_fetches"] / feed["push_inserts"] == pytest.approx(10 / 0.2)
    ids = case("idservice").design.estimate
    assert ids["lifetime_years"] == pytest.approx(2**41 / 1000 / 86_400 / 365)
    assert ids["workers"] == math.ceil(10e6 / (4_096_000 * 0.5)) == 5
    crawler = case("crawler").design.estimate
    n = 1e9 * 12 * 5
    assert crawler["seen_bloom"] == pytest.approx(-n * math.log(0.01) / math.log(2) ** 2 / 8)
    limiter = case("ratelimiter").design.estimate
    assert limiter["store_nodes_exact"] == 10 and limiter["store_nodes_leased"] == 1


def test_a_case_scales_with_its_main_parameter() -> None:
    small, big = case("chat", 50e6).design.estimate, case("chat", 500e6).design.estimate
    assert big["peak_msgs"] == pytest.approx(10 * small["peak_msgs"])
    assert case("payments", 1e6).design.estimate["peak_payments"] == pytest.approx(1e6 / 86_400 * 5)


@pytest.mark.parametrize("slug", SLUGS)
def test_bad_parameters_are_refused_at_the_door(slug: str) -> None:
    with pytest.raises((TypeError, ValueError)):
        case(slug, "many")
    with pytest.raises((TypeError, ValueError)):
        case(slug, -1.0)
    with pytest.raises(ValueError, match="must be"):
        case(slug, no_such_parameter=3)


def test_case_names_an_unknown_slug() -> None:
    with pytest.raises(ValueError, match="slug must be one of"):
        case("twitter")


def test_rubric_scores_and_verdicts() -> None:
    r = case("payments").rubric
    all3 = dict.fromkeys(r.areas, 3)
    assert r.score(all3).verdict == "strong hire" and r.score(all3).total == 15
    assert r.score(dict.fromkeys(r.areas, 2)).verdict == "hire"
    assert r.score(dict.fromkeys(r.areas, 1)).verdict == "no hire"
    flagged = {**all3, r.areas[1]: 0}
    score = r.score(flagged)
    assert score.mean == pytest.approx(12 / 5) and score.verdict == "lean no hire"
    assert score.red_flags == (r.areas[1],)


def test_rubric_refuses_incomplete_or_bad_marks() -> None:
    r = case("chat").rubric
    with pytest.raises(ValueError, match="missing"):
        r.score({r.areas[0]: 2})
    with pytest.raises(ValueError, match="unknown"):
        r.score({**dict.fromkeys(r.areas, 2), "charisma": 3})
    with pytest.raises(ValueError):
        r.score({**dict.fromkeys(r.areas, 2), r.areas[0]: 4})
    with pytest.raises(TypeError):
        r.score({**dict.fromkeys(r.areas, 2), r.areas[0]: 2.5})
    with pytest.raises(ValueError, match="distinct"):
        Rubric((Criterion("a", "b", "c", "d"),) * 3)
    with pytest.raises(ValueError):
        rubric(("a", "b", "c", "d"))  # fewer than three criteria


def test_rubric_markdown_has_a_row_per_criterion() -> None:
    r = case("crawler").rubric
    table = r.to_markdown().splitlines()
    assert len(table) == 2 + len(r.criteria)
    assert all(line.count("|") == 5 for line in table)


def test_diagram_validation() -> None:
    nodes = [("a", "A", "service"), ("b", "B", "store")]
    with pytest.raises(ValueError, match="undefined node"):
        diagram("t", nodes, [("a", "c", "")])
    with pytest.raises(ValueError, match="kind"):
        diagram("t", [("a", "A", "blob")], [])
    with pytest.raises(ValueError, match="identifiers"):
        diagram("t", [("Bad id", "A", "service")], [])
    with pytest.raises(ValueError, match="twice"):
        diagram("t", nodes + [("a", "again", "cache")], [])
    d = diagram('say "hi"', nodes, [("a", "b", 'x "y"')])
    assert d.alt_text() == 'say "hi": A to B (x "y").'
    drawn = draw(d, "a test")
    assert 'label="say \\"hi\\""' in drawn.dot and 'label="x \\"y\\""' in drawn.dot
    assert set(KINDS_USED) <= set(DOT_KINDS)


KINDS_USED = {kind for c in cases() for _, _, kind in c.diagram.nodes}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("slug", SLUGS)
def test_every_diagram_renders_to_svg_with_its_labels(slug: str) -> None:
    d = case(slug).diagram
    text = html.unescape(to_svg(getattr(gallery, f"casebook_{slug}")().dot))
    for _, label, _ in d.nodes:
        assert label.split("\\n")[0] in text


def test_the_recorded_runs_become_sequence_charts() -> None:
    checkout = gallery.casebook_checkout_timeout()
    assert "charged ch_4, reply lost" in checkout.alt and "key seen: same charge ch_4" in checkout.alt
    chat_run = gallery.casebook_chat_delivery()
    assert "(lost): message 34" in chat_run.alt and "show 36" in chat_run.alt
    assert chat_run.alt.index("show 33") < chat_run.alt.index("show 34") < chat_run.alt.index("show 36")


def test_a_diagram_is_a_frozen_value() -> None:
    d = case("idservice").diagram
    assert isinstance(d, Diagram)
    with pytest.raises(AttributeError):
        d.title = "other"  # type: ignore[misc]
