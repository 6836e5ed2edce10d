"""A modular-monolith boundary checker: the rules a service boundary would enforce, in one process.

You declare the modules of a package (top-level subpackages such as ``shop.orders``), which other
modules each may depend on, and which of its submodules a module exposes (its public API; by
default only the package itself, i.e. what its ``__init__`` re-exports). ``check_boundaries`` parses
every ``.py`` file with ``ast`` (nothing is imported or executed) and reports:

- ``undeclared``: module A imports module B although B is not in A's allowed dependencies;
- ``private``: A imports a submodule of B that B does not expose (B's internals);
- ``cycle``: the modules' actual imports form a cycle (A -> B -> ... -> A).

Guaranteed: every static ``import``/``from ... import`` (absolute or relative, at any nesting level,
including inside functions) that resolves into another declared module is checked. Not seen:
``importlib.import_module("...")`` with a computed name, and imports of undeclared top-level names.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from patterns._validate import require_instance, require_text

__all__ = ["Violation", "Import", "find_imports", "check_boundaries", "module_graph", "find_cycles"]


@dataclass(frozen=True, order=True)
class Import:
    """One import statement's target, resolved to an absolute dotted name, in ``file`` at ``line``."""

    file: str
    line: int
    importer: str
    target: str


@dataclass(frozen=True, order=True)
class Violation:
    """A broken rule: ``kind`` is "undeclared", "private" or "cycle"."""

    kind: str
    source: str
    target: str
    detail: str
    file: str = ""
    line: int = 0


def _module_name(root: Path, path: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def find_imports(package_dir: str | Path) -> list[Import]:
    """Every import in the package rooted at ``package_dir`` (a directory with ``__init__.py``).

    ``from a import b`` yields ``a.b`` (b may be a submodule); names are resolved relative to the
    package, whose name is the directory's name.
    """
    root = Path(require_instance(package_dir, "package_dir", (str, os.PathLike), what="a directory path"))
    if not root.is_dir():
        raise ValueError(f"package_dir must be an existing directory, got {str(package_dir)!r}")
    package = root.name
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        importer = _module_name(root, path, package)
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(str(path), node.lineno, importer, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(importer, is_package, node.level, node.module)
                for alias in node.names:
                    target = base if alias.name == "*" else f"{base}.{alias.name}" if base else alias.name
                    found.append(Import(str(path), node.lineno, importer, target))
    return found


def _owner(name: str, package: str, modules: Iterable[str]) -> str | None:
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == package and parts[1] in modules:
        return parts[1]
    return None


def _check_spec(modules: Mapping[str, Iterable[str]], public: Mapping[str, Iterable[str]] | None,
                ) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    if not isinstance(modules, Mapping) or not modules:
        raise ValueError("modules must be a non-empty mapping {module: allowed dependencies}")
    allowed = {}
    for name, deps in modules.items():
        if isinstance(deps, str):
            raise TypeError(f"modules[{name!r}] must be a collection of module names, not a string")
        allowed[name] = set(deps)
        unknown = allowed[name] - set(modules)
        if unknown:
            raise ValueError(f"modules[{name!r}] allows unknown module(s) {sorted(unknown)}")
    exposed = {name: {""} for name in modules}
    for name, subs in (public or {}).items():
        if name not in modules:
            raise ValueError(f"public: unknown module {name!r}")
        if isinstance(subs, str):
            raise TypeError(f"public[{name!r}] must be a collection of submodule names, not a string")
        exposed[name] |= set(subs)
    return allowed, exposed


def module_graph(imports: Iterable[Import], package: str, modules: Iterable[str]) -> dict[str, set[str]]:
    """Which declared module imports which (self-imports dropped)."""
    require_instance(imports, "imports", Iterable, what="an iterable of Import")
    require_text(package, "package", max_length=200)
    names = set(require_instance(modules, "modules", Iterable, what="an iterable of module names"))
    graph: dict[str, set[str]] = {name: set() for name in names}
    for imp in imports:
        src, dst = _owner(imp.importer, package, names), _owner(imp.target, package, names)
        if src and dst and src != dst:
            graph[src].add(dst)
    return graph


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (each a dependency cycle), sorted."""
    require_instance(graph, "graph", Mapping, what="a mapping of module -> imported modules")
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                members.append(top)
                if top == node:
                    break
            if len(members) > 1:
                result.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(result)


def check_boundaries(package_dir: str | Path, modules: Mapping[str, Iterable[str]],
                     public: Mapping[str, Iterable[str]] | None = None) -> list[Violation]:
    """Every boundary violation in the package at ``package_dir``, sorted by kind, module and line.

    ``modules``: ``{module: allowed dependencies}`` for the package's top-level subpackages.
    ``public``: ``{module: submodules others may import}`` (``"api"`` allows ``pkg.module.api``).
    """
    allowed, exposed = _check_spec(modules, public)
    package = Path(require_instance(package_dir, "package_dir", (str, os.PathLike), what="a directory path")).name
    imports = find_imports(package_dir)
    violations: list[Violation] = []
    for imp in imports:
        src, dst = _owner(imp.importer, package, allowed), _owner(imp.target, package, allowed)
        if not src or not dst or src == dst:
            continue
        if dst not in allowed[src]:
            violations.append(Violation("undeclared", src, dst, f"{imp.importer} imports {imp.target}",
                                        imp.file, imp.line))
        inner = imp.target.split(".")[2:]
        exposed_here = any(inner[: len(p.split("."))] == p.split(".") for p in exposed[dst] if p)
        # ``from pkg.b import Name`` resolves to pkg.b.Name: a name, not a submodule, unless a file says so
        if inner and not exposed_here and _is_submodule(Path(package_dir), [dst, *inner]):
            violations.append(Violation("private", src, dst, f"{imp.importer} imports {imp.target}",
                                        imp.file, imp.line))
    for cycle in find_cycles(module_graph(imports, package, allowed)):
        violations.append(Violation("cycle", cycle[0], cycle[-1], " <-> ".join(cycle)))
    return sorted(violations)


def _is_submodule(root: Path, parts: list[str]) -> bool:
    """True when ``parts`` (below the package) names a module or subpackage file, at any prefix."""
    for depth in range(2, len(parts) + 1):
        path = root.joinpath(*parts[:depth])
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False
