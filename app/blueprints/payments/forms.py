"""Forms of the payments pages: the business's money policy and a service's payment rule."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from app.formatting import currency_decimals


class PolicyForm(FlaskForm):
    """Free-cancellation window (hours), late-cancellation and no-show fees (% of the price),
    and whether a card must be saved at booking."""

    free_cancellation_hours = IntegerField(_l("Free cancellation until (hours before the start)"),
                                           validators=[InputRequired(_l("Enter a number of hours.")),
                                                       NumberRange(0, 720, _l("Between 0 and 720 hours."))])
    late_cancel_fee_percent = IntegerField(_l("Late-cancellation fee (%(percent)s of the price)", percent="%"),
                                           validators=[InputRequired(_l("Enter a percentage.")),
                                                       NumberRange(0, 100, _l("Between 0 and 100%%."))])
    no_show_fee_percent = IntegerField(_l("No-show fee (%(percent)s of the price)", percent="%"),
                                       validators=[InputRequired(_l("Enter a percentage.")),
                                                   NumberRange(0, 100, _l("Between 0 and 100%%."))])
    require_card = BooleanField(_l("Save the customer's card at booking to charge these fees"))


class ServiceRuleForm(FlaskForm):
    """A service's payment mode; a deposit as a percentage or a fixed amount (major units text)."""

    mode = SelectField(_l("Payment when booking"), choices=[SelectChoice("none", _l("No payment")), SelectChoice("deposit", _l("Deposit")),
                                                            SelectChoice("full", _l("Full prepayment"))])
    deposit_percent = IntegerField(_l("Deposit (%(percent)s of the price)", percent="%"), validators=[Optional(),
                                                                           NumberRange(1, 100, _l("Between 1 and 100%%."))])
    deposit_fixed = StringField(_l("or a fixed deposit"), validators=[Optional()])

    def __init__(self, *args, currency: str = "DKK", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.deposit_fixed_minor: int | None = None

    def offer_only_no_payment(self) -> None:
        """Disable the deposit and prepayment options (the business cannot take payments)."""
        self.mode.choices = [SelectChoice("none", _("No payment")),
                             SelectChoice("deposit", _("Deposit (needs online payments)"), render_kw={"disabled": True}),
                             SelectChoice("full", _("Full prepayment (needs online payments)"),
                                          render_kw={"disabled": True})]
        self.deposit_percent.render_kw = {"disabled": True}
        self.deposit_fixed.render_kw = {"disabled": True}

    def validate_deposit_fixed(self, field: StringField) -> None:
        """Parse the fixed deposit as a positive amount with at most the currency's decimals."""
        if not field.data:
            return
        try:
            value = Decimal(field.data.strip().replace(",", "."))
        except InvalidOperation as exc:
            raise ValidationError(_("Enter an amount like 150 or 150.00.")) from exc
        minor = value * (10 ** currency_decimals(self.currency))
        if value <= 0 or minor != minor.to_integral_value():
            raise ValidationError(_("Enter a positive amount with at most two decimals."))
        self.deposit_fixed_minor = int(minor)

    def validate_mode(self, field: SelectField) -> None:
        """A deposit needs exactly one of a percentage or a fixed amount."""
        if field.data == "deposit" and bool(self.deposit_percent.data) == bool(self.deposit_fixed.data):
            raise ValidationError(_("For a deposit, give either a percentage or a fixed amount."))
