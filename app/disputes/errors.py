"""Errors of the disputes domain; ``message`` is a whole sentence for the person acting."""

from __future__ import annotations

from app.errors import InputError


class DisputeError(InputError):
    """A dispute or refund request cannot be opened, answered or decided as asked."""


class NotDisputable(DisputeError):
    """The booking cannot get a new case: not paid, outside the platform's window, or one is open."""


class InvalidMove(DisputeError):
    """The case is not in a state that allows this step (e.g. answered after the deadline)."""


class EvidenceRejected(DisputeError):
    """An evidence file is not an acceptable image or PDF, or too large."""

    field = "files"
