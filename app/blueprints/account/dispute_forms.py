"""Forms of the customer's dispute and refund request page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.disputes.models import DISPUTE_REASONS, MAX_TEXT, REFUND_REASONS

#: Every reason code of either kind -> its label (the domain checks it fits the kind).
ALL_REASONS = {**REFUND_REASONS, **DISPUTE_REASONS}


class OpenCaseForm(FlaskForm):
    """Open a dispute or a refund request: ``kind``, a reason code, a description and evidence files."""

    kind = RadioField(_l("What do you want?"), choices=[
        SelectChoice("refund_request", _l("Ask the business for a refund")),
        SelectChoice("dispute", _l("Open a dispute (the platform decides if the business does not settle it)"))],
        default="refund_request", validators=[DataRequired()])
    reason = RadioField(_l("Reason"), choices=[SelectChoice(k, v) for k, v in ALL_REASONS.items()],
                        validators=[DataRequired(message=_l("Choose a reason."))])
    description = TextAreaField(_l("What happened?"), validators=[Optional(), Length(max=MAX_TEXT)])
    files = MultipleFileField(_l("Evidence (photos or PDF, optional)"))
