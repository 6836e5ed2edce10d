"""The local Sphinx extension (_ext/book_site.py), function by function, without a build."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("book_site", ROOT / "_ext" / "book_site.py")
assert spec is not None and spec.loader is not None
book_site = importlib.util.module_from_spec(spec)
sys.modules["book_site"] = book_site
spec.loader.exec_module(book_site)


def code(source: str, tags: list[str] | None = None, outputs: list[dict] | None = None) -> dict:
    return {
        "cell_type": "code", "id": "c1", "source": source, "outputs": outputs or [],
        "execution_count": 1, "metadata": {"tags": tags or []},
    }


def test_leading_comments_split_the_task_from_the_answer():
    task, answer = book_site.leading_comments("# Exercise 1: do it\n# (per second)\nanswer_1 = 40\n")
    assert task == "# Exercise 1: do it\n# (per second)"
    assert answer == "answer_1 = 40"


def test_fold_answers_shows_the_task_and_folds_the_answer_behind_show_answer():
    notebook = {"cells": [code("print(1)"), code("# Exercise 1: pick\nanswer_1 = 40", ["solution"]), code("check(x)")]}
    assert book_site.fold_answers(notebook) == 1
    sources = [c["source"] for c in notebook["cells"]]
    assert sources == ["print(1)", "# Exercise 1: pick", "answer_1 = 40", "check(x)"]
    task, answer = notebook["cells"][1:3]
    assert task["metadata"]["tags"] == ["exercise-task"] and task["outputs"] == []
    assert task["id"] == "c1-task"
    assert answer["metadata"]["tags"] == ["solution", "hide-input"]
    assert answer["metadata"]["mystnb"] == {"code_prompt_show": "Show answer", "code_prompt_hide": "Hide answer"}


def test_an_answer_that_prints_is_folded_with_its_output():
    notebook = {"cells": [code("# task\nprint(42)", ["solution"], outputs=[{"output_type": "stream", "text": "42"}])]}
    book_site.fold_answers(notebook)
    assert "hide-cell" in notebook["cells"][1]["metadata"]["tags"]


def test_a_solution_without_a_task_comment_is_still_folded():
    notebook = {"cells": [code("answer = 1", ["solution"])]}
    assert book_site.fold_answers(notebook) == 1
    assert [c["source"] for c in notebook["cells"]] == ["answer = 1"]


@pytest.mark.parametrize(
    ("url", "button"),
    [("", False), ("https://github.com/executablebooks/jupyter-book", False), ("https://git.example/book", True)],
)
def test_repository_button_appears_only_when_a_repository_is_configured(url, button):
    config = SimpleNamespace(html_theme_options={"repository_url": url})
    app = SimpleNamespace(config=config)
    book_site.on_config_inited(app, config)
    assert config.html_theme_options.get("use_repository_button", False) is button


def test_download_links_are_relative_to_the_page():
    assert book_site.download_uri("labs/10-rate-limiting", "x.zip") == "../downloads/x.zip"
    assert book_site.download_uri("index", "x.zip") == "./downloads/x.zip"


def test_each_script_is_included_once_per_page():
    from sphinx.builders.html._assets import _JavaScript

    inline = "const SELECTOR = '.x'"
    scripts = [_JavaScript("", body=inline), _JavaScript("a.js"), _JavaScript("", body=inline, priority=800)]
    context = {"script_files": scripts}
    book_site.on_page_context(None, "page", "page.html", context, None)
    assert [str(s.filename) for s in context["script_files"]] == ["", "a.js"]


def test_sphinx_thebe_scripts_are_left_out():
    from sphinx.builders.html._assets import _JavaScript

    thebe = 'const THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"'
    scripts = [_JavaScript("", body=thebe), _JavaScript("sphinx-thebe.js"), _JavaScript("a.js")]
    context = {"script_files": scripts}
    book_site.on_page_context(None, "page", "page.html", context, None)
    assert [str(s.filename) for s in context["script_files"]] == ["a.js"]


def test_the_wheel_name_follows_the_package_version():
    assert book_site.wheel_name() == f"patterns-{book_site.package_version()}-py3-none-any.whl"
