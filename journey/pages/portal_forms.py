"""Flask-WTF forms (CSRF-protected) of the member portal, the board and the admin."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.dates import get_day_names
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from journey.core.accounts.forms import EmailAddress
from journey.core.config import LANGUAGES
from journey.pages.common import language_name, page_locale
from journey.pages.forms import NumberRange, PageForm
from journey.pages.titles import (
    CAPACITY_UNIT_TITLES,
    CHAIN_LINK_TITLES,
    CONFIRMATION_TITLES,
    DURATION_UNIT_TITLES,
    MEMBER_KIND_TITLES,
    OFFER_STATUS_TITLES,
    PRICE_UNIT_TITLES,
)
from providers.procedures import procedure_options

MAX_AMOUNT = 10**9  # in major units


def _choices(titles: dict) -> list[SelectChoice]:
    return [SelectChoice(key.value, title) for key, title in titles.items()]


def parse_local_decimal(text: str, locale: str) -> Decimal:
    """A number as a reader of ``locale`` types it ("6500,00" in Lithuanian, "6.500,00"
    in German), or with a plain dot ("6500.00", everywhere). Raises ValueError."""
    text = "".join(text.split())  # spaces group digits, never anything else
    try:
        value = parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        try:  # the dot as the decimal sign, whatever the locale
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(text) from None
    if not value.is_finite():  # "NaN" and "Infinity" like any other non-number
        raise ValueError(text)
    return value


def format_local_decimal(value: Decimal, locale: str, digits: int | None = None) -> str:
    """``value`` with the decimal sign of ``locale`` and no grouping, with ``digits``
    decimals (default: as many as it has, so "6500.00" stays two)."""
    if digits is None:
        exponent = value.as_tuple().exponent
        digits = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(value, format=pattern, locale=locale, group_separator=False,
                          decimal_quantization=True)


class LocalDecimalField(DecimalField):
    """A decimal number shown and read with the page locale's decimal sign (a
    Lithuanian member reads and types "6500,00"); a plain dot is read too. A text input
    (``inputmode="decimal"`` brings up a phone's number pad): a number input takes only
    a dot, and shows nothing for "6500,00"."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format_local_decimal(Decimal(self.data), page_locale(), self.places)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_local_decimal(valuelist[0], page_locale())
        except ValueError:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value.")) from None


class AmountField(LocalDecimalField):
    """A decimal amount in the page locale's writing (:class:`LocalDecimalField`)."""


class OptionalSelectField(SelectField):
    """A select whose empty choice ("") stands for None (an offer that treats nothing in
    particular)."""

    def process_data(self, value):
        super().process_data("" if value is None else value)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _amount(label, required=True):
    first = InputRequired() if required else Optional()
    return AmountField(label, places=None, validators=[first, NumberRange(0, MAX_AMOUNT)])


def _days(label, high=365):
    return IntegerField(label, default=0, validators=[InputRequired(), NumberRange(0, high)])


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- member portal -----------------------------------------------------------------

class OfferTermsForm(PageForm):
    chain_link = SelectField(_l("Link of the chain"), choices=_choices(CHAIN_LINK_TITLES))
    procedure = OptionalSelectField(_l("What it treats"), default="", choices=[
        SelectChoice("", _l("Nothing in particular")),
        *(SelectChoice(code, title, optgroup=group)
          for code, title, group in procedure_options())])
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(3, 3)],
                           filters=[lambda v: v.strip().upper() if v else v])
    price_unit = SelectField(_l("Price is"), choices=_choices(PRICE_UNIT_TITLES))
    base_price = _amount(_l("Base price"))
    companion_price = _amount(_l("Price for a companion"), required=False)
    min_quantity = IntegerField(_l("Minimum quantity"), default=1,
                                validators=[InputRequired(), NumberRange(1, 10000)])
    max_quantity = IntegerField(_l("Maximum quantity"),
                                validators=[Optional(), NumberRange(1, 10000)])
    capacity_unit = SelectField(_l("Capacity is counted in"),
                                choices=_choices(CAPACITY_UNIT_TITLES))
    duration_value = IntegerField(_l("Duration"), default=1,
                                  validators=[InputRequired(), NumberRange(0, 365)])
    duration_unit = SelectField(_l("Duration unit"), choices=_choices(DURATION_UNIT_TITLES))
    lead_time_days = _days(_l("Days of notice needed"))
    confirmation_mode = SelectField(_l("Confirmation"), choices=_choices(CONFIRMATION_TITLES))
    requires_consultation = BooleanField(_l("A consultation or diagnostics must come first"))
    recovery_days = _days(_l("Days of recovery without leisure"))
    fit_to_fly_days = _days(_l("Days before the patient may fly"))
    min_days_after_treatment = _days(_l("Starts at least this many days after treatment"))
    vat_percent = LocalDecimalField(_l("VAT included in the price (%)"), default=0, places=None,
                                    validators=[Optional(), NumberRange(0, 99.99)])

    TERMS = ("chain_link", "procedure", "currency", "price_unit", "min_quantity",
             "max_quantity",
             "capacity_unit", "duration_value", "duration_unit", "lead_time_days",
             "confirmation_mode", "requires_consultation", "recovery_days", "fit_to_fly_days",
             "min_days_after_treatment", "vat_percent")

    def terms(self) -> dict:
        terms = {name: getattr(self, name).data for name in self.TERMS}
        if terms["vat_percent"] is None:  # left empty: no VAT (medical services)
            terms["vat_percent"] = 0
        terms["procedure"] = terms["procedure"] or None
        return terms


