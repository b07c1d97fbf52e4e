"""Every domain's input errors share one shape (:class:`app.errors.InputError`): a user-facing
``message`` and the ``field`` at fault, whichever order their constructor takes them in."""

from __future__ import annotations

import pytest

from app.booking.errors import BookingError, SlotUnavailable
from app.catalog.rules import RulesError
from app.chat.errors import ChatError, EmptyMessage
from app.customers.errors import CustomerError
from app.errors import InputError
from app.identity.service import AccountError
from app.scheduling.service import AvailabilityError
from app.storage.images import ImageRejected
from app.team.errors import InvitationError
from app.tenants.phones import PhoneError
from app.tenants.profile import ProfileError
from app.tenants.service import SignupError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("error", "field"), [
    (BookingError("Pick another time.", "start"), "start"),
    (SlotUnavailable("Pick another time."), "start"),
    (CustomerError("Write a note first.", "body"), "body"),
    (EmptyMessage("Write a message first."), "body"),
    (RulesError("lead_time_minutes", "Pick another time."), "lead_time_minutes"),
    (AccountError("password", "Pick another time."), "password"),
    (AvailabilityError("end", "Pick another time."), "end"),
    (InvitationError("email", "Pick another time."), "email"),
    (SignupError("slug", "Pick another time."), "slug"),
    (ProfileError("phone", "Pick another time."), "phone"),
    (PhoneError("Pick another time."), None),
    (ImageRejected("Pick another time."), None),
])
def test_every_domain_input_error_carries_its_message_and_field(error, field):
    assert isinstance(error, InputError)
    assert error.field == field
    assert error.message == str(error) and error.message.endswith(".")


def test_errors_that_were_value_errors_still_are():
    # Callers that catch ValueError (form parsing, the API's 422s) keep catching them.
    for error in (RulesError("f", "m"), AccountError("f", "m"), PhoneError("m"), ImageRejected("m")):
        assert isinstance(error, ValueError)
    assert not isinstance(BookingError("m"), ValueError) and not isinstance(ChatError("m"), ValueError)
