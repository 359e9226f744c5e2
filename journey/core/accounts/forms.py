"""Flask-WTF forms of the account pages (CSRF-protected): logging in, registering,
the links sent by e-mail (a new password, an invitation, the address's confirmation)
and a member's staff."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from journey.core.accounts.models import ROLE_TITLES, Role
from journey.core.accounts.services import password_problem
from journey.core.i18n import interface_languages, native_name


class EmailAddress(Email):
    """WTForms' e-mail check with the project's message, the API's own ("Not a valid
    email address."), so that a page and the API say it alike in every language (WTForms'
    Arabic catalog spelt it differently from ours)."""

    def __init__(self, message=None, **kw):
        super().__init__(message=message or _l("Not a valid email address."), **kw)


def _language_choices() -> list[SelectChoice]:
    """The cluster's interface languages, each named in itself (never a bare code)."""
    return [SelectChoice(code, native_name(code)) for code in interface_languages()]


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class RegisterForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=_language_choices)

    def validate_password(self, field) -> None:
        """The service's rule (length, easy to guess, the address), asked with the other
        fields: a weak password was named only once the address was right, in a second
        round."""
        problem = password_problem(field.data or "", self.email.data)
        if problem is not None:
            raise ValidationError(str(problem))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EmailAddress(), Length(max=254)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"),
                             validators=[DataRequired(), Length(min=10, max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("The same password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"})


def _member_role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_TITLES[role])
            for role in (Role.MEMBER_STAFF, Role.MEMBER_MANAGER)]


class InviteStaffForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    role = SelectField(_l("Role"), choices=_member_role_choices, default=Role.MEMBER_STAFF.value)
    locale = SelectField(_l("Language of the invitation"), choices=_language_choices)


class StaffRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_member_role_choices)
