"""Where browser tests write their screenshots.

``docs/screenshots/`` (tracked) only when ``PLAZA_SCREENSHOTS`` is set (``make screenshots``);
otherwise one temporary folder per test run, so an ordinary ``make test`` leaves the
repository untouched.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from app.config import Settings

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def recording() -> bool:
    """True when this run should update ``docs/screenshots/`` (``PLAZA_SCREENSHOTS=1``)."""
    return Settings().PLAZA_SCREENSHOTS


@cache
def screenshot_folder() -> Path:
    """The folder for this run's screenshots (created): ``docs/screenshots/`` when :func:`recording`,
    else a fresh temporary folder (``plaza-screenshots-*``), the same for the whole run."""
    folder = DOCS_SCREENSHOTS if recording() else Path(tempfile.mkdtemp(prefix="plaza-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
