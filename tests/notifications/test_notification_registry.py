"""The notification registry: every type is complete and every template renders."""

from __future__ import annotations

import pytest

from app.notifications import registry
from app.notifications.registry import (
    AUDIENCES,
    CHANNELS,
    MARKETING,
    SAMPLE_CONTEXT,
    TRANSACTIONAL,
    MissingField,
    UnknownNotificationType,
    fields_of,
    render_for,
)

pytestmark = pytest.mark.unit

REQUIRED = {
    "booking_requested", "booking_confirmed", "booking_declined", "booking_cancelled_by_customer",
    "booking_cancelled_by_business", "booking_rescheduled", "booking_reminder_24h", "booking_reminder_2h",
    "booking_completed", "booking_no_show", "review_requested", "new_message", "payment_received",
    "payment_failed", "refund_issued", "hold_expired", "subscription_past_due", "subscription_recovered",
    "trial_ending", "staff_invited", "staff_joined", "account_email_verified", "password_changed",
    "new_login_unknown_device", "business_announcement",
}


def test_registry_has_every_required_type_and_at_least_25():
    keys = [t.key for t in registry.all_types()]
    assert len(keys) == len(set(keys)) >= 25
    assert REQUIRED <= set(keys)


@pytest.mark.parametrize("nt", registry.all_types(), ids=lambda t: t.key)
def test_every_type_is_complete_and_renders_with_sample_context(nt):
    assert nt.category in {TRANSACTIONAL, MARKETING}
    assert nt.label and nt.group
    assert nt.audiences and nt.audiences <= AUDIENCES
    for audience in nt.audiences:
        assert nt.default_channels(audience) <= set(CHANNELS)
        assert nt.default_channels(audience) or nt.key in registry.OPT_IN, f"{nt.key}/{audience} reaches nobody by default"
        rendered = render_for(nt.key, audience, SAMPLE_CONTEXT)
        for text in (rendered.title, rendered.body, rendered.subject, rendered.text):
            assert text.strip() and "{" not in text
    assert nt.locked <= set(CHANNELS)
    assert not hasattr(nt, "legacy_email")  # one delivery pipeline: every channel through the notification


def test_only_announcements_are_marketing():
    assert [t.key for t in registry.all_types() if t.is_marketing] == ["business_announcement", "platform_news"]


def test_missing_field_and_unknown_type_are_errors():
    with pytest.raises(MissingField):
        render_for("booking_confirmed", "customer", {"service": "Haircut"})
    with pytest.raises(UnknownNotificationType):
        registry.get("nope")
    with pytest.raises(UnknownNotificationType):
        render_for("password_changed", "customer", SAMPLE_CONTEXT)


def test_booking_events_map_to_types_by_actor():
    assert registry.types_for_booking_event("booking.confirmed", None) == [
        ("booking_confirmed", ("customer", "staff"))]
    assert registry.types_for_booking_event("booking.confirmed", "staff") == [("booking_confirmed", ("customer",))]
    assert registry.types_for_booking_event("booking.cancelled", "customer")[0][0] == "booking_cancelled_by_customer"
    assert registry.types_for_booking_event("booking.cancelled", "staff")[0][0] == "booking_cancelled_by_business"
    assert [t for t, _ in registry.types_for_booking_event("booking.completed", "staff")] == [
        "booking_completed", "review_requested"]
    assert registry.types_for_booking_event("something.else", None) == []


def test_sample_context_covers_exactly_the_fields_used():
    used = set()
    for nt in registry.all_types():
        for tpl in nt.templates.values():
            for part in (tpl.title, tpl.body, tpl.subject, tpl.email_text):
                used |= fields_of(part)
    assert used <= set(SAMPLE_CONTEXT)
