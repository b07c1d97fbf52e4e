"""Browser fixtures for the e2e suite: one headless Chromium per session, a fresh context per test.

Every context made from the ``browser`` fixture (``new_page`` or ``browser.new_context``/``new_page``
in a test) fails the test when the browser refuses anything under the Content-Security-Policy, and
is audited with axe-core (node_modules/axe-core, ``make assets``): each page load and
each settled HTMX swap runs axe with the WCAG 2.x A/AA rules in the page, and the test fails at
teardown when any ``serious`` or ``critical`` violation was seen (rule id, page, target, summary).
:func:`assert_accessible` checks one page on demand.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.screenshots import screenshot_folder

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: axe's tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
#: The impacts that fail a test.
BLOCKING = ("serious", "critical")
#: What is audited: the whole document (an ``exclude`` list would leave parts out).
SCOPE = {"include": [["html"]], "exclude": []}

# Runs in every top-level document of an audited context, after axe.min.js: audit on load and
# after each settled HTMX swap (debounced, never two runs at once), report blocking violations to
# the test through the ``__plazaAxeReport`` binding. window.__plazaAxe.idle() waits for the runs.
AUDIT_SCRIPT = """
(() => {
  if (window.top !== window || !window.axe) return;
  // Plaza's own pages only (the live server's hosts), not a payment provider's stand-in.
  if (!/(^|[.])localhost$|^127[.]0[.]0[.]1$/.test(location.hostname)) return;
  const tags = %(tags)s, blocking = %(blocking)s, SCOPE = %(scope)s;
  const summarise = (violations) => violations.filter((v) => blocking.includes(v.impact)).map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
  // A few rules at a time, yielding between them, once the page is idle: the test's own clicks and
  // navigations never wait long behind an audit.
  // The rules axe itself runs for these tags: enabled ones, not the experimental ones.
  const rules = window.axe._audit.rules.filter((r) => r.enabled !== false && !r.tags.includes("experimental")
                                                && r.tags.some((t) => tags.includes(t))).map((r) => r.id);
  const chunks = [];
  for (let i = 0; i < rules.length; i += 12) chunks.push(rules.slice(i, i + 12));
  const idle = () => new Promise((resolve) => (window.requestIdleCallback
    ? window.requestIdleCallback(resolve, { timeout: 500 }) : setTimeout(resolve, 50)));
  let chain = Promise.resolve(), timer = null, leaving = false;
  window.addEventListener("pagehide", () => { leaving = true; });
  const state = { summarise, idle: () => chain, fresh: false, last: [] };
  const audit = () => {
    chain = chain.then(async () => {
      const found = [];
      for (const values of chunks) {
        await idle();
        if (leaving) return;
        const r = await window.axe.run(SCOPE, { runOnly: { type: "rule", values }, resultTypes: ["violations"] });
        found.push(...summarise(r.violations));
      }
      state.last = found;
      state.fresh = !timer;
      if (found.length && window.__plazaAxeReport) await window.__plazaAxeReport(location.href, found);
    }).catch(() => {});
    return chain;
  };
  state.audit = audit;
  window.__plazaAxe = state;
  window.addEventListener("load", () => { audit(); });
  document.addEventListener("htmx:afterSettle", () => {
    state.fresh = false;
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; audit(); }, 150);
  });
})();
"""

#: Blocking violations reported by audited pages during the current test: (url, violation) pairs.
AXE_FINDINGS: list[tuple[str, dict]] = []

# Runs in every document of an audited context: reports each Content-Security-Policy violation of
# Plaza's own pages (what the browser silently refused: an inline style, a script, an image) to the
# test through the ``__plazaCspReport`` binding.
CSP_SCRIPT = """
(() => {
  if (!/(^|[.])localhost$|^127[.]0[.]0[.]1$/.test(location.hostname)) return;
  document.addEventListener("securitypolicyviolation", (e) => {
    if (!window.__plazaCspReport) return;
    const where = e.sourceFile ? `${e.sourceFile}:${e.lineNumber}` : "";
    window.__plazaCspReport(location.href, e.effectiveDirective || e.violatedDirective, e.blockedURI || "inline",
                            where, (e.sample || "").slice(0, 80));
  });
})();
"""

#: Content-Security-Policy violations seen by audited pages during the current test, as text lines.
CSP_FINDINGS: list[str] = []


def format_violations(findings: list[tuple[str, dict]]) -> str:
    """One entry per rule and target (with axe's summary), followed by the pages it was seen on."""
    grouped: dict[tuple[str, str, str, str], list[str]] = {}
    for url, v in findings:
        path = urlsplit(url)._replace(scheme="", netloc=urlsplit(url).hostname or "").geturl().lstrip("/")
        for node in v["nodes"]:
            summary = " ".join(node["summary"].split())[:300]
            pages = grouped.setdefault((v["impact"], v["id"], node["target"], summary), [])
            if path not in pages:
                pages.append(path)
    return "\n".join(f"[{impact}] {rule} at {target}: {summary}\n    on {', '.join(pages[:6])}"
                      + (f" and {len(pages) - 6} more" if len(pages) > 6 else "")
                      for (impact, rule, target, summary), pages in grouped.items())


def axe_violations(page, context: str | None = None) -> list[dict]:
    """Run axe (WCAG 2.x A/AA tags) on ``page`` now, after any run already going, and return the
    ``serious``/``critical`` violations as dicts ``{id, impact, help, nodes: [{target, summary}]}``.
    ``context`` is a CSS selector to audit only part of the page (default: the whole document)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("""async ([context, tags, blocking, scope]) => {
        const audited = window.__plazaAxe;
        if (audited) await audited.idle();
        if (audited && audited.fresh && !context) return audited.last;  // this very document, just audited
        const r = await window.axe.run(context ? { include: [[context]], exclude: scope.exclude } : scope,
                                       { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
        return r.violations.filter((v) => blocking.includes(v.impact)).map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
        }));
    }""", [context, AXE_TAGS, list(BLOCKING), SCOPE])


def assert_accessible(page, context: str | None = None) -> None:
    """Fail with rule id, target and summary when axe finds a ``serious`` or ``critical`` WCAG 2.x
    A/AA violation on ``page`` (or inside the ``context`` selector)."""
    found = axe_violations(page, context)
    if found:
        pytest.fail("axe: accessibility violations\n" + format_violations([(page.url, v) for v in found]),
                    pytrace=False)


def audit_context(context) -> None:
    """Have every page of ``context`` audited by axe on load and after HTMX swaps (into AXE_FINDINGS),
    and its Content-Security-Policy violations reported (into CSP_FINDINGS)."""
    context.add_init_script(path=str(AXE_JS))
    context.add_init_script(script=AUDIT_SCRIPT % {"tags": json.dumps(AXE_TAGS), "blocking": json.dumps(BLOCKING),
                                                   "scope": json.dumps(SCOPE)})
    context.expose_binding("__plazaAxeReport",
                           lambda source, url, found: AXE_FINDINGS.extend((url, v) for v in found))
    context.add_init_script(script=CSP_SCRIPT)
    context.expose_binding("__plazaCspReport", lambda source, url, directive, blocked, where, sample: CSP_FINDINGS.append(
        f"{directive} refused {blocked} {where} {sample!r} on {url}"))


def settle_audits(context) -> None:
    """Wait (briefly) for the axe runs still going in the open pages of ``context``."""
    for page in context.pages:
        try:
            page.evaluate("() => window.__plazaAxe ? window.__plazaAxe.idle() : null")
        except Exception:  # noqa: BLE001 - a page closing or navigating away has nothing left to report
            continue


class AuditedBrowser:
    """The session's Chromium, with every new context audited (:func:`audit_context`)."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.contexts_made: list = []
        self.owned: list = []

    def new_context(self, **kw):
        """``Browser.new_context`` with axe audits installed."""
        context = self._browser.new_context(**kw)
        if os.environ.get("PLAZA_AXE", "1") == "0":  # an escape hatch while investigating, never in CI
            return context
        audit_context(context)
        self.contexts_made.append(context)
        close = context.close

        def close_after_audits(*args, **kwargs):
            settle_audits(context)
            return close(*args, **kwargs)

        context.close = close_after_audits  # the last page's audit reaches the test before the context goes
        return context

    def new_page(self, **kw):
        """``Browser.new_page`` in a new audited context (closed at the end of the test)."""
        context = self.new_context(**kw)
        self.owned.append(context)
        return context.new_page()

    def __getattr__(self, name: str):
        return getattr(self._browser, name)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--no-proxy-server"]


