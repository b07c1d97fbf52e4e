"""Dispatch's typed errors (the blueprints map them to 409 / 404 / 422)."""

from __future__ import annotations

from app.errors import InputError


class DispatchError(Exception):
    """Base of dispatch's conflicts; ``message`` is user-facing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OfferGone(DispatchError):  # noqa: N818 - a state, not a failure
    """The offer is no longer live: it lapsed, was declined or cancelled, or was accepted already."""


class AtCapacity(DispatchError):  # noqa: N818
    """The operator already has as many jobs as their capacity."""


class InvalidTransition(DispatchError):
    """The request is not in a state that allows this step (e.g. cancel after arrival)."""


class DispatchInputError(InputError, ValueError):
    """Input that cannot make a request (unknown service, a place not found); ``field`` names it."""
