"""Forms of the customer account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


class CancelBookingForm(FlaskForm):
    """Cancel one of my bookings, with an optional reason for the business."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)],
                         filters=[lambda v: v.strip() if isinstance(v, str) else v])