def chromium_path() -> str | None:
    """Chromium from ``CHROMIUM_PATH`` or ``PATH``; ``None`` lets Playwright use its own download."""
    if os.environ.get("CHROMIUM_PATH"):
        return os.environ["CHROMIUM_PATH"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """A headless Chromium shared by the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield AuditedBrowser(instance)
        instance.close()


@pytest.fixture(autouse=True)
def axe_audit(request) -> Iterator[None]:
    """Fail a browser test at teardown when an audited page showed a serious/critical axe violation
    or the browser refused something under the Content-Security-Policy."""
    AXE_FINDINGS.clear()
    CSP_FINDINGS.clear()
    yield
    if "browser" not in request.fixturenames:
        return
    audited = request.getfixturevalue("browser")
    for context in audited.contexts_made:
        settle_audits(context)
    for context in audited.owned:
        context.close()
    audited.contexts_made.clear()
    audited.owned.clear()
    refused = sorted(set(CSP_FINDINGS))
    CSP_FINDINGS.clear()
    findings = list(AXE_FINDINGS)
    AXE_FINDINGS.clear()
    if refused:
        pytest.fail("CSP: the browser refused parts of the pages this test visited\n" + "\n".join(refused[:20]),
                    pytrace=False)
    if findings:
        text = format_violations(findings)
        if os.environ.get("PLAZA_AXE_LOG"):  # a file collecting them as they come (long runs)
            with open(os.environ["PLAZA_AXE_LOG"], "a", encoding="utf-8") as log:  # noqa: PTH123 - a log
                log.write(f"{request.node.nodeid}\n{text}\n")
        pytest.fail("axe: accessibility violations on the pages this test visited\n" + text, pytrace=False)


@pytest.fixture
def new_page(browser):
    """Factory for pages in fresh contexts (1280 wide), closed after the test: ``new_page(timezone_id=...)``."""
    contexts = []

    def make(timezone_id: str = "Europe/Copenhagen", **kw):
        context = browser.new_context(timezone_id=timezone_id, viewport={"width": 1280, "height": 860},
                                      locale="en-GB", **kw)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    """Where to write screenshots: ``docs/screenshots`` under ``make screenshots``, else a temporary
    folder (:func:`tests.support.screenshots.screenshot_folder`)."""
    return screenshot_folder()
