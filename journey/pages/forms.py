"""Flask-WTF forms of the patient's pages, and the forms every kind of page shares
(:class:`ActionForm`, :class:`ReasonForm`). Every message, WTForms' own included, comes
from the project's catalogs, so a field error reads in the page's language."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from flask_babel import format_decimal, get_translations, gettext, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.validators import NumberRange as WTFormsNumberRange

from journey.builder.services.journeys import IN_THE_PAST
from journey.core.config import LANGUAGES
from journey.core.i18n import interface_languages, native_name
from journey.core.types import today_in
from journey.core.validation import DateWindow
from journey.pages.titles import CHAIN_LINK_TITLES, MEMBER_KIND_TITLES
from journey.trip.services import travellers
from providers.procedures import procedure_options

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


class NumberRange(WTFormsNumberRange):
    """WTForms' ``NumberRange`` with its bounds written the page locale's way ("between
    0 and 1 000 000 000" in Norwegian, not "1000000000"), and silent when what was typed
    is not a number at all: the field's own "Not a valid number" says it, and "must be
    between" beside it only contradicted nothing."""

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        try:
            super().__call__(form, field)
        except ValidationError:
            low, high = self._resolve(self.min), self._resolve(self.max)
            if self.message is not None:
                message = self.message
            elif high is None:
                message = field.gettext("Number must be at least %(min)s.")
            elif low is None:
                message = field.gettext("Number must be at most %(max)s.")
            else:
                message = field.gettext("Number must be between %(min)s and %(max)s.")
            raise ValidationError(message % {
                "min": "" if low is None else format_decimal(low),
                "max": "" if high is None else format_decimal(high)}) from None


class InDateWindow:
    """A date the cluster can work with: from :data:`~journey.core.validation.EARLIEST_DATE`
    to the planning horizon, as the API accepts (a year 1 or 9999 would overflow the
    moments computed from it), with the API's translated message."""

    def __call__(self, form, field):
        message = DateWindow().refusal(field.data) if field.data is not None else None
        if message is not None:
            raise ValidationError(message)


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
    """Choices of (value, label); a label that knows the language it was served in
    (member content, journey.pages.rows.Served) marks its <option> with it."""
    choices = []
    for value, label in pairs:
        language = getattr(label, "language", None)
        marks = {"dir": "auto", **({"lang": language.replace("_", "-")} if language else {})} \
            if hasattr(label, "language") else {}
        choices.append(SelectChoice(value, label, render_kw=marks or None))
    return choices


def _optional_choice(titles: dict, empty) -> list[SelectChoice]:
    return as_choices([("", empty), *((key.value, title) for key, title in titles.items())])


def language_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """The cluster's interface languages, each named in its own language."""
    return [(code, native_name(code)) for code in interface_languages()]


SORT_CHOICES = as_choices([("relevance", _l("Relevance")),
                           ("price", _l("Price, lowest first")),
                           ("-price", _l("Price, highest first")),
                           ("name", _l("Name, A to Z")), ("-name", _l("Name, Z to A"))])
MAX_PRICE = 10**9
SEARCH_PAGE_SIZE = 12


class SearchForm(QueryForm):
    q = StringField(_l("What are you looking for?"),
                    validators=[Optional(), Length(max=100)])
    chain_link = SelectField(_l("Step of the trip"),
                             choices=_optional_choice(CHAIN_LINK_TITLES, _l("Any step")),
                             default="")
    procedure = SelectField(_l("Treatment"), default="", choices=[
        SelectChoice("", _l("Any treatment")),
        *(SelectChoice(code, title, optgroup=group)
          for code, title, group in procedure_options())])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
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
    sort = SelectField(_l("Sort by"), default="relevance", choices=[
        *SORT_CHOICES[:1], *as_choices([("rating", _l("Best rated first"))]),
        *SORT_CHOICES[1:]])

    #: The filters besides the text (a phone shows them folded while none is set).
    FILTERS = ("chain_link", "procedure", "city", "member_kind", "price_min", "price_max",
               "start", "end")

    def filtered(self) -> bool:
        """Whether a filter besides the text, or another order, is chosen (the folded
        filters then open)."""
        return (any(getattr(self, name).data not in (None, "") for name in self.FILTERS)
                or self.sort.data not in (None, "", "relevance"))
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


class NotPast:
    """A day not before today (the cluster's date): the service's rule for a new trip's
    dates, checked with the form's other fields so that all errors show at once."""

    def __call__(self, form, field):
        if field.data is not None and field.data < today_in():
            raise ValidationError(str(IN_THE_PAST))


class NewTripForm(TripForm):
    """A journey started from nothing: its arrival, if given, not in the past."""

    arrival_on = DateField(_l("Arrival"), validators=[Optional(), NotPast()])


class StartFromPackageForm(TripForm):
    arrival_on = DateField(_l("Arrival"), validators=[DataRequired(), NotPast()])


class TripDetailsForm(TripForm):
    departure_on = DateField(_l("Departure"), validators=[Optional()])


class AddItemForm(PageForm):
    journey_id = SelectField(_l("Journey"), choices=[], coerce=str)
    start_on = DateField(_l("Start"), validators=[DataRequired(), NotPast()])
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
                                              Length(min=8, max=200)])
    payment_method = HiddenField(_l("Card"), validators=[
        DataRequired(message=_l("Enter your card details.")), Length(max=200)])


