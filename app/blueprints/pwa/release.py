"""The release: a hash of the static files, computed once per process at start-up.

Every static URL carries its file's content hash (``/static/css/app.css?v=3f2a…``, added to
``url_for('static', …)`` by :func:`static_url_defaults`), so a page from a new release never gets
an old release's file from a cache, and the service worker precaches exactly those URLs. The
release (``RELEASE`` when set, else the hash of every file hash) is baked into ``/sw.js``: a new
release is a new worker.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: Static files precached as the app shell (globs under the static folder); big, page-specific
#: libraries (maps, charts) are cached when first used instead.
SHELL_GLOBS = ("css/*.css", "js/*.js", "vendor/htmx.min.js", "vendor/socket.io.min.js", "favicon.svg",
               "icons/*.png")
#: Files never listed (the worker itself is served by /sw.js).
EXCLUDED = frozenset({"sw.js"})


@dataclass(frozen=True)
class Release:
    """``version``: 16 hex digits naming the release; ``hashes``: each static file's path under
    the static folder (``css/app.css``) -> the first 12 hex digits of its SHA-256; ``shell``: the
    paths precached as the app shell, sorted."""

    version: str
    hashes: dict[str, str]
    shell: tuple[str, ...]


@cache
def compute_release(static_folder: str, override: str = "") -> Release:
    """The release of the files under ``static_folder`` (read once per process and argument);
    ``override`` (the ``RELEASE`` setting) names it instead of the hash when not empty.

    Raises:
        OSError: a file cannot be read.
    """
    root = Path(static_folder)
    hashes: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.endswith(".map"):
            continue
        hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    whole = hashlib.sha256("\n".join(f"{k} {v}" for k, v in hashes.items()).encode()).hexdigest()[:16]
    shell = sorted({p.relative_to(root).as_posix() for g in SHELL_GLOBS for p in root.glob(g) if p.is_file()}
                   - EXCLUDED)
    return Release(version=override.strip() or whole, hashes=hashes, shell=tuple(shell))
