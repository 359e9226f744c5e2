"""Flask-WTF forms of the patient's pages, and the forms every kind of page shares
(:class:`ActionForm`, :class:`ReasonForm`). Every message, WTForms' own included, comes
from the project's catalogs, so a field error reads in the page's language."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_translations, gettext, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from journey.core.config import LANGUAGES
from journey.core.i18n import interface_languages
from journey.pages.titles import CHAIN_LINK_TITLES, MEMBER_KIND_TITLES

#: WTForms' and Flask-WTF's own messages, here so that extraction puts them in the
#: catalogs; :class:`PageForm` looks them up there.
BUILT_IN_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid integer value."),
    _l("Not a valid date value."),
    _l("Not a valid decimal value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("The CSRF token is missing."),
    _l("The CSRF session token is missing."),
    _l("The CSRF token has expired."),
    _l("The CSRF token is invalid."),
    _l("The CSRF tokens do not match."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Invalid email address."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
    lazy_ngettext("Field must be exactly %(max)d character long.",
                  "Field must be exactly %(max)d characters long.", 1),
)


class _CatalogTranslations:
    def gettext(self, string):
        return gettext(string)

    def ngettext(self, singular, plural, n):
        # Unformatted: WTForms fills in its own %(min)d / %(max)d afterwards.
        return get_translations().ungettext(singular, plural, n)


_TRANSLATIONS = _CatalogTranslations()


class PageForm(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _TRANSLATIONS

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        csrf = getattr(self, "csrf_token", None)
        if csrf is not None and csrf.errors:  # Flask-WTF raises these untranslated
            csrf.errors = [gettext(str(message)) for message in csrf.errors]
            self.form_errors.extend(csrf.errors)
        for field in self:  # PostgreSQL refuses NUL characters in text
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = [*field.errors, gettext("Remove the control characters.")]
                ok = False
        return ok


class QueryForm(PageForm):
    """A GET form (search, filters): no CSRF token, read from the query string."""

    class Meta:
        csrf = False


def as_choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _optional_choice(titles: dict, empty) -> list[SelectChoice]:
    return as_choices([("", empty), *((key.value, title) for key, title in titles.items())])


def language_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """The cluster's interface languages, each named in its own language."""
    return [(code, Locale.parse(code).get_display_name(code).capitalize())
            for code in interface_languages()]


TOO_LONG = _l("This is too long.")
SORT_CHOICES = as_choices([("price", _l("Price, lowest first")),
                           ("-price", _l("Price, highest first")),
                           ("name", _l("Name, A to Z")), ("-name", _l("Name, Z to A"))])
MAX_PRICE = 10**9
SEARCH_PAGE_SIZE = 12


class SearchForm(QueryForm):
    q = StringField(_l("What are you looking for?"),
                    validators=[Optional(), Length(max=100, message=TOO_LONG)])
    chain_link = SelectField(_l("Step of the trip"),
                             choices=_optional_choice(CHAIN_LINK_TITLES, _l("Any step")),
                             default="")
    city = StringField(_l("City"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    member_kind = SelectField(_l("Kind of member"),
                              choices=_optional_choice(MEMBER_KIND_TITLES, _l("Any kind")),
                              default="")
    currency = SelectField(_l("Currency"), choices=[])
    price_min = DecimalField(_l("Price from"), places=None,
                             validators=[Optional(), NumberRange(min=0, max=MAX_PRICE)])
    price_max = DecimalField(_l("Price up to"), places=None,
                             validators=[Optional(), NumberRange(min=0, max=MAX_PRICE)])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])
    quantity = IntegerField(_l("How many"), default=1,
                            validators=[Optional(), NumberRange(min=1, max=100)])
    sort = SelectField(_l("Sort by"), choices=SORT_CHOICES, default="price")
    page = IntegerField(_l("Page"), default=1,
                        validators=[Optional(), NumberRange(min=1, max=10000)])


class TripForm(PageForm):
    """Who travels and when: starting a journey (from nothing or from a package)."""

    arrival_on = DateField(_l("Arrival"), validators=[Optional()])
    adults = IntegerField(_l("Adults (you included)"), default=1,
                          validators=[InputRequired(), NumberRange(min=1, max=20)])
    children = IntegerField(_l("Children"), default=0,
                            validators=[InputRequired(), NumberRange(min=0, max=20)])
    nationality = SelectField(_l("Nationality"), choices=[])
    currency = SelectField(_l("Currency"), choices=[])


class StartFromPackageForm(TripForm):
    arrival_on = DateField(_l("Arrival"), validators=[DataRequired()])


class TripDetailsForm(TripForm):
    departure_on = DateField(_l("Departure"), validators=[Optional()])


class AddItemForm(PageForm):
    journey_id = SelectField(_l("Journey"), choices=[], coerce=str)
    start_on = DateField(_l("Start"), validators=[DataRequired()])
    days = IntegerField(_l("Days"), validators=[Optional(), NumberRange(min=1, max=365)])
    quantity = IntegerField(_l("How many"), default=1,
                            validators=[InputRequired(), NumberRange(min=1, max=100)])


class ItemForm(PageForm):
    start_on = DateField(_l("Start"), validators=[DataRequired()])
    days = IntegerField(_l("Days"), validators=[InputRequired(), NumberRange(min=1, max=365)])
    quantity = IntegerField(_l("How many"),
                            validators=[InputRequired(), NumberRange(min=1, max=100)])


class PlanForm(PageForm):
    arrival_on = DateField(_l("Arrival"), validators=[Optional()])
    treatment_start = DateField(_l("Or the wished treatment start"), validators=[Optional()])


class ApplyTemplateForm(PageForm):
    template_id = SelectField(_l("Package"), choices=[], coerce=str)
    arrival_on = DateField(_l("Arrival"), validators=[DataRequired()])


class ActionForm(PageForm):
    """A button that changes something: only the CSRF token."""


class ReasonForm(PageForm):
    """Why: a member declining a request, a patient cancelling. One rule for both: at
    most the 500 characters the services store. Whether a reason is needed at all (a
    decline needs one, a cancellation does not) is the service's to say, beside this
    field."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])


class CheckoutForm(PageForm):
    idempotency_key = HiddenField(validators=[DataRequired(),
                                              Length(min=8, max=200, message=TOO_LONG)])
    payment_method = HiddenField(_l("Card"), validators=[
        DataRequired(message=_l("Enter your card details.")), Length(max=200, message=TOO_LONG)])


class ProfileForm(PageForm):
    full_name = StringField(_l("Full name"),
                            validators=[DataRequired(), Length(max=200, message=TOO_LONG)])
    locale = SelectField(_l("Language"), choices=[])
    currency = SelectField(_l("Currency"), choices=[])


class PreferencesForm(PageForm):
    lang = SelectField(_l("Language"), choices=as_choices((code, code) for code in LANGUAGES))
    next = HiddenField()


def country_choices(locale: str, *, empty) -> list[SelectChoice]:
    names = Locale.parse(locale).territories
    countries = sorted(((code, name) for code, name in names.items()
                        if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU",
                                                                              "UN", "EZ",
                                                                              "QO")),
                       key=lambda pair: pair[1])
    return as_choices([("", empty), *countries])
