"""The console's credits page of one business (``/admin/credits/<business id>``): its lead-credit
balance and ledger, and an adjustment form (credits either sign, reason required) for platform
admins. An adjustment is audit-logged in the business's log; a refused one (0, no reason, below
zero) re-renders the page with 422 and the error beside its field; nothing is written.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length

from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.blueprints.admin.common import admin_actor, console_post_limit
from app.credits.admin import AdjustmentRefused, adjust_credits, business_credits
from app.web import render_page


class CreditsField(IntegerField):
    """A whole number of credits, either sign, with a plain-words error for anything else."""

    def process_formdata(self, valuelist: list) -> None:
        """Parse the submitted text as an integer.

        Raises:
            ValueError: not a whole number (shown beside the field).
        """
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a whole number of credits, like 5 or -3.")) from None


class AdjustForm(FlaskForm):
    """An adjustment: ``amount`` credits (negative takes credits away), a ``reason``, and the
    form's ``nonce`` (one adjustment per rendered form)."""

    amount = CreditsField(_l("Credits (+ to add, − to take away)"), validators=[InputRequired(_l("Enter a number of credits."))])
    reason = StringField(_l("Reason"), filters=[lambda v: (v or "").strip()],
                         validators=[InputRequired(_l("Give a reason.")), Length(max=200, message=_l("Use at most 200 characters."))])
    nonce = HiddenField()


def render_credits(tenant_id: uuid.UUID, form: AdjustForm, status: int = 200) -> Response:
    """The page of business ``tenant_id`` with ``form`` (404 when there is no such business)."""
    view = business_credits(tenant_id)
    if view is None:
        abort(404)
    return render_page("admin/credits.html", block="adjust", status=status, view=view, form=form)


@bp.get("/credits/<uuid:tenant_id>")
@admin_required
def credits(tenant_id: uuid.UUID) -> Response:
    """A business's lead-credit balance, ledger and the adjustment form."""
    form = AdjustForm(formdata=None)
    form.nonce.data = str(uuid.uuid4())
    return render_credits(tenant_id, form)


@bp.post("/credits/<uuid:tenant_id>")
@admin_required
@console_post_limit
def credits_adjust(tenant_id: uuid.UUID) -> Response:
    """Adjust the business's balance (audit-logged); 422 with inline errors when refused."""
    form = AdjustForm()
    if form.validate():
        try:
            move = adjust_credits(tenant_id, form.amount.data, form.reason.data, admin_actor(), form.nonce.data or "")
        except LookupError:
            abort(404)
        except AdjustmentRefused as exc:
            field = getattr(form, exc.field or "amount")
            field.errors = [*field.errors, exc.message]
        else:
            flash(ngettext("Balance now %(num)d credit.", "Balance now %(num)d credits.", move.entry.balance_after), "success")
            return redirect(url_for("admin.credits", tenant_id=tenant_id), 303)
    return render_credits(tenant_id, form, 422)
