"""CONTRIBUTING.md's module map is the architecture: this test keeps it true.

Every top-level module or subpackage of ``patterns`` has a row; every row names a part that exists;
and every ``import patterns.X`` in a part is allowed by its row's "may import" column.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "patterns"
ROW = re.compile(r"^\| `(?P<part>[a-z_]+)` \| (?P<owns>[^|]+) \| (?P<may>[^|]+) \|$")
ANY_EXCEPT = re.compile(r"any part except `(?P<part>[a-z_]+)`")


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


@cache
def parts_in_tree() -> frozenset[str]:
    return frozenset(part_of(path) for path in PACKAGE.rglob("*.py")) - {"__init__"}


@cache
def imports_by_part() -> dict[str, set[str]]:
    """Which other parts each part imports (absolute ``patterns.X`` imports, anywhere in a file)."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        part = part_of(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                pieces = name.split(".")
                if pieces[0] == "patterns" and len(pieces) > 1 and pieces[1] != part:
                    found[part].add(pieces[1])
    return found


@cache
def module_map() -> dict[str, str]:
    """Rows of the module map table: part -> its "may import" cell."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("### Module map", 1)[1]
    rows = {}
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match and match["part"] != "part":
            rows[match["part"]] = match["may"].strip()
    return rows


def allowed(cell: str, every_part: frozenset[str], part: str) -> set[str]:
    excluded = ANY_EXCEPT.match(cell)
    if excluded:
        return set(every_part - {excluded["part"], part})
    return set(re.findall(r"`([a-z_]+)`", cell))


def test_the_map_has_a_row_for_every_part_and_no_row_for_a_missing_one() -> None:
    rows, tree = set(module_map()), parts_in_tree()
    assert tree - rows == set(), "parts of src/patterns with no row in CONTRIBUTING.md's module map"
    assert rows - tree == set(), "module map rows for parts that do not exist"


@pytest.mark.parametrize("part", sorted(parts_in_tree()))
def test_each_part_imports_only_what_its_row_allows(part: str) -> None:
    rows = module_map()
    if part not in rows:
        pytest.skip("no row: the test above reports it")
    extra = imports_by_part()[part] - allowed(rows[part], parts_in_tree(), part)
    assert extra == set(), f"{part} imports {sorted(extra)}, which its module-map row does not allow"


def test_nothing_imports_the_top_layer() -> None:
    for part, imported in imports_by_part().items():
        for top in {"check", "diagrams"} - {part}:
            assert top not in imported or part in {"check", "diagrams"}, f"{part} imports {top}"


def test_the_parser_sees_a_forbidden_edge() -> None:
    """The check can fail: a row that allows nothing rejects a real import."""
    assert allowed("(nothing)", parts_in_tree(), "slo") == set()
    assert imports_by_part()["slo"] - allowed("(nothing)", parts_in_tree(), "slo") == {"_validate"}
