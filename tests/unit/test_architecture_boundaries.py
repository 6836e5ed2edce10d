"""Unit tests: the boundary checker on packages written to tmp_path, change coupling, teams."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from patterns.architecture import (
    Call,
    Component,
    System,
    change_coupling,
    check_boundaries,
    communication_paths,
    coupled_pairs,
    find_cycles,
    find_imports,
    ownership_report,
    shop,
    synthetic_history,
)


def write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "shop"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


BASE = {
    "__init__.py": "",
    "orders/__init__.py": "from shop.payments import charge\n",
    "orders/service.py": "from ..inventory import reserve\n",
    "payments/__init__.py": "from .gateway import charge\n",
    "payments/gateway.py": "def charge(amount):\n    return amount\n",
    "payments/api.py": "from .gateway import charge as charge_api\n",
    "inventory/__init__.py": "def reserve(sku):\n    return sku\n",
}
RULES = {"orders": ["payments", "inventory"], "payments": [], "inventory": []}


def test_clean_package_has_no_violations(tmp_path: Path) -> None:
    assert check_boundaries(write_package(tmp_path, BASE), RULES) == []


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    targets = {i.target for i in find_imports(write_package(tmp_path, BASE))}
    assert "shop.inventory.reserve" in targets
    assert "shop.payments.gateway.charge" in targets


def test_undeclared_dependency(tmp_path: Path) -> None:
    files = dict(BASE, **{"inventory/stock.py": "def f():\n    import shop.payments\n"})
    [v] = check_boundaries(write_package(tmp_path, files), RULES)
    assert (v.kind, v.source, v.target, v.line) == ("undeclared", "inventory", "payments", 2)


def test_private_import_and_public_api(tmp_path: Path) -> None:
    files = dict(BASE, **{"orders/refunds.py": "from shop.payments.gateway import charge\n"
                                                "from shop.payments import api\n"})
    package = write_package(tmp_path, files)
    kinds = [(v.kind, v.detail) for v in check_boundaries(package, RULES)]
    assert ("private", "shop.orders.refunds imports shop.payments.gateway.charge") in kinds
    assert ("private", "shop.orders.refunds imports shop.payments.api") in kinds
    exposed = check_boundaries(package, RULES, public={"payments": ["api"]})
    assert [v.detail for v in exposed] == ["shop.orders.refunds imports shop.payments.gateway.charge"]


def test_cycle_is_reported(tmp_path: Path) -> None:
    files = dict(BASE, **{"payments/refund.py": "from shop.orders import service\n"})
    rules = {"orders": ["payments", "inventory"], "payments": ["orders"], "inventory": []}
    violations = check_boundaries(write_package(tmp_path, files), rules)
    assert [v.kind for v in violations] == ["cycle", "private"]
    assert violations[0].detail == "orders <-> payments"


def test_find_cycles_tarjan() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c"], ["e", "f"]]


@pytest.mark.parametrize(("modules", "public", "word"), [
    ({}, None, "modules"),
    ({"a": ["ghost"]}, None, "ghost"),
    ({"a": "b"}, None, "string"),
    ({"a": []}, {"zz": ["api"]}, "public"),
])
def test_bad_spec(tmp_path: Path, modules, public, word) -> None:
    package = write_package(tmp_path, BASE)
    with pytest.raises((ValueError, TypeError), match=word):
        check_boundaries(package, modules, public)


def test_missing_package_dir(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="package_dir"):
        check_boundaries(tmp_path / "nope", RULES)


def test_change_coupling_values() -> None:
    commits = [{"a", "b"}, {"a", "b"}, {"a"}, {"c"}, {"b", "c"}]
    pairs = {(p.a, p.b): p for p in change_coupling(commits)}
    assert pairs["a", "b"].coupling == pytest.approx(2 / 4)
    assert pairs["a", "b"].confidence_a_to_b == pytest.approx(2 / 3)
    assert pairs["b", "c"].coupling == pytest.approx(1 / 4)
    assert ("a", "c") not in pairs


def test_coupled_pairs_finds_the_tangled_group() -> None:
    services = ["orders", "payments", "inventory", "shipping", "notifications"]
    history = synthetic_history(services, [("orders", "payments")], commits=400, tangle_probability=0.95,
                                rng=random.Random(7))
    flagged = {(p.a, p.b) for p in coupled_pairs(history, threshold=0.7, min_together=5)}
    assert flagged == {("orders", "payments")}


@pytest.mark.parametrize(("call", "word"), [
    (lambda: change_coupling(["ab"]), "commits"),
    (lambda: coupled_pairs([], threshold=1.5), "threshold"),
    (lambda: coupled_pairs([], min_together=0), "min_together"),
    (lambda: synthetic_history(["a"], [("a", "z")], commits=1, tangle_probability=0.5,
                               rng=random.Random(1)), "tangled"),
    (lambda: communication_paths(-1), "people"),
])
def test_coupling_bad_input(call, word) -> None:
    with pytest.raises((ValueError, TypeError), match=word):
        call()


def test_brooks_paths() -> None:
    assert [communication_paths(n) for n in (0, 1, 2, 5, 10, 50)] == [0, 0, 1, 10, 45, 1225]


def test_ownership_report_on_the_shop() -> None:
    system = shop(notifications_async=True)
    owners = {"gateway": "edge", "orders": "checkout", "customers": "accounts", "catalog": "catalog",
              "inventory": "catalog", "payments": "checkout", "shipping": "fulfil", "notifications": "fulfil"}
    report = ownership_report(system, owners)
    assert (report.cross_team_sync, report.cross_team_async, report.within_team) == (6, 1, 1)
    assert report.shared_units == ()
    assert ownership_report(system.as_monolith(), owners).shared_units == ("monolith",)
    with pytest.raises(ValueError, match="owners"):
        ownership_report(System([Component("a")], [], None), {"b": "t"})
    assert ownership_report(System([Component("a"), Component("b")], [Call("a", "b")]),
                            {"a": "t", "b": "t"}).cross_team_share == 0.0
