"""Every block a view renders alone for htmx (``render_page(..., block=...)``) imports the macros
it uses itself. jinja2-fragments renders only the block's function: a ``{% from ... import %}``
at the top of the template never runs, so a block that relies on it fails with 500 (the login
form an htmx poll is redirected to after the session ended did)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "app" / "templates"
#: ``render_page("dashboard/x.html", block="form"`` or ``block=some_variable`` (then: every block).
CALL = re.compile(r'render_page\(\s*"([^"]+)",\s*block=(?:"([^"]+)"|[^,)]+)')


def _rendered_blocks() -> set[tuple[str, str | None]]:
    pairs: set[tuple[str, str | None]] = set()
    for module in (ROOT / "app" / "blueprints").rglob("*.py"):
        for match in CALL.finditer(module.read_text(encoding="utf-8")):
            pairs.add((match.group(1), match.group(2)))
    return pairs


def _names(node: nodes.Node) -> set[str]:
    if isinstance(node, nodes.FromImport):
        return {n if isinstance(n, str) else (n[1] or n[0]) for n in node.names}
    if isinstance(node, nodes.Import):
        return {node.target}
    return set()


def _missing_imports(source: str, block: str | None) -> dict[str, set[str]]:
    """Block name -> names it uses that only a top-level import provides."""
    tree = Environment(extensions=["jinja2.ext.i18n"]).parse(source)
    top = set().union(*(_names(n) for n in tree.body))
    missing: dict[str, set[str]] = {}
    for b in tree.find_all(nodes.Block):
        if block is not None and b.name != block:
            continue
        used = {n.name for n in b.find_all(nodes.Name) if n.ctx == "load"}
        local = set().union(*(_names(n) for n in b.find_all((nodes.FromImport, nodes.Import))))
        if gap := (used & top) - local:
            missing[b.name] = gap
    return missing


def test_the_scan_catches_a_block_that_leans_on_a_top_level_import():
    source = ('{% extends "base.html" %}{% from "auth/_form.html" import field, csrf %}'
              '{% block form %}{{ csrf() }}{{ field(form.email) }}{% endblock %}')
    assert _missing_imports(source, "form") == {"form": {"csrf", "field"}}
    fixed = source.replace("{% block form %}", '{% block form %}{% from "auth/_form.html" import field, csrf %}')
    assert _missing_imports(fixed, "form") == {}


def test_every_block_rendered_alone_imports_what_it_uses():
    pairs = _rendered_blocks()
    assert ("auth/login.html", "form") in pairs and len(pairs) > 50  # the scan sees the views
    gaps = {f"{template} block {block}: {sorted(names)}"
            for template, wanted in pairs
            for block, names in _missing_imports((TEMPLATES / template).read_text(encoding="utf-8"), wanted).items()}
    assert not gaps, "import these inside the block too:\n" + "\n".join(sorted(gaps))
