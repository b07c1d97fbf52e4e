"""Typed errors of the customers domain; ``message`` is user-facing, ``field`` the input at fault."""

from __future__ import annotations

import uuid

from flask_babel import gettext as _

from app.errors import InputError


class CustomerError(InputError):
    """Base of the customers domain's errors."""


class EmailInUse(CustomerError):
    """Another customer record of the business has this email; ``other_id`` is that record
    (staff may merge the two instead)."""

    field = "email"

    def __init__(self, other_id: uuid.UUID) -> None:
        super().__init__(_("Another customer already has this email address. Merge the two records instead."))
        self.other_id = other_id


class CannotMerge(CustomerError):
    """The two records cannot be merged (the same record, an erased one, or records of two
    different accounts)."""


class AlreadyErased(CustomerError):
    """The record was already anonymised; nothing more can change on it."""
