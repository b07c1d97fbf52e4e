"""Typed errors of the team domain; blueprints map them to HTTP (422, 403, 410)."""

from __future__ import annotations

from app.errors import InputError


class InvitationError(InputError, ValueError):
    """Invite input rejected; ``field`` names the form field at fault, ``message`` is user-facing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class InvitationClosed(Exception):
    """The invitation can no longer be accepted; ``reason`` is ``expired``, ``revoked`` or
    ``accepted``; ``message`` is user-facing."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class InvitationEmailMismatch(Exception):
    """The logged-in account's email is not the address the invitation was sent to."""


class InvitationUnverified(Exception):
    """The logged-in account has the invited address but never confirmed it: it must confirm
    the address (the verification email) before it can take the role."""

    def __init__(self, email: str) -> None:
        super().__init__(email)
        self.email = email
