"""The shape of the code that issue 9 set: checked on every run so it cannot drift.

* the package graph of ``app/`` has no cycle (imports inside functions count);
* only the unit of work (``app/uow.py``) commits;
* no ``assert`` in production code (``python -O`` would drop it);
* no module over 500 lines except declarative registries;
* no private name (``_x``) imported from another module, no ``try/except ImportError`` around our
  own modules.

The import-linter contracts in ``.importlinter`` (``make lint``) state which way the layers point;
these checks cover what they cannot express.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

APP = Path(__file__).resolve().parents[1] / "app"

#: Modules allowed over the line limit: declarative tables, not logic.
REGISTRIES = {"app/notifications/registry.py"}
MAX_LINES = 500


def modules() -> dict[str, ast.Module]:
    """Dotted module name -> parsed tree, for every module under ``app/``."""
    found = {}
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), filename=str(path))
    return found


def package_of(module: str) -> str:
    """``app.booking.service`` -> ``app.booking``; blueprints count one package per surface."""
    parts = module.split(".")
    depth = 3 if len(parts) >= 3 and parts[1] == "blueprints" else 2
    return ".".join(parts[:depth])


def imported(tree: ast.Module, module: str) -> list[tuple[str, list[str], int]]:
    """(target module, names, line) for every import in ``tree``, at any depth."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level + (1 if _is_package(module) else 0) or None]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
    return out


def _is_package(module: str) -> bool:
    return (APP.parent / Path(*module.split(".")) / "__init__.py").exists()


def package_graph() -> dict[str, set[str]]:
    """Package -> the packages it imports (``app`` itself, the factory, is left out: it wires all)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, tree in modules().items():
        source = package_of(module)
        if source == "app":
            continue
        for target, _, _ in imported(tree, module):
            if target == "app" or not target.startswith("app."):
                continue
            dest = package_of(target)
            if dest != source:
                graph[source].add(dest)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def test_the_package_graph_has_no_cycle():
    graph = package_graph()
    problems = [f"{' <-> '.join(c)}: " + "; ".join(f"{a} -> {sorted(graph[a] & set(c))}" for a in c)
                for c in cycles(graph)]
    assert problems == []


def test_only_the_unit_of_work_commits():
    offenders = [f"{path.relative_to(APP.parent)}:{n}" for path in APP.rglob("*.py") if path.name != "uow.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if "session.commit()" in line]
    assert offenders == []


def test_no_assert_in_production_code():
    offenders = [f"{m}:{node.lineno}" for m, tree in modules().items()
                 for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert offenders == []


def test_no_module_over_the_line_limit():
    offenders = {str(p.relative_to(APP.parent)): n for p in APP.rglob("*.py")
                 if (n := len(p.read_text().splitlines())) > MAX_LINES
                 and str(p.relative_to(APP.parent)) not in REGISTRIES}
    assert offenders == {}


def test_no_private_names_cross_modules():
    offenders = [f"{m}:{line} imports {name} from {target}" for m, tree in modules().items()
                 for target, names, line in imported(tree, m) if target.startswith("app")
                 for name in names if name.startswith("_") and not name.startswith("__")]
    assert offenders == []


def test_our_own_modules_are_never_optional():
    offenders = []
    for m, tree in modules().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            catches = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if catches & {"ImportError", "ModuleNotFoundError"}:
                body_imports = [t for t, _, _ in imported(ast.Module(body=node.body, type_ignores=[]), m)]
                if any(t.startswith("app") for t in body_imports):
                    offenders.append(f"{m}:{node.lineno}")
    assert offenders == []


def test_no_page_template_has_an_inline_style():
    """The pages' CSP is ``style-src 'self'``: a browser drops a ``style="…"`` attribute (a bar
    whose width was one drew full, whatever its value). Emails keep theirs: mail clients need them."""
    templates = APP / "templates"
    offenders = [f"{path.relative_to(APP.parent)}:{n}" for path in templates.rglob("*.html")
                 if "emails" not in path.relative_to(templates).parts
                 for n, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"\sstyle\s*=", line)]
    assert offenders == []
