"""Browser fixtures for the e2e suite: one headless Chromium per session, a fresh context per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.screenshots import screenshot_folder

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
        yield instance
        instance.close()


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
