"""The money packages' import rules (issue 9), checked on the source, imports inside functions
included: booking and payments never import each other (``app.checkout`` composes them),
billing never imports checkout, and no money module imports the web layer or a blueprint."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

APP = Path(__file__).resolve().parents[2] / "app"


def imported_modules(package: str) -> dict[str, set[str]]:
    """``{file: {module imported, …}}`` for every module of ``app.<package>`` (any depth, any scope)."""
    found: dict[str, set[str]] = {}
    for path in sorted((APP / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(APP.parent))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """``file: module`` for each import in ``app.<package>`` of a module under one of ``forbidden``."""
    return [f"{file}: {name}" for file, names in imported_modules(package).items() for name in sorted(names)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize(("package", "forbidden"), [
    ("payments", ("app.booking", "app.checkout", "app.web", "app.blueprints")),
    ("booking", ("app.payments", "app.checkout")),
    ("billing", ("app.checkout", "app.booking", "app.web", "app.blueprints")),
    ("checkout", ("app.web", "app.blueprints")),
])
def test_money_packages_import_only_downwards(package, forbidden):
    assert offenders(package, forbidden) == []


def test_no_money_module_hides_an_import_of_our_own_code_behind_import_error():
    for package in ("payments", "billing", "checkout"):
        for path in (APP / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Try):
                    caught = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
                    assert not caught & {"ImportError", "ModuleNotFoundError"}, path
