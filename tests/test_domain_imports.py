"""The domain core imports one way (issue 9): no cycle between its packages, socket handlers
above the low-level real-time layer, no domain reaching up into HTTP plumbing.

Every ``import`` in ``app/`` counts, inside functions too (read with :mod:`ast`, nothing is
imported). Packages are ``app.<name>``; ``app.blueprints.<name>`` each count as one package.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

APP = Path(__file__).resolve().parents[1] / "app"

#: The packages of the domain core (part D of issue 9) and the infrastructure below them.
CORE = ("app.booking", "app.scheduling", "app.catalog", "app.identity", "app.tenants", "app.realtime",
        "app.extensions", "app.chat", "app.team")


def module_name(path: Path) -> str:
    """Dotted module name of a file under ``app/``."""
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """``app.x`` for ``app.x.y.z``; ``app.blueprints.x`` for ``app.blueprints.x.y``."""
    parts = module.split(".")
    return ".".join(parts[:3] if len(parts) > 2 and parts[1] == "blueprints" else parts[:2])


def imported_modules(path: Path) -> set[str]:
    """Every ``app.…`` module (or name) ``path`` imports, at any depth of the file."""
    module = module_name(path)
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in out if m == "app" or m.startswith("app.")}


def module_graph() -> dict[str, set[str]]:
    """Module -> the ``app`` modules (or imported names) it imports."""
    return {module_name(p): imported_modules(p) for p in APP.rglob("*.py")}


def package_graph() -> dict[str, set[str]]:
    """Package -> the other packages it imports."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in module_graph().items():
        src = package_of(module)
        for target in targets:
            dst = package_of(target)
            if dst not in (src, "app"):
                graph[src].add(dst)
    return graph


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    """True when ``goal`` can be reached from ``start`` along the graph's edges."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


@pytest.mark.parametrize(("lower", "upper"), [
    ("app.scheduling", "app.booking"),
    ("app.catalog", "app.scheduling"),
    ("app.tenants", "app.identity"),
    ("app.extensions", "app.tenants"),
    ("app.realtime", "app.chat"),
    ("app.realtime", "app.notifications"),
    ("app.realtime", "app.blueprints.realtime"),
])
def test_lower_package_never_reaches_the_upper_one(lower, upper):
    graph = package_graph()
    assert upper not in graph.get(lower, set()), f"{lower} imports {upper}"
    assert not reaches(graph, lower, upper), f"{lower} reaches {upper} through other packages"


def test_no_cycle_between_core_packages_below_notifications_and_payments():
    """The core packages form no cycle among themselves (edges through notifications and
    payments are removed by their own parts of issue 9)."""
    graph = {src: {d for d in dsts if d in CORE} for src, dsts in package_graph().items() if src in CORE}
    cyclic = sorted(p for p in CORE if reaches(graph, p, p))
    assert cyclic == []


@pytest.mark.parametrize(("module", "forbidden"), [
    ("app.tenants.context", ("app.tenants.guard", "app.tenants.roles")),
    ("app.tenants.rls", ("app.tenants.context", "app.tenants.guard", "app.tenants.roles")),
    ("app.tenants.transactions", ("app.tenants.context", "app.tenants.guard", "app.tenants.roles")),
])
def test_tenant_context_sits_below_the_guard_and_the_roles(module, forbidden):
    imported = module_graph()[module]
    assert not [m for m in imported if m.startswith(forbidden)]


def test_no_domain_module_imports_web_plumbing_or_blueprints():
    for module, imported in module_graph().items():
        if package_of(module) in CORE:
            assert not [m for m in imported if m == "app.web" or m.startswith(("app.web.", "app.blueprints"))], module


def test_core_modules_stay_under_500_lines():
    for path in APP.rglob("*.py"):
        if package_of(module_name(path)) in (*CORE, "app.blueprints.realtime"):
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 500, path
