"""Forms of the auth surface (login, customer signup, password reset) and shared validators."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Field, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.identity.service import MIN_PASSWORD_LENGTH, normalize_email
from app.inputguard import person_name


class ValidEmail:
    """WTForms validator: a syntactically valid email address (no DNS lookup).

    Special-use test domains such as ``.test`` are accepted so demo accounts work.
    """

    message = _l("Enter a valid email address, like name@example.com.")

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = (field.data or "").strip()
        try:
            validate_email(value, check_deliverability=False, test_environment=True)
        except EmailNotValidError as exc:
            raise ValidationError(self.message) from exc


def email_field(label: str | None = None) -> EmailField:
    """An email field: required, at most 254 characters, valid, normalised (trimmed, lower-case)."""
    return EmailField(label or _l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254), ValidEmail()],
                      filters=[lambda v: normalize_email(v) if isinstance(v, str) else v])


def new_password_field(label: str | None = None) -> PasswordField:
    """A new-password field: at least :data:`MIN_PASSWORD_LENGTH` characters, at most 200."""
    return PasswordField(label or _l(_l("Password")), validators=[
        DataRequired(_l("Choose a password.")),
        Length(min=MIN_PASSWORD_LENGTH, max=200, message=_l("Use %(min)d to 200 characters.", min=MIN_PASSWORD_LENGTH)),
    ])


class LoginForm(FlaskForm):
    """Email and password; ``next`` is where to go after (checked by the view)."""

    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])
    next = HiddenField()


class CustomerSignupForm(FlaskForm):
    """A customer account: name, email, password."""

    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120), person_name],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v])
    email = email_field()
    password = new_password_field()
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    """The email to send a reset link to."""

    email = email_field()


class ResetPasswordForm(FlaskForm):
    """A new password, typed twice."""

    password = new_password_field(_l("New password"))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Repeat the password.")),
                                        EqualTo("password", message=_l("The two passwords differ."))])


class AcceptInviteForm(FlaskForm):
    """A new person accepting a staff invitation: their name and a password (the email is
    the invited address)."""

    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=120), person_name],
                       filters=[lambda v: v.strip() if isinstance(v, str) else v])
    password = new_password_field()