class ProfileForm(PageForm):
    full_name = StringField(_l("Full name"),
                            validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=[])
    currency = SelectField(_l("Currency"), choices=[])
    #: The other languages the person reads, best first: one choice per place (the
    #: view adds empty places and the choices, :func:`reading_language_choices`).
    #: More than the service's limit is refused by the service; far more is cut here.
    other_languages = FieldList(SelectField(_l("Language"), choices=[], validate_choice=True),
                                _l("Other languages I read"), max_entries=30)


class PreferencesForm(PageForm):
    lang = SelectField(_l("Language"), choices=as_choices((code, code) for code in LANGUAGES))
    next = HiddenField()


def country_choices(locale: str, *, empty) -> list[SelectChoice]:
    """Countries (ISO 3166 alpha-2, not the pseudo-locales, unions or unknown regions
    CLDR also names) named in ``locale``, in the order of their names."""
    return as_choices([("", empty), *_countries(str(locale))])


# --- countries and the languages a person reads ---------------------------------------

#: Codes CLDR names that no passport is issued by: pseudo-locales (``XA``, ``XB``), the
#: unknown region, unions (``EU``, ``EZ``, ``UN``) and the outlying regions (``QO``).
NOT_COUNTRIES = frozenset({"XA", "XB", "XC", "ZZ", "EU", "EZ", "UN", "QO"})


def is_country(code: str) -> bool:
    """A real ISO 3166 alpha-2 country (or territory) code, by CLDR's names."""
    return (len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()
            and code not in NOT_COUNTRIES and code in Locale("en").territories)


def collation_key(name: str) -> tuple:
    """A key that sorts names as a reader expects rather than by code point: accents
    and case after the letter (Å near A, É near E), a crude stand-in for collation."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c)), name.casefold()


@lru_cache(maxsize=32)
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale).territories
    return tuple(sorted(((code, name) for code, name in names.items() if is_country(code)),
                        key=lambda pair: collation_key(pair[1])))


@lru_cache(maxsize=32)
def _reading_languages(locale: str) -> tuple[tuple[str, str], ...]:
    page = Locale.parse(locale)
    codes = {code for code in locale_identifiers() if len(code) in (2, 3)
             and code.isalpha() and code.islower() and code in page.languages}
    return tuple(sorted(((code, page.languages[code]) for code in codes),
                        key=lambda pair: collation_key(pair[1])))


def reading_language_choices(locale: str, *, empty, chosen=()) -> list[SelectChoice]:
    """Languages a person may read, named in ``locale`` (the page's), in the order of
    their names; with those already ``chosen`` (a regional variant such as ``pt_BR``)."""
    pairs = list(_reading_languages(str(locale)))
    known = {code for code, _name in pairs}
    page = Locale.parse(str(locale))
    for code in chosen or ():
        if code and code not in known:
            try:
                name = Locale.parse(code).get_display_name(page) or code
            except (ValueError, TypeError, UnknownLocaleError):
                continue
            pairs.append((code, name))
            known.add(code)
    return as_choices([("", empty), *pairs])


def known_nationality(actor) -> str | None:
    """The nationality the patient gave before (:func:`journey.trip.services.travellers.
    known_nationality`), to pre-fill a choice: None when it is no country of the list."""
    found = travellers.known_nationality(actor)
    return found if found and is_country(found) else None