def _language_choices() -> list[SelectChoice]:
    """The languages as the reader names them ("tysk", "ألمانية"), not their codes:
    WTForms calls this each time the form is shown or checked, in the page's language."""
    return [SelectChoice(code, language_name(code)) for code in LANGUAGES]


class NewOfferForm(OfferTermsForm):
    language = SelectField(_l("Language of the title"),
                           choices=_language_choices)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])


class EditOfferForm(OfferTermsForm):
    status = SelectField(_l("State"), choices=_choices(OFFER_STATUS_TITLES))


class OfferTextForm(PageForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=20000)])
    inclusions = TextAreaField(_l("Included (one per line)"), validators=[Length(max=15000)])
    exclusions = TextAreaField(_l("Not included (one per line)"),
                               validators=[Length(max=15000)])

    def text(self) -> dict:
        return {"title": self.title.data, "description": self.description.data or "",
                "inclusions": _lines(self.inclusions.data),
                "exclusions": _lines(self.exclusions.data)}


class PriceRuleForm(PageForm):
    name = StringField(_l("Name of the season"), validators=[Length(max=100)])
    starts_on = DateField(_l("From"), validators=[InputRequired()])
    ends_on = DateField(_l("Until (inclusive)"), validators=[InputRequired()])
    price = _amount(_l("Price"))
    companion_price = _amount(_l("Price for a companion"), required=False)


