"""The one shape of an error a person can correct.

Every domain's input errors derive from :class:`InputError`, so a view answers all of them the
same way: ``message`` beside the form field named by ``field`` (or above the form when it is
``None``), with status 422, or as an RFC 9457 problem's ``detail`` on the API.
"""

from __future__ import annotations


class InputError(Exception):
    """Input that cannot be accepted as given.

    ``message`` is user-facing (a whole sentence); ``field`` names the form field or query
    parameter at fault, or is ``None`` for the input as a whole. Subclasses may set a default
    ``field`` as a class attribute; a ``field`` passed in wins.
    """

    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
