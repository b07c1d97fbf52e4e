"""Forms of the console's access steps: the second factor and the reason for a read."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class SecondFactorForm(FlaskForm):
    """A 6-digit code from the authenticator app, or (when verifying) a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=20)])
    next = HiddenField()


class ReasonForm(FlaskForm):
    """Why the admin reads one business's data (3–300 characters), written to the audit log."""

    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why you open this record.")), Length(min=3, max=300, message=_l("Use between 3 and 300 characters."))])
    next = HiddenField()