class CapacityForm(PageForm):
    start = DateField(_l("From"), validators=[InputRequired()])
    end = DateField(_l("Until (inclusive)"), validators=[InputRequired()])
    capacity = IntegerField(_l("Units per day"), validators=[InputRequired(),
                                                            NumberRange(0, 100000)])
    weekdays = CheckboxesField(_l("Only on these weekdays"), coerce=int,
                               validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = get_day_names("wide", locale=page_locale())
        self.weekdays.choices = [SelectChoice(i, names[i]) for i in range(7)]


class WalkInForm(PageForm):
    patient_email = EmailField(_l("Patient's e-mail"),
                               validators=[DataRequired(), EmailAddress(), Length(max=254)])
    patient_name = StringField(_l("Patient's full name"), validators=[Length(max=200)])
    nationality = StringField(_l("Nationality (country code)"),
                              validators=[Optional(), Length(2, 2)],
                              filters=[lambda v: v.strip().upper() if v else None])
    language = SelectField(_l("Language"), choices=_language_choices)
    currency = StringField(_l("Currency"), default="EUR",
                           validators=[DataRequired(), Length(3, 3)],
                           filters=[lambda v: v.strip().upper() if v else v])
    adults = IntegerField(_l("Adults"), default=1,
                          validators=[InputRequired(), NumberRange(1, 20)])
    children = IntegerField(_l("Children"), default=0,
                            validators=[InputRequired(), NumberRange(0, 20)])
    arrival_on = DateField(_l("Arrival"), validators=[Optional()])
    departure_on = DateField(_l("Departure"), validators=[Optional()])


class NoteForm(PageForm):
    note = TextAreaField(_l("Note"), validators=[Length(max=500)])


class AssignForm(PageForm):
    """Who coordinates a journey; the choices are the cluster's coordinators."""

    coordinator_id = SelectField(_l("Coordinator"), coerce=str)

    def offer(self, coordinators) -> AssignForm:
        self.coordinator_id.choices = [("", _l("Nobody yet"))] + [
            (str(user.id), user.full_name) for user in coordinators]
        return self


# --- admin --------------------------------------------------------------------------

class MemberForm(PageForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=_choices(MEMBER_KIND_TITLES))
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=100)])
    country = StringField(_l("Country (code)"), default="LT",
                          validators=[DataRequired(), Length(2, 2)])
    timezone = StringField(_l("Time zone"), default="Europe/Vilnius",
                           validators=[DataRequired(), Length(max=64)])
    default_language = StringField(_l("Default language"), default="en",
                                   validators=[DataRequired(), Length(2, 20)])
    languages = StringField(_l("Languages spoken (codes, separated by commas)"),
                            default="en", validators=[Length(max=300)])
    currency = StringField(_l("Currency"), default="EUR",
                           validators=[DataRequired(), Length(3, 3)],
                           filters=[lambda v: v.strip().upper() if v else v])
    email = EmailField(_l("E-mail"), validators=[Optional(), EmailAddress(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(3, 40)])

    def profile(self) -> dict:
        data = {name: getattr(self, name).data for name in
                ("name", "kind", "city", "country", "timezone", "default_language",
                 "currency")}
        data["languages"] = codes(self.languages.data) or [self.default_language.data]
        data["email"] = self.email.data or None
        data["phone"] = self.phone.data or None
        return data


class MemberStatusForm(PageForm):
    status = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class RateForm(PageForm):
    base = StringField(_l("Base currency"), default="EUR",
                       validators=[DataRequired(), Length(3, 3)],
                       filters=[lambda v: v.strip().upper() if v else v])
    quote = StringField(_l("Quote currency"), validators=[DataRequired(), Length(3, 3)],
                        filters=[lambda v: v.strip().upper() if v else v])
    rate = AmountField(_l("1 base currency unit buys"), places=None,
                       validators=[InputRequired(), NumberRange(min=0, max=MAX_AMOUNT)])
    effective_on = DateField(_l("Published on"), validators=[InputRequired()])


class SettingsForm(PageForm):
    languages = CheckboxesField(_l("The cluster's languages (English always)"),
                                validators=[Optional()])
    visa_free_nationalities = TextAreaField(
        _l("Nationalities that need no visa (country codes)"), validators=[Length(max=3000)])
    deposit_percent = IntegerField(_l("Deposit (per cent of the total)"),
                                   validators=[InputRequired(), NumberRange(0, 100)])
    balance_due_days = IntegerField(_l("Balance due (days before arrival)"),
                                    validators=[InputRequired(), NumberRange(0, 365)])
    quote_validity_hours = IntegerField(_l("A quote is valid for (hours)"),
                                        validators=[InputRequired(), NumberRange(1, 8760)])
    payout_delay_days = IntegerField(_l("Members are paid (days after the service)"),
                                     validators=[InputRequired(), NumberRange(0, 90)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = [SelectChoice(code, language_name(code)) for code in LANGUAGES]


class CommissionForm(PageForm):
    percent = AmountField(_l("Commission in per cent"), places=None,
                          validators=[InputRequired(), NumberRange(0, 100)])


def codes(text: str | None) -> list[str]:
    """``"de, NO  se"`` -> ``["de", "NO", "se"]``: codes separated by commas or spaces."""
    return [part for part in (text or "").replace(",", " ").split() if part]


class BearingRequestForm(PageForm):
    """A coordinator asks a member to pay for a line of the journey instead of the
    patient; the member's manager decides."""

    item_id = SelectField(_l("Line"), validators=[DataRequired()])
    provider_id = SelectField(_l("Member asked to pay"), validators=[DataRequired()])
    note = StringField(_l("Note to the member"), validators=[Optional(), Length(max=500)])
