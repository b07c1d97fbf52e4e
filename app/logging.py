"""Plaza's logs: one JSON object per line on stderr (``python-json-logger``).

Each line has ``ts`` (``asctime``), ``level``, ``logger`` and ``msg``, every ``extra=`` field of
the call merged in, and ``exc`` (the formatted traceback) when an exception is logged. Only the
``plaza`` logger tree is configured; third-party libraries keep their own handlers.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

#: The logger every Plaza module logs under (``plaza.request``, ``plaza.error``, ...).
ROOT_LOGGER = "plaza"


def json_formatter() -> JsonFormatter:
    """The formatter of Plaza's log lines (field names as above; values that JSON cannot encode
    are written with ``str``)."""
    return JsonFormatter("{asctime}{levelname}{name}{message}", style="{", json_default=str,
                         rename_fields={"asctime": "ts", "levelname": "level", "name": "logger", "message": "msg",
                                        "exc_info": "exc"})


def configure_logging(level: str) -> None:
    """Send the ``plaza`` loggers' records at ``level`` and above (``"INFO"``, ...) to stderr as JSON
    lines. Idempotent: a second call (another app in the same process) changes only the level."""
    root = logging.getLogger(ROOT_LOGGER)
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(json_formatter())
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
